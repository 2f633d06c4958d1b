package rpc_test

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"

	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/rpc"
	"github.com/weftnet/weft/txcodec"
)

// newRollup is a rollup RPC server over a fresh executor of chain id
// chainID whose genesis gives from 1 ETH; sub records what it hands to
// Weft. The server is not started: bundles reach it in-process.
func newRollup(t *testing.T, name string, chainID int64, from common.Address, sub rpc.TxSubmitter) *rpc.Server {
	t.Helper()
	ex, err := evm.New(evm.Config{Name: name, ChainID: uint64(chainID), GenesisTime: 1_700_000_000,
		Alloc: types.GenesisAlloc{from: {Balance: big.NewInt(params.Ether)}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	srv, err := rpc.NewServer(rpc.Config{Name: name, ListenAddr: "127.0.0.1:0"}, backend{ex}, sub, nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// spendAll is a tx of from at nonce whose max cost (value + gas * max fee)
// is its whole 1 ETH.
func spendAll(t *testing.T, k *ecdsa.PrivateKey, chainID int64, nonce uint64) *types.Transaction {
	t.Helper()
	to := common.Address{1}
	fee := big.NewInt(params.GWei)
	value := new(big.Int).Sub(big.NewInt(params.Ether), new(big.Int).Mul(fee, big.NewInt(21000)))
	tx, err := types.SignNewTx(k, types.LatestSignerForChainID(big.NewInt(chainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(chainID), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: fee, Gas: 21000, To: &to, Value: value})
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func isInsufficient(err error) bool {
	return err != nil && strings.Contains(err.Error(), core.ErrInsufficientFunds.Error())
}

// TestSendRawCountsTxsInFlight: an account with 1 ETH sends 200
// consecutive-nonce txs each spending its whole balance. Every one would be
// ordered in Weft (at the node's cost) while only the first can execute:
// the RPC hands over the first and refuses the rest with go-ethereum's
// insufficient funds error.
func TestSendRawCountsTxsInFlight(t *testing.T) {
	const chainID = 978
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sub := &recorder{}
	srv := newRollup(t, "alpha", chainID, crypto.PubkeyToAddress(k.PublicKey), sub)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := ethclient.DialContext(ctx, "http://"+srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	if err := c.SendTransaction(ctx, spendAll(t, k, chainID, 0)); err != nil {
		t.Fatalf("first tx: %v", err)
	}
	if err := c.SendTransaction(ctx, spendAll(t, k, chainID, 1)); !isInsufficient(err) {
		t.Fatalf("tx of nonce 1: %v, want %q", err, core.ErrInsufficientFunds)
	}
	// Nonce 1 was refused, so the later ones are out of order now.
	for n := uint64(2); n < 200; n++ {
		if err := c.SendTransaction(ctx, spendAll(t, k, chainID, n)); err == nil {
			t.Fatalf("tx of nonce %d accepted", n)
		}
	}
	if got := sub.count(); got != 1 {
		t.Fatalf("%d txs handed to Weft, want 1", got)
	}
	if n, err := c.PendingNonceAt(ctx, crypto.PubkeyToAddress(k.PublicKey)); err != nil || n != 1 {
		t.Fatalf("pending nonce %d (%v), want 1", n, err)
	}
}

// sink is the Weft side of a bundler: it takes every tx.
type sink struct {
	mu  sync.Mutex
	txs [][]byte
}

func (s *sink) Submit(raw []byte, _ bool) ([32]byte, *txcodec.Rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txs = append(s.txs, raw)
	return txcodec.TxHash(raw), nil
}

func (s *sink) PendingNonce(common.Address) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint64(len(s.txs))
}

func (s *sink) ChainID() string { return "weft-test" }

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.txs)
}

// TestBundleCountsTxsInFlight: weft_sendBundle admits rollup txs as
// eth_sendRawTransaction does, counting the sender's txs in flight, both
// those sent before and the bundle's own earlier ones.
func TestBundleCountsTxsInFlight(t *testing.T) {
	const alphaID, betaID = 979, 980
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	from := crypto.PubkeyToAddress(k.PublicKey)
	alpha := newRollup(t, "alpha", alphaID, from, &recorder{})
	beta := newRollup(t, "beta", betaID, from, &recorder{})
	bk, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	weft := &sink{}
	servers := map[string]*rpc.Server{"alpha": alpha, "beta": beta}
	b := rpc.NewBundler(bk, weft, servers)
	enc := func(tx *types.Transaction) hexutil.Bytes {
		raw, err := tx.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	ctx := context.Background()

	// Two txs in one part, each spending the whole balance: refused whole.
	_, err = b.Send(ctx, []rpc.BundlePart{
		{Rollup: "alpha", Txs: []hexutil.Bytes{enc(spendAll(t, k, alphaID, 0)), enc(spendAll(t, k, alphaID, 1))}},
		{Rollup: "beta", Txs: []hexutil.Bytes{enc(spendAll(t, k, betaID, 0))}},
	})
	if !isInsufficient(err) {
		t.Fatalf("bundle spending alpha's balance twice: %v, want %q", err, core.ErrInsufficientFunds)
	}
	// One each: fine (the rollups are separate chains, separate balances).
	if _, err := b.Send(ctx, []rpc.BundlePart{
		{Rollup: "alpha", Txs: []hexutil.Bytes{enc(spendAll(t, k, alphaID, 0))}},
		{Rollup: "beta", Txs: []hexutil.Bytes{enc(spendAll(t, k, betaID, 0))}},
	}); err != nil {
		t.Fatalf("bundle spending each balance once: %v", err)
	}
	// The next nonce, while the first is in flight, cannot be paid for.
	_, err = b.Send(ctx, []rpc.BundlePart{
		{Rollup: "alpha", Txs: []hexutil.Bytes{enc(spendAll(t, k, alphaID, 1))}},
		{Rollup: "beta", Txs: []hexutil.Bytes{enc(spendAll(t, k, betaID, 1))}},
	})
	if !isInsufficient(err) {
		t.Fatalf("bundle after the balance is in flight: %v, want %q", err, core.ErrInsufficientFunds)
	}
	if got := weft.count(); got != 1 {
		t.Fatalf("%d bundles handed to Weft, want 1", got)
	}
}
