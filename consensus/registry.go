package consensus

import (
	"encoding/binary"
	"fmt"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// prefixEVMChain indexes registered rollups by EVM chain id: two rollups on
// one chain id would accept each other's EIP-155 signatures, so a user's tx
// for one could be replayed on the other.
var prefixEVMChain = []byte("e/")

func evmChainKey(chainID uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), prefixEVMChain...), chainID)
}

// evmChainOwner returns the rollup registered with EVM chain id chainID.
func (v view) evmChainOwner(chainID uint64) (rollups.ID, bool) {
	b, ok := v.get(evmChainKey(chainID))
	if !ok {
		return rollups.ID{}, false
	}
	id, err := rollups.IDFromBytes(b)
	if err != nil {
		panic(fmt.Sprintf("invariant: corrupt evm chain id index for %d: %v", chainID, err))
	}
	return id, true
}

// registerRollup stores a new rollup and claims its EVM chain id.
func (v view) registerRollup(r *weftv1.Rollup) {
	v.SetRollup(r)
	if r.EvmChainId != 0 {
		v.ov.Set(evmChainKey(r.EvmChainId), r.Id)
	}
}

// checkRegistration refuses registering a rollup whose name or EVM chain id
// is taken in st, or by an earlier registration of the same tx (names and
// chainIDs hold those).
func checkRegistration(st view, i int, r *weftv1.RegisterRollup, names map[rollups.ID]bool, chainIDs map[uint64]bool) *txcodec.Rejection {
	id := rollups.IDFromName(r.Name)
	if names[id] || st.Rollup(id) != nil {
		return txcodec.Reject(txcodec.CodeRollupExists, fmt.Sprintf("action %d: rollup %q already exists", i, r.Name))
	}
	if _, taken := st.evmChainOwner(r.EvmChainId); taken || chainIDs[r.EvmChainId] {
		return txcodec.Reject(txcodec.CodeRollupExists, fmt.Sprintf("action %d: evm chain id %d is already used by another rollup", i, r.EvmChainId))
	}
	names[id], chainIDs[r.EvmChainId] = true, true
	return nil
}
