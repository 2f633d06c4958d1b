package mempool_test

import (
	"testing"

	"github.com/weftnet/weft/mempool"
)

// TestBuildOrder: the highest fee per byte first, each sender's txs in
// nonce order (a rich tx behind a poor one of the same sender waits for
// it), ties in arrival order.
func TestBuildOrder(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	if got := order(p); len(got) != 0 {
		t.Fatalf("empty pool offers %d txs", len(got))
	}
	a0 := mkf(1, 0, 100, 100, 0) // 1/byte
	a1 := mkf(1, 1, 900, 100, 0) // 9/byte, behind a0
	b0 := mkf(2, 0, 500, 100, 0) // 5/byte
	c0 := mkf(3, 0, 300, 50, 0)  // 6/byte
	d0 := mkf(4, 0, 50, 50, 0)   // 1/byte, after a0 on the tie
	e0 := mkf(5, 0, 700, 70, 0)  // 10/byte, larger fee per byte than a1
	for _, tx := range []*mempool.Tx{a0, a1, b0, c0, d0, e0} {
		mustInsert(t, p, tx, rich(0))
	}
	sameTxs(t, "block order", order(p), []*mempool.Tx{e0, c0, b0, a0, a1, d0})
	// Build does not consume.
	sameTxs(t, "again", order(p), []*mempool.Tx{e0, c0, b0, a0, a1, d0})
	// A skipped tx holds back its sender's later txs only.
	var got []*mempool.Tx
	p.Build(1<<20, func(tx *mempool.Tx) mempool.Verdict {
		if tx == a0 {
			return mempool.Skip
		}
		got = append(got, tx)
		return mempool.Include
	})
	sameTxs(t, "a0 skipped", got, []*mempool.Tx{e0, c0, b0, d0})
	// Stop ends the build.
	got = nil
	p.Build(1<<20, func(tx *mempool.Tx) mempool.Verdict {
		if len(got) == 2 {
			return mempool.Stop
		}
		got = append(got, tx)
		return mempool.Include
	})
	sameTxs(t, "stopped", got, []*mempool.Tx{e0, c0})
	checkInvariants(t, p)
}

// fill builds a block of at most max bytes (sizes as len(Raw)), as the
// consensus builder does: a tx that does not fit is skipped, and with less
// room than the smallest tx the block is full.
func fill(p *mempool.Pool, max int64, smallest int64) ([]*mempool.Tx, int64) {
	var out []*mempool.Tx
	var used int64
	p.Build(max, func(tx *mempool.Tx) mempool.Verdict {
		n := int64(len(tx.Raw))
		if used+n > max {
			if used+smallest > max {
				return mempool.Stop
			}
			return mempool.Skip
		}
		used += n
		out = append(out, tx)
		return mempool.Include
	})
	return out, used
}

func rollup(b byte) [32]byte { return [32]byte{0xa0 + b} }

// mkr is a tx of size bytes at fee per byte rate carrying data for the
// given rollups, split evenly.
func mkr(sender byte, nonce uint64, rate uint64, size int, rollups ...byte) *mempool.Tx {
	tx := mkf(sender, nonce, rate*uint64(size), size, byte(len(rollups)))
	for _, r := range rollups {
		tx.Rollups = append(tx.Rollups, mempool.RollupBytes{ID: rollup(r), Bytes: int64(size / len(rollups))})
	}
	return tx
}

// perRollup counts the txs of a block by rollup (a bundle counts for each).
func perRollup(txs []*mempool.Tx) map[byte]int {
	out := map[byte]int{}
	for _, tx := range txs {
		for _, r := range tx.Rollups {
			out[r.ID[0]-0xa0]++
		}
		if len(tx.Rollups) == 0 {
			out[0]++
		}
	}
	return out
}

