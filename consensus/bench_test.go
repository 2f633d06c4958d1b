package consensus_test

import (
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// BenchmarkPrepareProposal builds a block (8 MiB of txs at most) from
// 100,000 pending 250-byte rollup-data txs of 1,000 senders: the block
// builder's cost per proposal, the figure the mempool issue targets (≤ 20 ms).
func BenchmarkPrepareProposal(b *testing.B) {
	const senders, perSender = 1000, 100
	keys, c := benchChain(b, senders)
	start := time.Now()
	payload := make([]byte, 160)
	for n := uint64(0); n < perSender; n++ {
		for i, k := range keys {
			raw := tx(b, k, n, 1<<20, data(rollupNames[i%len(rollupNames)], payload))
			if _, rej := c.app.Submit(raw, false); rej != nil {
				b.Fatalf("submit: %v", rej)
			}
		}
	}
	pending, _ := c.app.Mempool().Size()
	b.Logf("%d txs pending (set up in %s)", pending, time.Since(start).Round(time.Millisecond))
	var got int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got = len(c.prepare(8 << 20))
	}
	b.StopTimer()
	b.ReportMetric(float64(got-1), "txs/block")
}

// BenchmarkBlockExecution is what a validator does with a proposal of ~400
// 250-byte rollup-data txs it already holds in its mempool (the benchnet's
// blocks): ProcessProposal, FinalizeBlock and Commit, each reported per
// block. 400,000 txs of 1,000 senders are pending at the start.
func BenchmarkBlockExecution(b *testing.B) {
	const senders, perSender = 1000, 400
	keys, c := benchChain(b, senders)
	payload := make([]byte, 160)
	n := uint64(0)
	refill := func() {
		for i, k := range keys {
			raw := tx(b, k, n, 1<<20, data(rollupNames[i%len(rollupNames)], payload))
			if _, rej := c.app.Submit(raw, false); rej != nil {
				b.Fatalf("submit: %v", rej)
			}
		}
		n++
	}
	for range 4 {
		refill()
	}
	var process, finalize, commit time.Duration
	txs := 0
	b.ResetTimer()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		if pending, _ := c.app.Mempool().Size(); pending < 2*senders && n < perSender {
			refill()
		}
		block := c.prepare(128 << 10)
		txs += len(block) - 1
		h := c.height + 1
		hash := blockHash(h, block)
		b.StartTimer()
		t0 := time.Now()
		pp, err := c.app.ProcessProposal(ctx, &abci.RequestProcessProposal{Txs: block, Height: h, Hash: hash,
			ProposerAddress: c.proposer.Bytes(), ProposedLastCommit: c.lastCommit(h)})
		if err != nil || pp.Status != abci.ResponseProcessProposal_ACCEPT {
			b.Fatalf("ProcessProposal: %v %v", pp, err)
		}
		t1 := time.Now()
		if _, err := c.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Txs: block, Height: h, Hash: hash,
			ProposerAddress: c.proposer.Bytes(), DecidedLastCommit: c.lastCommit(h), Time: c.clock}); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := c.app.Commit(ctx, &abci.RequestCommit{}); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		b.StopTimer()
		process, finalize, commit = process+t1.Sub(t0), finalize+t2.Sub(t1), commit+t3.Sub(t2)
		c.height = h
		if _, ok := c.sets[h+1]; !ok {
			c.sets[h+1] = c.sets[h]
		}
		c.sets[h+2] = c.sets[h+1]
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(per(process), "process-ms/block")
	b.ReportMetric(per(finalize), "finalize-ms/block")
	b.ReportMetric(per(commit), "commit-ms/block")
	b.ReportMetric(float64(txs)/float64(b.N), "txs/block")
}

// benchChain is an in-memory chain whose genesis funds n fresh senders,
// with room for 1 MiB txs.
func benchChain(b *testing.B, n int) ([]key, *chain) {
	keys := make([]key, n)
	funded := map[common.Address]uint64{}
	for i := range keys {
		pk, err := crypto.GenerateKey()
		if err != nil {
			b.Fatal(err)
		}
		keys[i] = key{pk, crypto.PubkeyToAddress(pk.PublicKey)}
		funded[keys[i].addr] = 1 << 50
	}
	gs := appState(funded)
	gs.Params.MaxTxBytes = 1 << 20
	return keys, newChain(b, "", &gs)
}
