package mempool_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/holiman/uint256"

	"github.com/weftnet/weft/mempool"
)

func TestMempoolWrapper(t *testing.T) {
	m := mempool.New(mempool.Config{MaxTxs: 10})
	a := mk(1, 0, 1, 10, 0)
	calls := 0
	state := func() mempool.AccountState { calls++; return rich(0) }
	if _, err := m.Insert(a, state, t0); err != nil {
		t.Fatal(err)
	}
	// A known tx is refused without reading state.
	if _, err := m.Insert(a, state, t0); !errors.Is(err, mempool.ErrAlreadyKnown) || calls != 1 {
		t.Fatalf("duplicate: %v after %d state reads", err, calls)
	}
	if m.Get(a.Hash) != a || m.Get([32]byte{1}) != nil {
		t.Fatal("Get")
	}
	if n, b := m.Size(); n != 1 || b != 10 {
		t.Fatalf("Size = %d, %d", n, b)
	}
	if m.NextNonce(addr(1), 0) != 1 || m.NextNonce(addr(2), 3) != 3 {
		t.Fatal("NextNonce")
	}
	sameTxs(t, "pending", m.Pending(5), []*mempool.Tx{a})
	var built []*mempool.Tx
	m.Build(1<<20, func(tx *mempool.Tx) mempool.Verdict { built = append(built, tx); return mempool.Include })
	sameTxs(t, "build", built, []*mempool.Tx{a})
	sameTxs(t, "gossip", m.TakeGossip(0), []*mempool.Tx{a})
	b := mk(1, 1, 1, 10, 0)
	if _, err := m.Insert(b, state, t0); err != nil {
		t.Fatal(err)
	}
	sameTxs(t, "remove", m.Remove(b.Hash), []*mempool.Tx{b})
	if d := m.Update(t0, [][32]byte{a.Hash}, nil, func([20]byte) mempool.AccountState { return rich(1) }); len(d) != 0 {
		t.Fatalf("dropped %v", d)
	}
	parked := mk(1, 3, 1, 10, 0)
	if res, err := m.Insert(parked, func() mempool.AccountState { return rich(1) }, t0); err != nil || !res.Parked || !m.IsParked(parked.Hash) {
		t.Fatalf("parked insert: %v %v", res, err)
	}
	if d := m.Expire(t0.Add(mempool.DefaultTTL)); len(d) != 1 || d[0].Tx != parked {
		t.Fatalf("expired %v", d)
	}
	if n, b := m.Size(); n != 0 || b != 0 {
		t.Fatalf("Size after commit = %d, %d", n, b)
	}
}

// TestMempoolInsertRereadsStateAfterUpdate: Insert reads the sender's state
// before taking the lock; a block committed in between (Update) makes it
// read the state again, so the tx is judged against the new state.
func TestMempoolInsertRereadsStateAfterUpdate(t *testing.T) {
	m := mempool.New(mempool.Config{MaxTxs: 10})
	a0 := mk(1, 0, 1, 10, 0)
	if _, err := m.Insert(a0, func() mempool.AccountState { return rich(0) }, t0); err != nil {
		t.Fatal(err)
	}
	// A competing tx at nonce 0 arrives while the block holding a0 commits.
	rival := mk(1, 0, 1, 10, 1)
	calls := 0
	state := func() mempool.AccountState {
		calls++
		if calls == 1 {
			// The block commits between this read and the insert.
			m.Update(t0, [][32]byte{a0.Hash}, nil, func([20]byte) mempool.AccountState { return rich(1) })
			return rich(0)
		}
		return rich(1)
	}
	if _, err := m.Insert(rival, state, t0); !errors.Is(err, mempool.ErrNonceTooLow) || calls != 2 {
		t.Fatalf("insert across a commit: %v after %d state reads, want nonce too low after 2", err, calls)
	}
	// Without a commit in between, state is read once.
	calls = 0
	a1 := mk(1, 1, 1, 10, 0)
	a1.Payload = "a1"
	if _, err := m.Insert(a1, func() mempool.AccountState { calls++; return rich(1) }, t0); err != nil || calls != 1 {
		t.Fatalf("insert: %v after %d state reads", err, calls)
	}
	var got []any
	m.Payloads([][32]byte{rival.Hash, a1.Hash, a0.Hash}, func(i int, p any) { got = append(got, i, p) })
	if len(got) != 2 || got[0] != 1 || got[1] != "a1" {
		t.Fatalf("Payloads = %v, want only index 1", got)
	}
}

