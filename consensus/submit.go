package consensus

import (
	"errors"
	"fmt"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/mempool"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// Admission: how a tx from a client, a peer or the journal gets into the
// mempool.

// Submit validates raw and adds it to the mempool; when local is true the tx
// is journaled first so that an acknowledged tx survives a crash.
func (a *App) Submit(raw []byte, local bool) ([32]byte, *txcodec.Rejection) {
	if err := a.admission.Load(); err != nil {
		return txcodec.TxHash(raw), txcodec.Reject(txcodec.CodeNotAccepting, "node is not accepting transactions: "+(*err).Error())
	}
	lim, params := a.limits()
	if params == nil {
		return [32]byte{}, txcodec.Reject(txcodec.CodeMalformed, "chain not initialised yet")
	}
	tx, rej := DecodeTx(raw, lim)
	if rej != nil {
		return txcodec.TxHash(raw), rej
	}
	o := fromPeer
	if local {
		o = fromClient
	}
	return tx.Hash, a.insert(tx, params, o)
}

// origin is where a tx entering the mempool comes from.
type origin int

const (
	fromPeer    origin = iota // gossiped by a peer: its origin already broadcast it
	fromClient                // submitted to this node: journal, then gossip
	fromJournal               // restored after a restart: gossip again
)

func (a *App) insert(tx *Tx, params *Params, o origin) *txcodec.Rejection {
	if fee := params.Fee(tx); fee.Gt(tx.FeeLimit) {
		return txcodec.Reject(txcodec.CodeFeeTooLow, fmt.Sprintf("fee limit %s is below the fee %s", tx.FeeLimit, fee))
	}
	// Rollups must exist in committed state or be registered by an earlier
	// action of this tx: actions execute in order (see applyTx), and a tx
	// that can never execute must not sit in the mempool blocking its sender.
	st := view{NewOverlay(a.store)}
	registered, chainIDs := map[rollups.ID]bool{}, map[uint64]bool{}
	for i, act := range tx.Body.Actions {
		switch k := act.Kind.(type) {
		case *weftv1.Action_RegisterRollup:
			if rej := checkRegistration(st, i, k.RegisterRollup, registered, chainIDs); rej != nil {
				return rej
			}
		case *weftv1.Action_RollupData:
			id, _ := rollups.IDFromBytes(k.RollupData.RollupId)
			if !registered[id] && !a.rollupCommitted(st, id) {
				return txcodec.Reject(txcodec.CodeUnknownRollup, fmt.Sprintf("action %d: rollup %s is not registered", i, id))
			}
		}
	}
	if rej := a.checkStaking(tx, params); rej != nil {
		return rej
	}
	if o == fromClient {
		if full, n := a.journal.Full(); full {
			return txcodec.Reject(txcodec.CodeMempoolFull, fmt.Sprintf("this node keeps %d acknowledged txs not yet committed, its most; retry later or submit to another node", n))
		}
	}
	// Validators are fully meshed: the node a client submitted to broadcasts
	// the tx to every peer, so txs from peers are not broadcast again.
	mtx := mempoolTx(tx, params)
	// A client's tx is gossiped once journaled (below): a tx the node
	// could not journal is refused, and must not leave the node either.
	mtx.Gossip = o == fromJournal
	// An acknowledged tx leaves only once it commits or can no longer be
	// included: it does not expire (it is journaled below, or already).
	mtx.Keep = o != fromPeer
	res, err := a.mp.Insert(mtx, a.accountState(tx.Sender), a.now())
	if err != nil {
		return mempoolRejection(err)
	}
	a.forget(res.Dropped)
	if o == fromClient {
		if err := a.journal.Put(tx.Hash, tx.Raw); err != nil {
			a.mp.Remove(tx.Hash)
			return txcodec.Reject(txcodec.CodeNotAccepting, "cannot journal tx (is the disk full?): "+err.Error())
		}
		a.mp.Gossip(tx.Hash)
		// A block that took the tx out of the mempool before Put indexed
		// it could not delete its entry: do it now, or the entry would
		// hold a slot of MaxJournaled until a restart. (A tx evicted for
		// room meanwhile stays journaled, as any acknowledged tx.)
		if !a.mp.Has(tx.Hash) && a.Reader().Account(tx.Sender).Nonce > tx.Body.Nonce {
			if err := a.journal.Remove(tx.Hash); err != nil {
				a.log.Error("remove journal entry of a tx that left the mempool", "tx", fmt.Sprintf("%x", tx.Hash), "err", err)
			}
		}
	}
	return nil
}

// rollupCommitted reports whether rollup id is registered in committed
// state st. Rollups are never deregistered, so one in the weights cache
// (rebuilt from committed state whenever a block registers one) exists;
// otherwise st is read, in case the cache is behind.
func (a *App) rollupCommitted(st view, id rollups.ID) bool {
	if w := a.weights.Load(); w != nil {
		if _, ok := (*w)[id]; ok {
			return true
		}
	}
	return st.Rollup(id) != nil
}

// mempoolTx is tx as the mempool sees it. Its priority comes from the fee
// the chain actually charges (params.Fee, per action and data byte), not
// from fee_limit, which only caps it: a high fee_limit buys nothing.
func mempoolTx(tx *Tx, params *Params) *mempool.Tx {
	m := &mempool.Tx{Hash: tx.Hash, Raw: tx.Raw, Sender: tx.Sender, Nonce: tx.Body.Nonce, Cost: tx.Cost(), Fee: params.Fee(tx), Payload: tx}
	for _, act := range tx.Body.Actions {
		rd, ok := act.Kind.(*weftv1.Action_RollupData)
		if !ok {
			continue
		}
		id := [32]byte(rd.RollupData.RollupId)
		i := slices.IndexFunc(m.Rollups, func(r mempool.RollupBytes) bool { return r.ID == id })
		if i < 0 {
			i = len(m.Rollups)
			m.Rollups = append(m.Rollups, mempool.RollupBytes{ID: id})
		}
		m.Rollups[i].Bytes += int64(len(rd.RollupData.Data))
	}
	return m
}

// accountState reads addr's committed nonce and balance for the mempool,
// when it needs them (a tx it already knows costs no read).
func (a *App) accountState(addr common.Address) func() mempool.AccountState {
	return func() mempool.AccountState {
		acc := a.Reader().Account(addr)
		return mempool.AccountState{Nonce: acc.Nonce, Balance: balanceOf(acc)}
	}
}

func mempoolRejection(err error) *txcodec.Rejection {
	code := txcodec.CodeMalformed
	switch {
	case errors.Is(err, mempool.ErrAlreadyKnown):
		code = txcodec.CodeAlreadyKnown
	case errors.Is(err, mempool.ErrNonceTooLow):
		code = txcodec.CodeNonceTooLow
	case errors.Is(err, mempool.ErrUnderpriced):
		code = txcodec.CodeReplacementUnderpriced
	case errors.Is(err, mempool.ErrNonceTooFarAhead):
		code = txcodec.CodeNonceTooFarAhead
	case errors.Is(err, mempool.ErrTooManyParked):
		code = txcodec.CodeTooManyParked
	case errors.Is(err, mempool.ErrInsufficientFunds):
		code = txcodec.CodeInsufficientFunds
	case errors.Is(err, mempool.ErrFull):
		code = txcodec.CodeMempoolFull
	}
	return txcodec.Reject(code, err.Error())
}

// hasStaking reports whether tx has a staking action.
func hasStaking(tx *Tx) bool {
	for _, act := range tx.Body.Actions {
		switch act.Kind.(type) {
		case *weftv1.Action_CreateValidator, *weftv1.Action_Delegate, *weftv1.Action_Undelegate,
			*weftv1.Action_EditValidator, *weftv1.Action_Unjail:
			return true
		}
	}
	return false
}

// checkStaking runs a tx with staking actions on committed state as if it
// were its sender's next tx and the balance covered its cost (the mempool
// checks nonces and balances). A staking action that cannot execute (bad
// key, stake below the minimum, unjail when not jailed, undelegating more
// than delegated...) would otherwise be accepted, never proposed, and block
// its sender's later txs for good.
func (a *App) checkStaking(tx *Tx, params *Params) *txcodec.Rejection {
	if !hasStaking(tx) {
		return nil
	}
	cost, overflow := new(uint256.Int).AddOverflow(tx.FeeLimit, tx.Transferred)
	if _, o2 := cost.AddOverflow(cost, tx.Bonded); overflow || o2 {
		return txcodec.Reject(txcodec.CodeInsufficientFunds, "fee limit + transfers + stake overflow")
	}
	st := view{NewOverlay(a.store)}
	acc := st.Account(tx.Sender)
	acc.Nonce, acc.Balance = tx.Body.Nonce, cost.Bytes()
	st.SetAccount(tx.Sender, acc)
	h, _ := a.Committed()
	_, rej := applyTx(st.ov, params, tx, h+1)
	return rej
}

// dropFailedStaking removes pending staking txs that are next in their
// sender's queue but can no longer execute after a block (say the sender's
// earlier tx undelegated everything), with the sender's later txs.
func (a *App) dropFailedStaking() []mempool.Dropped {
	_, params := a.limits()
	var out []mempool.Dropped
	for _, m := range a.mp.Pending(maxCandidates) {
		tx := m.Payload.(*Tx)
		if !hasStaking(tx) || tx.Body.Nonce != a.Reader().Account(tx.Sender).Nonce {
			continue
		}
		if rej := a.checkStaking(tx, params); rej != nil {
			for _, gone := range a.mp.Remove(m.Hash) {
				out = append(out, mempool.Dropped{Tx: gone, Reason: rej.Log})
			}
		}
	}
	return out
}
