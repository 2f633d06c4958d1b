package batcher_test

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/batcher"
	"github.com/weftnet/weft/rollups/exec/evm"
)

// settleRollup is BenchmarkSettlement's rollup: 100 Weft heights 2 s apart,
// 80 of them with 1-3 items, each item an evm.EncodeTxs list of 10-40
// EIP-1559 txs signed by 300 funded users (sequential nonces): 60% ETH
// transfers, 40% ERC-20 transfer(address,uint256) calls on 5 token addresses
// (without code: what is measured is the data). Items come from 3 rollup RPC
// nodes. The same mix as BenchmarkCompression, with keys and fees the
// executor accepts.
var settleRollup = sync.OnceValues(func() (evm.Config, []*weftv1.RollupSlice) {
	rng := rand.New(rand.NewSource(42))
	cfg := rollupConfig()
	cfg.Alloc = types.GenesisAlloc{}
	users := make([]*ecdsa.PrivateKey, 300)
	for i := range users {
		users[i] = key(fmt.Sprintf("bench user %d", i))
		cfg.Alloc[addr(users[i])] = types.Account{Balance: new(big.Int).Mul(big.NewInt(1000), ether)}
	}
	mix := batcher.NewBenchMix(rng, chainID, users)
	id := rollups.IDFromName(rollupName)
	var out []*weftv1.RollupSlice
	for h := int64(1); h <= 100; h++ {
		s := &weftv1.RollupSlice{
			Height: h, TimeUnixNano: (1_700_000_000+2*h)*1e9 + rng.Int63n(1e8), RollupId: id[:],
			BlockHash: crypto.Keccak256([]byte("weft settle bench"), []byte{byte(h)}),
		}
		out = append(out, s)
		if h%5 == 0 {
			continue
		}
		s.Items, _ = mix.Items()
	}
	return cfg, out
})

// pacedSource hands out one height per tick, as Weft produces them.
type pacedSource struct {
	*source
	every time.Duration
}

func (p pacedSource) Follow(ctx context.Context, from int64, fn func(*weftv1.RollupSlice) error) error {
	t := time.NewTicker(p.every)
	defer t.Stop()
	return p.source.Follow(ctx, from, func(s *weftv1.RollupSlice) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		return fn(s)
	})
}

// settlementCost is what BenchmarkSettlement measures, read back from L1.
type settlementCost struct {
	batches, frames, rollupTxs int
	gas                        uint64 // gas used by the frame txs (appendFrame and postBatch)
	l1Input                    int    // their calldata, ABI encoding included
	payload, raw               int    // posted (compressed) and encoded batch bytes
	algos                      map[batcher.Algo]int
}

// measureSettlement reads the posted batches, their frame txs' receipts, and
// decodes their data to count rollup txs.
func (e *env) measureSettlement(ctx context.Context) settlementCost {
	e.t.Helper()
	client := e.l1.Client()
	bs, err := e.inbox.Batches(ctx, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	c := settlementCost{batches: len(bs), algos: map[batcher.Algo]int{}}
	for _, b := range bs {
		var frames [][]byte
		for _, f := range b.Frames {
			r, err := client.TransactionReceipt(ctx, f.TxHash)
			if err != nil {
				e.t.Fatal(err)
			}
			tx, _, err := client.TransactionByHash(ctx, f.TxHash)
			if err != nil {
				e.t.Fatal(err)
			}
			c.gas += r.GasUsed
			c.l1Input += len(tx.Data())
			frames = append(frames, f.Data)
		}
		c.frames += len(frames)
		payload := batcher.JoinFrames(frames)
		c.payload += len(payload)
		c.algos[batcher.Algo(payload[1])]++
		data, err := batcher.DecodeBatch(payload, 0)
		if err != nil {
			e.t.Fatal(err)
		}
		c.raw += proto.Size(data)
		for _, blk := range data.Blocks {
			for _, it := range blk.Items {
				txs, err := evm.DecodeTxs(it.Data)
				if err != nil {
					e.t.Fatal(err)
				}
				c.rollupTxs += len(txs)
			}
		}
	}
	return c
}

// BenchmarkSettlement posts 100 Weft heights of realistic rollup traffic
// (settleRollup) through the real Driver, with the default batch config but
// a 500 ms MaxBatchAge against heights handed out every 20 ms (so batches of
// about 25 heights), to the embedded L1 (Osaka rules: EIP-7623 calldata
// floor), and reports the L1 gas per batch and per rollup tx, the posted and
// raw bytes per rollup tx, and how many batches each compression won. ns/op
// is the wall time to post everything. Run it with -benchtime=1x.
func BenchmarkSettlement(b *testing.B) {
	rcfg, sl := settleRollup()
	var c settlementCost
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newEnvWith(b, envOptions{rollup: &rcfg, slices: sl})
		e.rootAt(int64(len(sl))) // execute first: the pacing alone sets the batches
		cfg := batcher.DefaultConfig(common.Hash(rollups.IDFromName(rollupName)))
		cfg.MaxBatchAge = 500 * time.Millisecond
		b.StartTimer()
		stop := e.startWith(e.l1.Client(), cfg, pacedSource{source: e.src, every: 20 * time.Millisecond})
		e.waitFor("every height posted", 2*time.Minute, func() bool { return e.nextHeight() > uint64(e.heights) })
		b.StopTimer()
		stop()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		c = e.measureSettlement(ctx)
		cancel()
		if included := e.includedTxs(); c.rollupTxs != included {
			b.Fatalf("%d rollup txs posted, the executor included %d", c.rollupTxs, included)
		}
		b.StartTimer()
	}
	n := float64(c.rollupTxs)
	b.ReportMetric(float64(c.gas)/float64(c.batches), "L1-gas/batch")
	b.ReportMetric(float64(c.gas)/n, "L1-gas/tx")
	b.ReportMetric(float64(c.gas)/float64(c.payload), "L1-gas/B")
	b.ReportMetric(float64(c.payload)/n, "B/tx")
	b.ReportMetric(float64(c.raw)/n, "raw-B/tx")
	b.ReportMetric(float64(c.l1Input)/n, "L1-input-B/tx")
	b.ReportMetric(float64(c.batches), "batches")
	b.ReportMetric(float64(c.frames), "frames")
	b.ReportMetric(n, "rollup-txs")
	var algos []string
	for a, k := range c.algos {
		b.ReportMetric(float64(k), a.String()+"-batches")
		algos = append(algos, fmt.Sprintf("%s ×%d", a, k))
	}
	sort.Strings(algos)
	b.Logf("%d rollup txs in %d batches (%d frames): %d raw → %d posted bytes (%s), %d L1 gas",
		c.rollupTxs, c.batches, c.frames, c.raw, c.payload, strings.Join(algos, ", "), c.gas)
}

// includedTxs counts the txs in the batcher-side executor's blocks.
func (e *env) includedTxs() int {
	n := 0
	for i := uint64(1); ; i++ {
		blk := e.src.exec.BlockByNumber(i)
		if blk == nil {
			return n
		}
		n += len(blk.Transactions())
	}
}
