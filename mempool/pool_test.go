package mempool_test

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/weftnet/weft/mempool"
)

func addr(b byte) [20]byte { return [20]byte{b} }

// mk returns a tx of sender with nonce, cost and size bytes; salt makes txs
// with the same sender and nonce distinct.
func mk(sender byte, nonce uint64, cost uint64, size int, salt byte) *mempool.Tx {
	var seed [18]byte
	seed[0] = sender
	binary.BigEndian.PutUint64(seed[1:9], nonce)
	seed[9] = salt
	binary.BigEndian.PutUint64(seed[10:], cost)
	raw := make([]byte, size)
	copy(raw, seed[:])
	h := sha256.Sum256(append(seed[:], raw...))
	return &mempool.Tx{Hash: h, Raw: raw, Sender: addr(sender), Nonce: nonce, Cost: uint256.NewInt(cost), Gossip: true}
}

func st(nonce, balance uint64) mempool.AccountState {
	return mempool.AccountState{Nonce: nonce, Balance: uint256.NewInt(balance)}
}

func rich(nonce uint64) mempool.AccountState { return st(nonce, 1<<62) }

func mustInsert(t *testing.T, p *mempool.Pool, tx *mempool.Tx, s mempool.AccountState) {
	t.Helper()
	if err := p.Insert(tx, s); err != nil {
		t.Fatalf("insert sender %x nonce %d: %v", tx.Sender[0], tx.Nonce, err)
	}
}

func sameTxs(t *testing.T, what string, got, want []*mempool.Tx) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d txs, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: tx %d is sender %x nonce %d, want sender %x nonce %d",
				what, i, got[i].Sender[0], got[i].Nonce, want[i].Sender[0], want[i].Nonce)
		}
	}
}

// checkInvariants checks Len, Bytes, Has and per-sender nonce order against
// what Candidates reports.
func checkInvariants(t *testing.T, p *mempool.Pool) {
	t.Helper()
	all := p.Candidates(1 << 30)
	if len(all) != p.Len() {
		t.Fatalf("Candidates holds %d txs, Len is %d", len(all), p.Len())
	}
	var bytes int64
	last := map[[20]byte]uint64{}
	for _, tx := range all {
		bytes += int64(len(tx.Raw))
		if !p.Has(tx.Hash) || p.Get(tx.Hash) != tx {
			t.Fatalf("candidate %x not indexed", tx.Hash[:4])
		}
		if n, ok := last[tx.Sender]; ok && tx.Nonce != n+1 {
			t.Fatalf("sender %x: nonce %d follows %d", tx.Sender[0], tx.Nonce, n)
		}
		last[tx.Sender] = tx.Nonce
	}
	if bytes != p.Bytes() {
		t.Fatalf("candidates hold %d bytes, Bytes is %d", bytes, p.Bytes())
	}
	for s, n := range last {
		if got := p.NextNonce(s, 0); got != n+1 {
			t.Fatalf("sender %x: NextNonce %d, want %d", s[0], got, n+1)
		}
	}
}

func TestInsertNonceRules(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	if got := p.NextNonce(addr(1), 5); got != 5 {
		t.Fatalf("NextNonce of an unknown sender = %d, want the committed 5", got)
	}
	steps := []struct {
		tx   *mempool.Tx
		want error
	}{
		{mk(1, 4, 1, 10, 0), mempool.ErrNonceTooLow},
		{mk(1, 0, 1, 10, 0), mempool.ErrNonceTooLow},
		{mk(1, 6, 1, 10, 0), mempool.ErrNonceGap},
		{mk(1, 5, 1, 10, 0), nil},
		{mk(1, 5, 1, 10, 1), mempool.ErrNoncePending}, // same nonce, other tx
		{mk(1, 5, 1, 10, 0), mempool.ErrAlreadyKnown}, // the very same tx
		{mk(1, 7, 1, 10, 0), mempool.ErrNonceGap},
		{mk(1, 6, 1, 10, 0), nil},
		{mk(1, 4, 1, 10, 1), mempool.ErrNonceTooLow},
		{mk(1, 5, 1, 10, 2), mempool.ErrNoncePending},
		{mk(1, 8, 1, 10, 0), mempool.ErrNonceGap},
		{mk(1, 7, 1, 10, 0), nil},
		{mk(2, 0, 1, 10, 0), nil}, // other senders are independent
	}
	for i, s := range steps {
		st := rich(5)
		if s.tx.Sender == addr(2) {
			st = rich(0)
		}
		err := p.Insert(s.tx, st)
		if !errors.Is(err, s.want) || (s.want == nil) != (err == nil) {
			t.Fatalf("step %d (nonce %d): got %v, want %v", i, s.tx.Nonce, err, s.want)
		}
		checkInvariants(t, p)
	}
	if got := p.NextNonce(addr(1), 5); got != 8 {
		t.Fatalf("NextNonce = %d, want 8", got)
	}
	if p.Len() != 4 || p.Bytes() != 40 {
		t.Fatalf("Len %d Bytes %d, want 4 and 40", p.Len(), p.Bytes())
	}
}

