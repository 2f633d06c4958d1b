package feed

import (
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"google.golang.org/protobuf/proto"

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

// Size is about how many bytes b holds: its items' encoded sizes, its
// hashes and proof.
func (b *Block) Size() int64 {
	n := int64(len(b.Hash) + len(b.DataHash) + len(b.Commitment) + 64)
	for _, a := range b.Aunts {
		n += int64(len(a))
	}
	for _, items := range b.Items {
		for _, it := range items {
			n += int64(proto.Size(it)) + 16
		}
	}
	return n
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
// heights within a bound on their count and on their bytes (a block can
// hold tens of MB of rollup data: a count alone would not bound memory).
type Splitter struct {
	blocks   Blocks
	maxBytes int64

	mu    sync.Mutex // serialises adds, so bytes matches the cache
	cache *lru.Cache[int64, *Block]
	bytes int64 // Size of the cached blocks
}

// NewSplitter returns a splitter over blocks keeping at most size heights
// and maxBytes of them (the block last split is kept whatever its size, so
// maxBytes <= 0 keeps just that one).
func NewSplitter(blocks Blocks, size int, maxBytes int64) *Splitter {
	s := &Splitter{blocks: blocks, maxBytes: maxBytes}
	c, err := lru.NewWithEvict(max(size, 1), func(_ int64, b *Block) { s.bytes -= b.Size() })
	if err != nil {
		panic(err) // only for a size ≤ 0
	}
	s.cache = c
	return s
}

// CachedBytes is the Size of the blocks the splitter holds.
func (s *Splitter) CachedBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
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
	return s.add(height, b), nil
}

// Slice returns rollup id's slice of committed block height, with proof.
func (s *Splitter) Slice(height int64, id rollups.ID) (*weftv1.RollupSlice, error) {
	b, err := s.Block(height)
	if err != nil {
		return nil, err
	}
	return b.Slice(id), nil
}

// add caches b, then evicts the least recently used heights until the
// cache is within maxBytes again (b itself stays). It returns the block
// cached for height: another follower's split of it, if one was cached
// meanwhile, so every follower holds the same block.
func (s *Splitter) add(height int64, b *Block) *Block {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cached, ok := s.cache.Get(height); ok {
		return cached
	}
	s.cache.Add(height, b) // may evict the oldest height: onEvict runs here
	s.bytes += b.Size()
	for s.bytes > s.maxBytes && s.cache.Len() > 1 {
		s.cache.RemoveOldest()
	}
	return b
}
