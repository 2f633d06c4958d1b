package consensus

import (
	"github.com/weftnet/weft/rollups"
)

// The recent-block cache: committed blocks' decoded txs, for the feed and
// the executors that follow the chain live.

// recentBlocks is how many committed blocks keep their txs, decoded and
// hashed (RecentBlock), so the rollup feed and executors that follow the
// chain live split a block by rollup without recovering every signature
// again.
const recentBlocks = 32

func (a *App) rememberDecoded(sb *stagedBlock) {
	a.rmu.Lock()
	defer a.rmu.Unlock()
	a.recentBlocks = append(a.recentBlocks, sb.block)
	if len(a.recentBlocks) > recentBlocks {
		a.recentBlocks = a.recentBlocks[1:]
	}
}

// BlockTxs is a committed block's txs as this node executed it.
type BlockTxs struct {
	Height int64
	// Raw is every tx in block order, the commitment item and txs that
	// failed included; Hashes their txcodec.TxHash (CometBFT's tx hash).
	Raw    [][]byte
	Hashes [][32]byte
	// Decoded is each tx decoded (nil for the commitment item and for txs
	// that do not decode), whether or not it executed.
	Decoded []*Tx
}

// RecentBlock returns the txs of committed block height if it is one of the
// last recentBlocks this node executed since it started, so the node can
// serve and split a fresh block without reading it back from CometBFT's
// block store and hashing it again.
func (a *App) RecentBlock(height int64) (BlockTxs, bool) {
	a.rmu.Lock()
	defer a.rmu.Unlock()
	for i := len(a.recentBlocks) - 1; i >= 0; i-- {
		if b := a.recentBlocks[i]; b.Height == height {
			return b, true
		}
	}
	return BlockTxs{}, false
}

// Items is BlockItems for a block RecentBlock returned: no hashing, no
// decoding.
func (b BlockTxs) Items(fn func(id rollups.ID, it *rollups.Item)) (commitment []byte) {
	for i, raw := range b.Raw {
		if i == 0 && rollups.IsCommitment(raw) {
			commitment = raw
			continue
		}
		if tx := b.Decoded[i]; tx != nil {
			rollupItems(tx, fn)
		}
	}
	return commitment
}
