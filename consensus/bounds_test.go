package consensus_test

import (
	"bytes"
	"math/rand"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/consensus"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/txcodec"
)

// heavyActions is the most transfers a write-heavy tx carries (the
// default max_actions; the tests' genesis allows fewer).
const heavyActions = 64

// writeHeavyTxs returns txs from senders, perSender each in nonce order,
// every one paying one unit to transfers fresh addresses: the cheapest way
// to make a block write many state entries.
func writeHeavyTxs(t *testing.T, rng *rand.Rand, senders []key, perSender, transfers int) [][]byte {
	var out [][]byte
	for _, k := range senders {
		for n := 0; n < perSender; n++ {
			acts := make([]*weftv1.Action, transfers)
			for i := range acts {
				var to common.Address
				rng.Read(to[:])
				acts[i] = transfer(to, 1)
			}
			out = append(out, tx(t, k, uint64(n), fee(acts...), acts...))
		}
	}
	return out
}

// TestBlockBeyondOneBadgerTxnCommits: a block whose state writes exceed what
// badger takes in one transaction (~52k entries) used to fail Commit on
// every validator at the same height, and again on every restart: the chain
// halted for good. One funded account could do it with txs of many
// one-unit transfers to fresh addresses.
func TestBlockBeyondOneBadgerTxnCommits(t *testing.T) {
	rng := seededRand(t)
	senders, gs := seededAccounts(t, rng, 20)
	gs.Params.MaxActions = heavyActions
	dir := t.TempDir()
	c := newChain(t, dir, &gs)
	txs := writeHeavyTxs(t, rng, senders, 45, heavyActions) // 900 txs, 59,400 writes
	for _, raw := range txs {
		c.submit(raw)
	}
	block := c.prepare(8 << 20)
	if len(block) != len(txs)+1 {
		t.Fatalf("proposal holds %d of %d txs", len(block)-1, len(txs))
	}
	resp := c.apply(block)
	for i, r := range resp.TxResults {
		if r.Code != txcodec.CodeOK {
			t.Fatalf("tx %d: %s", i, r.Log)
		}
	}
	for _, k := range senders {
		if got := c.nonce(k.addr); got != 45 {
			t.Fatalf("sender nonce %d after the block, want 45", got)
		}
	}
	h, ah := c.app.Committed()
	c = c.reopen(dir)
	if h2, ah2 := c.app.Committed(); h2 != h || !bytes.Equal(ah, ah2) {
		t.Fatalf("after reopen: height %d app hash %x, want %d %x", h2, ah2, h, ah)
	}
	c.checkSupply()
	c.block() // the chain goes on
}

// TestChunkedCommitIsCrashSafe stops a chunked commit after each step, as a
// crash would, and reopens the store: before the commit marker the block is
// not there and replaying it gives the same app hash; after it, the open
// finishes the block.
func TestChunkedCommitIsCrashSafe(t *testing.T) {
	for _, step := range []string{"staged", "applied"} {
		t.Run(step, func(t *testing.T) {
			rng := rand.New(rand.NewSource(7))
			senders, gs := seededAccounts(t, rng, 20)
			gs.Params.MaxActions = heavyActions
			txs := writeHeavyTxs(t, rng, senders, 45, heavyActions)

			// The reference: the same block on a chain that does not crash.
			ref := newChain(t, "", &gs)
			for _, raw := range txs {
				ref.submit(raw)
			}
			block := ref.prepare(8 << 20)
			want := ref.apply(block).AppHash

			dir := t.TempDir()
			c := newChain(t, dir, &gs)
			consensus.CrashAfter(c.store, step)
			h := c.height + 1
			if _, err := c.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{
				Txs: block, Height: h, Hash: blockHash(h, block), ProposerAddress: c.proposer.Bytes(),
				DecidedLastCommit: c.lastCommit(h),
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.app.Commit(ctx, &abci.RequestCommit{}); err == nil {
				t.Fatal("Commit did not stop after the step")
			}
			c = c.reopen(dir)
			got, ah := c.app.Committed()
			switch step {
			case "staged":
				if got != h-1 {
					t.Fatalf("height %d after a crash before the marker, want %d", got, h-1)
				}
				c.checkSupply()
				if resp := c.finalize(block); !bytes.Equal(resp.AppHash, want) {
					t.Fatalf("replayed block's app hash %x, want %x", resp.AppHash, want)
				}
			case "applied":
				if got != h || !bytes.Equal(ah, want) {
					t.Fatalf("height %d app hash %x after a crash after the marker, want %d %x", got, ah, h, want)
				}
				c.checkSupply()
				for _, k := range senders {
					if n := c.nonce(k.addr); n != 45 {
						t.Fatalf("sender nonce %d, want 45", n)
					}
				}
			}
		})
	}
}

// TestBlockWriteBound: the builder stops at MaxBlockWrites and
// ProcessProposal refuses a block beyond it.
func TestBlockWriteBound(t *testing.T) {
	rng := seededRand(t)
	senders, gs := seededAccounts(t, rng, 40)
	gs.Params.MaxActions = heavyActions
	c := newChain(t, "", &gs)
	txs := writeHeavyTxs(t, rng, senders, 45, heavyActions) // 1800 txs, 118,800 writes
	perTx := 2 + heavyActions
	if len(txs)*perTx <= consensus.MaxBlockWrites {
		t.Fatalf("test needs more than %d writes", consensus.MaxBlockWrites)
	}
	for _, raw := range txs {
		c.submit(raw)
	}
	block := c.prepare(16 << 20)
	if n := len(block) - 1; n*perTx > consensus.MaxBlockWrites || (n+1)*perTx <= consensus.MaxBlockWrites {
		t.Fatalf("proposal holds %d txs (%d writes), want the most under %d writes", n, n*perTx, consensus.MaxBlockWrites)
	}
	// Everything in nonce order per sender, commitment item from the
	// builder (no rollup data: the same for any transfers-only block).
	all := append([][]byte{block[0]}, txs...)
	if c.process(all) {
		t.Fatal("ProcessProposal accepted a block beyond MaxBlockWrites")
	}
	c.apply(block)
}
