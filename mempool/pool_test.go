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
	return &mempool.Tx{Hash: h, Raw: raw, Sender: addr(sender), Nonce: nonce, Cost: uint256.NewInt(cost), Fee: uint256.NewInt(uint64(size)), Gossip: true}
}

// mkf is mk with a fee (mk's txs pay 1 per byte).
func mkf(sender byte, nonce uint64, fee uint64, size int, salt byte) *mempool.Tx {
	tx := mk(sender, nonce, 1, size, salt)
	tx.Fee = uint256.NewInt(fee)
	tx.Hash[31] ^= byte(fee) ^ byte(fee>>8) ^ byte(fee>>16)
	tx.Hash[30] ^= 0x5a
	return tx
}

// t0 is the tests' clock origin.
var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// ins is Insert at t0, dropping the result.
func ins(p *mempool.Pool, tx *mempool.Tx, s mempool.AccountState) error {
	_, err := p.Insert(tx, s, t0)
	return err
}

// update is Update at t0, every given sender touched.
func update(p *mempool.Pool, committed [][32]byte, state func([20]byte) mempool.AccountState, touched ...[20]byte) []mempool.Dropped {
	return p.Update(t0, committed, touched, state)
}

// order returns every ready tx in block order (no byte limit).
func order(p *mempool.Pool) []*mempool.Tx {
	var out []*mempool.Tx
	p.Build(1<<40, func(tx *mempool.Tx) mempool.Verdict { out = append(out, tx); return mempool.Include })
	return out
}

func st(nonce, balance uint64) mempool.AccountState {
	return mempool.AccountState{Nonce: nonce, Balance: uint256.NewInt(balance)}
}

func rich(nonce uint64) mempool.AccountState { return st(nonce, 1<<62) }