func TestInsertAlreadyKnownComesFirst(t *testing.T) {
	p := mempool.NewPool(mempool.Config{MaxTxs: 1})
	tx := mk(1, 0, 1, 10, 0)
	mustInsert(t, p, tx, rich(0))
	// Even when the state would now reject it, or the pool is full, a
	// resubmission is reported as known.
	for _, s := range []mempool.AccountState{rich(0), rich(1), st(0, 0)} {
		if err := p.Insert(tx, s); !errors.Is(err, mempool.ErrAlreadyKnown) {
			t.Fatalf("resubmission: %v", err)
		}
	}
}

func TestInsertCumulativeCost(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	bal := st(0, 100)
	mustInsert(t, p, mk(1, 0, 40, 10, 0), bal)
	mustInsert(t, p, mk(1, 1, 40, 10, 0), bal)
	// 40+40+30 > 100 although 30 alone is affordable.
	if err := p.Insert(mk(1, 2, 30, 10, 0), bal); !errors.Is(err, mempool.ErrInsufficientFunds) {
		t.Fatalf("third tx over the balance: %v", err)
	}
	if !strings.Contains(p.Insert(mk(1, 2, 30, 10, 0), bal).Error(), "110") {
		t.Fatal("error does not say what was needed")
	}
	mustInsert(t, p, mk(1, 2, 20, 10, 0), bal) // exactly the balance
	if err := p.Insert(mk(1, 3, 0, 10, 0), bal); err != nil {
		t.Fatalf("zero-cost tx on an exhausted balance: %v", err)
	}
	if err := p.Insert(mk(1, 4, 1, 10, 0), bal); !errors.Is(err, mempool.ErrInsufficientFunds) {
		t.Fatalf("one over: %v", err)
	}
	// A cost that overflows uint256 when summed is insufficient, not wrapped.
	huge := mk(2, 0, 0, 10, 0)
	huge.Cost = new(uint256.Int).SetAllOne()
	max := mempool.AccountState{Nonce: 0, Balance: new(uint256.Int).SetAllOne()}
	mustInsert(t, p, huge, max)
	wrap := mk(2, 1, 2, 10, 0)
	if err := p.Insert(wrap, max); !errors.Is(err, mempool.ErrInsufficientFunds) {
		t.Fatalf("overflowing sum: %v", err)
	}
	checkInvariants(t, p)
}

