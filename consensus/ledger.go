package consensus

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

// ledger is the fast path of block building and execution for simple txs
// (rollup data and transfers only, nothing bonded): it applies applyTx's
// checks and effects to in-memory copies of the touched accounts instead of
// decoding and encoding accounts in the overlay for every tx, and writes
// them back (flush) before a tx that takes the slow path (applyTx) and at
// the end of the block.
type ledger struct {
	st      view
	p       *Params
	accts   map[common.Address]*ledgerAcct
	rollups map[rollups.ID]bool
	fees    uint256.Int
	applied int // txs applied since the last flush
}

type ledgerAcct struct {
	acc   *weftv1.Account
	nonce uint64
	bal   uint256.Int
	dirty bool
}

func newLedger(st view, p *Params) *ledger {
	return &ledger{st: st, p: p, accts: map[common.Address]*ledgerAcct{}, rollups: map[rollups.ID]bool{}}
}

// slowPathOnly turns the ledger off (tests compare both paths).
var slowPathOnly bool

// simpleTx reports whether tx can take the ledger's fast path.
func simpleTx(tx *Tx) bool {
	if slowPathOnly || !tx.Bonded.IsZero() {
		return false
	}
	for _, a := range tx.Body.Actions {
		switch a.Kind.(type) {
		case *weftv1.Action_RollupData, *weftv1.Action_Transfer:
		default:
			return false
		}
	}
	return true
}

func (l *ledger) account(a common.Address) *ledgerAcct {
	if la, ok := l.accts[a]; ok {
		return la
	}
	acc := l.st.Account(a)
	la := &ledgerAcct{acc: acc, nonce: acc.Nonce}
	la.bal.Set(balanceOf(acc))
	l.accts[a] = la
	return la
}

func (l *ledger) rollupExists(id rollups.ID) bool {
	ok, seen := l.rollups[id]
	if !seen {
		ok = l.st.Rollup(id) != nil
		l.rollups[id] = ok
	}
	return ok
}

// apply is applyTx for a simple tx: it reports whether the tx is valid
// after everything applied so far and, if so, applies it and returns its
// fee. A tx it refuses is left untouched (callers that need applyTx's
// rejection flush and ask applyTx).
func (l *ledger) apply(tx *Tx) (*uint256.Int, bool) {
	a := l.account(tx.Sender)
	if tx.Body.Nonce != a.nonce {
		return nil, false
	}
	fee := l.p.Fee(tx)
	if fee.Gt(tx.FeeLimit) {
		return nil, false
	}
	need, overflow := new(uint256.Int).AddOverflow(fee, tx.Transferred)
	if overflow || need.Gt(&a.bal) {
		return nil, false
	}
	for _, id := range tx.Rollups {
		if !l.rollupExists(id) {
			return nil, false
		}
	}
	a.nonce++
	a.bal.Sub(&a.bal, need)
	a.dirty = true
	for _, act := range tx.Body.Actions {
		if k, ok := act.Kind.(*weftv1.Action_Transfer); ok {
			to := l.account(common.BytesToAddress(k.Transfer.To))
			if _, overflow := to.bal.AddOverflow(&to.bal, new(uint256.Int).SetBytes(k.Transfer.Amount)); overflow {
				// Supply is bounded far below 2^256 (as in credit).
				panic(fmt.Sprintf("invariant: balance overflow crediting %x", k.Transfer.To))
			}
			to.dirty = true
		}
	}
	l.fees.Add(&l.fees, fee)
	l.applied++
	return fee, true
}

// applyTx applies tx in block order: on the ledger when it is simple and
// valid, otherwise through applyTx on exact state (after a flush), which
// also gives the rejection of an invalid simple tx.
func (l *ledger) applyTx(ov *Overlay, tx *Tx, height int64) (*uint256.Int, *Rejection) {
	if simpleTx(tx) {
		if fee, ok := l.apply(tx); ok {
			return fee, nil
		}
	}
	l.flush()
	return applyTx(ov, l.p, tx, height)
}

// flush writes what the ledger applied into the overlay (accounts, and the
// fees into the staking pool, as applyTx does) and forgets its copies, so
// that a slow-path tx sees exact state. The overlay then holds the same
// final writes as if every tx had gone through applyTx (the app hash
// commits to final writes only), so block execution uses the ledger too.
func (l *ledger) flush() {
	for addr, la := range l.accts {
		if la.dirty {
			la.acc.Nonce = la.nonce
			la.acc.Balance = la.bal.Bytes()
			l.st.SetAccount(addr, la.acc)
		}
	}
	if l.applied > 0 { // applyTx writes the pool for every tx, even at fee 0
		l.st.staking(l.p).CollectFee(new(uint256.Int).Set(&l.fees))
	}
	clear(l.accts)
	clear(l.rollups)
	l.fees.Clear()
	l.applied = 0
}