func mustInsert(t *testing.T, p *mempool.Pool, tx *mempool.Tx, s mempool.AccountState) {
	t.Helper()
	if err := ins(p, tx, s); err != nil {
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

// checkInvariants checks Len, Bytes, Has, ReadyLen and each sender's queue
// (a consecutive ready run, then parked txs after a gap) against Pending,
// and that block order offers every ready tx once, each sender's in nonce
// order.
func checkInvariants(t *testing.T, p *mempool.Pool) {
	t.Helper()
	all := p.Pending(1 << 30)
	if len(all) != p.Len() {
		t.Fatalf("Pending holds %d txs, Len is %d", len(all), p.Len())
	}
	var bytes int64
	ready := 0
	lastReady := map[[20]byte]uint64{}
	last := map[[20]byte]uint64{}
	for _, tx := range all {
		bytes += int64(len(tx.Raw))
		if !p.Has(tx.Hash) || p.Get(tx.Hash) != tx {
			t.Fatalf("pending %x not indexed", tx.Hash[:4])
		}
		n, seen := last[tx.Sender]
		if seen && tx.Nonce <= n {
			t.Fatalf("sender %x: nonce %d after %d", tx.Sender[0], tx.Nonce, n)
		}
		last[tx.Sender] = tx.Nonce
		if p.IsParked(tx.Hash) {
			if r, ok := lastReady[tx.Sender]; ok && tx.Nonce == r+1 {
				t.Fatalf("sender %x: nonce %d parked right after ready %d", tx.Sender[0], tx.Nonce, r)
			}
			continue
		}
		if seen && (tx.Nonce != n+1 || p.IsParked(tx.Hash)) {
			t.Fatalf("sender %x: ready nonce %d does not follow %d", tx.Sender[0], tx.Nonce, n)
		}
		lastReady[tx.Sender] = tx.Nonce
		ready++
	}
	if bytes != p.Bytes() {
		t.Fatalf("pending txs hold %d bytes, Bytes is %d", bytes, p.Bytes())
	}
	if ready != p.ReadyLen() {
		t.Fatalf("%d ready txs, ReadyLen is %d", ready, p.ReadyLen())
	}
	if p.ParkedLen() != len(all)-ready {
		t.Fatalf("%d parked txs, ParkedLen is %d", len(all)-ready, p.ParkedLen())
	}
	for s, n := range lastReady {
		if got := p.NextNonce(s, 0); got != n+1 {
			t.Fatalf("sender %x: NextNonce %d, want %d", s[0], got, n+1)
		}
	}
	offered := order(p)
	if len(offered) != ready {
		t.Fatalf("block order offers %d txs, %d are ready", len(offered), ready)
	}
	next := map[[20]byte]uint64{}
	for _, tx := range offered {
		if n, ok := next[tx.Sender]; ok && tx.Nonce != n {
			t.Fatalf("block order: sender %x nonce %d, want %d", tx.Sender[0], tx.Nonce, n)
		}
		next[tx.Sender] = tx.Nonce + 1
	}
}

func TestInsertNonceRules(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	if got := p.NextNonce(addr(1), 5); got != 5 {
		t.Fatalf("NextNonce of an unknown sender = %d, want the committed 5", got)
	}
	steps := []struct {
		tx     *mempool.Tx
		want   error
		parked bool
		next   uint64 // NextNonce of sender 1 afterwards
	}{
		{mk(1, 4, 1, 10, 0), mempool.ErrNonceTooLow, false, 5},
		{mk(1, 0, 1, 10, 0), mempool.ErrNonceTooLow, false, 5},
		{mk(1, 7, 1, 10, 0), nil, true, 5}, // a gap: parked, not counted
		{mk(1, 5, 1, 10, 0), nil, false, 6},
		{mk(1, 5, 1, 10, 1), mempool.ErrUnderpriced, false, 6},  // same nonce and fee, other tx
		{mk(1, 5, 1, 10, 0), mempool.ErrAlreadyKnown, false, 6}, // the very same tx
		{mk(1, 7, 1, 10, 1), mempool.ErrUnderpriced, false, 6},  // a parked nonce too
		{mk(1, 6, 1, 10, 0), nil, false, 8},                     // fills the gap: 7 is ready
		{mk(1, 4, 1, 10, 1), mempool.ErrNonceTooLow, false, 8},
		{mk(1, 8+mempool.DefaultMaxNonceAhead+1, 1, 10, 0), mempool.ErrNonceTooFarAhead, false, 8},
		{mk(1, 8+mempool.DefaultMaxNonceAhead, 1, 10, 0), nil, true, 8}, // the farthest allowed
		{mk(2, 0, 1, 10, 0), nil, false, 8},                             // other senders are independent
	}
	for i, s := range steps {
		st := rich(5)
		if s.tx.Sender == addr(2) {
			st = rich(0)
		}
		res, err := p.Insert(s.tx, st, t0)
		if !errors.Is(err, s.want) || (s.want == nil) != (err == nil) {
			t.Fatalf("step %d (nonce %d): got %v, want %v", i, s.tx.Nonce, err, s.want)
		}
		if res.Parked != s.parked || (err == nil && p.IsParked(s.tx.Hash) != s.parked) {
			t.Fatalf("step %d: parked %v, want %v", i, res.Parked, s.parked)
		}
		if got := p.NextNonce(addr(1), 5); got != s.next {
			t.Fatalf("step %d: NextNonce %d, want %d", i, got, s.next)
		}
		checkInvariants(t, p)
	}
	if p.Len() != 5 || p.Bytes() != 50 || p.ReadyLen() != 4 {
		t.Fatalf("Len %d Bytes %d ReadyLen %d, want 5, 50 and 4", p.Len(), p.Bytes(), p.ReadyLen())
	}
}

func TestTooManyParked(t *testing.T) {
	p := mempool.NewPool(mempool.Config{MaxParked: 3})
	for n := uint64(2); n < 5; n++ {
		mustInsert(t, p, mk(1, n, 1, 10, 0), rich(0))
	}
	if err := ins(p, mk(1, 6, 1, 10, 0), rich(0)); !errors.Is(err, mempool.ErrTooManyParked) {
		t.Fatalf("fourth parked tx: %v", err)
	}
	// Replacing a parked tx does not add one.
	mustInsert(t, p, mkf(1, 3, 100, 10, 0), rich(0))
	// Ready txs do not count: nonces 0 and 1 make 2-4 ready.
	mustInsert(t, p, mk(1, 0, 1, 10, 0), rich(0))
	mustInsert(t, p, mk(1, 1, 1, 10, 0), rich(0))
	mustInsert(t, p, mk(1, 6, 1, 10, 0), rich(0))
	if p.ReadyLen() != 5 || p.Len() != 6 {
		t.Fatalf("ReadyLen %d Len %d", p.ReadyLen(), p.Len())
	}
	checkInvariants(t, p)
}

// TestParkedBecomeReady inserts a sender's nonces in different orders: the
// ready run always ends at the first missing nonce, and the block order
// holds exactly the ready run.
func TestParkedBecomeReady(t *testing.T) {
	for _, tc := range []struct {
		name   string
		nonces []uint64
		next   uint64 // after all inserts, committed nonce 0
		ready  int
	}{
		{"in order", []uint64{0, 1, 2, 3}, 4, 4},
		{"reversed", []uint64{3, 2, 1, 0}, 4, 4},
		{"shuffled", []uint64{2, 0, 3, 1}, 4, 4},
		{"hole at 1", []uint64{0, 2, 3}, 1, 1},
		{"hole at 0", []uint64{1, 2, 3}, 0, 0},
		{"two holes filled last", []uint64{4, 2, 0, 3, 1}, 5, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mempool.NewPool(mempool.Config{})
			for _, n := range tc.nonces {
				mustInsert(t, p, mk(1, n, 1, 10, 0), rich(0))
				checkInvariants(t, p)
			}
			if got := p.NextNonce(addr(1), 0); got != tc.next {
				t.Fatalf("NextNonce %d, want %d", got, tc.next)
			}
			if got := len(order(p)); got != tc.ready || p.ReadyLen() != tc.ready {
				t.Fatalf("%d offered, ReadyLen %d, want %d", got, p.ReadyLen(), tc.ready)
			}
		})
	}
	// A commit fills a gap too: another node's tx with nonce 0 lands.
	p := mempool.NewPool(mempool.Config{})
	a1, a2 := mk(1, 1, 1, 10, 0), mk(1, 2, 1, 10, 0)
	mustInsert(t, p, a1, rich(0))
	mustInsert(t, p, a2, rich(0))
	if len(order(p)) != 0 {
		t.Fatal("parked txs offered for a block")
	}
	if d := update(p, nil, func([20]byte) mempool.AccountState { return rich(1) }, addr(1)); len(d) != 0 {
		t.Fatalf("dropped %v", d)
	}
	sameTxs(t, "promoted by a commit", order(p), []*mempool.Tx{a1, a2})
	checkInvariants(t, p)
}

func TestReplacement(t *testing.T) {
	for _, tc := range []struct {
		name    string
		old     uint64
		new     uint64
		bump    int
		parked  bool
		wantErr error
	}{
		{"9% more is underpriced", 100, 109, 0, false, mempool.ErrUnderpriced},
		{"10% more replaces", 100, 110, 0, false, nil},
		{"equal is underpriced", 100, 100, 0, false, mempool.ErrUnderpriced},
		{"lower is underpriced", 100, 50, 0, false, mempool.ErrUnderpriced},
		{"parked: 9% more", 100, 109, 0, true, mempool.ErrUnderpriced},
		{"parked: 10% more", 100, 110, 0, true, nil},
		{"bump of 25%: 24% more", 1000, 1240, 25, false, mempool.ErrUnderpriced},
		{"bump of 25%: 25% more", 1000, 1250, 25, false, nil},
		{"from zero fee", 0, 0, 0, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mempool.NewPool(mempool.Config{PriceBump: tc.bump})
			nonce := uint64(0)
			if tc.parked {
				nonce = 3
			}
			old := mkf(1, nonce, tc.old, 50, 0)
			mustInsert(t, p, old, rich(0))
			p.TakeGossip(0)
			repl := mkf(1, nonce, tc.new, 50, 1)
			res, err := p.Insert(repl, rich(0), t0)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if !p.Has(old.Hash) || p.Has(repl.Hash) || len(res.Dropped) != 0 {
					t.Fatal("a refused replacement changed the pool")
				}
				if errors.Is(err, mempool.ErrUnderpriced) && !strings.Contains(err.Error(), "replacement transaction underpriced") {
					t.Fatalf("message %q", err)
				}
				return
			}
			if p.Has(old.Hash) || !p.Has(repl.Hash) || p.Len() != 1 {
				t.Fatal("replacement did not take the old tx's place")
			}
			if len(res.Dropped) != 1 || res.Dropped[0].Tx != old || !strings.Contains(res.Dropped[0].Reason, "replaced") {
				t.Fatalf("replaced tx not reported: %v", res.Dropped)
			}
			if res.Parked != tc.parked || p.IsParked(repl.Hash) != tc.parked {
				t.Fatal("replacement changed ready/parked")
			}
			sameTxs(t, "gossip", p.TakeGossip(0), []*mempool.Tx{repl})
			checkInvariants(t, p)
		})
	}
	// The balance check counts the replacement instead of the old tx.
	p := mempool.NewPool(mempool.Config{})
	a, b := mkf(1, 0, 100, 10, 0), mkf(1, 1, 100, 10, 0)
	a.Cost, b.Cost = uint256.NewInt(60), uint256.NewInt(40)
	mustInsert(t, p, a, st(0, 100))
	mustInsert(t, p, b, st(0, 100))
	dearer := mkf(1, 0, 200, 10, 1)
	dearer.Cost = uint256.NewInt(61)
	if err := ins(p, dearer, st(0, 100)); !errors.Is(err, mempool.ErrInsufficientFunds) {
		t.Fatalf("replacement over the balance: %v", err)
	}
	dearer.Cost = uint256.NewInt(60)
	mustInsert(t, p, dearer, st(0, 100))
	sameTxs(t, "order", order(p), []*mempool.Tx{dearer, b})
	checkInvariants(t, p)
}

