package evm

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

const (
	testChainID     = 901
	testRollup      = "test-rollup"
	testGenesisTime = 1_700_000_000
)

var (
	ether        = big.NewInt(params.Ether)
	gwei         = big.NewInt(params.GWei)
	feeRecipient = common.HexToAddress("0xfee0000000000000000000000000000000000fee")
	testSigner   = types.LatestSignerForChainID(big.NewInt(testChainID))
)

func eth(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), ether) }

// account is a deterministic test key with a local nonce counter.
type account struct {
	key   *ecdsa.PrivateKey
	addr  common.Address
	nonce uint64
}

func newAccount(name string) *account {
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("weft-evm-test/" + name)))
	if err != nil {
		panic(err)
	}
	return &account{key: key, addr: crypto.PubkeyToAddress(key.PublicKey)}
}

// sign signs a dynamic-fee tx (fee cap 10 gwei, tip 1 gwei) from a, taking
// the next nonce.
func (a *account) sign(t testing.TB, to *common.Address, value *big.Int, gas uint64, data []byte) *types.Transaction {
	t.Helper()
	tx := a.signWith(t, testSigner, testChainID, a.nonce, to, value, gas, data)
	a.nonce++
	return tx
}

func (a *account) signWith(t testing.TB, signer types.Signer, chainID int64, nonce uint64, to *common.Address, value *big.Int, gas uint64, data []byte) *types.Transaction {
	t.Helper()
	tx, err := types.SignNewTx(a.key, signer, &types.DynamicFeeTx{
		ChainID:   big.NewInt(chainID),
		Nonce:     nonce,
		GasTipCap: new(big.Int).Set(gwei),
		GasFeeCap: new(big.Int).Mul(big.NewInt(10), gwei),
		Gas:       gas,
		To:        to,
		Value:     value,
		Data:      data,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func (a *account) transfer(t testing.TB, to common.Address, value *big.Int) *types.Transaction {
	t.Helper()
	return a.sign(t, &to, value, params.TxGas, nil)
}

// Hand-assembled contract: the runtime stores calldata[0:32] in slot 0 and
// emits LOG1(topic 0x2a) with the value as data.
//
//	PUSH1 0 CALLDATALOAD DUP1 PUSH1 0 SSTORE PUSH1 0 MSTORE
//	PUSH1 0x2a PUSH1 0x20 PUSH1 0 LOG1 STOP
var (
	storeRuntime = common.FromHex("600035" + "80" + "600055" + "600052" + "602a" + "6020" + "6000" + "a1" + "00")
	// initcode: CODECOPY(0, 12, len) RETURN(0, len), then the runtime.
	storeInitcode = append(common.FromHex(fmt.Sprintf("60%02x600c600039"+"60%02x6000f3", len(storeRuntime), len(storeRuntime))), storeRuntime...)
	storeTopic    = common.BigToHash(big.NewInt(0x2a))
)

// weftHash is the fake Weft block hash of height h.
func weftHash(h int64) []byte {
	sum := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("weft-block-"), uint64(h)))
	return sum[:]
}

// weftTime is the Weft block time of height h: two seconds apart, plus some
// nanoseconds the executor must drop.
func weftTime(h int64) int64 {
	return (testGenesisTime+2*h)*1e9 + 123_456_789
}

// item packs txs into one RollupData item.
func item(t testing.TB, txs ...*types.Transaction) *weftv1.RollupItem {
	t.Helper()
	data, err := EncodeTxs(txs)
	if err != nil {
		t.Fatal(err)
	}
	return rawItem(data)
}

func rawItem(data []byte) *weftv1.RollupItem {
	h := sha256.Sum256(data)
	return &weftv1.RollupItem{TxHash: h[:], Sender: make([]byte, 20), Data: data}
}

// slice is the test rollup's slice of Weft height h.
func slice(h int64, items ...*weftv1.RollupItem) *weftv1.RollupSlice {
	id := rollups.IDFromName(testRollup)
	return &weftv1.RollupSlice{
		Height:       h,
		TimeUnixNano: weftTime(h),
		BlockHash:    weftHash(h),
		RollupId:     id[:],
		Items:        items,
	}
}

func testConfig(dir string, alloc types.GenesisAlloc) Config {
	return Config{
		Name:         testRollup,
		Dir:          dir,
		ChainID:      testChainID,
		Alloc:        alloc,
		FeeRecipient: feeRecipient,
		GenesisTime:  testGenesisTime,
	}
}

func fund(accts ...*account) types.GenesisAlloc {
	alloc := types.GenesisAlloc{}
	for _, a := range accts {
		alloc[a.addr] = types.Account{Balance: eth(100)}
	}
	return alloc
}

func newExecutor(t testing.TB, cfg Config) *Executor {
	t.Helper()
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func mustExecute(t testing.TB, e *Executor, slices ...*weftv1.RollupSlice) {
	t.Helper()
	for _, s := range slices {
		if err := e.Execute(s); err != nil {
			t.Fatalf("execute height %d: %v", s.Height, err)
		}
	}
}

// chainSummary lists (number, hash, root) of every block up to the head.
func chainSummary(e *Executor) []string {
	var out []string
	head := e.Head().Number.Uint64()
	for n := uint64(0); n <= head; n++ {
		h := e.HeaderByNumber(n)
		wh, _ := WeftHeight(h)
		out = append(out, fmt.Sprintf("#%d weft=%d hash=%s root=%s", n, wh, h.Hash(), h.Root))
	}
	return out
}

func sameChain(t *testing.T, got, want *Executor) {
	t.Helper()
	g, w := chainSummary(got), chainSummary(want)
	if len(g) != len(w) {
		t.Fatalf("chains differ in length: %d vs %d\n got: %v\nwant: %v", len(g), len(w), g, w)
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("block %d differs:\n got: %s\nwant: %s", i, g[i], w[i])
		}
	}
	if got.LastWeftHeight() != want.LastWeftHeight() {
		t.Fatalf("LastWeftHeight %d, want %d", got.LastWeftHeight(), want.LastWeftHeight())
	}
}