func TestInsertFull(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		p := mempool.NewPool(mempool.Config{MaxTxs: 2})
		a, b := mk(1, 0, 1, 10, 0), mk(2, 0, 1, 10, 0)
		mustInsert(t, p, a, rich(0))
		mustInsert(t, p, b, rich(0))
		if err := p.Insert(mk(3, 0, 1, 10, 0), rich(0)); !errors.Is(err, mempool.ErrFull) {
			t.Fatalf("third tx: %v", err)
		}
		if err := p.Insert(mk(1, 1, 1, 10, 0), rich(0)); !errors.Is(err, mempool.ErrFull) {
			t.Fatalf("third tx of a known sender: %v", err)
		}
		if p.Len() != 2 || p.Bytes() != 20 {
			t.Fatalf("rejected insert changed the pool: %d txs %d bytes", p.Len(), p.Bytes())
		}
		p.Remove(a.Hash)
		mustInsert(t, p, mk(3, 0, 1, 10, 0), rich(0))
		checkInvariants(t, p)
	})
	t.Run("bytes", func(t *testing.T) {
		p := mempool.NewPool(mempool.Config{MaxBytes: 100})
		mustInsert(t, p, mk(1, 0, 1, 60, 0), rich(0))
		if err := p.Insert(mk(2, 0, 1, 41, 0), rich(0)); !errors.Is(err, mempool.ErrFull) {
			t.Fatalf("41 bytes on top of 60 with a cap of 100: %v", err)
		}
		mustInsert(t, p, mk(2, 0, 1, 40, 0), rich(0)) // exactly the cap
		if err := p.Insert(mk(3, 0, 1, 1, 0), rich(0)); !errors.Is(err, mempool.ErrFull) {
			t.Fatalf("1 byte over the cap: %v", err)
		}
		if p.Bytes() != 100 {
			t.Fatalf("Bytes = %d", p.Bytes())
		}
		// Committing frees room.
		p.Update([][32]byte{mk(1, 0, 1, 60, 0).Hash}, func(s [20]byte) mempool.AccountState {
			if s == addr(1) {
				return rich(1)
			}
			return rich(0)
		})
		if p.Bytes() != 40 {
			t.Fatalf("after update Bytes = %d, want 40", p.Bytes())
		}
		mustInsert(t, p, mk(3, 0, 1, 60, 0), rich(0))
		checkInvariants(t, p)
	})
	t.Run("single tx over the byte cap", func(t *testing.T) {
		p := mempool.NewPool(mempool.Config{MaxBytes: 10})
		if err := p.Insert(mk(1, 0, 1, 11, 0), rich(0)); !errors.Is(err, mempool.ErrFull) {
			t.Fatalf("tx larger than the cap: %v", err)
		}
	})
}

func TestRejectedInsertLeavesNoTrace(t *testing.T) {
	p := mempool.NewPool(mempool.Config{MaxTxs: 3})
	ok := mk(1, 0, 50, 10, 0)
	mustInsert(t, p, ok, st(0, 100))
	for _, tc := range []struct {
		tx *mempool.Tx
		st mempool.AccountState
	}{
		{mk(1, 1, 51, 10, 0), st(0, 100)}, // funds
		{mk(1, 2, 1, 10, 0), st(0, 100)},  // gap
		{mk(2, 3, 1, 10, 0), rich(4)},     // too low
	} {
		if err := p.Insert(tc.tx, tc.st); err == nil {
			t.Fatal("accepted")
		}
		if p.Has(tc.tx.Hash) {
			t.Fatal("rejected tx is indexed")
		}
	}
	sameTxs(t, "gossip", p.TakeGossip(0), []*mempool.Tx{ok})
	if got := p.NextNonce(addr(2), 4); got != 4 {
		t.Fatalf("rejected tx created an account queue: NextNonce %d", got)
	}
	checkInvariants(t, p)
}

func TestCandidatesFIFO(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	if got := p.Candidates(10); len(got) != 0 {
		t.Fatalf("empty pool has %d candidates", len(got))
	}
	order := []*mempool.Tx{
		mk(1, 0, 1, 10, 0), mk(2, 0, 1, 10, 0), mk(1, 1, 1, 10, 0),
		mk(3, 7, 1, 10, 0), mk(2, 1, 1, 10, 0), mk(1, 2, 1, 10, 0),
	}
	for _, tx := range order {
		s := rich(0)
		if tx.Sender == addr(3) {
			s = rich(7)
		}
		mustInsert(t, p, tx, s)
	}
	sameTxs(t, "all", p.Candidates(100), order)
	sameTxs(t, "limit 4", p.Candidates(4), order[:4])
	sameTxs(t, "limit 0", p.Candidates(0), nil)
	// Candidates does not consume.
	sameTxs(t, "again", p.Candidates(100), order)

	// After a sender's tail is removed and re-submitted, it goes to the back.
	p.Remove(order[2].Hash) // sender 1 nonces 1 and 2
	again := mk(1, 1, 1, 10, 9)
	mustInsert(t, p, again, rich(0))
	sameTxs(t, "after remove", p.Candidates(100), []*mempool.Tx{order[0], order[1], order[3], order[4], again})
	checkInvariants(t, p)
}

