package rpc

import (
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/holiman/uint256"
)

// DefaultMaxPendingPerSender bounds how many txs of one sender may be in
// flight at once (go-ethereum's txpool queues 64 per account).
const DefaultMaxPendingPerSender = 64

// inflight tracks rollup txs handed to Weft but not yet executed, so the
// node answers eth_getTransactionCount("pending") and
// eth_getTransactionByHash for them, rejects a second tx with a nonce
// already in flight, and admits a sender's next tx only if the balance
// covers it after the sender's txs in flight (each is ordered, paid for in
// Weft data by the node's submitter key, whether or not it can execute).
type inflight struct {
	mu        sync.Mutex
	byHash    map[common.Hash]*flight
	bySender  map[common.Address]map[uint64]*flight
	ttl       time.Duration
	maxSender int
	// executedTo is, per sender, one past the highest nonce of its txs in
	// flight seen executed: until the head a check reads shows them (it may
	// have been read just before their block), they still count as used.
	executedTo map[common.Address]executedNonce
}

type executedNonce struct {
	next uint64
	at   time.Time
}

type flight struct {
	tx     *types.Transaction
	sender common.Address
	cost   *uint256.Int // the most the tx can take from the sender's balance
	since  time.Time
}

// account is a sender's state at the rollup head a tx is checked against.
type account struct {
	nonce   uint64
	balance *uint256.Int
}

func newInflight(ttl time.Duration, maxPerSender int) *inflight {
	if maxPerSender <= 0 {
		maxPerSender = DefaultMaxPendingPerSender
	}
	return &inflight{
		byHash: map[common.Hash]*flight{}, bySender: map[common.Address]map[uint64]*flight{},
		ttl: ttl, maxSender: maxPerSender, executedTo: map[common.Address]executedNonce{},
	}
}

// txCost is the most tx can spend, as go-ethereum's txpool counts it:
// value + gas * maxFeePerGas (+ blob gas * maxFeePerBlobGas).
func txCost(tx *types.Transaction) (*uint256.Int, bool) {
	c, overflow := uint256.FromBig(tx.Cost())
	return c, !overflow
}

// reserve records tx as in flight for sender, whose state is acct, as
// go-ethereum's txpool admits a tx (ValidateTransactionWithState): it is
// refused when its nonce is already in flight, when the sender already has
// the most txs in flight allowed, or when acct's balance cannot cover its
// cost on top of the costs of the sender's other txs in flight. Only txs at
// or above acct's nonce count: those below have executed (or can no longer)
// and wait for retire to forget them. A nonce reserved again after its tx
// was forgotten counts the new tx's cost only.
func (f *inflight) reserve(tx *types.Transaction, sender common.Address, acct account, now time.Time) error {
	cost, ok := txCost(tx)
	if !ok {
		return fmt.Errorf("%w: address %v, tx cost overflows", core.ErrInsufficientFunds, sender)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.bySender[sender]
	if _, taken := m[tx.Nonce()]; taken {
		return fmt.Errorf("%w: address %v, nonce %d is already pending", core.ErrNonceTooLow, sender, tx.Nonce())
	}
	base := f.baseLocked(sender, acct.nonce)
	spent, used := new(uint256.Int), 0
	for n, fl := range m {
		if n < base {
			continue
		}
		used++
		if _, overflow := spent.AddOverflow(spent, fl.cost); overflow {
			spent.SetAllOne()
		}
	}
	if used >= f.maxSender {
		return fmt.Errorf("%w: pooled %d txs", txpool.ErrAccountLimitExceeded, used)
	}
	need, overflow := new(uint256.Int).AddOverflow(spent, cost)
	if overflow || acct.balance.Lt(need) {
		over := "more than 2^256"
		if !overflow {
			over = new(uint256.Int).Sub(need, acct.balance).Dec()
		}
		return fmt.Errorf("%w: balance %v, queued cost %v, tx cost %v, overshot %v", core.ErrInsufficientFunds, acct.balance.Dec(), spent.Dec(), cost.Dec(), over)
	}
	if m == nil {
		m = map[uint64]*flight{}
		f.bySender[sender] = m
	}
	fl := &flight{tx: tx, sender: sender, cost: cost, since: now}
	m[tx.Nonce()] = fl
	f.byHash[tx.Hash()] = fl
	return nil
}

// executed forgets a tx the executor executed, and remembers that its
// nonce is used (see executedTo).
func (f *inflight) executed(h common.Hash, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl, ok := f.byHash[h]; ok {
		if e := f.executedTo[fl.sender]; fl.tx.Nonce()+1 > e.next {
			f.executedTo[fl.sender] = executedNonce{next: fl.tx.Nonce() + 1, at: now}
		}
	}
	f.releaseLocked(h)
}

// baseLocked is sender's first nonce not yet used: its state nonce, or
// past its txs seen executed if the state read does not show them yet.
func (f *inflight) baseLocked(sender common.Address, stateNonce uint64) uint64 {
	if e, ok := f.executedTo[sender]; ok && e.next > stateNonce {
		return e.next
	}
	return stateNonce
}

// release forgets a tx (skipped, or never submitted).
func (f *inflight) release(h common.Hash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releaseLocked(h)
}

func (f *inflight) releaseLocked(h common.Hash) {
	fl, ok := f.byHash[h]
	if !ok {
		return
	}
	delete(f.byHash, h)
	if m := f.bySender[fl.sender]; m != nil {
		if m[fl.tx.Nonce()] == fl {
			delete(m, fl.tx.Nonce())
		}
		if len(m) == 0 {
			delete(f.bySender, fl.sender)
		}
	}
}

// expire forgets txs older than the ttl: their Weft tx was never ordered
// (the sequencer answers for them through weft query tx).
func (f *inflight) expire(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for h, fl := range f.byHash {
		if now.Sub(fl.since) > f.ttl {
			f.releaseLocked(h)
		}
	}
	for a, e := range f.executedTo {
		if now.Sub(e.at) > f.ttl {
			delete(f.executedTo, a)
		}
	}
}

// get returns an in-flight tx.
func (f *inflight) get(h common.Hash) (*types.Transaction, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl, ok := f.byHash[h]
	if !ok {
		return nil, false
	}
	return fl.tx, true
}

// pendingNonce is the next nonce of sender: its state nonce (or past its
// txs seen executed, see executedTo) plus the consecutive nonces in flight
// after it.
func (f *inflight) pendingNonce(sender common.Address, stateNonce uint64) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.baseLocked(sender, stateNonce)
	m := f.bySender[sender]
	for {
		if _, ok := m[n]; !ok {
			return n
		}
		n++
	}
}
