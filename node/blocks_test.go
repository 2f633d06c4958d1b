package node

import (
	"testing"

	"github.com/weftnet/weft/consensus"
)

// TestRecentBlocksKeepsTheLast: the node keeps the last recentBlockCount
// committed blocks and forgets older ones (the block store serves them).
func TestRecentBlocksKeepsTheLast(t *testing.T) {
	var r recentBlocks
	last := int64(recentBlockCount + 8)
	for h := int64(1); h <= last; h++ {
		r.add(consensus.BlockTxs{Height: h, Raw: [][]byte{{byte(h)}}})
	}
	if len(r.blocks) != recentBlockCount {
		t.Fatalf("keeps %d blocks, want %d", len(r.blocks), recentBlockCount)
	}
	for h := int64(1); h <= last; h++ {
		b, ok := r.get(h)
		if want := h > last-recentBlockCount; ok != want {
			t.Fatalf("height %d kept %v, want %v", h, ok, want)
		}
		if ok && (b.Height != h || b.Raw[0][0] != byte(h)) {
			t.Fatalf("height %d: got block %d", h, b.Height)
		}
	}
}
