package consensus_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/consensus"
)

// TestOneRecoveryPerTxPerNode: a node recovers each tx's signer once. A
// node that took the txs into its mempool recovers nothing more to
// propose, check, execute and commit the block holding them (each step
// reads the mempool's decoded tx); a node that never saw them recovers
// each once, in ProcessProposal, and FinalizeBlock reuses that. Not
// parallel: the counter is the process's.
func TestOneRecoveryPerTxPerNode(t *testing.T) {
	const n = 20
	keys := make([]key, n)
	funded := map[common.Address]uint64{}
	for i := range keys {
		keys[i] = newKey(t)
		funded[keys[i].addr] = 1_000_000
	}
	gs := appState(funded)
	proposer, other := newChain(t, "", &gs), newChain(t, "", &gs)
	txs := make([][]byte, n)
	for i, k := range keys {
		txs[i] = tx(t, k, 0, 1000, transfer(keys[(i+1)%n].addr, 1))
	}

	before := consensus.SignatureRecoveries()
	for _, raw := range txs {
		proposer.submit(raw)
	}
	if got := consensus.SignatureRecoveries() - before; got != n {
		t.Fatalf("submitting %d txs recovered %d signers, want %d", n, got, n)
	}
	before = consensus.SignatureRecoveries()
	block := proposer.block()
	if len(block) != n+1 {
		t.Fatalf("block holds %d txs, want the commitment item and %d", len(block), n)
	}
	if got := consensus.SignatureRecoveries() - before; got != 0 {
		t.Errorf("proposing, checking, executing and committing txs from the mempool recovered %d signers, want 0", got)
	}

	before = consensus.SignatureRecoveries()
	if !other.process(block) {
		t.Fatal("the other node rejected the block")
	}
	if got := consensus.SignatureRecoveries() - before; got != n {
		t.Errorf("checking a block of %d unseen txs recovered %d signers, want %d", n, got, n)
	}
	before = consensus.SignatureRecoveries()
	other.finalize(block)
	if got := consensus.SignatureRecoveries() - before; got != 0 {
		t.Errorf("executing and committing the checked block recovered %d signers, want 0", got)
	}
}