func TestTakeGossip(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	if got := p.TakeGossip(0); len(got) != 0 {
		t.Fatalf("gossip from an empty pool: %d", len(got))
	}
	a, b, c := mk(1, 0, 1, 10, 0), mk(2, 0, 1, 10, 0), mk(3, 0, 1, 10, 0)
	for _, tx := range []*mempool.Tx{a, b, c} {
		mustInsert(t, p, tx, rich(0))
	}
	sameTxs(t, "25 bytes", p.TakeGossip(25), []*mempool.Tx{a, b})
	sameTxs(t, "rest", p.TakeGossip(25), []*mempool.Tx{c})
	sameTxs(t, "nothing new", p.TakeGossip(25), nil)

	// Always at least one, even above maxBytes.
	big := mk(4, 0, 1, 100, 0)
	mustInsert(t, p, big, rich(0))
	d := mk(5, 0, 1, 10, 0)
	mustInsert(t, p, d, rich(0))
	sameTxs(t, "oversized first", p.TakeGossip(5), []*mempool.Tx{big})
	sameTxs(t, "then", p.TakeGossip(5), []*mempool.Tx{d})

	// maxBytes <= 0 means no limit; exactly maxBytes fits.
	e, f, g := mk(1, 1, 1, 10, 0), mk(2, 1, 1, 10, 0), mk(3, 1, 1, 10, 0)
	for _, tx := range []*mempool.Tx{e, f, g} {
		mustInsert(t, p, tx, rich(0))
	}
	sameTxs(t, "exactly 20", p.TakeGossip(20), []*mempool.Tx{e, f})
	sameTxs(t, "no limit", p.TakeGossip(0), []*mempool.Tx{g})

	// Removed and committed txs are skipped and do not count against maxBytes.
	h, i, j, k := mk(6, 0, 1, 10, 0), mk(7, 0, 1, 10, 0), mk(8, 0, 1, 10, 0), mk(9, 0, 1, 10, 0)
	for _, tx := range []*mempool.Tx{h, i, j, k} {
		mustInsert(t, p, tx, rich(0))
	}
	p.Remove(h.Hash)
	p.Update([][32]byte{j.Hash}, func(s [20]byte) mempool.AccountState {
		if s == addr(8) {
			return rich(1)
		}
		return rich(0)
	})
	sameTxs(t, "skips gone txs", p.TakeGossip(20), []*mempool.Tx{i, k})
	sameTxs(t, "drained", p.TakeGossip(0), nil)
	checkInvariants(t, p)
}

func TestTakeGossipReinsertedOnce(t *testing.T) {
	// A tx removed and accepted again before the node gossiped is gossiped
	// once, not once per acceptance.
	p := mempool.NewPool(mempool.Config{})
	a, b := mk(1, 0, 1, 10, 0), mk(2, 0, 1, 10, 0)
	mustInsert(t, p, a, rich(0))
	p.Remove(a.Hash)
	mustInsert(t, p, b, rich(0))
	mustInsert(t, p, a, rich(0))
	sameTxs(t, "first", p.TakeGossip(15), []*mempool.Tx{b})
	sameTxs(t, "second", p.TakeGossip(15), []*mempool.Tx{a})
	sameTxs(t, "third", p.TakeGossip(15), nil)
}