func TestInsertAlreadyKnownComesFirst(t *testing.T) {
	p := mempool.NewPool(mempool.Config{MaxTxs: 1})
	tx := mk(1, 0, 1, 10, 0)
	mustInsert(t, p, tx, rich(0))
	// Even when the state would now reject it, or the pool is full, a
	// resubmission is reported as known.
	for _, s := range []mempool.AccountState{rich(0), rich(1), st(0, 0)} {
		if err := ins(p, tx, s); !errors.Is(err, mempool.ErrAlreadyKnown) {
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
	if err := ins(p, mk(1, 2, 30, 10, 0), bal); !errors.Is(err, mempool.ErrInsufficientFunds) {
		t.Fatalf("third tx over the balance: %v", err)
	}
	if !strings.Contains(ins(p, mk(1, 2, 30, 10, 0), bal).Error(), "110") {
		t.Fatal("error does not say what was needed")
	}
	// Parked txs count too.
	if err := ins(p, mk(1, 4, 30, 10, 0), bal); !errors.Is(err, mempool.ErrInsufficientFunds) {
		t.Fatalf("parked tx over the balance: %v", err)
	}
	mustInsert(t, p, mk(1, 2, 20, 10, 0), bal) // exactly the balance
	if err := ins(p, mk(1, 3, 0, 10, 0), bal); err != nil {
		t.Fatalf("zero-cost tx on an exhausted balance: %v", err)
	}
	if err := ins(p, mk(1, 4, 1, 10, 0), bal); !errors.Is(err, mempool.ErrInsufficientFunds) {
		t.Fatalf("one over: %v", err)
	}
	// A cost that overflows uint256 when summed is insufficient, not wrapped.
	huge := mk(2, 0, 0, 10, 0)
	huge.Cost = new(uint256.Int).SetAllOne()
	max := mempool.AccountState{Nonce: 0, Balance: new(uint256.Int).SetAllOne()}
	mustInsert(t, p, huge, max)
	wrap := mk(2, 1, 2, 10, 0)
	if err := ins(p, wrap, max); !errors.Is(err, mempool.ErrInsufficientFunds) {
		t.Fatalf("overflowing sum: %v", err)
	}
	checkInvariants(t, p)
}

// TestInsertFull: at a cap, a newcomer that is not the lowest priority
// evicts the lowest; one that would be the lowest (ties lose: it is the
// newest) gets ErrFull and changes nothing.
func TestInsertFull(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		p := mempool.NewPool(mempool.Config{MaxTxs: 2})
		a, b := mk(1, 0, 1, 10, 0), mk(2, 0, 1, 10, 0)
		mustInsert(t, p, a, rich(0))
		mustInsert(t, p, b, rich(0))
		if err := ins(p, mk(3, 0, 1, 10, 0), rich(0)); !errors.Is(err, mempool.ErrFull) {
			t.Fatalf("third tx of equal priority: %v", err)
		}
		if err := ins(p, mk(1, 1, 1, 10, 0), rich(0)); !errors.Is(err, mempool.ErrFull) {
			t.Fatalf("third tx of a known sender: %v", err)
		}
		if p.Len() != 2 || p.Bytes() != 20 {
			t.Fatalf("rejected insert changed the pool: %d txs %d bytes", p.Len(), p.Bytes())
		}
		p.Remove(a.Hash)
		mustInsert(t, p, mk(3, 0, 1, 10, 0), rich(0))
		// A richer newcomer evicts the lowest: of equal fee rates, the
		// newest (sender 3's).
		rich3 := mkf(4, 0, 100, 10, 0)
		res, err := p.Insert(rich3, rich(0), t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Dropped) != 1 || res.Dropped[0].Tx.Sender != addr(3) || !strings.Contains(res.Dropped[0].Reason, "evicted") {
			t.Fatalf("evicted %v", res.Dropped)
		}
		checkInvariants(t, p)
	})
	t.Run("bytes", func(t *testing.T) {
		p := mempool.NewPool(mempool.Config{MaxBytes: 100})
		mustInsert(t, p, mk(1, 0, 1, 60, 0), rich(0))
		if err := ins(p, mk(2, 0, 1, 41, 0), rich(0)); !errors.Is(err, mempool.ErrFull) {
			t.Fatalf("41 bytes on top of 60 with a cap of 100: %v", err)
		}
		mustInsert(t, p, mk(2, 0, 1, 40, 0), rich(0)) // exactly the cap
		if err := ins(p, mk(3, 0, 1, 1, 0), rich(0)); !errors.Is(err, mempool.ErrFull) {
			t.Fatalf("1 byte over the cap: %v", err)
		}
		if p.Bytes() != 100 {
			t.Fatalf("Bytes = %d", p.Bytes())
		}
		// Committing frees room.
		update(p, [][32]byte{mk(1, 0, 1, 60, 0).Hash}, func(s [20]byte) mempool.AccountState {
			if s == addr(1) {
				return rich(1)
			}
			return rich(0)
		})
		if p.Bytes() != 40 {
			t.Fatalf("after update Bytes = %d, want 40", p.Bytes())
		}
		mustInsert(t, p, mk(3, 0, 1, 60, 0), rich(0))
		// A 50-byte tx paying 10 per byte evicts just enough low-rate
		// bytes: the newest of the 1-per-byte txs (60 bytes) goes.
		big := mkf(4, 0, 500, 50, 0)
		res, err := p.Insert(big, rich(0), t0)
		if err != nil || len(res.Dropped) != 1 || res.Dropped[0].Tx.Sender != addr(3) {
			t.Fatalf("big insert: %v, dropped %v", err, res.Dropped)
		}
		// A 100-byte one needs both others gone.
		huge := mkf(5, 0, 5000, 100, 0)
		if res, err = p.Insert(huge, rich(0), t0); err != nil || len(res.Dropped) != 2 || p.Len() != 1 {
			t.Fatalf("huge insert: %v, dropped %v", err, res.Dropped)
		}
		checkInvariants(t, p)
	})
	t.Run("single tx over the byte cap", func(t *testing.T) {
		p := mempool.NewPool(mempool.Config{MaxBytes: 10})
		if err := ins(p, mk(1, 0, 1, 11, 0), rich(0)); !errors.Is(err, mempool.ErrFull) {
			t.Fatalf("tx larger than the cap: %v", err)
		}
	})
}

