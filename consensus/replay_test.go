package consensus_test

import (
	"bytes"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/txcodec"
)

type decided struct {
	txs      [][]byte
	proposer common.Address
	appHash  []byte
}

// buildHistory runs a chain for n blocks of random traffic (transfers among
// the keys, rollup data, bundles, a registration) with rotating proposers and
// returns the blocks with their app hashes.
func buildHistory(t *testing.T, rng *rand.Rand, c *chain, keys []key, n int) []decided {
	t.Helper()
	var out []decided
	for h := 0; h < n; h++ {
		for i := 0; i < 6; i++ {
			k := keys[rng.Intn(len(keys))]
			var raw []byte
			if rng.Intn(3) == 0 {
				to := keys[rng.Intn(len(keys))].addr
				raw = tx(t, k, c.app.PendingNonce(k.addr), 1000, transfer(to, uint64(rng.Intn(1000))))
			} else {
				raw = randomTx(t, rng, k, c.app.PendingNonce(k.addr))
			}
			c.submit(raw)
		}
		if h == 2 {
			k := keys[0]
			c.submit(tx(t, k, c.app.PendingNonce(k.addr), 1000, register("later", 77), data("later", []byte("x"))))
		}
		c.proposer = testVals[h%len(testVals)].addr
		// Blocks of varying size leave some txs for later heights.
		txs := c.prepare(1000 + rng.Int63n(12_000))
		resp := c.apply(txs)
		out = append(out, decided{txs: txs, proposer: c.proposer, appHash: resp.AppHash})
	}
	return out
}

// replay feeds blocks to c and checks the app hash at every height. With
// process set each block also goes through ProcessProposal, as on a
// validator; without it only FinalizeBlock runs, as in CometBFT's replay.
func replay(t *testing.T, c *chain, blocks []decided, process bool) {
	t.Helper()
	for i, b := range blocks {
		c.proposer = b.proposer
		var resp *abci.ResponseFinalizeBlock
		if process {
			resp = c.apply(b.txs)
		} else {
			resp = c.finalize(b.txs)
		}
		if !bytes.Equal(resp.AppHash, b.appHash) {
			t.Fatalf("height %d: app hash %x, want %x", i+1, resp.AppHash, b.appHash)
		}
	}
}

func TestDeterminismAndRestart(t *testing.T) {
	rng := seededRand(t)
	keys, gs := seededAccounts(t, rng, 6)

	a := newChain(t, "", &gs)
	b := newChain(t, "", &gs)
	if _, ha := a.app.Committed(); true {
		if _, hb := b.app.Committed(); !bytes.Equal(ha, hb) || len(ha) != 32 {
			t.Fatalf("genesis app hashes %x and %x", ha, hb)
		}
	}
	blocks := buildHistory(t, rng, a, keys, 12)
	userTxs := 0
	for _, blk := range blocks {
		userTxs += len(blk.txs) - 1
	}
	if userTxs < 16 {
		t.Fatalf("only %d txs landed in %d blocks", userTxs, len(blocks))
	}
	seen := map[string]bool{}
	for _, blk := range blocks {
		if seen[string(blk.appHash)] {
			t.Fatal("two heights share an app hash")
		}
		seen[string(blk.appHash)] = true
	}

	// A second validator that saw the same blocks.
	replay(t, b, blocks, true)

	// A node replaying from genesis on disk, then restarting.
	dir := filepath.Join(t.TempDir(), "state")
	r := newChain(t, dir, &gs)
	replay(t, r, blocks[:5], false)
	r = r.reopen(dir)
	info, err := r.app.Info(ctx, &abci.RequestInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if info.LastBlockHeight != 5 || !bytes.Equal(info.LastBlockAppHash, blocks[4].appHash) {
		t.Fatalf("after restart Info says height %d hash %x, want 5 %x", info.LastBlockHeight, info.LastBlockAppHash, blocks[4].appHash)
	}
	if r.app.ChainID() != testChainID {
		t.Fatal("chain id lost on restart")
	}
	replay(t, r, blocks[5:], false)
	for _, k := range keys {
		if !bytes.Equal(r.app.Reader().Account(k.addr).Balance, a.app.Reader().Account(k.addr).Balance) || r.nonce(k.addr) != a.nonce(k.addr) {
			t.Fatalf("account %s differs after replay", k.addr)
		}
	}
	// Both continue identically after the restart.
	next := tx(t, keys[1], a.app.PendingNonce(keys[1].addr), 1000, transfer(keys[2].addr, 3))
	a.submit(next)
	txs := a.prepare(blockBytes)
	ra := a.apply(txs)
	r.proposer = a.proposer
	rr := r.apply(txs)
	if !bytes.Equal(ra.AppHash, rr.AppHash) {
		t.Fatal("app hashes diverge after restart")
	}
	// Info on a fresh store reports height 0.
	fresh := newChain(t, "", nil)
	if info, _ := fresh.app.Info(ctx, &abci.RequestInfo{}); info.LastBlockHeight != 0 || len(info.LastBlockAppHash) != 0 {
		t.Fatalf("fresh Info: %v", info)
	}
}

func TestAppHashDependsOnGenesisAndBlocks(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1000})
	gs2 := appState(map[common.Address]uint64{alice.addr: 1001})
	a, b := newChain(t, "", &gs), newChain(t, "", &gs2)
	_, ha := a.app.Committed()
	_, hb := b.app.Committed()
	if bytes.Equal(ha, hb) {
		t.Fatal("different genesis, same app hash")
	}
	// Same txs, a different last commit: rewards and signing records
	// differ, so the hash differs.
	c1, c2 := newChain(t, "", &gs), newChain(t, "", &gs)
	raw := tx(t, alice, 0, 500, transfer(bob.addr, 1))
	c1.submit(raw)
	txs := c1.prepare(blockBytes)
	if !bytes.Equal(c1.apply(txs).AppHash, c2.apply(txs).AppHash) {
		t.Fatal("same genesis and block, different app hash")
	}
	c2.absent[testVals[1].addr] = true
	empty := c1.prepare(blockBytes)
	if bytes.Equal(c1.apply(empty).AppHash, c2.apply(empty).AppHash) {
		t.Fatal("app hash ignores who signed the last block")
	}
}

