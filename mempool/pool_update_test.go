package mempool_test

import (
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/weftnet/weft/mempool"
)

// TestKeptTxsDoNotExpire: a tx the node acknowledged to a client (Keep)
// waits past the TTL, parked or ready, until it commits or can no longer be
// included; one that leaves because an earlier nonce of its sender expired
// is reported as evicted (not invalid: the journal keeps it).
func TestKeptTxsDoNotExpire(t *testing.T) {
	p := mempool.NewPool(mempool.Config{TTL: time.Minute})
	a0 := mk(1, 0, 1, 10, 0) // a peer's tx
	a1 := mk(1, 1, 1, 10, 0) // acknowledged, behind a0
	c5 := mk(3, 5, 1, 10, 0) // acknowledged, parked on a gap
	a1.Keep, c5.Keep = true, true
	for _, tx := range []*mempool.Tx{a0, a1, c5} {
		if _, err := p.Insert(tx, rich(0), t0); err != nil {
			t.Fatal(err)
		}
	}
	d := p.Expire(t0.Add(time.Hour))
	if len(d) != 2 {
		t.Fatalf("dropped %v, want a0 and a1 (behind it)", d)
	}
	for _, x := range d {
		switch x.Tx {
		case a0:
			if x.Evicted {
				t.Fatalf("a0 expired reported as evicted")
			}
		case a1:
			if !x.Evicted || !strings.Contains(x.Reason, "expired") {
				t.Fatalf("a1 dropped behind an expired nonce: evicted %v, %q", x.Evicted, x.Reason)
			}
		default:
			t.Fatalf("dropped %x nonce %d", x.Tx.Sender[0], x.Tx.Nonce)
		}
	}
	if !p.Has(c5.Hash) || !p.IsParked(c5.Hash) {
		t.Fatal("an acknowledged parked tx expired")
	}
	if d := p.Expire(t0.Add(24 * time.Hour)); len(d) != 0 {
		t.Fatalf("dropped %v a day later", d)
	}
}

