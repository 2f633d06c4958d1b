package node

import (
	"bytes"
	"slices"
	"sync"

	"github.com/cometbft/cometbft/crypto/merkle"
	"github.com/cometbft/cometbft/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/weftnet/weft/consensus"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/feed"
)

var _ feed.Blocks = nodeBlocks{}

// Committed is the last height the app committed.
func (n *Node) Committed() int64 { h, _ := n.app.Committed(); return h }

// CommitNotify returns a channel closed at the next commit.
func (n *Node) CommitNotify() <-chan struct{} { return n.app.CommitNotify() }

func (n *Node) loadBlock(height int64) (*types.Block, error) {
	committed := n.Committed()
	if height == 0 {
		height = committed
	}
	if height < 1 || height > committed {
		return nil, status.Errorf(codes.NotFound, "height %d is not committed (latest is %d)", height, committed)
	}
	b := n.cmt.BlockStore().LoadBlock(height)
	if b == nil {
		return nil, status.Errorf(codes.NotFound, "block %d is not in this node's block store (base %d)", height, n.cmt.BlockStore().Base())
	}
	return b, nil
}

// Slice returns rollup id's slice of committed block height with its
// proof (from the feed's splitter).
func (n *Node) Slice(height int64, id rollups.ID) (*weftv1.RollupSlice, error) {
	return n.splitter.Slice(height, id)
}

// sliceCacheSize is how many heights the splitter keeps split: the
// executor and the batcher read each height within moments of each other,
// and gossip subscribers the newest ones.
const sliceCacheSize = 256

// sliceCacheBytes bounds what those heights hold: 256 full blocks of rollup
// payloads would be gigabytes.
const sliceCacheBytes = 256 << 20

// nodeBlocks is the node's committed chain as the feed's splitter reads it
// (feed.Blocks).
type nodeBlocks struct{ *Node }

// Split is committed block height split by rollup: from the block the app
// executed, if it still holds it, else from the block store.
func (n nodeBlocks) Split(height int64) (*feed.Block, error) {
	if b, ok := n.recentSlices(height); ok {
		return b, nil
	}
	return n.storedSlices(height)
}

// recentBlockCount is how many committed blocks the node keeps as the app
// executed them (decoded and hashed), so the rollup feed and the API split
// and serve a fresh block without recovering every signature again.
const recentBlockCount = 32

// recentBlocks is the last recentBlockCount blocks the app handed over at
// Commit (consensus.Config.OnCommit), oldest first. Safe for concurrent use.
type recentBlocks struct {
	mu     sync.Mutex
	blocks []consensus.BlockTxs
}

// add keeps b, forgetting the oldest block past recentBlockCount.
func (r *recentBlocks) add(b consensus.BlockTxs) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.blocks = append(r.blocks, b)
	if len(r.blocks) > recentBlockCount {
		r.blocks = slices.Delete(r.blocks, 0, len(r.blocks)-recentBlockCount)
	}
}

// get returns the block at height if it is still kept.
func (r *recentBlocks) get(height int64) (consensus.BlockTxs, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.blocks) - 1; i >= 0; i-- {
		if b := r.blocks[i]; b.Height == height {
			return b, true
		}
	}
	return consensus.BlockTxs{}, false
}

// recentBlock is a block the app committed recently (recentBlocks) with
// its header from the block store's meta: a fresh block
// served without loading and hashing it again. ok is false when the app no
// longer holds the block or its tx hashes do not make the header's
// DataHash (then the block store is read, as for any older block).
func (n *Node) recentBlock(height int64) (b consensus.BlockTxs, meta *types.BlockMeta, ok bool) {
	if height < 1 || height > n.Committed() {
		return b, nil, false
	}
	if b, ok = n.recent.get(height); !ok {
		return b, nil, false
	}
	if meta = n.cmt.BlockStore().LoadBlockMeta(height); meta == nil {
		return b, nil, false
	}
	if !bytes.Equal(merkle.HashFromByteSlices(hashLeaves(b)), meta.Header.DataHash) {
		n.log.Error("recent block's txs do not hash to its DataHash; reading the block store", "height", height)
		return b, nil, false
	}
	return b, meta, true
}

// hashLeaves are the leaves of b's DataHash tree: its tx hashes.
func hashLeaves(b consensus.BlockTxs) [][]byte {
	leaves := make([][]byte, len(b.Hashes))
	for i := range b.Hashes {
		leaves[i] = b.Hashes[i][:]
	}
	return leaves
}

// recentSlices splits the block recentBlock returns.
func (n *Node) recentSlices(height int64) (*feed.Block, bool) {
	b, meta, ok := n.recentBlock(height)
	if !ok {
		return nil, false
	}
	bs := &feed.Block{
		Height: meta.Header.Height, TimeUnixNano: meta.Header.Time.UnixNano(), TxCount: int64(len(b.Raw)),
		Hash: meta.BlockID.Hash, DataHash: meta.Header.DataHash, Items: map[rollups.ID][]*rollups.Item{},
	}
	bs.Commitment = b.Items(func(rid rollups.ID, it *rollups.Item) {
		bs.Items[rid] = append(bs.Items[rid], it)
	})
	if len(b.Hashes) > 0 {
		_, proofs := merkle.ProofsFromByteSlices(hashLeaves(b))
		bs.Aunts = proofs[0].Aunts
	}
	return bs, true
}

// storedSlices splits a block from the block store.
func (n *Node) storedSlices(height int64) (*feed.Block, error) {
	b, err := n.loadBlock(height)
	if err != nil {
		return nil, err
	}
	raw := make([][]byte, len(b.Txs))
	for i, tx := range b.Txs {
		raw[i] = tx
	}
	bs := &feed.Block{
		Height: b.Height, TimeUnixNano: b.Time.UnixNano(), TxCount: int64(len(b.Txs)),
		Hash: b.Hash(), DataHash: b.DataHash, Items: map[rollups.ID][]*rollups.Item{},
	}
	bs.Commitment = consensus.BlockItems(raw, n.app.Limits(), func(rid rollups.ID, it *rollups.Item) {
		bs.Items[rid] = append(bs.Items[rid], it)
	})
	if len(b.Txs) > 0 {
		bs.Aunts = b.Txs.Proof(0).Proof.Aunts
	}
	return bs, nil
}