func TestMempoolJournal(t *testing.T) {
	alice, bob, carol := newKey(t), newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000, bob.addr: 1_000_000, carol.addr: 1_000_000})
	dir := filepath.Join(t.TempDir(), "state")
	c := newChain(t, dir, &gs)

	landed := tx(t, alice, 0, 1000, transfer(bob.addr, 1))
	if _, rej := c.app.Submit(landed, true); rej != nil {
		t.Fatal(rej)
	}
	c.block()
	// Local submissions are journaled; gossiped ones are not.
	local := tx(t, alice, 1, 1000, data("alpha", []byte("keep me")))
	local2 := tx(t, alice, 2, 1000, transfer(carol.addr, 2))
	gossiped := tx(t, bob, 0, 1000, transfer(carol.addr, 3))
	// Carol's journaled tx becomes invalid before the restart: another tx
	// with her nonce 0 commits, as if from another node's mempool.
	stale := tx(t, carol, 0, 1000, transfer(bob.addr, 4))
	for _, raw := range [][]byte{local, local2, stale} {
		if _, rej := c.app.Submit(raw, true); rej != nil {
			t.Fatal(rej)
		}
	}
	if _, rej := c.app.Submit(gossiped, false); rej != nil {
		t.Fatal(rej)
	}
	other := tx(t, carol, 0, 1000, transfer(bob.addr, 5))
	c.finalize([][]byte{c.prepare(10)[0], other})
	if c.app.Mempool().Get(txcodec.TxHash(stale)) != nil {
		t.Fatal("stale tx still pending")
	}

	c = c.reopen(dir)
	mp := c.app.Mempool()
	for _, tc := range []struct {
		name string
		raw  []byte
		want bool
	}{
		{"committed", landed, false},
		{"local", local, true},
		{"local, second nonce", local2, true},
		{"gossiped", gossiped, false},
		{"stale", stale, false},
	} {
		if got := mp.Get(txcodec.TxHash(tc.raw)) != nil; got != tc.want {
			t.Errorf("%s: pending after restart = %v, want %v", tc.name, got, tc.want)
		}
	}
	if c.app.PendingNonce(alice.addr) != 3 {
		t.Fatalf("alice's pending nonce %d", c.app.PendingNonce(alice.addr))
	}
	block := c.block()
	if !contains(block, local) || !contains(block, local2) {
		t.Fatal("restored txs did not land")
	}
	// Once committed they leave the journal: another restart restores nothing.
	c = c.reopen(dir)
	if n, _ := c.app.Mempool().Size(); n != 0 {
		t.Fatalf("%d txs restored after they were committed", n)
	}
}

// TestJournalRestoreDropsInvalid: journal entries that no longer decode or
// are no longer valid when the node restarts (say it crashed between writing
// a block and pruning the journal) are dropped with a reason, and forgotten.
func TestJournalRestoreDropsInvalid(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	dir := filepath.Join(t.TempDir(), "state")
	c := newChain(t, dir, &gs)
	c.submit(tx(t, alice, 0, 1000, transfer(bob.addr, 1)))
	c.block()

	stale := tx(t, alice, 0, 1000, transfer(bob.addr, 2))
	garbage := []byte("not a tx")
	valid := tx(t, alice, 1, 1000, transfer(bob.addr, 3))
	for _, raw := range [][]byte{stale, garbage, valid} {
		if err := consensus.JournalPut(c.store, txcodec.TxHash(raw), raw); err != nil {
			t.Fatal(err)
		}
	}
	c = c.reopen(dir)
	if reason, ok := c.app.DroppedReason(txcodec.TxHash(stale)); !ok || !strings.Contains(reason, "after restart") {
		t.Fatalf("stale journaled tx: reason %q", reason)
	}
	if n, _ := c.app.Mempool().Size(); n != 1 || c.app.Mempool().Get(txcodec.TxHash(valid)) == nil {
		t.Fatalf("restored %d txs, want only the valid one", n)
	}
	c = c.reopen(dir)
	if n, _ := c.app.Mempool().Size(); n != 1 {
		t.Fatalf("second restart restored %d txs", n)
	}
	if consensus.JournalHas(c.store, txcodec.TxHash(stale)) || consensus.JournalHas(c.store, txcodec.TxHash(garbage)) {
		t.Fatal("the stale entries were not removed from the journal")
	}
	// Why it was dropped survives restarts.
	if reason, ok := c.app.DroppedReason(txcodec.TxHash(stale)); !ok || !strings.Contains(reason, "after restart") {
		t.Fatalf("stale journaled tx after a second restart: reason %q", reason)
	}
}
