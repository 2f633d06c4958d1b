package mempool_test

import (
	"math/rand"
	"testing"

	"github.com/weftnet/weft/mempool"
)

// TestBuildPayloadsMatchesBuild: BuildPayloads offers the payloads of the
// txs Build offers, in the same order, given the same answers, on pools
// with parked txs, bundles and fair shares in play.
func TestBuildPayloadsMatchesBuild(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	offered := 0
	for round := 0; round < 50; round++ {
		p := mempool.NewPool(mempool.Config{})
		size := map[[32]byte]int64{}
		for i := 0; i < 300; i++ {
			sender := byte(rng.Intn(12))
			nonce := p.NextNonce(addr(sender), 0) + uint64(rng.Intn(3)/2) // some gaps
			var rs []byte
			for r := 0; r < rng.Intn(3); r++ {
				rs = append(rs, byte(1+rng.Intn(3)))
			}
			tx := mkr(sender, nonce, uint64(1+rng.Intn(40)), 1+rng.Intn(200), rs...)
			tx.Hash[28], tx.Hash[29] = byte(i), byte(i>>8)
			tx.Payload = tx.Hash
			size[tx.Hash] = int64(len(tx.Raw))
			_, _ = p.Insert(tx, rich(0), t0)
		}
		budget := int64(rng.Intn(20000))
		// answer is a fixed function of the tx, so both walks get the same.
		answer := func(h [32]byte, used *int64, size int64) mempool.Verdict {
			switch {
			case h[0]%17 == 0:
				return mempool.Skip
			case *used+size > budget:
				return mempool.Stop
			}
			*used += size
			return mempool.Include
		}
		var want [][32]byte
		var used int64
		p.Build(budget, func(tx *mempool.Tx) mempool.Verdict {
			want = append(want, tx.Hash)
			return answer(tx.Hash, &used, int64(len(tx.Raw)))
		})
		var got [][32]byte
		used = 0
		p.BuildPayloads(budget, func(payload any) mempool.Verdict {
			h := payload.([32]byte)
			got = append(got, h)
			return answer(h, &used, size[h])
		})
		if len(got) != len(want) {
			t.Fatalf("round %d: BuildPayloads offered %d txs, Build %d", round, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("round %d: offer %d differs", round, i)
			}
		}
		offered += len(got)
	}
	if offered < 1000 {
		t.Fatalf("only %d offers in all", offered)
	}
}
