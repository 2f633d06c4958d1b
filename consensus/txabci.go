package consensus

import (
	"context"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/weftnet/weft/txcodec"
)

// The mempool connection: CometBFT's CheckTx, InsertTx and ReapTxs, and
// the node's admission switch and gossip queue.

// CheckTx serves CometBFT's broadcast_tx RPCs: the tx is validated and, if
// valid, inserted into the mempool as a local submission.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	_, rej := a.Submit(req.Tx, true)
	if rej != nil {
		return &abci.ResponseCheckTx{Code: rej.Code, Log: rej.Log, Codespace: "weft"}, nil
	}
	return &abci.ResponseCheckTx{Code: txcodec.CodeOK}, nil
}

// InsertTx takes a tx gossiped by a peer over CometBFT's mempool channel
// (refused when SetPeerTxsOnTopic is on).
func (a *App) InsertTx(_ context.Context, req *abci.RequestInsertTx) (*abci.ResponseInsertTx, error) {
	if a.peerTxsOnTopic.Load() {
		return &abci.ResponseInsertTx{Code: txcodec.CodeGossipTopicOnly}, nil
	}
	_, rej := a.Submit(req.Tx, false)
	if rej != nil {
		code := rej.Code
		if txcodec.Retryable(code) {
			// CometBFT forgets retryable txs sooner so a peer may resend them.
			code = abci.CodeTypeRetry + code
		}
		return &abci.ResponseInsertTx{Code: code}, nil
	}
	return &abci.ResponseInsertTx{Code: txcodec.CodeOK}, nil
}

// SetAdmission makes Submit refuse every tx with err (txcodec.CodeNotAccepting)
// until it is called with nil: a node that can no longer journal what it
// acknowledges (its disk is full) must stop acknowledging first.
func (a *App) SetAdmission(err error) {
	if err == nil {
		a.admission.Store(nil)
		return
	}
	a.admission.Store(&err)
}

// SetPeerTxsOnTopic makes InsertTx refuse every tx: the node takes peers'
// txs on Weft's own gossip topic instead (node and p2p.TxGossip), which
// judges each peer, while CometBFT's mempool channel cannot tell the app
// which peer sent a tx.
func (a *App) SetPeerTxsOnTopic(on bool) { a.peerTxsOnTopic.Store(on) }

// TakeGossip returns up to maxBytes of the txs accepted from clients since
// the last call, to broadcast to the other validators.
func (a *App) TakeGossip(maxBytes int64) [][]byte {
	txs := a.mp.TakeGossip(maxBytes)
	out := make([][]byte, len(txs))
	for i, t := range txs {
		out[i] = t.Raw
	}
	return out
}

// ReapTxs hands CometBFT the txs accepted since the last call, to gossip.
func (a *App) ReapTxs(_ context.Context, req *abci.RequestReapTxs) (*abci.ResponseReapTxs, error) {
	return &abci.ResponseReapTxs{Txs: a.TakeGossip(int64(min(req.MaxBytes, 1<<40)))}, nil
}
