package consensus

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/mempool"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// The block builder (proposal) and the state transition (applyTx) are
// driven here step by step over state held in a map: they read through an
// Overlay on any reader, so these tests use neither badger nor goroutines.

// memState is committed state in memory.
type memState map[string][]byte

func (m memState) Get(k []byte) ([]byte, bool, error) {
	v, ok := m[string(k)]
	return v, ok, nil
}

const memChainID = "weft-mem"

// memChain is a chain's committed state in memory: accounts, one
// registered rollup ("alpha") and the default params.
type memChain struct {
	state  memState
	params *Params
	lim    Limits
	keys   []*ecdsa.PrivateKey
	addrs  []common.Address
}

// newMemChain funds one account per balance.
func newMemChain(t *testing.T, rng *rand.Rand, balances ...uint64) *memChain {
	t.Helper()
	p, err := paramsFrom(genesis.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	c := &memChain{state: memState{}, params: p,
		lim: Limits{ChainID: memChainID, MaxTxBytes: p.MaxTxBytes, MaxActions: p.MaxActions}}
	ov := NewOverlay(c.state)
	st := view{ov}
	for _, bal := range balances {
		var seed [32]byte
		rng.Read(seed[:])
		k, err := crypto.ToECDSA(seed[:])
		if err != nil {
			t.Fatal(err)
		}
		a := crypto.PubkeyToAddress(k.PublicKey)
		c.keys, c.addrs = append(c.keys, k), append(c.addrs, a)
		st.SetAccount(a, &weftv1.Account{Balance: new(uint256.Int).Mul(uint256.NewInt(bal), uint256.NewInt(1e9)).Bytes()})
	}
	id := rollups.IDFromName("alpha")
	st.registerRollup(&weftv1.Rollup{Id: id[:], Name: "alpha", Vm: "evm", EvmChainId: 901})
	for k, v := range ov.writes {
		c.state[k] = v
	}
	return c
}

// tx signs and decodes a tx of account i.
func (c *memChain) tx(t *testing.T, i int, nonce, feeLimit uint64, acts ...*weftv1.Action) *Tx {
	t.Helper()
	raw, err := txcodec.Sign(c.keys[i], &weftv1.TxBody{ChainId: memChainID, Nonce: nonce,
		FeeLimit: new(uint256.Int).Mul(uint256.NewInt(feeLimit), uint256.NewInt(1e9)).Bytes(), Actions: acts})
	if err != nil {
		t.Fatal(err)
	}
	tx, rej := DecodeTx(raw, c.lim)
	if rej != nil {
		t.Fatalf("decode: %v", rej)
	}
	return tx
}

func memData(rollup string, n int) *weftv1.Action {
	id := rollups.IDFromName(rollup)
	return &weftv1.Action{Kind: &weftv1.Action_RollupData{RollupData: &weftv1.RollupData{RollupId: id[:], Data: bytes.Repeat([]byte{7}, n)}}}
}

func memTransfer(to common.Address, gwei uint64) *weftv1.Action {
	amt := new(uint256.Int).Mul(uint256.NewInt(gwei), uint256.NewInt(1e9))
	return &weftv1.Action{Kind: &weftv1.Action_Transfer{Transfer: &weftv1.Transfer{To: to.Bytes(), Amount: amt.Bytes()}}}
}

// TestBuilderStepByStep offers the builder candidates one at a time and
// checks each verdict and the block it returns: the commitment item over
// the included txs first, then those txs in the order they were taken.
func TestBuilderStepByStep(t *testing.T) {
	c := newMemChain(t, rand.New(rand.NewSource(1)), 1_000_000, 5)
	const height = 7
	b := newProposal(NewOverlay(c.state), c.params, height, 1<<20, 8, 8*200)
	steps := []struct {
		what string
		tx   *Tx
		want mempool.Verdict
	}{
		{"data for alpha", c.tx(t, 0, 0, 1000, memData("alpha", 100)), mempool.Include},
		{"nonce gap", c.tx(t, 0, 2, 1000, memData("alpha", 10)), mempool.Skip},
		{"transfer beyond the balance", c.tx(t, 1, 0, 1000, memTransfer(c.addrs[0], 6)), mempool.Skip},
		{"data for an unregistered rollup", c.tx(t, 0, 1, 1000, memData("ghost", 10)), mempool.Skip},
		{"fee limit below the fee", c.tx(t, 0, 1, 0, memData("alpha", 10)), mempool.Skip},
		{"next nonce after the skips", c.tx(t, 0, 1, 1000, memTransfer(c.addrs[1], 3), memData("alpha", 20)), mempool.Include},
		{"the funded transfer lands first", c.tx(t, 1, 0, 1000, memTransfer(c.addrs[0], 6)), mempool.Include},
	}
	var included []*Tx
	for _, s := range steps {
		if got := b.take(s.tx); got != s.want {
			t.Fatalf("%s: verdict %v, want %v", s.what, got, s.want)
		}
		if s.want == mempool.Include {
			included = append(included, s.tx)
		}
	}
	block := b.finish()
	if len(block) != len(included)+1 {
		t.Fatalf("block has %d items, want the commitment and %d txs", len(block), len(included))
	}
	if want := commitmentFor(included, height); !bytes.Equal(block[0], want) {
		t.Fatal("first item is not the commitment over the included txs")
	}
	for i, tx := range included {
		if !bytes.Equal(block[i+1], tx.Raw) {
			t.Fatalf("item %d is not the %d-th included tx", i+1, i)
		}
	}
}

// TestBuilderStopsAtMaxBytes: a tx that does not fit the room left is
// skipped (a smaller one still may), the block (commitment item included)
// never exceeds maxBytes, and with less room than any tx needs the
// builder says stop.
func TestBuilderStopsAtMaxBytes(t *testing.T) {
	c := newMemChain(t, rand.New(rand.NewSource(2)), 1_000_000)
	const maxBytes = 4 << 10
	b := newProposal(NewOverlay(c.state), c.params, 3, maxBytes, 100, 100*700)
	included, skipped := 0, 0
	for n := 0; n < 20; n++ {
		switch v := b.take(c.tx(t, 0, uint64(included), 10_000, memData("alpha", 600))); v {
		case mempool.Include:
			if skipped > 0 {
				t.Fatalf("tx %d included after a 600-byte tx did not fit", n)
			}
			included++
		case mempool.Skip:
			skipped++
		default:
			t.Fatalf("tx %d: %v with room for a small tx left", n, v)
		}
	}
	if included < 4 || skipped == 0 {
		t.Fatalf("%d of 20 txs of 600 bytes in a %d-byte block", included, maxBytes)
	}
	if v := b.take(c.tx(t, 0, uint64(included), 10_000, memData("alpha", 1))); v != mempool.Include {
		t.Fatalf("a small tx that fits: %v", v)
	}
	block := b.finish()
	var size int64
	for _, raw := range block {
		size += protoTxSize(len(raw))
	}
	if size > maxBytes || len(block) != included+2 {
		t.Fatalf("block of %d items is %d bytes, limit %d", len(block), size, maxBytes)
	}

	tight := newProposal(NewOverlay(c.state), c.params, 3, commitmentReserve(0)+protoTxSize(minTxBytes)-1, 1, 100)
	if v := tight.take(c.tx(t, 0, 0, 10_000, memData("alpha", 1))); v != mempool.Stop {
		t.Fatalf("no room for any tx: %v, want stop", v)
	}
}

// TestBuilderAgreesWithApplyTx: random txs — right and wrong nonces,
// transfers within and beyond balances, data for registered and unknown
// rollups, registrations (which take the overlay path between ledger
// runs), short fee limits — offered to the builder and applied one by one
// with applyTx on a second overlay over the same state: the same txs are
// accepted and the final state is the same, byte for byte.
func TestBuilderAgreesWithApplyTx(t *testing.T) {
	for seed := int64(0); seed < 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		c := newMemChain(t, rng, 1_000_000, 1_000_000, 2_000, 50)
		b := newProposal(NewOverlay(c.state), c.params, 9, 64<<20, 400, 400*300)
		slow := NewOverlay(c.state)
		nonces := make([]uint64, len(c.keys))
		for n := 0; n < 400; n++ {
			i := rng.Intn(len(c.keys))
			nonce := nonces[i]
			if rng.Intn(10) == 0 {
				nonce += uint64(rng.Intn(3)) + 1
			}
			var acts []*weftv1.Action
			for k := rng.Intn(3) + 1; k > 0; k-- {
				switch rng.Intn(6) {
				case 0, 1:
					acts = append(acts, memData("alpha", rng.Intn(300)+1))
				case 2:
					acts = append(acts, memData("ghost", 5))
				case 3, 4:
					acts = append(acts, memTransfer(c.addrs[rng.Intn(len(c.addrs))], uint64(rng.Intn(3_000))))
				case 5:
					name := fmt.Sprintf("r%d", rng.Intn(40))
					acts = append(acts, &weftv1.Action{Kind: &weftv1.Action_RegisterRollup{RegisterRollup: &weftv1.RegisterRollup{Name: name, Vm: "evm", EvmChainId: 10_000 + uint64(rng.Intn(40))}}})
				}
			}
			feeLimit := uint64(100_000)
			if rng.Intn(15) == 0 {
				feeLimit = 1
			}
			tx := c.tx(t, i, nonce, feeLimit, acts...)
			verdict := b.take(tx)
			_, rej := applyTx(slow, c.params, tx, 9)
			if (verdict == mempool.Include) != (rej == nil) {
				t.Fatalf("seed %d tx %d: builder %v, applyTx rejection %v", seed, n, verdict, rej)
			}
			if rej == nil {
				nonces[i]++
			}
		}
		b.led.flush()
		if !bytes.Equal(b.ov.Hash(), slow.Hash()) {
			t.Fatalf("seed %d: the builder's state differs from applyTx's", seed)
		}
	}
}
