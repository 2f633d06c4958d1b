package batcher

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/params"

	"github.com/weftnet/weft/rollups/txmgr"
)

// indexingClient answers every receipt query as geth does while its tx
// indexer catches up.
type indexingClient struct{ simulated.Client }

func (indexingClient) TransactionReceipt(context.Context, common.Hash) (*types.Receipt, error) {
	return nil, errors.New("transaction indexing is in progress")
}

// TestReceiptWaitsWhileTheL1Indexes: while geth's index lags, a receipt
// query cannot tell "not mined" from "mined, not indexed yet". The
// driver's own tx, mined meanwhile, must not read as "nonce used by an
// unknown tx" (a resync after every landed tx): an unknown-tx verdict
// needs receipt queries that positively answered NotFound.
func TestReceiptWaitsWhileTheL1Indexes(t *testing.T) {
	ctx := context.Background()
	sim, key, chainID := fundedSim(t)
	from := crypto.PubkeyToAddress(key.PublicKey)
	cl := sim.Client()
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.DynamicFeeTx{
		ChainID: chainID, Nonce: 0, GasTipCap: big.NewInt(params.GWei), GasFeeCap: big.NewInt(10 * params.GWei), Gas: 21000, To: &common.Address{1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	sim.Commit()
	d := &Driver{l1: indexingClient{cl}, from: from}
	ours := &sent{Tx: txmgr.Tx{Nonce: 0, Hashes: []common.Hash{tx.Hash()}}}
	if r, err := d.receipt(ctx, ours); err != nil {
		t.Fatalf("our own mined tx, receipts still indexing: receipt %v, err %v; want a wait (nil, nil)", r, err)
	}
}
