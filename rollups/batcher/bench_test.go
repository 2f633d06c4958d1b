package batcher

import (
	"bytes"
	"compress/zlib"
	"crypto/ecdsa"
	"math/big"
	"math/rand"
	"sync"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups/exec/evm"
)

// BenchMix generates realistic rollup items: each an evm.EncodeTxs list of
// 10-40 EIP-1559 txs signed by Users (sequential nonces), 60% ETH
// transfers and 40% ERC-20 transfer(address,uint256) calls on Tokens,
// submitted by one of Submitters. Exported for this package's external
// tests (BenchmarkSettlement).
type BenchMix struct {
	Rng        *rand.Rand
	ChainID    int64
	Users      []*ecdsa.PrivateKey
	Nonces     []uint64
	Tokens     []common.Address
	Submitters [][]byte
}

// NewBenchMix returns a mix over users with 5 tokens and 3 submitters.
func NewBenchMix(rng *rand.Rand, chainID int64, users []*ecdsa.PrivateKey) *BenchMix {
	m := &BenchMix{Rng: rng, ChainID: chainID, Users: users, Nonces: make([]uint64, len(users))}
	m.Tokens = []common.Address{m.Addr(), m.Addr(), m.Addr(), m.Addr(), m.Addr()}
	m.Submitters = [][]byte{m.Addr().Bytes(), m.Addr().Bytes(), m.Addr().Bytes()}
	return m
}

// Addr is a random address.
func (m *BenchMix) Addr() common.Address {
	var a common.Address
	m.Rng.Read(a[:])
	return a
}

// Items returns 1-3 items and the number of txs in them.
func (m *BenchMix) Items() ([]*weftv1.RollupItem, int) {
	rng := m.Rng
	signer := types.LatestSignerForChainID(big.NewInt(m.ChainID))
	var items []*weftv1.RollupItem
	ntx := 0
	for it := 1 + rng.Intn(3); it > 0; it-- {
		var txs []*types.Transaction
		for n := 10 + rng.Intn(31); n > 0; n-- {
			u := rng.Intn(len(m.Users))
			tx := &types.DynamicFeeTx{
				ChainID: big.NewInt(m.ChainID), Nonce: m.Nonces[u],
				GasTipCap: big.NewInt(1_000_000 + rng.Int63n(1_000_000)), GasFeeCap: big.NewInt(2_000_000_000 + rng.Int63n(1_000_000_000)),
			}
			m.Nonces[u]++
			if rng.Intn(10) < 6 {
				to := m.Addr()
				tx.To, tx.Gas = &to, 21_000
				tx.Value = new(big.Int).Mul(big.NewInt(rng.Int63n(1_000_000)), big.NewInt(1e12))
			} else {
				to := m.Tokens[rng.Intn(len(m.Tokens))]
				tx.To, tx.Gas, tx.Value = &to, 65_000, new(big.Int)
				data := []byte{0xa9, 0x05, 0x9c, 0xbb} // transfer(address,uint256)
				data = append(data, common.LeftPadBytes(m.Addr().Bytes(), 32)...)
				data = append(data, common.LeftPadBytes(big.NewInt(rng.Int63n(1e15)).Bytes(), 32)...)
				tx.Data = data
			}
			signed, err := types.SignNewTx(m.Users[u], signer, tx)
			if err != nil {
				panic(err)
			}
			txs = append(txs, signed)
		}
		data, err := evm.EncodeTxs(txs)
		if err != nil {
			panic(err)
		}
		items = append(items, &weftv1.RollupItem{TxHash: crypto.Keccak256(data), Sender: m.Submitters[rng.Intn(len(m.Submitters))], Data: data})
		ntx += len(txs)
	}
	return items, ntx
}

// benchBatch is a realistic batch: 100 Weft heights of which 80 carry
// BenchMix items of 300 users.
var benchBatch = sync.OnceValues(func() (*weftv1.BatchData, int) {
	rng := rand.New(rand.NewSource(42))
	users := make([]*ecdsa.PrivateKey, 300)
	for i := range users {
		users[i], _ = crypto.GenerateKey()
	}
	mix := NewBenchMix(rng, 901, users)
	b := &weftv1.BatchData{
		Version: BatchVersion, RollupId: testRollup.Bytes(), FromHeight: 1000, ToHeight: 1099,
		PrevStateRoot: make([]byte, 32), StateRoot: make([]byte, 32),
	}
	ntx := 0
	for h := int64(1000); h < 1100; h++ {
		if h%5 == 0 {
			continue
		}
		blk := &weftv1.BatchBlock{Height: h, TimeUnixNano: 1_700_000_000_000_000_000 + h*1_000_000_000 + rng.Int63n(1e8), BlockHash: crypto.Keccak256([]byte{byte(h), byte(h >> 8)})}
		items, n := mix.Items()
		blk.Items = items
		ntx += n
		b.Blocks = append(b.Blocks, blk)
	}
	return b, ntx
})

// BenchmarkCompression prints bytes per rollup tx for each compression
// (metric "B/tx") next to the uncompressed size ("raw-B/tx"), and the
// compressed/raw ratio; ns/op is the time to compress one batch.
func BenchmarkCompression(b *testing.B) {
	batch, ntx := benchBatch()
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(batch)
	if err != nil {
		b.Fatal(err)
	}
	brotliLevel := func(q int) func([]byte) []byte {
		return func(in []byte) []byte {
			var buf bytes.Buffer
			w := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: q, LGWin: brotliWindow(len(in))})
			if _, err := w.Write(in); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			return buf.Bytes()
		}
	}
	payload := func(a Algo) func([]byte) []byte {
		return func(in []byte) []byte {
			p, err := compress(in, a)
			if err != nil {
				b.Fatal(err)
			}
			return p
		}
	}
	for _, c := range []struct {
		name string
		fn   func([]byte) []byte
	}{
		{"none", payload(AlgoNone)},
		{"zstd-better", payload(AlgoZstd)},
		{"brotli-chosen", payload(AlgoBrotli)},
		{"zlib-default", func(in []byte) []byte {
			var buf bytes.Buffer
			w := zlib.NewWriter(&buf)
			if _, err := w.Write(in); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			return buf.Bytes()
		}},
		{"brotli-10", brotliLevel(10)},
		{"brotli-11", brotliLevel(11)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			var out []byte
			for b.Loop() {
				out = c.fn(raw)
			}
			b.ReportMetric(float64(len(raw))/float64(ntx), "raw-B/tx")
			b.ReportMetric(float64(len(out))/float64(ntx), "B/tx")
			b.ReportMetric(float64(len(out))/float64(len(raw)), "ratio")
		})
	}
	// The decoder must take what the encoder makes, for every algo.
	for _, a := range []Algo{AlgoNone, AlgoZstd, AlgoBrotli} {
		p, err := EncodeBatch(batch, a)
		if err != nil {
			b.Fatal(err)
		}
		if got, err := DecodeBatch(p, 0); err != nil || !proto.Equal(got, batch) {
			b.Fatalf("%s round trip: %v", a, err)
		}
	}
}
