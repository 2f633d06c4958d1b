package consensus

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/consensus/staking"
	"github.com/weftnet/weft/genesis"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// The Info/Query connection: what clients, the node API and light
// clients read of committed state.

// Info reports the last committed height and app hash so CometBFT replays
// exactly the blocks the store lacks.
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	h, ah := a.Committed()
	return &abci.ResponseInfo{Data: "weft", Version: "1", AppVersion: AppVersion, LastBlockHeight: h, LastBlockAppHash: ah}, nil
}

// Query serves "/account/<0xaddr>", "/rollup/<name or 0xid>" and
// "/tx/<0xhash>" from committed state, values as protobuf.
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	h, _ := a.Committed()
	resp := &abci.ResponseQuery{Height: h}
	path, arg, _ := bytes.Cut([]byte(req.Path), []byte("/"))
	if len(path) == 0 {
		path, arg, _ = bytes.Cut(arg, []byte("/"))
	}
	var msg proto.Message
	switch string(path) {
	case "account":
		addr, err := genesis.ParseAddress(string(arg))
		if err != nil {
			resp.Code, resp.Log = txcodec.CodeMalformed, err.Error()
			return resp, nil
		}
		msg = a.Account(addr)
	case "rollup":
		r, err := a.RollupByNameOrID(string(arg))
		if err != nil {
			resp.Code, resp.Log = txcodec.CodeUnknownRollup, err.Error()
			return resp, nil
		}
		msg = r
	case "tx":
		b, err := hex.DecodeString(string(bytes.TrimPrefix(arg, []byte("0x"))))
		if err != nil || len(b) != 32 {
			resp.Code, resp.Log = txcodec.CodeMalformed, "tx hash must be 32 bytes of hex"
			return resp, nil
		}
		r := a.TxResult([32]byte(b))
		if r == nil {
			resp.Code, resp.Log = txcodec.CodeMalformed, "tx not found"
			return resp, nil
		}
		msg = r
	default:
		resp.Code, resp.Log = txcodec.CodeMalformed, fmt.Sprintf("unknown query path %q", req.Path)
		return resp, nil
	}
	resp.Value = mustMarshal(msg)
	return resp, nil
}

// Account returns the committed account at addr.
func (a *App) Account(addr common.Address) *weftv1.Account {
	return view{NewOverlay(a.store)}.Account(addr)
}

// Staking returns the staking module over committed state, for queries
// (anything it writes is discarded).
func (a *App) Staking() *staking.Module {
	_, p := a.limits()
	return view{NewOverlay(a.store)}.staking(p)
}

// Rollup returns the committed rollup with id, or nil.
func (a *App) Rollup(id rollups.ID) *weftv1.Rollup {
	return view{NewOverlay(a.store)}.Rollup(id)
}

// RollupByNameOrID resolves a rollup by name or 0x-prefixed hex id.
func (a *App) RollupByNameOrID(s string) (*weftv1.Rollup, error) {
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
	r := a.Rollup(id)
	if r == nil {
		return nil, fmt.Errorf("rollup %q is not registered", s)
	}
	return r, nil
}

// Rollups lists the registered rollups, sorted by id.
func (a *App) Rollups() ([]*weftv1.Rollup, error) {
	var out []*weftv1.Rollup
	err := a.store.Iterate(prefixRollup, func(_, v []byte) error {
		r := &weftv1.Rollup{}
		if err := proto.Unmarshal(v, r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// TxResult returns a committed tx's result, or nil.
func (a *App) TxResult(h [32]byte) *weftv1.TxResult {
	b, ok, err := a.store.Get(txResultKey(h))
	if err != nil || !ok {
		return nil
	}
	r := &weftv1.TxResult{}
	if proto.Unmarshal(b, r) != nil {
		return nil
	}
	return r
}

// PendingNonce is the next nonce for addr counting the mempool's ready txs
// (parked ones wait for a gap to be filled and do not count).
func (a *App) PendingNonce(addr common.Address) uint64 {
	return a.mp.NextNonce(addr, a.Account(addr).Nonce)
}