// TestMempoolConcurrent runs inserters (one per sender), a gossiper and a
// block committer at once; run it with -race. Nothing is dropped because the
// committer only commits what is pending, in order, and balances are ample.
func TestMempoolConcurrent(t *testing.T) {
	const senders, perSender = 8, 150
	m := mempool.New(mempool.Config{})

	var smu sync.Mutex
	committed := map[[20]byte]uint64{}
	stateOf := func(s [20]byte) mempool.AccountState {
		smu.Lock()
		defer smu.Unlock()
		return mempool.AccountState{Nonce: committed[s], Balance: uint256.NewInt(1 << 60)}
	}

	var wg sync.WaitGroup
	errs := make(chan error, senders*perSender)
	inserted := make(chan *mempool.Tx, senders*perSender)
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(sender byte) {
			defer wg.Done()
			for i := 0; i < perSender; i++ {
				// Reading the committed nonce and the pending one are two
				// steps; a block committed in between makes the nonce stale,
				// and a client then simply asks again.
				nonce := m.NextNonce(addr(sender), stateOf(addr(sender)).Nonce)
				tx := mk(sender, nonce, 1, 20+i%7, 0)
				_, err := m.Insert(tx, func() mempool.AccountState { return stateOf(addr(sender)) }, t0)
				if errors.Is(err, mempool.ErrNonceTooLow) {
					i--
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				inserted <- tx
				_ = m.Get(tx.Hash)
				_, _ = m.Size()
			}
		}(byte(s + 1))
	}

	done := make(chan struct{})
	gossiped := map[[32]byte]int{}
	var dropped []mempool.Dropped
	var side sync.WaitGroup
	side.Add(2)
	go func() {
		defer side.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			for _, tx := range m.TakeGossip(200) {
				gossiped[tx.Hash]++
			}
		}
	}()
	commit := func(limit int) {
		var hs [][32]byte
		var touched [][20]byte
		next := map[[20]byte]uint64{}
		// Build before smu: Insert takes the mempool lock, then smu.
		var cands []*mempool.Tx
		m.Build(1<<30, func(tx *mempool.Tx) mempool.Verdict {
			if len(cands) == limit {
				return mempool.Stop
			}
			cands = append(cands, tx)
			return mempool.Include
		})
		smu.Lock()
		for _, tx := range cands {
			n, ok := next[tx.Sender]
			if !ok {
				n = committed[tx.Sender]
			}
			if tx.Nonce != n {
				t.Errorf("candidate sender %x nonce %d, committed nonce %d", tx.Sender[0], tx.Nonce, n)
				break
			}
			next[tx.Sender] = n + 1
			hs = append(hs, tx.Hash)
			touched = append(touched, tx.Sender)
		}
		for s, n := range next {
			committed[s] = n
		}
		smu.Unlock()
		dropped = append(dropped, m.Update(t0, hs, touched, stateOf)...)
	}
	go func() {
		defer side.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			commit(17)
		}
	}()

	wg.Wait()
	close(done)
	side.Wait()
	close(errs)
	close(inserted)
	for err := range errs {
		t.Errorf("insert: %v", err)
	}
	if len(dropped) != 0 {
		t.Fatalf("dropped %d txs, e.g. %q", len(dropped), dropped[0].Reason)
	}
	for h, n := range gossiped {
		if n != 1 {
			t.Fatalf("tx %x gossiped %d times", h[:4], n)
		}
	}
	n := 0
	for range inserted {
		n++
	}
	if n != senders*perSender {
		t.Fatalf("inserted %d txs, want %d", n, senders*perSender)
	}
	for len(m.Pending(1)) > 0 {
		commit(1000)
	}
	if len(dropped) != 0 {
		t.Fatalf("dropped %d txs at the end", len(dropped))
	}
	smu.Lock()
	for s := 1; s <= senders; s++ {
		if committed[addr(byte(s))] != perSender {
			t.Errorf("sender %d committed %d txs, want %d", s, committed[addr(byte(s))], perSender)
		}
	}
	smu.Unlock()
	if n, b := m.Size(); n != 0 || b != 0 {
		t.Fatalf("Size after all commits = %d, %d", n, b)
	}
}