func TestUpdate(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	// Sender 1: nonces 0..3, cost 10 each, balance 100.
	s1 := []*mempool.Tx{mk(1, 0, 10, 10, 0), mk(1, 1, 10, 10, 0), mk(1, 2, 10, 10, 0), mk(1, 3, 10, 10, 0)}
	// Sender 2: nonces 0..2, cost 30 each, balance 100.
	s2 := []*mempool.Tx{mk(2, 0, 30, 10, 0), mk(2, 1, 30, 10, 0), mk(2, 2, 30, 10, 0)}
	// Sender 3: nonces 5..6; another node's tx with nonce 5 gets committed.
	s3 := []*mempool.Tx{mk(3, 5, 1, 10, 0), mk(3, 6, 1, 10, 0)}
	// Sender 4: untouched by the block.
	s4 := []*mempool.Tx{mk(4, 0, 1, 10, 0)}
	for _, tx := range s1 {
		mustInsert(t, p, tx, st(0, 100))
	}
	for _, tx := range s2 {
		mustInsert(t, p, tx, st(0, 100))
	}
	for _, tx := range s3 {
		mustInsert(t, p, tx, rich(5))
	}
	mustInsert(t, p, s4[0], rich(0))
	p.TakeGossip(0)

	// The block commits s1[0], s1[1] and s2[0]; sender 2 also lost 50 to a
	// transfer, so only one more 30-cost tx fits; sender 3's nonce 5 was
	// taken by a different tx.
	state := map[[20]byte]mempool.AccountState{
		addr(1): st(2, 80),
		addr(2): st(1, 40),
		addr(3): rich(6),
		addr(4): rich(0),
	}
	asked := map[[20]byte]bool{}
	dropped := p.Update([][32]byte{s1[0].Hash, s1[1].Hash, s2[0].Hash, mk(9, 0, 0, 10, 0).Hash}, func(s [20]byte) mempool.AccountState {
		asked[s] = true
		st, ok := state[s]
		if !ok {
			t.Fatalf("state asked for unknown sender %x", s[0])
		}
		return st
	})
	if !asked[addr(4)] {
		t.Fatal("pending sender untouched by the block was not re-validated")
	}
	got := map[[32]byte]string{}
	for _, d := range dropped {
		if d.Reason == "" {
			t.Fatalf("dropped tx %x without a reason", d.Tx.Hash[:4])
		}
		if _, dup := got[d.Tx.Hash]; dup {
			t.Fatalf("tx %x dropped twice", d.Tx.Hash[:4])
		}
		got[d.Tx.Hash] = d.Reason
	}
	want := map[[32]byte]string{
		s2[2].Hash: "insufficient balance",
		s3[0].Hash: "nonce too low",
	}
	if len(got) != len(want) {
		t.Fatalf("dropped %d txs, want %d: %v", len(got), len(want), dropped)
	}
	for h, reason := range want {
		if !strings.Contains(got[h], reason) {
			t.Fatalf("tx %x: reason %q, want %q", h[:4], got[h], reason)
		}
	}
	sameTxs(t, "left", p.Candidates(100), []*mempool.Tx{s1[2], s1[3], s2[1], s3[1], s4[0]})
	for _, tx := range []*mempool.Tx{s1[0], s1[1], s2[0], s2[2], s3[0]} {
		if p.Has(tx.Hash) {
			t.Fatalf("tx %x still pending", tx.Hash[:4])
		}
	}
	if got := p.NextNonce(addr(2), 1); got != 2 {
		t.Fatalf("sender 2 NextNonce = %d, want 2", got)
	}
	sameTxs(t, "no gossip for survivors", p.TakeGossip(0), nil)
	checkInvariants(t, p)

	// A balance drop drops the unaffordable tx and every later one of the
	// sender, each with the same reason.
	dropped = p.Update(nil, func(s [20]byte) mempool.AccountState {
		if s == addr(1) {
			return st(2, 15)
		}
		return state[s]
	})
	if len(dropped) != 1 || dropped[0].Tx != s1[3] || !strings.Contains(dropped[0].Reason, "insufficient balance") {
		t.Fatalf("balance drop: %v", dropped)
	}
	dropped = p.Update(nil, func(s [20]byte) mempool.AccountState {
		if s == addr(1) {
			return st(2, 5)
		}
		return state[s]
	})
	if len(dropped) != 1 || dropped[0].Tx != s1[2] {
		t.Fatalf("second balance drop: %v", dropped)
	}
	if p.NextNonce(addr(1), 2) != 2 {
		t.Fatal("sender 1 still has a queue")
	}
	checkInvariants(t, p)

	// A committed nonce that jumps past the queue drops it all as stale.
	p2 := mempool.NewPool(mempool.Config{})
	q := []*mempool.Tx{mk(1, 0, 1, 10, 0), mk(1, 1, 1, 10, 0), mk(1, 2, 1, 10, 0)}
	for _, tx := range q {
		mustInsert(t, p2, tx, rich(0))
	}
	dropped = p2.Update(nil, func([20]byte) mempool.AccountState { return rich(2) })
	if len(dropped) != 2 || p2.Len() != 1 || p2.Candidates(10)[0] != q[2] {
		t.Fatalf("stale nonces: dropped %v, left %d", dropped, p2.Len())
	}
	for _, d := range dropped {
		if !strings.Contains(d.Reason, "nonce too low") {
			t.Fatalf("stale nonce reason %q", d.Reason)
		}
	}
	checkInvariants(t, p2)

	// Bytes and counts return to zero once everything is committed.
	p2.Update([][32]byte{q[2].Hash}, func([20]byte) mempool.AccountState { return rich(3) })
	if p2.Len() != 0 || p2.Bytes() != 0 {
		t.Fatalf("empty pool has %d txs %d bytes", p2.Len(), p2.Bytes())
	}
}

