package evm

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// The transfer benchmarks execute the same benchTxs value transfers (from
// benchSenders accounts to fresh recipients) through Execute and through a
// bare core.ApplyTransaction loop, so their throughputs compare directly.
// Both start from transactions without cached senders, as a node receives
// them; Execute also decodes them from the item bytes.
const (
	benchTxs      = 2000
	benchSenders  = 100
	benchPerBlock = 500 // 500 × 21000 gas fits the 30M block gas limit
	benchPerItem  = 100
)

type transferBench struct {
	alloc types.GenesisAlloc
	items [][]byte // encoded items in order, benchPerBlock/benchPerItem per Weft height
}

var benchData *transferBench

func loadTransferBench(b *testing.B) *transferBench {
	if benchData != nil {
		return benchData
	}
	var senders []*account
	for i := range benchSenders {
		senders = append(senders, newAccount(fmt.Sprintf("bench-%d", i)))
	}
	tb := &transferBench{alloc: fund(senders...)}
	var txs []*types.Transaction
	for i := range benchTxs {
		to := common.BigToAddress(uint256.NewInt(uint64(0xbe0000 + i)).ToBig())
		txs = append(txs, senders[i%benchSenders].transfer(b, to, uint256.NewInt(1).ToBig()))
	}
	for i := 0; i < len(txs); i += benchPerItem {
		data, err := EncodeTxs(txs[i : i+benchPerItem])
		if err != nil {
			b.Fatal(err)
		}
		tb.items = append(tb.items, data)
	}
	benchData = tb
	return tb
}

// slices builds fresh slices (so no transaction object is reused).
func (tb *transferBench) slices() []*weftv1.RollupSlice {
	perBlock := benchPerBlock / benchPerItem
	var out []*weftv1.RollupSlice
	for i := 0; i < len(tb.items); i += perBlock {
		var items []*weftv1.RollupItem
		for _, d := range tb.items[i : i+perBlock] {
			items = append(items, rawItem(d))
		}
		out = append(out, slice(int64(len(out)+1), items...))
	}
	return out
}

// decodedBlocks decodes the items into fresh transactions, per block.
func (tb *transferBench) decodedBlocks(b *testing.B) [][]*types.Transaction {
	var out [][]*types.Transaction
	for _, s := range tb.slices() {
		var txs []*types.Transaction
		for _, it := range s.Items {
			dec, err := DecodeTxs(it.Data)
			if err != nil {
				b.Fatal(err)
			}
			txs = append(txs, dec...)
		}
		out = append(out, txs)
	}
	return out
}

func reportTxRate(b *testing.B, elapsed time.Duration) {
	b.ReportMetric(float64(benchTxs*b.N)/elapsed.Seconds(), "txs/s")
}

func runExecute(b *testing.B, tb *transferBench, dir func() string) time.Duration {
	b.StopTimer()
	e, err := New(testConfig(dir(), tb.alloc), nil)
	if err != nil {
		b.Fatal(err)
	}
	slices := tb.slices()
	b.StartTimer()
	start := time.Now()
	for _, s := range slices {
		if err := e.Execute(s); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if n := e.Head().Number.Uint64(); n != uint64(len(slices)) {
		b.Fatalf("head %d", n)
	}
	var included int
	for n := uint64(1); n <= e.Head().Number.Uint64(); n++ {
		included += len(e.BlockByNumber(n).Transactions())
	}
	if included != benchTxs {
		b.Fatalf("included %d txs, want %d", included, benchTxs)
	}
	e.Close()
	return elapsed
}

// BenchmarkExecuteTransfers: 2,000 transfers through Execute, in memory.
func BenchmarkExecuteTransfers(b *testing.B) {
	tb := loadTransferBench(b)
	var total time.Duration
	for range b.N {
		total += runExecute(b, tb, func() string { return "" })
	}
	reportTxRate(b, total)
}

// BenchmarkExecuteTransfersDisk: the same on pebble in a temp dir.
func BenchmarkExecuteTransfersDisk(b *testing.B) {
	tb := loadTransferBench(b)
	var total time.Duration
	for range b.N {
		total += runExecute(b, tb, b.TempDir)
	}
	reportTxRate(b, total)
}

// runRaw applies the transfers with a bare core.ApplyTransaction loop on an
// in-memory StateDB: the same chain config and headers, no roots, no
// commit, no storage.
func runRaw(b *testing.B, tb *transferBench) time.Duration {
	b.StopTimer()
	cc := NewChainConfig(testChainID)
	statedb, err := state.New(types.EmptyRootHash, state.NewDatabaseForTesting())
	if err != nil {
		b.Fatal(err)
	}
	for addr, acc := range tb.alloc {
		statedb.SetBalance(addr, uint256.MustFromBig(acc.Balance), tracing.BalanceChangeUnspecified)
	}
	blocks := tb.decodedBlocks(b)
	e := &Executor{cfg: testConfig("", nil), chainConfig: cc}
	parent := &types.Header{Number: common.Big0, GasLimit: DefaultGasLimit, BaseFee: uint256.NewInt(params.InitialBaseFee).ToBig(),
		Difficulty: common.Big0, Time: testGenesisTime, ExcessBlobGas: new(uint64), BlobGasUsed: new(uint64)}
	ctx := context.Background()
	b.StartTimer()
	start := time.Now()
	for i, txs := range blocks {
		header := e.newHeader(parent, slice(int64(i+1)))
		blockCtx := vm.BlockContext{
			CanTransfer: core.CanTransfer, Transfer: core.Transfer, GetHash: func(uint64) common.Hash { return common.Hash{} },
			Coinbase: header.Coinbase, BlockNumber: header.Number, Time: header.Time, Difficulty: header.Difficulty,
			BaseFee: header.BaseFee, GasLimit: header.GasLimit, Random: &header.MixDigest, CostPerStateByte: params.CostPerStateByte,
		}
		evm := vm.NewEVM(blockCtx, statedb, cc, vm.Config{})
		gp := core.NewGasPool(header.GasLimit)
		for j, tx := range txs {
			statedb.SetTxContext(tx.Hash(), j, uint32(j+1))
			if _, _, err := core.ApplyTransaction(ctx, evm, gp, statedb, header, tx); err != nil {
				b.Fatal(err)
			}
		}
		header.GasUsed = gp.Used()
		evm.Release()
		parent = header
	}
	elapsed := time.Since(start)
	b.StopTimer()
	return elapsed
}

// BenchmarkRawApplyTransaction: the baseline for BenchmarkExecuteTransfers.
func BenchmarkRawApplyTransaction(b *testing.B) {
	tb := loadTransferBench(b)
	var total time.Duration
	for range b.N {
		total += runRaw(b, tb)
	}
	reportTxRate(b, total)
}

// BenchmarkExecuteVsRaw alternates both runs in one benchmark, so load from
// other processes hits both alike, and reports Execute's throughput as a
// fraction of the raw loop's (the target is at least 0.9).
func BenchmarkExecuteVsRaw(b *testing.B) {
	tb := loadTransferBench(b)
	var exec, raw time.Duration
	for range b.N {
		exec += runExecute(b, tb, func() string { return "" })
		raw += runRaw(b, tb)
	}
	b.ReportMetric(float64(benchTxs*b.N)/exec.Seconds(), "exec-txs/s")
	b.ReportMetric(float64(benchTxs*b.N)/raw.Seconds(), "raw-txs/s")
	b.ReportMetric(raw.Seconds()/exec.Seconds(), "ratio")
}
