package mempool_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/weftnet/weft/mempool"
)

// TestParkedTotalCap: parked txs are never paid for, so the pool keeps only
// MaxParkedTotal of them whoever sends them. A newly parked tx evicts the
// parked tx paying least per byte (the oldest of equals); one paying less
// than every parked tx is refused. Ready txs neither count nor go.
func TestParkedTotalCap(t *testing.T) {
	p := mempool.NewPool(mempool.Config{MaxParkedTotal: 3})
	ready := mkf(9, 0, 1, 10, 0) // pays least of all, but is ready
	mustInsert(t, p, ready, rich(0))
	p1 := mkf(1, 5, 50, 10, 0)
	p2 := mkf(2, 5, 20, 10, 0)
	p3 := mkf(3, 5, 20, 10, 0)
	for _, tx := range []*mempool.Tx{p1, p2, p3} {
		mustInsert(t, p, tx, rich(0))
	}
	steps := []struct {
		name    string
		tx      *mempool.Tx
		evicted *mempool.Tx // nil: refused
	}{
		{"pays less than every parked tx", mkf(4, 5, 19, 10, 0), nil},
		{"pays as much as the cheapest: the oldest cheapest goes", mkf(4, 5, 20, 10, 1), p2},
		{"pays more: the cheapest goes", mkf(5, 5, 30, 10, 0), p3},
	}
	for _, s := range steps {
		res, err := p.Insert(s.tx, rich(0), t0)
		if s.evicted == nil {
			if !errors.Is(err, mempool.ErrTooManyParked) || p.Has(s.tx.Hash) {
				t.Fatalf("%s: %v", s.name, err)
			}
			checkInvariants(t, p)
			continue
		}
		if err != nil || !res.Parked || len(res.Dropped) != 1 || res.Dropped[0].Tx != s.evicted || !strings.Contains(res.Dropped[0].Reason, "parked") {
			t.Fatalf("%s: %v, dropped %v", s.name, err, res.Dropped)
		}
		if p.Has(s.evicted.Hash) || p.ParkedLen() != 3 {
			t.Fatalf("%s: ParkedLen %d", s.name, p.ParkedLen())
		}
		checkInvariants(t, p)
	}
	// A parked tx that becomes ready frees its slot; ready txs are not
	// held to the parked cap.
	for n := uint64(0); n < 5; n++ {
		mustInsert(t, p, mkf(1, n, 50, 10, 0), rich(0))
	}
	if p.ParkedLen() != 2 || !p.Has(ready.Hash) || p.IsParked(p1.Hash) {
		t.Fatalf("ParkedLen %d after sender 1's gap is filled", p.ParkedLen())
	}
	mustInsert(t, p, mkf(6, 5, 1, 10, 0), rich(0)) // a free slot: no eviction needed
	checkInvariants(t, p)
}

// TestReplacementsPerSender: a replaced tx is never paid for, so a sender
// may replace only MaxReplacements pending txs until one of its txs is
// committed.
func TestReplacementsPerSender(t *testing.T) {
	p := mempool.NewPool(mempool.Config{MaxReplacements: 2})
	fee := uint64(100)
	mustInsert(t, p, mkf(1, 0, fee, 10, 0), rich(0))
	mustInsert(t, p, mkf(1, 3, fee, 10, 0), rich(0)) // parked: replacing it counts too
	for i, n := range []uint64{0, 3} {
		fee = fee * 2
		mustInsert(t, p, mkf(1, n, fee, 10, byte(i+1)), rich(0))
	}
	err := ins(p, mkf(1, 0, fee*2, 10, 9), rich(0))
	if !errors.Is(err, mempool.ErrTooManyReplacements) || !errors.Is(err, mempool.ErrUnderpriced) {
		t.Fatalf("third replacement: %v", err)
	}
	// Other senders have budgets of their own.
	mustInsert(t, p, mkf(2, 0, 100, 10, 0), rich(0))
	mustInsert(t, p, mkf(2, 0, 200, 10, 1), rich(0))
	// Once the sender pays for a tx (nonce 0 commits), it may replace again.
	head := p.Pending(1)[0]
	update(p, [][32]byte{head.Hash}, func(s [20]byte) mempool.AccountState {
		if s == addr(1) {
			return rich(1)
		}
		return rich(0)
	}, addr(1))
	mustInsert(t, p, mkf(1, 3, fee*4, 10, 9), rich(1))
	checkInvariants(t, p)
}

