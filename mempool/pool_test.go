package mempool_test

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
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
