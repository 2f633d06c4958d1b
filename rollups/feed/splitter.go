package feed

import (
	lru "github.com/hashicorp/golang-lru/v2"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

// Block is one committed Weft block split by rollup: everything each
// rollup's slice of it carries.
type Block struct {
	Height, TimeUnixNano, TxCount int64
	Hash, DataHash                []byte
	// Commitment is the block's commitment item (its first tx) and Aunts
	// its merkle proof against DataHash.
	Commitment []byte
	Aunts      [][]byte
	Items      map[rollups.ID][]*rollups.Item
}

// Slice is rollup id's slice of b, with its proof.
func (b *Block) Slice(id rollups.ID) *weftv1.RollupSlice {
	return &weftv1.RollupSlice{
		Height: b.Height, TimeUnixNano: b.TimeUnixNano, BlockHash: b.Hash, RollupId: id[:],
		Items: b.Items[id], CommitmentTx: b.Commitment, DataHash: b.DataHash,
		CommitmentAunts: b.Aunts, TxCount: b.TxCount,
	}
}

// Blocks is the committed chain as the splitter reads it. The node splits
// a block from what consensus executed recently, or else from the block
// store (decoding every tx, signatures included).
type Blocks interface {
	// Committed is the last committed height.
	Committed() int64
	// CommitNotify returns a channel closed at the next commit.
	CommitNotify() <-chan struct{}
	// Split returns committed block height split by rollup.
	Split(height int64) (*Block, error)
}

// Splitter is the feed's one splitter: a Source whose every follower (the
// executors, the batchers through them, gossip publishing, slice checks)
// reads slices of one split per height, kept for the most recently used
// heights.
type Splitter struct {
	blocks Blocks
	cache  *lru.Cache[int64, *Block]
}

// NewSplitter returns a splitter over blocks keeping size heights.
func NewSplitter(blocks Blocks, size int) *Splitter {
	c, err := lru.New[int64, *Block](max(size, 1))
	if err != nil {
		panic(err) // only for a size ≤ 0
	}
	return &Splitter{blocks: blocks, cache: c}
}

var _ Source = (*Splitter)(nil)

// Committed is the last committed height.
func (s *Splitter) Committed() int64 { return s.blocks.Committed() }

// CommitNotify returns a channel closed at the next commit.
func (s *Splitter) CommitNotify() <-chan struct{} { return s.blocks.CommitNotify() }

// Block returns committed block height split by rollup.
func (s *Splitter) Block(height int64) (*Block, error) {
	if b, ok := s.cache.Get(height); ok {
		return b, nil
	}
	b, err := s.blocks.Split(height)
	if err != nil {
		return nil, err
	}
	s.cache.Add(height, b)
	return b, nil
}

// Slice returns rollup id's slice of committed block height, with proof.
func (s *Splitter) Slice(height int64, id rollups.ID) (*weftv1.RollupSlice, error) {
	b, err := s.Block(height)
	if err != nil {
		return nil, err
	}
	return b.Slice(id), nil
}
