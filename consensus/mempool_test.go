package consensus_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/mempool"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// TestSubmitParkedThenReady: a tx whose earlier nonces are missing (they
// arrive out of order over gossip) waits in the mempool instead of being
// refused, stays out of blocks and out of PendingNonce, and lands once the
// gap is filled.
func TestSubmitParkedThenReady(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	c := newChain(t, "", &gs)
	a0, a1, a2 := tx(t, alice, 0, 1000, transfer(bob.addr, 1)), tx(t, alice, 1, 1000, transfer(bob.addr, 2)), tx(t, alice, 2, 1000, transfer(bob.addr, 3))
	c.submit(a2)
	c.submit(a0)
	if got := c.app.PendingNonce(alice.addr); got != 1 {
		t.Fatalf("PendingNonce with nonce 2 parked = %d, want 1", got)
	}
	if !c.app.Mempool().IsParked(txcodec.TxHash(a2)) {
		t.Fatal("nonce 2 is not parked")
	}
	block := c.block()
	if !contains(block, a0) || contains(block, a2) {
		t.Fatal("block must hold nonce 0 and not the parked nonce 2")
	}
	c.submit(a1)
	if got := c.app.PendingNonce(alice.addr); got != 3 {
		t.Fatalf("PendingNonce after the gap is filled = %d, want 3", got)
	}
	block = c.block()
	if !contains(block, a1) || !contains(block, a2) {
		t.Fatal("nonces 1 and 2 did not land together")
	}
	if n, _ := c.app.Mempool().Size(); n != 0 {
		t.Fatalf("%d txs left", n)
	}
}

// TestSubmitTooManyParked: one sender may park only so many txs.
func TestSubmitTooManyParked(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	c := newChain(t, "", &gs)
	for n := uint64(1); n <= mempool.DefaultMaxParked; n++ {
		c.submit(tx(t, alice, n, 1000, transfer(bob.addr, 1)))
	}
	_, rej := c.app.Submit(tx(t, alice, mempool.DefaultMaxParked+1, 1000, transfer(bob.addr, 1)), false)
	if rej == nil || rej.Code != txcodec.CodeTooManyParked {
		t.Fatalf("one parked tx too many: %v", rej)
	}
	// Filling the gap makes them all ready; the next one is then fine.
	c.submit(tx(t, alice, 0, 1000, transfer(bob.addr, 1)))
	c.submit(tx(t, alice, mempool.DefaultMaxParked+1, 1000, transfer(bob.addr, 1)))
	if got := c.app.PendingNonce(alice.addr); got != mempool.DefaultMaxParked+2 {
		t.Fatalf("PendingNonce %d", got)
	}
}

// TestSubmitReplacement: a pending tx is replaced only by one that pays at
// least 10% more in fees actually charged (fee_limit is only a cap: raising
// it buys nothing). The replaced tx is reported as dropped.
func TestSubmitReplacement(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	c := newChain(t, "", &gs)
	orig := tx(t, alice, 0, 1000, transfer(bob.addr, 1))
	c.submit(orig)
	richer := tx(t, alice, 0, 100_000, transfer(bob.addr, 2))
	if _, rej := c.app.Submit(richer, false); rej == nil || rej.Code != txcodec.CodeReplacementUnderpriced {
		t.Fatalf("higher fee_limit, same fee: %v", rej)
	}
	// Two actions pay twice the per-action fee: a real bump.
	better := tx(t, alice, 0, 1000, transfer(bob.addr, 3), transfer(bob.addr, 4))
	c.submit(better)
	if reason, ok := c.app.DroppedReason(txcodec.TxHash(orig)); !ok || !strings.Contains(reason, "replaced") {
		t.Fatalf("replaced tx status: %q %v", reason, ok)
	}
	block := c.block()
	if !contains(block, better) || contains(block, orig) {
		t.Fatal("the replacement must land, not the original")
	}
}

// TestMempoolTTLFollowsBlockTime: the mempool's clock is the committed
// blocks' time; a tx that waits longer than the TTL is dropped with a
// reason.
func TestMempoolTTLFollowsBlockTime(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	c := newChain(t, "", &gs)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c.clock = t0
	c.block()
	parked := c.submit(tx(t, alice, 1, 1000, transfer(bob.addr, 1)))
	c.clock = t0.Add(mempool.DefaultTTL - time.Second)
	c.block()
	if c.app.Mempool().Get(parked) == nil {
		t.Fatal("dropped before its TTL")
	}
	c.clock = t0.Add(mempool.DefaultTTL)
	c.block()
	if c.app.Mempool().Get(parked) != nil {
		t.Fatal("still pending after its TTL")
	}
	if reason, ok := c.app.DroppedReason(parked); !ok || !strings.Contains(reason, "expired") {
		t.Fatalf("expired tx status: %q %v", reason, ok)
	}
}

// TestAckedTxOutlivesTheTTL: a tx the node acknowledged to a client waits
// past the TTL (here parked on a nonce gap, across blocks an hour apart, as
// after a long halt), stays journaled, and commits once the gap is filled.
func TestAckedTxOutlivesTheTTL(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	c := newChain(t, "", &gs)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c.clock = t0
	c.block()
	acked, rej := c.app.Submit(tx(t, alice, 1, 1000, transfer(bob.addr, 1)), true)
	if rej != nil {
		t.Fatal(rej)
	}
	for k := 1; k <= 3; k++ {
		c.clock = t0.Add(time.Duration(k) * time.Hour)
		c.block()
	}
	if c.app.Mempool().Get(acked) == nil || !consensus.JournalHas(c.store, acked) {
		t.Fatal("an acknowledged tx left the mempool or the journal after the TTL")
	}
	if reason, ok := c.app.DroppedReason(acked); ok {
		t.Fatalf("acknowledged tx dropped: %q", reason)
	}
	c.submit(tx(t, alice, 0, 1000, transfer(bob.addr, 1)))
	c.block()
	if c.nonce(alice.addr) != 2 || c.balance(bob.addr) != 2 {
		t.Fatalf("alice nonce %d, bob balance %d: the acknowledged tx did not commit", c.nonce(alice.addr), c.balance(bob.addr))
	}
}

