package consensus

import (
	"bytes"
	"encoding/hex"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/consensus/staking"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

// Reader reads committed state for the node API, the status page and
// ABCI Query: accounts, rollups, tx results and the staking module. It
// reads the store as last committed and holds nothing of its own; safe for
// concurrent use, like the store.
type Reader struct {
	store  *Store
	params func() *Params // the chain's params (nil before InitChain)
}

// Account returns the committed account at addr.
func (r Reader) Account(addr common.Address) *weftv1.Account {
	return view{NewOverlay(r.store)}.Account(addr)
}

// Staking returns the staking module over committed state, for queries
// (anything it writes is discarded).
func (r Reader) Staking() *staking.Module {
	return view{NewOverlay(r.store)}.staking(r.params())
}

// Rollup returns the committed rollup with id, or nil.
func (r Reader) Rollup(id rollups.ID) *weftv1.Rollup {
	return view{NewOverlay(r.store)}.Rollup(id)
}

// RollupByNameOrID resolves a rollup by name or 0x-prefixed hex id.
func (r Reader) RollupByNameOrID(s string) (*weftv1.Rollup, error) {
	id := rollups.IDFromName(s)
	if h, ok := bytes.CutPrefix([]byte(s), []byte("0x")); ok {
		b, err := hex.DecodeString(string(h))
		if err != nil {
			return nil, fmt.Errorf("rollup id %q is not hex", s)
		}
		if id, err = rollups.IDFromBytes(b); err != nil {
			return nil, err
		}
	}
	rl := r.Rollup(id)
	if rl == nil {
		return nil, fmt.Errorf("rollup %q is not registered", s)
	}
	return rl, nil
}

// Rollups lists the registered rollups, sorted by id.
func (r Reader) Rollups() ([]*weftv1.Rollup, error) {
	var out []*weftv1.Rollup
	err := r.store.Iterate(prefixRollup, func(_, v []byte) error {
		rl := &weftv1.Rollup{}
		if err := proto.Unmarshal(v, rl); err != nil {
			return err
		}
		out = append(out, rl)
		return nil
	})
	return out, err
}

// TxResult returns a committed tx's result, or nil.
func (r Reader) TxResult(h [32]byte) *weftv1.TxResult {
	b, ok, err := r.store.Get(txResultKey(h))
	if err != nil || !ok {
		return nil
	}
	res := &weftv1.TxResult{}
	if proto.Unmarshal(b, res) != nil {
		return nil
	}
	return res
}
