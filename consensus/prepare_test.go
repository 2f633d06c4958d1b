package consensus_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/consensus"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
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
			got[consensus.TxHash(raw)] = true
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
