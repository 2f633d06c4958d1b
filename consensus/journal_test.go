package consensus_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/mempool"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/txcodec"
)

// TestJournalKeepsAckedTxsPastTheParkingLimits: a client sends nonce N of
// its account to another node (this one gets it from that node's gossip,
// unjournaled) and N+1…N+100 to this node, which acknowledges them all. The
// node restarts before N is committed: N is gone from its mempool, so the
// 100 wait for it, far more than the mempool parks for any sender and
// further ahead than it parks at all. They are all restored, and all land
// once another node's block commits N.
func TestJournalKeepsAckedTxsPastTheParkingLimits(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000_000})
	dir := filepath.Join(t.TempDir(), "state")
	c := newChain(t, dir, &gs)
	for n := uint64(0); n < 2; n++ {
		c.submit(tx(t, alice, n, 1000, transfer(bob.addr, 1)))
		c.block()
	}
	const N, acked = 2, 100
	if acked <= mempool.DefaultMaxParked || acked <= mempool.DefaultMaxNonceAhead {
		t.Fatal("the test must exceed the parking limits")
	}
	txN := tx(t, alice, N, 1000, transfer(bob.addr, 2))
	if _, rej := c.app.Submit(txN, false); rej != nil { // from a peer
		t.Fatal(rej)
	}
	var later [][]byte
	for i := uint64(1); i <= acked; i++ {
		raw := tx(t, alice, N+i, 1000, transfer(bob.addr, i))
		if _, rej := c.app.Submit(raw, true); rej != nil { // from a client: acknowledged
			t.Fatalf("nonce %d: %v", N+i, rej)
		}
		later = append(later, raw)
	}

	c = c.reopen(dir)
	mp := c.app.Mempool()
	if mp.Get(txcodec.TxHash(txN)) != nil {
		t.Fatal("the gossiped nonce N was journaled")
	}
	for i, raw := range later {
		h := txcodec.TxHash(raw)
		if mp.Get(h) == nil {
			reason, _ := c.app.DroppedReason(h)
			t.Fatalf("acknowledged nonce %d lost in the restart: %q", N+1+i, reason)
		}
		if !mp.IsParked(h) {
			t.Fatalf("nonce %d is ready without nonce %d", N+1+i, N)
		}
	}
	if got := c.app.PendingNonce(alice.addr); got != N {
		t.Fatalf("PendingNonce %d, want %d", got, N)
	}
	// The restored txs are still held to the limits: no new parked tx.
	if _, rej := c.app.Submit(tx(t, alice, N+acked+1, 1000, transfer(bob.addr, 1)), true); rej == nil ||
		(rej.Code != txcodec.CodeTooManyParked && rej.Code != txcodec.CodeNonceTooFarAhead) {
		t.Fatalf("a parked tx beyond the limits after the restore: %v", rej)
	}

	// Another node's block commits N; the 100 are ready and land.
	c.finalize([][]byte{c.prepare(10)[0], txN})
	if got := c.app.PendingNonce(alice.addr); got != N+1+acked {
		t.Fatalf("PendingNonce after N committed: %d, want %d", got, N+1+acked)
	}
	var landed int
	for i := 0; i < 10 && c.nonce(alice.addr) < N+1+acked; i++ {
		for _, raw := range c.block() {
			for _, l := range later {
				if string(raw) == string(l) {
					landed++
				}
			}
		}
	}
	if landed != acked || c.nonce(alice.addr) != N+1+acked {
		t.Fatalf("%d of %d acknowledged txs landed, alice's nonce %d", landed, acked, c.nonce(alice.addr))
	}
	// Committed, they left the journal.
	c = c.reopen(dir)
	if n, _ := c.app.Mempool().Size(); n != 0 {
		t.Fatalf("%d txs restored after they were committed", n)
	}
}