func TestUpdateDropsTxsAfterAGap(t *testing.T) {
	// The chain never commits a queue's middle tx before its head, but
	// Update must stay safe if told so: the txs after the hole are dropped.
	p := mempool.NewPool(mempool.Config{})
	q := []*mempool.Tx{mk(1, 0, 1, 10, 0), mk(1, 1, 1, 10, 0), mk(1, 2, 1, 10, 0)}
	for _, tx := range q {
		mustInsert(t, p, tx, rich(0))
	}
	dropped := p.Update([][32]byte{q[1].Hash}, func([20]byte) mempool.AccountState { return rich(0) })
	if len(dropped) != 1 || dropped[0].Tx != q[2] || !strings.Contains(dropped[0].Reason, "nonce gap") {
		t.Fatalf("gap: %v", dropped)
	}
	sameTxs(t, "left", p.Candidates(10), q[:1])
	checkInvariants(t, p)
}

func TestRemove(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	a := []*mempool.Tx{mk(1, 0, 1, 10, 0), mk(1, 1, 1, 11, 0), mk(1, 2, 1, 12, 0), mk(1, 3, 1, 13, 0)}
	b := mk(2, 0, 1, 20, 0)
	for _, tx := range a {
		mustInsert(t, p, tx, rich(0))
	}
	mustInsert(t, p, b, rich(0))
	if got := p.Remove([32]byte{0xff}); got != nil {
		t.Fatalf("Remove of an unknown hash returned %v", got)
	}
	sameTxs(t, "removed", p.Remove(a[2].Hash), a[2:])
	sameTxs(t, "left", p.Candidates(10), []*mempool.Tx{a[0], a[1], b})
	if p.NextNonce(addr(1), 0) != 2 || p.Bytes() != 10+11+20 {
		t.Fatalf("NextNonce %d Bytes %d", p.NextNonce(addr(1), 0), p.Bytes())
	}
	if p.Remove(a[2].Hash) != nil {
		t.Fatal("second Remove returned txs")
	}
	sameTxs(t, "head", p.Remove(a[0].Hash), a[:2])
	if p.NextNonce(addr(1), 0) != 0 {
		t.Fatal("empty sender still has a queue")
	}
	// The sender can start again from its committed nonce.
	mustInsert(t, p, mk(1, 0, 1, 10, 5), rich(0))
	sameTxs(t, "other sender", p.Remove(b.Hash), []*mempool.Tx{b})
	checkInvariants(t, p)
}