// TestPrepareProposalFairShares: with one rollup flooding the mempool, the
// others still get their share of a block.
func TestPrepareProposalFairShares(t *testing.T) {
	keys, gs := fundedKeys(t, 12)
	c := newChain(t, "", &gs)
	payload := make([]byte, 400)
	// alpha: 10 senders x 20 txs, 83% of the pending bytes; beta and
	// gamma: one sender x 20 txs each.
	for n := uint64(0); n < 20; n++ {
		for i, k := range keys {
			name := "alpha"
			switch i {
			case 10:
				name = "beta"
			case 11:
				name = "gamma"
			}
			c.submit(tx(t, k, n, 1<<20, data(name, payload)))
		}
	}
	const max = 30_000 // room for about 54 txs of ~550 bytes
	txs := c.prepare(max)
	if size := protoSize(txs); size > max {
		t.Fatalf("block of %d bytes over %d", size, max)
	}
	count := perRollup(t, c, txs)
	t.Logf("per rollup: %v of %d", count, len(txs)-1)
	// Each rollup's share is a third of the block: about 18 txs.
	if count["beta"] < 15 || count["gamma"] < 15 || count["alpha"] > count["beta"]+2 {
		t.Fatalf("unfair block: %v", count)
	}
	// The space is used: another tx would not fit.
	if protoSize(txs)+600 < max {
		t.Fatalf("block of %d bytes leaves room", protoSize(txs))
	}
}

// TestPrepareProposalGenesisWeights: a rollup's genesis weight scales its
// share of block space (beta weight 2 gets twice gamma's bytes).
func TestPrepareProposalGenesisWeights(t *testing.T) {
	keys, gs := fundedKeys(t, 14)
	for i := range gs.Rollups {
		if gs.Rollups[i].Name == "beta" {
			gs.Rollups[i].Weight = 2
		}
	}
	c := newChain(t, "", &gs)
	payload := make([]byte, 400)
	// alpha: 10 senders, beta and gamma: 2 senders each, 20 txs per sender.
	for n := uint64(0); n < 20; n++ {
		for i, k := range keys {
			name := "alpha"
			switch {
			case i >= 12:
				name = "gamma"
			case i >= 10:
				name = "beta"
			}
			c.submit(tx(t, k, n, 1<<20, data(name, payload)))
		}
	}
	txs := c.prepare(30_000)
	count := perRollup(t, c, txs)
	t.Logf("per rollup with beta weight 2: %v of %d", count, len(txs)-1)
	if count["gamma"] < 10 || count["beta"] < 2*count["gamma"]-3 || count["alpha"] > count["gamma"]+3 {
		t.Fatalf("weights not honoured: %v", count)
	}
}

// perRollup counts a proposal's rollup-data actions per test rollup.
func perRollup(t *testing.T, c *chain, txs [][]byte) map[string]int {
	t.Helper()
	count := map[string]int{}
	lim := c.app.Limits()
	for _, raw := range txs[1:] {
		dtx, rej := consensus.DecodeTx(raw, lim)
		if rej != nil {
			t.Fatal(rej)
		}
		for _, a := range dtx.Body.Actions {
			rd := a.Kind.(*weftv1.Action_RollupData).RollupData
			for _, name := range rollupNames {
				if id := rollups.IDFromName(name); string(id[:]) == string(rd.RollupId) {
					count[name]++
				}
			}
		}
	}
	return count
}

// fundedKeys returns n new keys and a genesis app state funding each.
func fundedKeys(t *testing.T, n int) ([]key, genesis.AppState) {
	t.Helper()
	keys := make([]key, n)
	funded := map[common.Address]uint64{}
	for i := range keys {
		keys[i] = newKey(t)
		funded[keys[i].addr] = 1 << 40
	}
	return keys, appState(funded)
}

// TestSubmitCannotPay: a tx whose fee alone its sender cannot pay (an
// unfunded sender, say) is refused as insufficient funds whose log names
// mempool.ErrCannotPay: the tx topic counts such a tx, which its relayer's
// mempool should never have taken, as the relayer's fault, unlike a tx the
// balance covers alone but not on top of the sender's pending txs.
func TestSubmitCannotPay(t *testing.T) {
	alice, poor, bob := newKey(t), newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000, poor.addr: 150})
	c := newChain(t, "", &gs)
	for _, tc := range []struct {
		name   string
		raw    []byte
		cannot bool
	}{
		{"unfunded sender", tx(t, newKey(t), 0, 1000, transfer(bob.addr, 1)), true},
		{"balance below the fee", tx(t, poor, 0, 1000, transfer(bob.addr, 1), transfer(bob.addr, 1)), true},
		{"fee covered, not the transfer", tx(t, poor, 0, 100, transfer(bob.addr, 100)), false},
	} {
		_, rej := c.app.Submit(tc.raw, false)
		if rej == nil || rej.Code != txcodec.CodeInsufficientFunds || strings.Contains(rej.Log, mempool.ErrCannotPay.Error()) != tc.cannot {
			t.Errorf("%s: %v", tc.name, rej)
		}
	}
}