// TestEvictionOrder: parked txs go before ready ones, lower fee per byte
// before higher, and only from the tail of a sender's queue, so eviction
// never leaves a nonce hole.
func TestEvictionOrder(t *testing.T) {
	p := mempool.NewPool(mempool.Config{MaxTxs: 5})
	s1low, s1high := mkf(1, 0, 10, 10, 0), mkf(1, 1, 900, 10, 0) // the low one is not a tail
	s2mid := mkf(2, 0, 300, 10, 0)
	s3parked := mkf(3, 5, 1000, 10, 0) // richest, but parked
	s4high := mkf(4, 0, 800, 10, 0)
	for _, tx := range []*mempool.Tx{s1low, s1high, s2mid, s3parked, s4high} {
		mustInsert(t, p, tx, rich(0))
	}
	steps := []struct {
		tx      *mempool.Tx
		evicted *mempool.Tx
		full    bool
	}{
		{mkf(5, 0, 400, 10, 0), s3parked, false}, // parked first
		{mkf(6, 0, 500, 10, 0), s2mid, false},    // then the lowest tail
		{mkf(7, 0, 350, 10, 0), nil, true},       // lowest of all now: refused
		{mkf(8, 0, 950, 10, 0), nil, false},      // evicts sender 5's 400 (s1low is no tail)
	}
	for i, s := range steps {
		before := p.Len()
		res, err := p.Insert(s.tx, rich(0), t0)
		if s.full {
			if !errors.Is(err, mempool.ErrFull) || p.Len() != before || p.Has(s.tx.Hash) {
				t.Fatalf("step %d: %v", i, err)
			}
			continue
		}
		if err != nil || len(res.Dropped) != 1 {
			t.Fatalf("step %d: %v, dropped %v", i, err, res.Dropped)
		}
		if s.evicted != nil && res.Dropped[0].Tx != s.evicted {
			t.Fatalf("step %d: evicted sender %x nonce %d", i, res.Dropped[0].Tx.Sender[0], res.Dropped[0].Tx.Nonce)
		}
		if p.Len() != 5 {
			t.Fatalf("step %d: Len %d", i, p.Len())
		}
		checkInvariants(t, p)
	}
	// Left: s1low (10, not a tail), s1high (900), s4high (800), sender 6
	// (500), sender 8 (950). Sender 1's cheap head goes only once its
	// tail has gone, and then right after it.
	for i, want := range []byte{6, 4, 1, 1} {
		res, err := p.Insert(mkf(byte(20+i), 0, 2000, 10, 0), rich(0), t0)
		if err != nil || len(res.Dropped) != 1 || res.Dropped[0].Tx.Sender != addr(want) {
			t.Fatalf("round %d: expected sender %d to go: %v %v", i, want, err, res.Dropped)
		}
		if want == 1 && i == 2 && res.Dropped[0].Tx != s1high {
			t.Fatal("sender 1's head went before its tail")
		}
		checkInvariants(t, p)
	}
}

