package consensus_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// TestCommitmentItemHeight: every block's commitment item names its
// height, so the commitment items of empty blocks (otherwise identical)
// have distinct tx hashes and `weft query tx` finds one block for each;
// ProcessProposal refuses a commitment item of another height, or of none
// (as written before heights were committed).
func TestCommitmentItemHeight(t *testing.T) {
	alice := newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1 << 40})
	c := newChain(t, "", &gs)

	first := c.block()
	second := c.block()
	if len(first) != 1 || len(second) != 1 {
		t.Fatalf("empty blocks hold %d and %d txs", len(first), len(second))
	}
	if txcodec.TxHash(first[0]) == txcodec.TxHash(second[0]) {
		t.Fatal("two empty blocks share their commitment item's hash")
	}
	if h1, h2 := mustCommitment(t, first).Height, mustCommitment(t, second).Height; h1 != c.height-1 || h2 != c.height {
		t.Fatalf("commitment heights %d and %d, want %d and %d", h1, h2, c.height-1, c.height)
	}

	rd := tx(t, alice, 0, fee(data("alpha", []byte("a"))), data("alpha", []byte("a")))
	c.submit(rd)
	withData := c.prepare(blockBytes)
	if len(withData) != 2 {
		t.Fatalf("proposal holds %d txs, want the commitment item and the rollup data tx", len(withData))
	}
	empty := [][]byte{rollups.EncodeCommitment(&weftv1.BlockCommitment{Height: c.height + 1})}
	for name, good := range map[string][][]byte{"empty": empty, "with rollup data": withData} {
		t.Run(name, func(t *testing.T) {
			if !c.process(good) {
				t.Fatal("valid proposal rejected")
			}
			cm := mustCommitment(t, good)
			for _, h := range []int64{0, c.height, c.height + 2} {
				bad := proto.Clone(cm).(*weftv1.BlockCommitment)
				bad.Height = h
				txs := append([][]byte{rollups.EncodeCommitment(bad)}, good[1:]...)
				if c.process(txs) {
					t.Fatalf("accepted a commitment item of height %d at height %d", h, c.height+1)
				}
			}
		})
	}
}
