package consensus_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// TestEVMChainIDsAreUnique: two rollups on one EVM chain id would accept
// each other's EIP-155 signatures. A registration reusing a registered
// rollup's chain id, or another registration's of the same tx or block, is
// refused by the mempool and by block execution.
func TestEVMChainIDsAreUnique(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000, bob.addr: 1_000_000})
	c := newChain(t, "", &gs)

	// alpha holds 1001 from genesis.
	if _, rej := c.app.Submit(tx(t, alice, 0, 1000, register("delta", 1001)), false); rej == nil || rej.Code != txcodec.CodeRollupExists {
		t.Fatalf("registration on alpha's chain id: %v", rej)
	}
	// Two registrations of one tx on one chain id.
	if _, rej := c.app.Submit(tx(t, alice, 0, 1000, register("delta", 5000), register("epsilon", 5000)), false); rej == nil || rej.Code != txcodec.CodeRollupExists {
		t.Fatalf("one tx registering two rollups on chain id 5000: %v", rej)
	}
	// Two txs in one block: the mempool takes both (neither is taken yet
	// in committed state), the block takes the first only.
	first := tx(t, alice, 0, 1000, register("delta", 5000))
	second := tx(t, bob, 0, 1000, register("epsilon", 5000))
	block := [][]byte{c.prepare(blockBytes)[0], first, second}
	if c.process(block) {
		t.Fatal("ProcessProposal accepted a second rollup on chain id 5000")
	}
	resp := c.finalize(block)
	if resp.TxResults[1].Code != txcodec.CodeOK || resp.TxResults[2].Code != txcodec.CodeRollupExists {
		t.Fatalf("results %d %d, want OK then RollupExists", resp.TxResults[1].Code, resp.TxResults[2].Code)
	}
	if c.app.Reader().Rollup(rollups.IDFromName("delta")) == nil || c.app.Reader().Rollup(rollups.IDFromName("epsilon")) != nil {
		t.Fatal("delta should be registered and epsilon not")
	}
	if _, rej := c.app.Submit(tx(t, bob, 1, 1000, register("zeta", 5000)), false); rej == nil || rej.Code != txcodec.CodeRollupExists {
		t.Fatalf("registration on delta's chain id after commit: %v", rej)
	}
}