func TestRejectedInsertLeavesNoTrace(t *testing.T) {
	p := mempool.NewPool(mempool.Config{MaxTxs: 3})
	ok := mk(1, 0, 50, 10, 0)
	mustInsert(t, p, ok, st(0, 100))
	for _, tc := range []struct {
		tx *mempool.Tx
		st mempool.AccountState
	}{
		{mk(1, 1, 51, 10, 0), st(0, 100)},   // funds
		{mk(1, 100, 1, 10, 0), st(0, 100)},  // too far ahead
		{mk(2, 3, 1, 10, 0), rich(4)},       // too low
		{mk(1, 0, 1, 10, 1), st(0, 100)},    // underpriced
		{mk(3, 70, 1, 10, 0), rich(0)},      // too far ahead, new sender
		{mk(2, 5, 1<<63, 10, 0), st(4, 10)}, // funds, parked
	} {
		if err := ins(p, tc.tx, tc.st); err == nil {
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

// TestBuildOrder: the highest fee per byte first, each sender's txs in
// nonce order (a rich tx behind a poor one of the same sender waits for
// it), ties in arrival order.
func TestBuildOrder(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	if got := order(p); len(got) != 0 {
		t.Fatalf("empty pool offers %d txs", len(got))
	}
	a0 := mkf(1, 0, 100, 100, 0) // 1/byte
	a1 := mkf(1, 1, 900, 100, 0) // 9/byte, behind a0
	b0 := mkf(2, 0, 500, 100, 0) // 5/byte
	c0 := mkf(3, 0, 300, 50, 0)  // 6/byte
	d0 := mkf(4, 0, 50, 50, 0)   // 1/byte, after a0 on the tie
	e0 := mkf(5, 0, 700, 70, 0)  // 10/byte, larger fee per byte than a1
	for _, tx := range []*mempool.Tx{a0, a1, b0, c0, d0, e0} {
		mustInsert(t, p, tx, rich(0))
	}
	sameTxs(t, "block order", order(p), []*mempool.Tx{e0, c0, b0, a0, a1, d0})
	// Build does not consume.
	sameTxs(t, "again", order(p), []*mempool.Tx{e0, c0, b0, a0, a1, d0})
	// A skipped tx holds back its sender's later txs only.
	var got []*mempool.Tx
	p.Build(1<<20, func(tx *mempool.Tx) mempool.Verdict {
		if tx == a0 {
			return mempool.Skip
		}
		got = append(got, tx)
		return mempool.Include
	})
	sameTxs(t, "a0 skipped", got, []*mempool.Tx{e0, c0, b0, d0})
	// Stop ends the build.
	got = nil
	p.Build(1<<20, func(tx *mempool.Tx) mempool.Verdict {
		if len(got) == 2 {
			return mempool.Stop
		}
		got = append(got, tx)
		return mempool.Include
	})
	sameTxs(t, "stopped", got, []*mempool.Tx{e0, c0})
	checkInvariants(t, p)
}

// fill builds a block of at most max bytes (sizes as len(Raw)), as the
// consensus builder does: a tx that does not fit is skipped, and with less
// room than the smallest tx the block is full.
func fill(p *mempool.Pool, max int64, smallest int64) ([]*mempool.Tx, int64) {
	var out []*mempool.Tx
	var used int64
	p.Build(max, func(tx *mempool.Tx) mempool.Verdict {
		n := int64(len(tx.Raw))
		if used+n > max {
			if used+smallest > max {
				return mempool.Stop
			}
			return mempool.Skip
		}
		used += n
		out = append(out, tx)
		return mempool.Include
	})
	return out, used
}

func rollup(b byte) [32]byte { return [32]byte{0xa0 + b} }

// mkr is a tx of size bytes at fee per byte rate carrying data for the
// given rollups, split evenly.
func mkr(sender byte, nonce uint64, rate uint64, size int, rollups ...byte) *mempool.Tx {
	tx := mkf(sender, nonce, rate*uint64(size), size, byte(len(rollups)))
	for _, r := range rollups {
		tx.Rollups = append(tx.Rollups, mempool.RollupBytes{ID: rollup(r), Bytes: int64(size / len(rollups))})
	}
	return tx
}

// perRollup counts the txs of a block by rollup (a bundle counts for each).
func perRollup(txs []*mempool.Tx) map[byte]int {
	out := map[byte]int{}
	for _, tx := range txs {
		for _, r := range tx.Rollups {
			out[r.ID[0]-0xa0]++
		}
		if len(tx.Rollups) == 0 {
			out[0]++
		}
	}
	return out
}

// TestBuildFairness: rollup A holds 90% of the pending bytes; B and C
// still get their weighted shares of a block, leftover shares go to the
// rollups that still have data, and txs without rollup data are not held
// back.
func TestBuildFairness(t *testing.T) {
	const A, B, C = 1, 2, 3
	load := func(p *mempool.Pool, bTxs, cTxs int) {
		// A: 90 txs of 100 bytes from 9 senders, all at a higher fee per
		// byte than B's and C's: priority alone would give A everything.
		for s := byte(0); s < 9; s++ {
			for n := uint64(0); n < 10; n++ {
				mustInsert(t, p, mkr(10+s, n, 5, 100, A), rich(0))
			}
		}
		for n := 0; n < bTxs; n++ {
			mustInsert(t, p, mkr(30, uint64(n), 2, 100, B), rich(0))
		}
		for n := 0; n < cTxs; n++ {
			mustInsert(t, p, mkr(40, uint64(n), 1, 100, C), rich(0))
		}
	}
	for _, tc := range []struct {
		name    string
		weights map[[32]byte]int64
		bTxs    int
		cTxs    int
		max     int64
		want    map[byte]int
	}{
		{"equal weights", nil, 5, 5, 600, map[byte]int{A: 2, B: 2, C: 2}},
		{"B weighs 2", map[[32]byte]int64{rollup(B): 2}, 5, 5, 800, map[byte]int{A: 2, B: 4, C: 2}},
		{"B weighs 2, bigger block", map[[32]byte]int64{rollup(B): 2}, 10, 10, 1600, map[byte]int{A: 4, B: 8, C: 4}},
		// B and C need less than their share: A gets the rest.
		{"leftover to A", nil, 1, 1, 1000, map[byte]int{A: 8, B: 1, C: 1}},
		// Nobody else waits: A may fill the block.
		{"A alone", nil, 0, 0, 1000, map[byte]int{A: 10}},
		// More room than data: everything.
		{"room for all", nil, 5, 5, 100_000, map[byte]int{A: 90, B: 5, C: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mempool.Config{}
			if tc.weights != nil {
				cfg.RollupWeight = func(id [32]byte) int64 { return tc.weights[id] } // 0 means 1
			}
			p := mempool.NewPool(cfg)
			load(p, tc.bTxs, tc.cTxs)
			txs, used := fill(p, tc.max, 100)
			got := perRollup(txs)
			for r, n := range tc.want {
				if got[r] != n {
					t.Fatalf("per rollup %v, want %v", got, tc.want)
				}
			}
			if used > tc.max {
				t.Fatalf("used %d of %d", used, tc.max)
			}
		})
	}
	t.Run("transfers are not held back", func(t *testing.T) {
		p := mempool.NewPool(mempool.Config{})
		load(p, 5, 5)
		for n := uint64(0); n < 3; n++ {
			mustInsert(t, p, mkr(50, n, 9, 100), rich(0)) // no rollup data
		}
		txs, _ := fill(p, 900, 100)
		if got := perRollup(txs); got[0] != 3 || got[A] != 2 || got[B] != 2 || got[C] != 2 {
			t.Fatalf("per rollup %v", got)
		}
	})
}

// TestBuildBundle: a bundle is one tx, offered whole, and counts against
// the share of every rollup it carries data for.
func TestBuildBundle(t *testing.T) {
	const A, B, C = 1, 2, 3
	p := mempool.NewPool(mempool.Config{})
	bundle := mkr(1, 0, 9, 100, A, B) // 50 bytes to each of A and B
	mustInsert(t, p, bundle, rich(0))
	for n := uint64(0); n < 5; n++ {
		mustInsert(t, p, mkr(2, n, 2, 100, A), rich(0))
		mustInsert(t, p, mkr(3, n, 2, 100, B), rich(0))
		mustInsert(t, p, mkr(4, n, 3, 100, C), rich(0))
	}
	// 500 bytes, shares of 166: the bundle and one tx each of A and B
	// (150 charged to each), one of C; the 100 left over go to C, the
	// richest of those waiting.
	txs, used := fill(p, 500, 100)
	if used != 500 || txs[0] != bundle {
		t.Fatalf("used %d, first %v", used, txs[0] == bundle)
	}
	n := 0
	for _, tx := range txs {
		if tx == bundle {
			n++
		}
	}
	if got := perRollup(txs); n != 1 || got[A] != 2 || got[B] != 2 || got[C] != 2 {
		t.Fatalf("bundle offered %d times; per rollup %v (the bundle counts for A and B)", n, got)
	}
	// A bundle over the space left is skipped whole: nothing of it lands.
	p2 := mempool.NewPool(mempool.Config{})
	big := mkr(1, 0, 9, 300, A, B)
	mustInsert(t, p2, big, rich(0))
	mustInsert(t, p2, mkr(2, 0, 1, 100, A), rich(0))
	txs, _ = fill(p2, 250, 100)
	if len(txs) != 1 || txs[0] == big {
		t.Fatalf("bundle of 300 in 250 bytes: %d txs", len(txs))
	}
}

// TestBuildExactBudget: the builder's byte budget holds exactly: every tx
// that fits is taken, none that does not.
func TestBuildExactBudget(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	sizes := []int{10, 20, 30, 40, 50, 60, 70}
	for i, n := range sizes {
		mustInsert(t, p, mkf(byte(i+1), 0, uint64(1000-10*i), n, 0), rich(0))
	}
	for _, max := range []int64{0, 9, 10, 29, 30, 100, 279, 280, 1000} {
		txs, used := fill(p, max, 10)
		if used > max {
			t.Fatalf("max %d: used %d", max, used)
		}
		// Greedy in priority order (here: by size): nothing skipped fits.
		left := max - used
		in := map[*mempool.Tx]bool{}
		for _, tx := range txs {
			in[tx] = true
		}
		for _, tx := range p.Pending(100) {
			if !in[tx] && int64(len(tx.Raw)) <= left {
				t.Fatalf("max %d: a %d-byte tx fits in the %d left", max, len(tx.Raw), left)
			}
		}
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
