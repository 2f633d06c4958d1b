package consensus_test

import (
	"bytes"
	"fmt"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/txcodec"
)

// TestPrepareFastPathAgreesWithExecution mixes txs that PrepareProposal
// checks on its in-memory ledger (rollup data, transfers) with txs that take
// the full applyTx path (delegation, rollup registration), from the same
// senders and between them, over several blocks. Every proposal must pass
// ProcessProposal and every tx in it succeed (c.block checks both), and
// every valid tx must be proposed, in the sender's nonce order.
func TestPrepareFastPathAgreesWithExecution(t *testing.T) {
	ks := make([]key, 6)
	funded := map[common.Address]uint64{}
	for i := range ks {
		ks[i] = newKey(t)
		funded[ks[i].addr] = 10_000_000
	}
	gs := appState(funded)
	c := newChain(t, "", &gs)
	val := testVals[0].addr
	fresh := newKey(t) // holds nothing at first: funded by transfers in the block

	var want [][32]byte
	nonces := make([]uint64, len(ks))
	send := func(i int, acts ...*weftv1.Action) {
		want = append(want, c.submit(tx(t, ks[i], nonces[i], 1_000_000, acts...)))
		nonces[i]++
	}
	for round := 0; round < 3; round++ {
		for i := range ks {
			send(i, data("alpha", []byte{byte(round), byte(i)}))
			send(i, transfer(ks[(i+1)%len(ks)].addr, 1000), data("beta", []byte{1}))
			switch i {
			case 0:
				send(i, delegate(val, 500)) // slow path between fast ones
			case 1:
				send(i, register("fresh-"+string(rune('a'+round)), uint64(900+round)), data("gamma", []byte{2}))
			case 2:
				send(i, transfer(fresh.addr, 5000))
			}
			send(i, data("gamma", []byte{3}), data("alpha", []byte{4})) // a bundle after them
		}
		txs := c.block()
		got := map[[32]byte]bool{}
		for _, raw := range txs[1:] {
			got[txcodec.TxHash(raw)] = true
		}
		for _, h := range want {
			if !got[h] {
				t.Fatalf("round %d: a valid tx %x was not proposed (%d of %d in the block)", round, h[:6], len(txs)-1, len(want))
			}
		}
		if len(txs)-1 != len(want) {
			t.Fatalf("round %d: block holds %d txs, %d were sent", round, len(txs)-1, len(want))
		}
		want = want[:0]
	}
	if b := c.balance(fresh.addr); b != 3*5000 {
		t.Fatalf("fresh account holds %d", b)
	}
}

// TestMixedBlocks executes blocks mixing txs whose rules run on the
// ledger's cached accounts (rollup data, transfers, a transfer to oneself)
// with txs that go through the overlay (delegations) between them, then a
// block of txs that each fail a different rule: the results and app hashes
// must be what a replay from the same genesis gives, and each failing tx
// must get its rule's code (the ledger and the overlay share the rules,
// see charge).
func TestMixedBlocks(t *testing.T) {
	ks := make([]key, 4)
	funded := map[common.Address]uint64{}
	for i := range ks {
		ks[i] = newKey(t)
		funded[ks[i].addr] = 10_000_000
	}
	fresh := newKey(t)
	gs := appState(funded)
	fast := newChain(t, "", &gs)
	var blocks [][][]byte
	var hashes [][]byte
	var codes [][]uint32
	record := func(txs [][]byte, r *abci.ResponseFinalizeBlock) {
		blocks = append(blocks, txs)
		hashes = append(hashes, r.AppHash)
		var cs []uint32
		for _, x := range r.TxResults {
			cs = append(cs, x.Code)
		}
		codes = append(codes, cs)
	}
	nonces := make([]uint64, len(ks))
	next := func(i int) uint64 { n := nonces[i]; nonces[i]++; return n }
	for round := 0; round < 3; round++ {
		for i, k := range ks {
			fast.submit(tx(t, k, next(i), 1_000_000, data("alpha", []byte{byte(i)}), transfer(fresh.addr, 7)))
			fast.submit(tx(t, k, next(i), 1_000_000, transfer(k.addr, 3))) // to itself
			fast.submit(tx(t, k, next(i), 1_000_000, transfer(ks[(i+1)%len(ks)].addr, 0), data("beta", []byte{1}), data("gamma", []byte{2})))
			if i == round {
				fast.submit(tx(t, k, next(i), 1_000_000, delegate(testVals[1].addr, 700)))
				fast.submit(tx(t, k, next(i), 1_000_000, data("alpha", []byte{9})))
			}
		}
		txs, r := fast.blockResp()
		record(txs, r)
	}
	// A block with txs that fail: a replayed nonce, one its sender cannot
	// afford, data for an unknown rollup.
	bad := [][]byte{
		blocks[0][0], // commitment (stale, FinalizeBlock does not check it)
		tx(t, ks[0], 0, 1_000_000, data("alpha", []byte{1})),
		tx(t, fresh, 0, 1_000_000, transfer(ks[0].addr, 1_000_000)),
		tx(t, ks[1], nonces[1], 1_000_000, data("nope", []byte{1})),
		tx(t, ks[2], nonces[2], 1_000_000, data("alpha", []byte{1})),
	}
	record(bad, fast.finalize(bad))

	// The same blocks on a second chain from the same genesis: every tx,
	// whichever of its rules fails, gets the same code and the chain the
	// same app hash.
	again := newChain(t, "", &gs)
	for i, txs := range blocks {
		r := again.finalize(txs)
		if !bytes.Equal(r.AppHash, hashes[i]) {
			t.Fatalf("block %d: app hash %x on replay, %x first", i+1, r.AppHash, hashes[i])
		}
		for j, x := range r.TxResults {
			if x.Code != codes[i][j] {
				t.Fatalf("block %d tx %d: code %d on replay, %d first", i+1, j, x.Code, codes[i][j])
			}
		}
	}
	want := []uint32{txcodec.CodeOK, txcodec.CodeNonceTooLow, txcodec.CodeInsufficientFunds, txcodec.CodeUnknownRollup, txcodec.CodeOK}
	if got := codes[len(codes)-1]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("bad block results %v, want %v", got, want)
	}
}

// TestLargeProposal: a block with more rollup items than PrepareProposal
// hashes on its own goroutine at once (it hashes the commitment trees in
// batches while it chooses) carries every pending tx and is accepted by
// ProcessProposal, which recomputes the commitment over the whole block.
func TestLargeProposal(t *testing.T) {
	rng := seededRand(t)
	keys, gs := seededAccounts(t, rng, 40)
	c := newChain(t, "", &gs)
	for n := uint64(0); n < 60; n++ {
		for i, k := range keys {
			acts := []*weftv1.Action{data(rollupNames[(i+int(n))%3], []byte{byte(n), byte(i)})}
			if rng.Intn(5) == 0 { // a bundle
				acts = append(acts, data(rollupNames[rng.Intn(3)], []byte{byte(i)}))
			}
			c.submit(tx(t, k, n, 1_000_000, acts...))
		}
	}
	pending, _ := c.app.Mempool().Size()
	txs := c.block()
	if len(txs)-1 != pending {
		t.Fatalf("proposed %d of %d pending txs", len(txs)-1, pending)
	}
	items := 0
	for _, r := range mustCommitment(t, txs).Rollups {
		items += int(r.ItemCount)
	}
	if items < 2500 {
		t.Fatalf("only %d rollup items: the test no longer covers large blocks", items)
	}
}
