package consensus

import (
	"github.com/weftnet/weft/rollups"
)

// BlockTxs is a committed block's txs as this node executed it: what
// Commit hands to Config.OnCommit, so the node can serve and split a fresh
// block without reading it back from CometBFT's block store and recovering
// every signature again.
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

// Items is BlockItems for a committed block Commit handed out: no hashing, no
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
