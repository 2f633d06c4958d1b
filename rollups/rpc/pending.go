package rpc

import (
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// inflight tracks rollup txs handed to Weft but not yet executed, so the
// node answers eth_getTransactionCount("pending") and
// eth_getTransactionByHash for them, and rejects a second tx with a nonce
// already in flight.
type inflight struct {
	mu       sync.Mutex
	byHash   map[common.Hash]*flight
	bySender map[common.Address]map[uint64]*flight
	ttl      time.Duration
}

type flight struct {
	tx     *types.Transaction
	sender common.Address
	since  time.Time
}

func newInflight(ttl time.Duration) *inflight {
	return &inflight{byHash: map[common.Hash]*flight{}, bySender: map[common.Address]map[uint64]*flight{}, ttl: ttl}
}

// reserve records tx unless its nonce is already in flight for sender.
func (f *inflight) reserve(tx *types.Transaction, sender common.Address, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.bySender[sender]
	if m == nil {
		m = map[uint64]*flight{}
		f.bySender[sender] = m
	}
	if _, taken := m[tx.Nonce()]; taken {
		return false
	}
	fl := &flight{tx: tx, sender: sender, since: now}
	m[tx.Nonce()] = fl
	f.byHash[tx.Hash()] = fl
	return true
}

// release forgets a tx (executed, skipped, or never submitted).
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

// pendingNonce is the next nonce of sender: its state nonce plus the
// consecutive nonces in flight after it.
func (f *inflight) pendingNonce(sender common.Address, stateNonce uint64) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := stateNonce
	m := f.bySender[sender]
	for {
		if _, ok := m[n]; !ok {
			return n
		}
		n++
	}
}
