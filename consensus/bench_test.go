package consensus_test

import (
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// BenchmarkPrepareProposal builds a block (8 MiB of txs at most) from
// 100,000 pending 250-byte rollup-data txs of 1,000 senders: the block
// builder's cost per proposal, the figure the mempool issue targets (≤ 20 ms).
func BenchmarkPrepareProposal(b *testing.B) {
	const senders, perSender = 1000, 100
	keys := make([]key, senders)
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
	c := newChain(b, "", &gs)
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