// TestCannotPay: a tx whose fee alone exceeds its sender's balance (or
// whose sender has nothing) could never be included: ErrCannotPay, a kind
// of ErrInsufficientFunds, found before any parking or replacement rule. A
// tx that is affordable alone but not on top of the sender's pending ones
// is only ErrInsufficientFunds.
func TestCannotPay(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	// withCost is tx of fee fee costing cost in all (fee limit, transfers).
	withCost := func(nonce, fee, cost uint64) *mempool.Tx {
		tx := mkf(1, nonce, fee, 10, byte(cost))
		tx.Cost = uint256.NewInt(cost)
		return tx
	}
	for _, tc := range []struct {
		name   string
		tx     *mempool.Tx
		st     mempool.AccountState
		cannot bool
	}{
		{"unfunded sender", withCost(0, 10, 10), st(0, 0), true},
		{"unfunded sender, zero fee", withCost(0, 0, 5), st(0, 0), true},
		{"balance below the fee", withCost(0, 10, 10), st(0, 9), true},
		{"balance below the fee, far ahead", withCost(1000, 10, 10), st(0, 9), true},
		{"fee covered, cost not", withCost(0, 10, 50), st(0, 20), false},
	} {
		_, err := p.Insert(tc.tx, tc.st, t0)
		if !errors.Is(err, mempool.ErrInsufficientFunds) || errors.Is(err, mempool.ErrCannotPay) != tc.cannot {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if p.Len() != 0 {
		t.Fatal("refused txs are pending")
	}
	// A zero-cost tx from an empty account is fine.
	free := mkf(2, 0, 0, 10, 0)
	free.Cost = new(uint256.Int)
	mustInsert(t, p, free, st(0, 0))
}

// TestRestoreBypassesParkingLimits: txs a node acknowledged before a
// restart are put back whatever the parking limits (their gap may be
// filled by another node's tx), but every validity rule still holds.
func TestRestoreBypassesParkingLimits(t *testing.T) {
	p := mempool.NewPool(mempool.Config{MaxParked: 2, MaxNonceAhead: 3, MaxParkedTotal: 4})
	bal := st(0, 1000)
	var restored []*mempool.Tx
	for n := uint64(1); n <= 20; n++ {
		tx := mk(1, n, 10, 10, 0)
		res, err := p.Restore(tx, bal, t0)
		if err != nil || !res.Parked || len(res.Dropped) != 0 {
			t.Fatalf("restore nonce %d: %v %v", n, err, res)
		}
		restored = append(restored, tx)
	}
	if p.ParkedLen() != 20 {
		t.Fatalf("ParkedLen %d", p.ParkedLen())
	}
	checkInvariants(t, p)
	// Validity still applies: balance (20×10 spent of 1000), used nonces.
	if _, err := p.Restore(mk(1, 21, 801, 10, 0), bal, t0); !errors.Is(err, mempool.ErrInsufficientFunds) {
		t.Fatalf("restore over the balance: %v", err)
	}
	if _, err := p.Restore(mk(2, 0, 1, 10, 0), st(1, 1000), t0); !errors.Is(err, mempool.ErrNonceTooLow) {
		t.Fatalf("restore of a used nonce: %v", err)
	}
	// Live inserts are held to the limits: the pool is over its parked cap
	// and the sender over its own.
	if err := ins(p, mk(1, 21, 1, 10, 0), bal); !errors.Is(err, mempool.ErrNonceTooFarAhead) {
		t.Fatalf("live parked insert: %v", err)
	}
	if err := ins(p, mkf(3, 2, 5, 10, 0), rich(0)); !errors.Is(err, mempool.ErrTooManyParked) {
		t.Fatalf("cheaper parked insert of another sender at the pool's cap: %v", err)
	}
	// The missing nonce arrives (here by a commit): all 20 are ready, in
	// order.
	update(p, nil, func([20]byte) mempool.AccountState { return st(1, 1000) }, addr(1))
	sameTxs(t, "ready after the gap is filled", order(p), restored)
	if p.ParkedLen() != 0 {
		t.Fatalf("ParkedLen %d", p.ParkedLen())
	}
	checkInvariants(t, p)
}

// TestMempoolHasAndRestore covers the wrapper's Has and Restore.
func TestMempoolHasAndRestore(t *testing.T) {
	m := mempool.New(mempool.Config{MaxParked: 1})
	a, b := mk(1, 2, 1, 10, 0), mk(1, 3, 1, 10, 0)
	state := func() mempool.AccountState { return rich(0) }
	if _, err := m.Insert(a, state, t0); err != nil {
		t.Fatal(err)
	}
	if !m.Has(a.Hash) || m.Has(b.Hash) {
		t.Fatal("Has")
	}
	if _, err := m.Insert(b, state, t0); !errors.Is(err, mempool.ErrTooManyParked) {
		t.Fatalf("second parked insert: %v", err)
	}
	if res, err := m.Restore(b, state, t0); err != nil || !res.Parked || m.ParkedLen() != 2 {
		t.Fatalf("restore: %v %v", err, res)
	}
	if _, err := m.Restore(b, state, t0); !errors.Is(err, mempool.ErrAlreadyKnown) {
		t.Fatalf("second restore: %v", err)
	}
}
