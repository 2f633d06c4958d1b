package node

import (
	"bytes"

	"github.com/cometbft/cometbft/crypto/merkle"
	"github.com/cometbft/cometbft/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/weftnet/weft/consensus"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/feed"
)

var _ feed.Source = (*Node)(nil)

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

// Slice builds rollup id's slice of committed block height with its proof:
// the commitment item, its merkle aunts against the header's DataHash, and
// the rollup's items in block order.
func (n *Node) Slice(height int64, id rollups.ID) (*weftv1.RollupSlice, error) {
	bs, err := n.blockSlices(height)
	if err != nil {
		return nil, err
	}
	return &weftv1.RollupSlice{
		Height: bs.height, TimeUnixNano: bs.time, BlockHash: bs.hash, RollupId: id[:],
		Items: bs.items[id], CommitmentTx: bs.commitment, DataHash: bs.dataHash,
		CommitmentAunts: bs.aunts, TxCount: bs.txCount,
	}, nil
}

// blockSlices is one committed block split by rollup; decoding a block
// (signature recovery included) is done once for all subscribers.
type blockSlices struct {
	height, time, txCount int64
	hash, dataHash        []byte
	commitment            []byte
	aunts                 [][]byte
	items                 map[rollups.ID][]*rollups.Item
}

// sliceCacheSize bounds the heights whose slices are kept (least
// recently used out): the executor and the batcher read each height within
// moments of each other, and gossip subscribers the newest ones.
const sliceCacheSize = 256

func (n *Node) blockSlices(height int64) (*blockSlices, error) {
	if bs, ok := n.slices.Get(height); ok {
		return bs, nil
	}
	bs, ok := n.recentSlices(height)
	if !ok {
		var err error
		if bs, err = n.storedSlices(height); err != nil {
			return nil, err
		}
	}
	n.slices.Add(height, bs)
	return bs, nil
}

// recentBlock is a block the app executed recently (consensus.App.
// RecentBlock) with its header from the block store's meta: a fresh block
// served without loading and hashing it again. ok is false when the app no
// longer holds the block or its tx hashes do not make the header's
// DataHash (then the block store is read, as for any older block).
func (n *Node) recentBlock(height int64) (b consensus.BlockTxs, meta *types.BlockMeta, ok bool) {
	if height < 1 || height > n.Committed() {
		return b, nil, false
	}
	if b, ok = n.app.RecentBlock(height); !ok {
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

// recentSlices is blockSlices from recentBlock.
func (n *Node) recentSlices(height int64) (*blockSlices, bool) {
	b, meta, ok := n.recentBlock(height)
	if !ok {
		return nil, false
	}
	bs := &blockSlices{
		height: meta.Header.Height, time: meta.Header.Time.UnixNano(), txCount: int64(len(b.Raw)),
		hash: meta.BlockID.Hash, dataHash: meta.Header.DataHash, items: map[rollups.ID][]*rollups.Item{},
	}
	bs.commitment = b.Items(func(rid rollups.ID, it *rollups.Item) {
		bs.items[rid] = append(bs.items[rid], it)
	})
	if len(b.Hashes) > 0 {
		_, proofs := merkle.ProofsFromByteSlices(hashLeaves(b))
		bs.aunts = proofs[0].Aunts
	}
	return bs, true
}

// storedSlices is blockSlices from the block store.
func (n *Node) storedSlices(height int64) (*blockSlices, error) {
	b, err := n.loadBlock(height)
	if err != nil {
		return nil, err
	}
	raw := make([][]byte, len(b.Txs))
	for i, tx := range b.Txs {
		raw[i] = tx
	}
	bs := &blockSlices{
		height: b.Height, time: b.Time.UnixNano(), txCount: int64(len(b.Txs)),
		hash: b.Hash(), dataHash: b.DataHash, items: map[rollups.ID][]*rollups.Item{},
	}
	bs.commitment = consensus.BlockItems(raw, n.app.Limits(), func(rid rollups.ID, it *rollups.Item) {
		bs.items[rid] = append(bs.items[rid], it)
	})
	if len(b.Txs) > 0 {
		bs.aunts = b.Txs.Proof(0).Proof.Aunts
	}
	return bs, nil
}