func TestTTL(t *testing.T) {
	p := mempool.NewPool(mempool.Config{TTL: time.Minute})
	a0, a1, a2 := mk(1, 0, 1, 10, 0), mk(1, 1, 1, 10, 0), mk(1, 2, 1, 10, 0)
	b0 := mk(2, 0, 1, 10, 0)
	c5 := mk(3, 5, 1, 10, 0) // parked
	ins := func(tx *mempool.Tx, at time.Duration) {
		t.Helper()
		if _, err := p.Insert(tx, rich(0), t0.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	ins(a1, 0)
	ins(c5, 0)
	ins(b0, 10*time.Second)
	ins(a0, 20*time.Second) // fills a1's gap, later
	ins(a2, 30*time.Second)
	steps := []struct {
		at      time.Duration
		dropped []*mempool.Tx
	}{
		{59 * time.Second, nil},
		// a1 and c5 expire; a2 cannot go without a1 and goes too; a0 stays.
		{60 * time.Second, []*mempool.Tx{a1, a2, c5}},
		{69 * time.Second, nil},
		{70 * time.Second, []*mempool.Tx{b0}},
		{80 * time.Second, []*mempool.Tx{a0}},
	}
	for i, s := range steps {
		d := p.Expire(t0.Add(s.at))
		got := map[*mempool.Tx]string{}
		for _, x := range d {
			got[x.Tx] = x.Reason
		}
		if len(got) != len(s.dropped) {
			t.Fatalf("step %d: dropped %v", i, d)
		}
		for _, tx := range s.dropped {
			if !strings.Contains(got[tx], "expired") || p.Has(tx.Hash) {
				t.Fatalf("step %d: sender %x nonce %d: %q", i, tx.Sender[0], tx.Nonce, got[tx])
			}
		}
		checkInvariants(t, p)
	}
	if p.Len() != 0 {
		t.Fatalf("%d left", p.Len())
	}
	// Update expires too; a clock that goes back changes nothing.
	mustInsert(t, p, b0, rich(0))
	if d := p.Update(t0.Add(-time.Hour), nil, nil, nil); len(d) != 0 {
		t.Fatal("clock going back expired txs")
	}
	if d := p.Update(t0.Add(3*time.Minute), nil, nil, nil); len(d) != 1 {
		t.Fatalf("Update did not expire: %v", d)
	}
	// Txs accepted before any time is known start their TTL at the first
	// time seen.
	q := mempool.NewPool(mempool.Config{TTL: time.Minute})
	if _, err := q.Insert(a0, rich(0), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if d := q.Expire(t0); len(d) != 0 {
		t.Fatal("expired at the first time seen")
	}
	if d := q.Expire(t0.Add(time.Minute)); len(d) != 1 {
		t.Fatal("not expired a TTL after the first time seen")
	}
	// A negative TTL disables expiry.
	r := mempool.NewPool(mempool.Config{TTL: -1})
	if _, err := r.Insert(a0, rich(0), t0); err != nil {
		t.Fatal(err)
	}
	if d := r.Expire(t0.Add(1000 * time.Hour)); len(d) != 0 {
		t.Fatal("expired with expiry disabled")
	}
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

	// maxBytes <= 0 means no limit; exactly maxBytes fits. Parked txs are
	// gossiped too, so peers can park them.
	e, f, g := mk(1, 1, 1, 10, 0), mk(2, 1, 1, 10, 0), mk(3, 3, 1, 10, 0)
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
	update(p, [][32]byte{j.Hash}, func(s [20]byte) mempool.AccountState {
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
	// Sender 5: nonce 2 parked behind a missing 1; the block commits
	// another node's nonces 0 and 1.
	s5 := []*mempool.Tx{mk(5, 0, 1, 10, 0), mk(5, 2, 1, 10, 0)}
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
	for _, tx := range s5 {
		mustInsert(t, p, tx, rich(0))
	}
	p.TakeGossip(0)

	// The block commits s1[0], s1[1] and s2[0]; sender 2 also lost 50 to a
	// transfer, so only one more 30-cost tx fits; sender 3's nonce 5 was
	// taken by a different tx, and so were sender 5's 0 and 1.
	state := map[[20]byte]mempool.AccountState{
		addr(1): st(2, 80),
		addr(2): st(1, 40),
		addr(3): rich(6),
		addr(4): rich(0),
		addr(5): rich(2),
	}
	asked := map[[20]byte]bool{}
	stateOf := func(s [20]byte) mempool.AccountState {
		asked[s] = true
		st, ok := state[s]
		if !ok {
			t.Fatalf("state asked for unknown sender %x", s[0])
		}
		return st
	}
	dropped := update(p, [][32]byte{s1[0].Hash, s1[1].Hash, s2[0].Hash, mk(9, 0, 0, 10, 0).Hash}, stateOf,
		addr(1), addr(2), addr(3), addr(5), addr(9))
	// Only the block's senders can have lost balance or used nonces.
	if asked[addr(4)] {
		t.Fatal("a sender untouched by the block was re-validated")
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
		s5[0].Hash: "nonce too low",
	}
	if len(got) != len(want) {
		t.Fatalf("dropped %d txs, want %d: %v", len(got), len(want), dropped)
	}
	for h, reason := range want {
		if !strings.Contains(got[h], reason) {
			t.Fatalf("tx %x: reason %q, want %q", h[:4], got[h], reason)
		}
	}
	sameTxs(t, "left", p.Pending(100), []*mempool.Tx{s1[2], s1[3], s2[1], s3[1], s4[0], s5[1]})
	if p.IsParked(s5[1].Hash) {
		t.Fatal("sender 5's nonce 2 is still parked after the commit reached it")
	}
	for _, tx := range []*mempool.Tx{s1[0], s1[1], s2[0], s2[2], s3[0], s5[0]} {
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
	dropped = update(p, nil, func(s [20]byte) mempool.AccountState {
		if s == addr(1) {
			return st(2, 15)
		}
		return state[s]
	}, addr(1))
	if len(dropped) != 1 || dropped[0].Tx != s1[3] || !strings.Contains(dropped[0].Reason, "insufficient balance") {
		t.Fatalf("balance drop: %v", dropped)
	}
	dropped = update(p, nil, func(s [20]byte) mempool.AccountState {
		if s == addr(1) {
			return st(2, 5)
		}
		return state[s]
	}, addr(1))
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
	dropped = update(p2, nil, func([20]byte) mempool.AccountState { return rich(2) }, addr(1))
	if len(dropped) != 2 || p2.Len() != 1 || p2.Pending(10)[0] != q[2] {
		t.Fatalf("stale nonces: dropped %v, left %d", dropped, p2.Len())
	}
	for _, d := range dropped {
		if !strings.Contains(d.Reason, "nonce too low") {
			t.Fatalf("stale nonce reason %q", d.Reason)
		}
	}
	checkInvariants(t, p2)

	// Bytes and counts return to zero once everything is committed.
	update(p2, [][32]byte{q[2].Hash}, func([20]byte) mempool.AccountState { return rich(3) })
	if p2.Len() != 0 || p2.Bytes() != 0 {
		t.Fatalf("empty pool has %d txs %d bytes", p2.Len(), p2.Bytes())
	}
}

func TestUpdateCommittedOutOfOrder(t *testing.T) {
	// The chain never commits a queue's middle tx before its head, but
	// Update must stay safe if told so: the tx goes, those after it wait
	// parked for the gap instead of being dropped.
	p := mempool.NewPool(mempool.Config{})
	q := []*mempool.Tx{mk(1, 0, 1, 10, 0), mk(1, 1, 1, 10, 0), mk(1, 2, 1, 10, 0)}
	for _, tx := range q {
		mustInsert(t, p, tx, rich(0))
	}
	dropped := update(p, [][32]byte{q[1].Hash}, func([20]byte) mempool.AccountState { return rich(0) })
	if len(dropped) != 0 || p.Has(q[1].Hash) || !p.IsParked(q[2].Hash) {
		t.Fatalf("gap: %v", dropped)
	}
	sameTxs(t, "ready", order(p), q[:1])
	checkInvariants(t, p)
	dropped = update(p, [][32]byte{q[0].Hash}, func([20]byte) mempool.AccountState { return rich(2) })
	if len(dropped) != 0 || p.IsParked(q[2].Hash) {
		t.Fatalf("after the head: %v", dropped)
	}
	sameTxs(t, "ready", order(p), q[2:])
	checkInvariants(t, p)
}

func TestRemove(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	a := []*mempool.Tx{mk(1, 0, 1, 10, 0), mk(1, 1, 1, 11, 0), mk(1, 2, 1, 12, 0), mk(1, 3, 1, 13, 0), mk(1, 5, 1, 15, 0)}
	b := mk(2, 0, 1, 20, 0)
	for _, tx := range a {
		mustInsert(t, p, tx, rich(0))
	}
	mustInsert(t, p, b, rich(0))
	if got := p.Remove([32]byte{0xff}); got != nil {
		t.Fatalf("Remove of an unknown hash returned %v", got)
	}
	sameTxs(t, "removed", p.Remove(a[2].Hash), a[2:])
	sameTxs(t, "left", p.Pending(10), []*mempool.Tx{a[0], a[1], b})
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

// TestRandomOps drives the pool with random inserts (gaps, replacements,
// evictions), removals, expiry and blocks, and checks its invariants after
// every step. Replay a failure with the seed.
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
	p := mempool.NewPool(mempool.Config{MaxTxs: 40, MaxBytes: 2000, TTL: time.Minute, MaxParked: 4, MaxNonceAhead: 6})
	state := map[[20]byte]mempool.AccountState{}
	stateOf := func(s [20]byte) mempool.AccountState {
		if v, ok := state[s]; ok {
			return v
		}
		return st(0, 1000)
	}
	now := t0
	gossiped := map[[32]byte]bool{}
	for step := 0; step < 4000; step++ {
		now = now.Add(time.Duration(rng.Intn(3)) * time.Second)
		switch op := rng.Intn(10); {
		case op < 6:
			sender := byte(rng.Intn(6))
			s := stateOf(addr(sender))
			nonce := p.NextNonce(addr(sender), s.Nonce)
			if rng.Intn(4) == 0 {
				nonce += uint64(rng.Intn(9)) - 2
			}
			rollups := []byte{}
			for r := 0; r < rng.Intn(3); r++ {
				rollups = append(rollups, byte(1+rng.Intn(3)))
			}
			tx := mkr(sender, nonce, uint64(1+rng.Intn(5)), 1+rng.Intn(120), rollups...)
			tx.Cost = uint256.NewInt(uint64(rng.Intn(150)))
			tx.Hash[29] = byte(rng.Intn(256))
			before := p.Len()
			res, err := p.Insert(tx, s, now)
			if err == nil && !p.Has(tx.Hash) {
				t.Fatalf("step %d: accepted tx not pending", step)
			}
			if err != nil && p.Len() != before {
				t.Fatalf("step %d: a refused insert changed the pool", step)
			}
			for _, d := range res.Dropped {
				if p.Has(d.Tx.Hash) || d.Reason == "" {
					t.Fatalf("step %d: bad drop %v", step, d)
				}
				delete(gossiped, d.Tx.Hash)
			}
		case op < 7:
			all := p.Pending(1 << 20)
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
			// A block commits what the builder offers that each sender
			// can afford, within a byte budget, and moves some balances.
			var committed [][32]byte
			var touched [][20]byte
			next := map[[20]byte]mempool.AccountState{}
			budget := int64(rng.Intn(600))
			var used int64
			p.Build(budget, func(tx *mempool.Tx) mempool.Verdict {
				s, ok := next[tx.Sender]
				if !ok {
					s = stateOf(tx.Sender)
				}
				if tx.Nonce != s.Nonce {
					t.Fatalf("step %d: offered sender %x nonce %d, committed nonce %d", step, tx.Sender[0], tx.Nonce, s.Nonce)
				}
				if used+int64(len(tx.Raw)) > budget || tx.Cost.Gt(s.Balance) {
					return mempool.Skip
				}
				used += int64(len(tx.Raw))
				next[tx.Sender] = mempool.AccountState{Nonce: s.Nonce + 1, Balance: new(uint256.Int).Sub(s.Balance, tx.Cost)}
				committed = append(committed, tx.Hash)
				touched = append(touched, tx.Sender)
				return mempool.Include
			})
			for k, v := range next {
				state[k] = v
			}
			if rng.Intn(3) == 0 {
				s := addr(byte(rng.Intn(6)))
				cur := stateOf(s)
				state[s] = mempool.AccountState{Nonce: cur.Nonce, Balance: uint256.NewInt(uint64(rng.Intn(1000)))}
				touched = append(touched, s)
			}
			for _, d := range p.Update(now, committed, touched, stateOf) {
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
			// After an update every queue is valid against the state: no
			// used nonce, the ready run starts at the committed nonce, the
			// summed cost is covered.
			spent := map[[20]byte]*uint256.Int{}
			for _, tx := range p.Pending(1 << 20) {
				s := stateOf(tx.Sender)
				if _, ok := spent[tx.Sender]; !ok {
					spent[tx.Sender] = new(uint256.Int)
				}
				spent[tx.Sender].Add(spent[tx.Sender], tx.Cost)
				if tx.Nonce < s.Nonce || spent[tx.Sender].Gt(s.Balance) {
					t.Fatalf("step %d: invalid tx left after update", step)
				}
				if tx.Nonce == s.Nonce && p.IsParked(tx.Hash) {
					t.Fatalf("step %d: tx at the committed nonce is parked", step)
				}
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
