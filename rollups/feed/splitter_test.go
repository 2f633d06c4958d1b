package feed

import (
	"fmt"
	"testing"

	"github.com/weftnet/weft/rollups"
)

// countingBlocks splits height h into one item per rollup and counts the
// splits.
type countingBlocks struct{ splits map[int64]int }

func (c *countingBlocks) Committed() int64              { return 1 << 40 }
func (c *countingBlocks) CommitNotify() <-chan struct{} { return nil }
func (c *countingBlocks) Split(h int64) (*Block, error) {
	c.splits[h]++
	b := &Block{Height: h, Hash: []byte(fmt.Sprint("block", h)), Items: map[rollups.ID][]*rollups.Item{}}
	for _, name := range []string{"alpha", "beta"} {
		id := rollups.IDFromName(name)
		b.Items[id] = []*rollups.Item{{Data: []byte(fmt.Sprint(name, h))}}
	}
	return b, nil
}

// TestSplitterSplitsEachHeightOnce: every follower's slices of a height
// come from one split, until the height leaves the cache.
func TestSplitterSplitsEachHeightOnce(t *testing.T) {
	blocks := &countingBlocks{splits: map[int64]int{}}
	s := NewSplitter(blocks, 3, 1<<20)
	alpha, beta := rollups.IDFromName("alpha"), rollups.IDFromName("beta")
	for h := int64(1); h <= 3; h++ {
		for range 4 { // the executor, the batcher, gossip, a slice check
			for _, id := range []rollups.ID{alpha, beta} {
				sl, err := s.Slice(h, id)
				if err != nil {
					t.Fatal(err)
				}
				if sl.Height != h || len(sl.Items) != 1 || string(sl.Items[0].Data) != fmt.Sprint(map[rollups.ID]string{alpha: "alpha", beta: "beta"}[id], h) {
					t.Fatalf("slice of height %d for %x: %+v", h, id[:4], sl)
				}
			}
		}
	}
	for h := int64(1); h <= 3; h++ {
		if blocks.splits[h] != 1 {
			t.Fatalf("height %d split %d times", h, blocks.splits[h])
		}
	}
	// Height 4 pushes out the least recently used one (1).
	if _, err := s.Slice(4, alpha); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Slice(1, alpha); err != nil {
		t.Fatal(err)
	}
	if blocks.splits[1] != 2 || blocks.splits[2] != 1 {
		t.Fatalf("after eviction: splits %v", blocks.splits)
	}
}

// TestSplitterBoundsBytes: big blocks push older heights out before the
// count bound does; the block just split stays even if it alone is over.
func TestSplitterBoundsBytes(t *testing.T) {
	big := &sizedBlocks{size: 40 << 10}
	s := NewSplitter(big, 256, 100<<10) // room for two 40 KiB blocks
	for h := int64(1); h <= 10; h++ {
		if _, err := s.Block(h); err != nil {
			t.Fatal(err)
		}
		if got := s.CachedBytes(); got > 100<<10 {
			t.Fatalf("after height %d the cache holds %d bytes, bound %d", h, got, 100<<10)
		}
	}
	if s.cache.Len() != 2 || !s.cache.Contains(9) || !s.cache.Contains(10) {
		t.Fatalf("cache holds %v, want the last two heights", s.cache.Keys())
	}
	var want int64
	for _, h := range s.cache.Keys() {
		b, _ := s.cache.Peek(h)
		want += b.Size()
	}
	if s.CachedBytes() != want {
		t.Fatalf("byte count %d, cached blocks hold %d", s.CachedBytes(), want)
	}
	huge := NewSplitter(&sizedBlocks{size: 1 << 20}, 256, 100<<10)
	for h := int64(1); h <= 3; h++ {
		if _, err := huge.Block(h); err != nil {
			t.Fatal(err)
		}
	}
	if huge.cache.Len() != 1 || !huge.cache.Contains(3) {
		t.Fatalf("a block over the bound alone: cache holds %v, want only the last", huge.cache.Keys())
	}
}

// sizedBlocks splits every height into one item of size bytes.
type sizedBlocks struct{ size int }

func (c *sizedBlocks) Committed() int64              { return 1 << 40 }
func (c *sizedBlocks) CommitNotify() <-chan struct{} { return nil }
func (c *sizedBlocks) Split(h int64) (*Block, error) {
	id := rollups.IDFromName("alpha")
	return &Block{Height: h, Items: map[rollups.ID][]*rollups.Item{id: {{Data: make([]byte, c.size)}}}}, nil
}
