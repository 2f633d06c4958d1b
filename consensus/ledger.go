package consensus

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// ledger is the account cache block building and execution apply txs
// through (applyTx): for txs with rollup data and transfers only, nothing
// bonded, the rules (charge, unknownRollup) and effects run on in-memory
// copies of the touched accounts instead of decoding and encoding accounts
// in the overlay for every tx; the copies are written back (flush) before
// any other tx, which runs on the overlay, and at the end of the block.
type ledger struct {
	st    view
	p     *Params
	accts map[common.Address]*ledgerAcct
	// rollups numbers the rollups looked up since the last flush; exists
	// is whether each is registered.
	rollups rollupIndex
	exists  []bool
	fees    uint256.Int
	applied int // txs applied since the last flush
}

type ledgerAcct struct {
	acc   *weftv1.Account
	nonce uint64
	bal   uint256.Int
	dirty bool
}

// newLedger returns a ledger over st expecting about txs txs: its account
// map starts sized for them (up to a point), rather than growing through
// rehashes while a large block is applied.
func newLedger(st view, p *Params, txs int) *ledger {
	return &ledger{st: st, p: p, accts: make(map[common.Address]*ledgerAcct, min(txs, 1024))}
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
	k, seen := l.rollups.find(id)
	if !seen {
		k = l.rollups.add(id)
		l.exists = append(l.exists, l.st.Rollup(id) != nil)
	}
	return l.exists[k]
}

// applyTx applies tx in block order, writing its fee into fee. Every tx
// meets the same rules (charge, then its actions in order); where they run
// depends on the actions: rollup data and transfers on the ledger's cached
// accounts, anything else (registrations, staking: they read and write
// state beyond accounts) through applyTx on the overlay, after a flush so
// that it sees exact state.
func (l *ledger) applyTx(ov *Overlay, tx *Tx, height int64, fee *uint256.Int) *txcodec.Rejection {
	if !tx.plain || !tx.Bonded.IsZero() {
		l.flush()
		f, rej := applyTx(ov, l.p, tx, height)
		if rej == nil {
			fee.Set(f)
		}
		return rej
	}
	a := l.account(tx.Sender)
	var need uint256.Int
	if rej := charge(a.nonce, &a.bal, l.p, tx, fee, &need); rej != nil {
		return rej
	}
	// Checked before any write, so a refused tx leaves the ledger as it was
	// (applyTx discards its child overlay): the first unknown rollup in
	// action order is the one applyTx would name.
	for j, id := range tx.Rollups {
		if !l.rollupExists(id) {
			return unknownRollup(rollupAction(tx, j), id)
		}
	}
	a.nonce++
	a.bal.Sub(&a.bal, &need)
	a.dirty = true
	if tx.transfers {
		for _, act := range tx.Body.Actions {
			if k, ok := act.Kind.(*weftv1.Action_Transfer); ok {
				to := l.account(common.BytesToAddress(k.Transfer.To))
				var amt uint256.Int
				if _, overflow := to.bal.AddOverflow(&to.bal, amt.SetBytes(k.Transfer.Amount)); overflow {
					// Supply is bounded far below 2^256 (as in credit).
					panic(fmt.Sprintf("invariant: balance overflow crediting %x", k.Transfer.To))
				}
				to.dirty = true
			}
		}
	}
	l.fees.Add(&l.fees, fee)
	l.applied++
	return nil
}

// rollupAction is the index in tx's actions of its j-th RollupData action.
func rollupAction(tx *Tx, j int) int {
	for i, act := range tx.Body.Actions {
		if _, ok := act.Kind.(*weftv1.Action_RollupData); ok {
			if j == 0 {
				return i
			}
			j--
		}
	}
	return -1
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
	l.rollups.reset()
	l.exists = l.exists[:0]
	l.fees.Clear()
	l.applied = 0
}

// rollupIndex numbers rollup ids in the order they are added: a block
// carries data for a few rollups, found faster by scanning a short slice
// than by hashing a 32-byte key per tx; past a handful, a map takes over.
type rollupIndex struct {
	ids []rollups.ID
	m   map[rollups.ID]int
}

// scanRollups is how many ids rollupIndex scans before using its map.
const scanRollups = 8

// find returns id's number, if it was added.
func (x *rollupIndex) find(id rollups.ID) (int, bool) {
	if x.m != nil {
		k, ok := x.m[id]
		return k, ok
	}
	for k := range x.ids {
		if x.ids[k] == id {
			return k, true
		}
	}
	return 0, false
}

// add numbers id, which must not be there yet, and returns its number.
func (x *rollupIndex) add(id rollups.ID) int {
	k := len(x.ids)
	x.ids = append(x.ids, id)
	if x.m == nil && len(x.ids) > scanRollups {
		x.m = make(map[rollups.ID]int, 2*len(x.ids))
		for i, id := range x.ids {
			x.m[id] = i
		}
	} else if x.m != nil {
		x.m[id] = k
	}
	return k
}

func (x *rollupIndex) reset() {
	x.ids = x.ids[:0]
	x.m = nil
}
