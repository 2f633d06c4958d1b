package consensus

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/genesis"
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
		msg = a.Reader().Account(addr)
	case "rollup":
		r, err := a.Reader().RollupByNameOrID(string(arg))
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
		r := a.Reader().TxResult([32]byte(b))
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

// Reader reads the committed state the app has written.
func (a *App) Reader() Reader {
	return Reader{store: a.store, params: func() *Params { _, p := a.limits(); return p }}
}

// PendingNonce is the next nonce for addr counting the mempool's ready txs
// (parked ones wait for a gap to be filled and do not count).
func (a *App) PendingNonce(addr common.Address) uint64 {
	return a.mp.NextNonce(addr, a.Reader().Account(addr).Nonce)
}
