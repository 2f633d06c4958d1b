package evm

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// workload is a reproducible mix of slices: transfers, deployments, calls,
// invalid transactions, garbage items and empty heights (every height
// divisible by 5 is empty).
type workload struct {
	accounts []*account
	slices   []*weftv1.RollupSlice
}

func (w *workload) alloc() types.GenesisAlloc { return fund(w.accounts...) }

// testSeed returns the seed to use, printing it so a failure can be
// replayed with WEFT_EVM_SEED.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(20260822)
	if s := os.Getenv("WEFT_EVM_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with WEFT_EVM_SEED=%d)", seed, seed)
	return seed
}

// workloadAccounts returns fresh copies (nonce 0) of the workload's senders.
func workloadAccounts() []*account {
	var out []*account
	for i := range 8 {
		out = append(out, newAccount(fmt.Sprintf("load-%d", i)))
	}
	return out
}

func newWorkload(t testing.TB, seed uint64, heights int) *workload {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := &workload{accounts: workloadAccounts()}
	var contracts []common.Address
	pick := func() *account { return w.accounts[rng.IntN(len(w.accounts))] }
	for h := int64(1); h <= int64(heights); h++ {
		var items []*weftv1.RollupItem
		if h%5 != 0 {
			for range 1 + rng.IntN(3) {
				var txs []*types.Transaction
				for range 1 + rng.IntN(5) {
					a := pick()
					switch r := rng.IntN(20); {
					case r == 0:
						txs = append(txs, a.sign(t, nil, big.NewInt(0), 200_000, storeInitcode))
						contracts = append(contracts, crypto.CreateAddress(a.addr, a.nonce-1))
					case r <= 3 && len(contracts) > 0:
						c := contracts[rng.IntN(len(contracts))]
						v := common.BigToHash(big.NewInt(rng.Int64()))
						txs = append(txs, a.sign(t, &c, big.NewInt(0), 100_000, v[:]))
					case r == 4: // nonce gap: skipped
						to := common.Address{byte(rng.IntN(256))}
						txs = append(txs, a.signWith(t, testSigner, testChainID, a.nonce+3, &to, big.NewInt(1), 21_000, nil))
					default:
						to := common.Address{0xee, byte(rng.IntN(64))}
						txs = append(txs, a.transfer(t, to, big.NewInt(rng.Int64N(1e15))))
					}
				}
				items = append(items, item(t, txs...))
			}
			if rng.IntN(10) == 0 {
				items = append(items, rawItem([]byte{0xc1, byte(rng.IntN(256))}))
			}
		}
		w.slices = append(w.slices, slice(h, items...))
	}
	return w
}
