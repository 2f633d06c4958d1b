package mempool_test

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/weftnet/weft/mempool"
)

const benchPending = 100_000

// benchTx is tx i of a pool of 1,000 senders with 100 nonces each, fees
// and rollups varied so that the heaps do real work.
func benchTx(i int) *mempool.Tx {
	sender, nonce := i%1000, uint64(i/1000)
	var s [20]byte
	binary.BigEndian.PutUint32(s[:], uint32(sender))
	raw := make([]byte, 250)
	binary.BigEndian.PutUint64(raw, uint64(i))
	return &mempool.Tx{
		Hash: sha256.Sum256(raw), Raw: raw, Sender: s, Nonce: nonce,
		Cost: uint256.NewInt(1), Fee: uint256.NewInt(uint64(200 + (i*7919)%300)),
		Rollups: []mempool.RollupBytes{{ID: rollup(byte(sender % 3)), Bytes: 160}},
	}
}

func benchPool(b *testing.B, n int) *mempool.Pool {
	b.Helper()
	p := mempool.NewPool(mempool.Config{})
	for i := 0; i < n; i++ {
		if _, err := p.Insert(benchTx(i), rich(0), t0); err != nil {
			b.Fatal(err)
		}
	}
	return p
}

// BenchmarkInsert adds one tx to a pool holding 100,000 (each sender's
// next nonce), then takes it out again so the size stays put.
func BenchmarkInsert(b *testing.B) {
	p := benchPool(b, benchPending)
	txs := make([]*mempool.Tx, 1000)
	for i := range txs {
		txs[i] = benchTx(benchPending + i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx := txs[i%len(txs)]
		if _, err := p.Insert(tx, rich(0), t0); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		p.Remove(tx.Hash)
		b.StartTimer()
	}
}

// BenchmarkRemove removes a sender's last tx from a pool holding 100,000,
// then puts it back (untimed).
func BenchmarkRemove(b *testing.B) {
	p := benchPool(b, benchPending)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx := benchTx(benchPending - 1 - i%1000)
		if got := p.Remove(tx.Hash); len(got) != 1 {
			b.Fatalf("removed %d", len(got))
		}
		b.StopTimer()
		if _, err := p.Insert(tx, rich(0), t0); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkCommit commits the ready heads of 100 senders (Update) on a pool
// of 100,000 and re-inserts them at the tails, untimed.
func BenchmarkCommit(b *testing.B) {
	p := benchPool(b, benchPending)
	next := make([]uint64, 1000)
	top := make([]int, 1000)
	for s := range top {
		top[s] = benchPending/1000 - 1
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var hs [][32]byte
		var senders [][20]byte
		for k := 0; k < 100; k++ {
			s := (i*100 + k) % 1000
			tx := benchTx(int(next[s])*1000 + s)
			hs = append(hs, tx.Hash)
			senders = append(senders, tx.Sender)
			next[s]++
		}
		p.Update(t0, hs, senders, func(s [20]byte) mempool.AccountState {
			return rich(next[binary.BigEndian.Uint32(s[:])])
		})
		b.StopTimer()
		for k := 0; k < 100; k++ {
			s := (i*100 + k) % 1000
			top[s]++
			if _, err := p.Insert(benchTx(top[s]*1000+s), rich(next[s]), t0); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
}

// BenchmarkBuild walks a 100,000-tx pool in block order with fair shares
// over three rollups, taking 30,000 txs.
func BenchmarkBuild(b *testing.B) {
	p := benchPool(b, benchPending)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		p.Build(30_000*250, func(*mempool.Tx) mempool.Verdict {
			if n == 30_000 {
				return mempool.Stop
			}
			n++
			return mempool.Include
		})
	}
}

var _ = time.Second