// TestBuildFairness: rollup A holds 90% of the pending bytes; B and C
// still get their weighted shares of a block, leftover shares go to the
// rollups that still have data, and txs without rollup data are not held
// back.
func TestBuildFairness(t *testing.T) {
	const A, B, C = 1, 2, 3
	load := func(p *mempool.Pool, bTxs, cTxs int) {
		// A: 90 txs of 100 bytes from 9 senders, all at a higher fee per
		// byte than B's and C's: priority alone would give A everything.
		for s := byte(0); s < 9; s++ {
			for n := uint64(0); n < 10; n++ {
				mustInsert(t, p, mkr(10+s, n, 5, 100, A), rich(0))
			}
		}
		for n := 0; n < bTxs; n++ {
			mustInsert(t, p, mkr(30, uint64(n), 2, 100, B), rich(0))
		}
		for n := 0; n < cTxs; n++ {
			mustInsert(t, p, mkr(40, uint64(n), 1, 100, C), rich(0))
		}
	}
	for _, tc := range []struct {
		name    string
		weights map[[32]byte]int64
		bTxs    int
		cTxs    int
		max     int64
		want    map[byte]int
	}{
		{"equal weights", nil, 5, 5, 600, map[byte]int{A: 2, B: 2, C: 2}},
		{"B weighs 2", map[[32]byte]int64{rollup(B): 2}, 5, 5, 800, map[byte]int{A: 2, B: 4, C: 2}},
		{"B weighs 2, bigger block", map[[32]byte]int64{rollup(B): 2}, 10, 10, 1600, map[byte]int{A: 4, B: 8, C: 4}},
		// B and C need less than their share: A gets the rest.
		{"leftover to A", nil, 1, 1, 1000, map[byte]int{A: 8, B: 1, C: 1}},
		// Nobody else waits: A may fill the block.
		{"A alone", nil, 0, 0, 1000, map[byte]int{A: 10}},
		// More room than data: everything.
		{"room for all", nil, 5, 5, 100_000, map[byte]int{A: 90, B: 5, C: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mempool.Config{}
			if tc.weights != nil {
				cfg.RollupWeight = func(id [32]byte) int64 { return tc.weights[id] } // 0 means 1
			}
			p := mempool.NewPool(cfg)
			load(p, tc.bTxs, tc.cTxs)
			txs, used := fill(p, tc.max, 100)
			got := perRollup(txs)
			for r, n := range tc.want {
				if got[r] != n {
					t.Fatalf("per rollup %v, want %v", got, tc.want)
				}
			}
			if used > tc.max {
				t.Fatalf("used %d of %d", used, tc.max)
			}
		})
	}
	t.Run("transfers are not held back", func(t *testing.T) {
		p := mempool.NewPool(mempool.Config{})
		load(p, 5, 5)
		for n := uint64(0); n < 3; n++ {
			mustInsert(t, p, mkr(50, n, 9, 100), rich(0)) // no rollup data
		}
		txs, _ := fill(p, 900, 100)
		if got := perRollup(txs); got[0] != 3 || got[A] != 2 || got[B] != 2 || got[C] != 2 {
			t.Fatalf("per rollup %v", got)
		}
	})
}

// TestBuildBundle: a bundle is one tx, offered whole, and counts against
// the share of every rollup it carries data for.
func TestBuildBundle(t *testing.T) {
	const A, B, C = 1, 2, 3
	p := mempool.NewPool(mempool.Config{})
	bundle := mkr(1, 0, 9, 100, A, B) // 50 bytes to each of A and B
	mustInsert(t, p, bundle, rich(0))
	for n := uint64(0); n < 5; n++ {
		mustInsert(t, p, mkr(2, n, 2, 100, A), rich(0))
		mustInsert(t, p, mkr(3, n, 2, 100, B), rich(0))
		mustInsert(t, p, mkr(4, n, 3, 100, C), rich(0))
	}
	// 500 bytes, shares of 166: the bundle and one tx each of A and B
	// (150 charged to each), one of C; the 100 left over go to C, the
	// richest of those waiting.
	txs, used := fill(p, 500, 100)
	if used != 500 || txs[0] != bundle {
		t.Fatalf("used %d, first %v", used, txs[0] == bundle)
	}
	n := 0
	for _, tx := range txs {
		if tx == bundle {
			n++
		}
	}
	if got := perRollup(txs); n != 1 || got[A] != 2 || got[B] != 2 || got[C] != 2 {
		t.Fatalf("bundle offered %d times; per rollup %v (the bundle counts for A and B)", n, got)
	}
	// A bundle over the space left is skipped whole: nothing of it lands.
	p2 := mempool.NewPool(mempool.Config{})
	big := mkr(1, 0, 9, 300, A, B)
	mustInsert(t, p2, big, rich(0))
	mustInsert(t, p2, mkr(2, 0, 1, 100, A), rich(0))
	txs, _ = fill(p2, 250, 100)
	if len(txs) != 1 || txs[0] == big {
		t.Fatalf("bundle of 300 in 250 bytes: %d txs", len(txs))
	}
}

// TestBuildExactBudget: the builder's byte budget holds exactly: every tx
// that fits is taken, none that does not.
func TestBuildExactBudget(t *testing.T) {
	p := mempool.NewPool(mempool.Config{})
	sizes := []int{10, 20, 30, 40, 50, 60, 70}
	for i, n := range sizes {
		mustInsert(t, p, mkf(byte(i+1), 0, uint64(1000-10*i), n, 0), rich(0))
	}
	for _, max := range []int64{0, 9, 10, 29, 30, 100, 279, 280, 1000} {
		txs, used := fill(p, max, 10)
		if used > max {
			t.Fatalf("max %d: used %d", max, used)
		}
		// Greedy in priority order (here: by size): nothing skipped fits.
		left := max - used
		in := map[*mempool.Tx]bool{}
		for _, tx := range txs {
			in[tx] = true
		}
		for _, tx := range p.Pending(100) {
			if !in[tx] && int64(len(tx.Raw)) <= left {
				t.Fatalf("max %d: a %d-byte tx fits in the %d left", max, len(tx.Raw), left)
			}
		}
	}
}