// TestDroppedReasonsSurviveRestart: why a tx was dropped is kept in the
// store, bounded by MaxDropped (oldest forgotten first), across restarts.
func TestDroppedReasonsSurviveRestart(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	dir := filepath.Join(t.TempDir(), "state")
	cfg := consensus.DefaultConfig()
	cfg.MaxDropped = 3
	c := newChainCfg(t, dir, &gs, cfg)
	// Each replacement pays one more action's fee: r[0] is replaced by
	// r[1], and so on.
	var r [][]byte
	for i := 1; i <= 6; i++ {
		acts := make([]*weftv1.Action, i)
		for j := range acts {
			acts[j] = transfer(bob.addr, uint64(i))
		}
		r = append(r, tx(t, alice, 0, 1000, acts...))
	}
	for _, raw := range r[:5] {
		if _, rej := c.app.Submit(raw, true); rej != nil {
			t.Fatal(rej)
		}
	}
	reasons := func(c *chain) []bool {
		out := make([]bool, len(r))
		for i, raw := range r {
			reason, ok := c.app.DroppedReason(txcodec.TxHash(raw))
			if ok && !strings.Contains(reason, "replaced") {
				t.Fatalf("r[%d] dropped for %q", i, reason)
			}
			out[i] = ok
		}
		return out
	}
	want := []bool{false, true, true, true, false, false} // r[0] is the oldest of 4, r[4] pending
	if got := reasons(c); !equalBools(got, want) {
		t.Fatalf("before the restart: dropped reasons %v, want %v", got, want)
	}

	c = c.reopenCfg(dir, cfg)
	if got := reasons(c); !equalBools(got, want) {
		t.Fatalf("after the restart: dropped reasons %v, want %v", got, want)
	}
	if c.app.Mempool().Get(txcodec.TxHash(r[4])) == nil {
		t.Fatal("the pending replacement was not restored")
	}
	// The queue carries on where it was: one more drop forgets r[1].
	if _, rej := c.app.Submit(r[5], true); rej != nil {
		t.Fatal(rej)
	}
	want = []bool{false, false, true, true, true, false}
	if got := reasons(c); !equalBools(got, want) {
		t.Fatalf("after another drop: dropped reasons %v, want %v", got, want)
	}
	if block := c.block(); !contains(block, r[5]) {
		t.Fatal("the last replacement did not land")
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestEvictedAckedTxStaysJournaled: a client's tx pushed out of a full
// mempool by a better one was acknowledged and is not invalid; it stays in
// the journal, so a restart offers it again, and commits.
func TestEvictedAckedTxStaysJournaled(t *testing.T) {
	alice, bob, carol := newKey(t), newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000, bob.addr: 1_000_000})
	dir := filepath.Join(t.TempDir(), "state")
	cfg := consensus.DefaultConfig()
	cfg.Mempool.MaxTxs = 1
	c := newChainCfg(t, dir, &gs, cfg)
	cheap := tx(t, alice, 0, 1000, transfer(carol.addr, 1))
	if _, rej := c.app.Submit(cheap, true); rej != nil {
		t.Fatal(rej)
	}
	dear := tx(t, bob, 0, 100_000, data("alpha", make([]byte, 40)))
	if _, rej := c.app.Submit(dear, true); rej != nil {
		t.Fatal(rej)
	}
	h := txcodec.TxHash(cheap)
	if reason, ok := c.app.DroppedReason(h); !ok || !strings.Contains(reason, "evicted") {
		t.Fatalf("cheap tx: dropped reason %q, want an eviction", reason)
	}
	if !consensus.JournalHas(c.store, h) {
		t.Fatal("an evicted acknowledged tx left the journal")
	}
	c.block() // commits the dear tx; the cheap one is not in the pool
	c = c.reopenCfg(dir, consensus.DefaultConfig())
	c.block()
	if c.nonce(alice.addr) != 1 || c.balance(carol.addr) != 1 {
		t.Fatal("the evicted acknowledged tx did not commit after a restart")
	}
}

// TestJournalIsBounded: past Config.MaxJournaled acknowledged, uncommitted
// txs, a client's tx is refused as retryable (mempool_full) instead of
// acknowledged; once one commits, the next is taken.
func TestJournalIsBounded(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	cfg := consensus.DefaultConfig()
	cfg.MaxJournaled = 2
	c := newChainCfg(t, "", &gs, cfg)
	for n := uint64(0); n < 2; n++ {
		if _, rej := c.app.Submit(tx(t, alice, n, 1000, transfer(bob.addr, 1)), true); rej != nil {
			t.Fatal(rej)
		}
	}
	third := tx(t, alice, 2, 1000, transfer(bob.addr, 1))
	if _, rej := c.app.Submit(third, true); rej == nil || rej.Code != txcodec.CodeMempoolFull || !txcodec.Retryable(rej.Code) {
		t.Fatalf("third acknowledged tx: %v, want a retryable mempool_full", rej)
	}
	c.block()
	if _, rej := c.app.Submit(third, true); rej != nil {
		t.Fatalf("after the first two committed: %v", rej)
	}
}