// TestRandomOps drives the pool with random inserts, removals and blocks and
// checks its invariants after every step. Replay a failure with the seed.
func TestRandomOps(t *testing.T) {
	seed := time.Now().UnixNano()
	if s := os.Getenv("WEFT_TEST_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("WEFT_TEST_SEED: %v", err)
		}
	}
	t.Logf("seed %d (replay with WEFT_TEST_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	p := mempool.NewPool(mempool.Config{MaxTxs: 40, MaxBytes: 2000})
	state := map[[20]byte]mempool.AccountState{}
	stateOf := func(s [20]byte) mempool.AccountState {
		if v, ok := state[s]; ok {
			return v
		}
		return st(0, 1000)
	}
	gossiped := map[[32]byte]bool{}
	for step := 0; step < 3000; step++ {
		switch op := rng.Intn(10); {
		case op < 6:
			sender := byte(rng.Intn(6))
			s := stateOf(addr(sender))
			nonce := p.NextNonce(addr(sender), s.Nonce)
			if rng.Intn(8) == 0 {
				nonce += uint64(rng.Intn(3)) - 1
			}
			tx := mk(sender, nonce, uint64(rng.Intn(150)), 1+rng.Intn(120), byte(rng.Intn(3)))
			err := p.Insert(tx, s)
			if err == nil && !p.Has(tx.Hash) {
				t.Fatalf("step %d: accepted tx not pending", step)
			}
		case op < 7:
			all := p.Candidates(1 << 20)
			if len(all) > 0 {
				victim := all[rng.Intn(len(all))]
				for _, tx := range p.Remove(victim.Hash) {
					if tx.Sender != victim.Sender || tx.Nonce < victim.Nonce || p.Has(tx.Hash) {
						t.Fatalf("step %d: Remove returned a wrong tx", step)
					}
					delete(gossiped, tx.Hash)
				}
			}
		case op < 8:
			for _, tx := range p.TakeGossip(int64(rng.Intn(300))) {
				if gossiped[tx.Hash] {
					t.Fatalf("step %d: tx gossiped twice in one stay in the pool", step)
				}
				if !p.Has(tx.Hash) {
					t.Fatalf("step %d: gossiped a tx no longer pending", step)
				}
				gossiped[tx.Hash] = true
			}
		default:
			// A block commits a prefix of the candidates that each sender
			// can afford, and moves some balances.
			var committed [][32]byte
			next := map[[20]byte]mempool.AccountState{}
			for _, tx := range p.Candidates(rng.Intn(10)) {
				s, ok := next[tx.Sender]
				if !ok {
					s = stateOf(tx.Sender)
				}
				if tx.Nonce != s.Nonce || tx.Cost.Gt(s.Balance) {
					continue
				}
				s = mempool.AccountState{Nonce: s.Nonce + 1, Balance: new(uint256.Int).Sub(s.Balance, tx.Cost)}
				next[tx.Sender] = s
				committed = append(committed, tx.Hash)
			}
			for k, v := range next {
				state[k] = v
			}
			if rng.Intn(3) == 0 {
				s := addr(byte(rng.Intn(6)))
				cur := stateOf(s)
				state[s] = mempool.AccountState{Nonce: cur.Nonce, Balance: uint256.NewInt(uint64(rng.Intn(1000)))}
			}
			for _, d := range p.Update(committed, stateOf) {
				if d.Reason == "" || p.Has(d.Tx.Hash) {
					t.Fatalf("step %d: bad drop %v", step, d)
				}
				delete(gossiped, d.Tx.Hash)
			}
			for _, h := range committed {
				if p.Has(h) {
					t.Fatalf("step %d: committed tx still pending", step)
				}
				delete(gossiped, h)
			}
			// After an update every queue is valid against the state.
			spent := map[[20]byte]*uint256.Int{}
			expect := map[[20]byte]uint64{}
			for _, tx := range p.Candidates(1 << 20) {
				s := stateOf(tx.Sender)
				if _, ok := spent[tx.Sender]; !ok {
					spent[tx.Sender] = new(uint256.Int)
					expect[tx.Sender] = s.Nonce
				}
				spent[tx.Sender].Add(spent[tx.Sender], tx.Cost)
				if tx.Nonce != expect[tx.Sender] || spent[tx.Sender].Gt(s.Balance) {
					t.Fatalf("step %d: invalid tx left after update", step)
				}
				expect[tx.Sender]++
			}
		}
		checkInvariants(t, p)
		if p.Len() > 40 || p.Bytes() > 2000 {
			t.Fatalf("step %d: caps exceeded: %d txs %d bytes", step, p.Len(), p.Bytes())
		}
	}
}

func TestNoGossipForPeerTxs(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	fromPeer := mk(1, 0, 1, 10, 0)
	fromPeer.Gossip = false
	mustInsert(t, p, fromPeer, st(0, 1000))
	if got := p.TakeGossip(0); len(got) != 0 {
		t.Fatalf("gossiped %d txs that came from a peer", len(got))
	}
	if p.Get(fromPeer.Hash) == nil {
		t.Fatal("a tx from a peer must still be pending")
	}
}
