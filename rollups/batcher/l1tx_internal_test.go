package batcher

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/params"

	"github.com/weftnet/weft/rollups/txmgr"
)

// TestReceiptResyncsPastAGap: a tx the driver sent at a nonce above the
// account's pending nonce (an L1 reorg took the txs before it and the pool
// dropped them) can never be mined, whatever its fees: receipt says
// resync instead of leaving it to fee bumps forever. A tx at the pending
// nonce just waits, and a nonce used by a tx the driver does not know
// (sent before a restart) resyncs too.
func TestReceiptResyncsPastAGap(t *testing.T) {
	ctx := context.Background()
	sim, key, chainID := fundedSim(t)
	cl := sim.Client()
	d := &Driver{l1: cl, from: crypto.PubkeyToAddress(key.PublicKey)}
	// While geth's tx indexer starts, a receipt query cannot tell "not
	// mined" from "not indexed yet", and receipt rightly waits; the checks
	// below are about a node that can tell.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := cl.TransactionReceipt(ctx, common.Hash{1})
		if errors.Is(err, ethereum.NotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the simulated L1 still answers %v", err)
		}
		sim.Commit()
	}
	transfer := func(nonce uint64) *sent {
		t.Helper()
		tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.DynamicFeeTx{
			ChainID: chainID, Nonce: nonce, GasTipCap: big.NewInt(params.GWei), GasFeeCap: big.NewInt(10 * params.GWei), Gas: 21000, To: &common.Address{1},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.SendTransaction(ctx, tx); err != nil {
			t.Fatal(err)
		}
		return &sent{Tx: txmgr.Tx{Nonce: nonce, Hashes: []common.Hash{tx.Hash()}}}
	}

	// Nonce 2 while the account is at 0: queued behind a gap.
	gapped := transfer(2)
	if _, err := d.receipt(ctx, gapped); !errors.Is(err, errResync) {
		t.Fatalf("tx past the pending nonce: err %v, want a resync", err)
	}
	// Nonce 0: pending, not mined yet: wait.
	waiting := transfer(0)
	if r, err := d.receipt(ctx, waiting); r != nil || err != nil {
		t.Fatalf("pending tx: receipt %v, err %v; want neither", r, err)
	}
	sim.Commit()
	if r, err := d.receipt(ctx, waiting); err != nil || r == nil || r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("mined tx: receipt %v, err %v", r, err)
	}
	// Nonce 0 is used, by a version the driver does not know.
	waitIndexed(t, cl, waiting.Hashes[0])
	unknown := &sent{Tx: txmgr.Tx{Nonce: 0, Hashes: []common.Hash{{0xde, 0xad}}}}
	if _, err := d.receipt(ctx, unknown); !errors.Is(err, errResync) {
		t.Fatalf("nonce used by an unknown tx: err %v, want a resync", err)
	}
}

// waitIndexed waits until the L1 serves the receipt of mined tx h.
func waitIndexed(t *testing.T, cl interface {
	TransactionReceipt(context.Context, common.Hash) (*types.Receipt, error)
}, h common.Hash) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := cl.TransactionReceipt(context.Background(), h); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("receipt of %s never served", h)
		}
		time.Sleep(time.Millisecond) // polling a condition, with a deadline
	}
}

// fundedSim is go-ethereum's simulated L1 with a fresh key holding 10 ETH,
// closed at the test's end.
func fundedSim(t *testing.T) (*simulated.Backend, *ecdsa.PrivateKey, *big.Int) {
	t.Helper()
	key, _ := crypto.GenerateKey()
	sim := simulated.NewBackend(types.GenesisAlloc{crypto.PubkeyToAddress(key.PublicKey): {Balance: new(big.Int).Mul(big.NewInt(10), big.NewInt(params.Ether))}})
	t.Cleanup(func() { sim.Close() })
	chainID, err := sim.Client().ChainID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sim, key, chainID
}
