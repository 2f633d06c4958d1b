package derive

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/weftnet/weft/rollups/settlement"
	"github.com/weftnet/weft/rollups/txmgr"
)

// InboxL1 is the verifier's view of a WeftInbox over Ethereum JSON-RPC,
// through rollups/settlement. Key, when set, is the rollup's challenger.
// Blobs, when set, fetches blob frames (settlement.WithBlobSource, e.g. a
// settlement.BeaconBlobSource); without it a batch with a blob frame is an
// error (not a fault: the data exists, the verifier cannot see it).
type InboxL1 struct {
	Inbox  *settlement.Inbox
	Client settlement.DeployBackend
	Key    *ecdsa.PrivateKey
	Blobs  settlement.BlobSource
}

var _ L1 = (*InboxL1)(nil)

func (x *InboxL1) GenesisRoot(ctx context.Context) (common.Hash, error) {
	return x.Inbox.GenesisRoot(ctx)
}

func (x *InboxL1) Batches(ctx context.Context, from uint64) ([]PostedBatch, error) {
	in := x.Inbox
	if x.Blobs != nil {
		in = in.With(settlement.WithBlobSource(x.Blobs))
	}
	bs, err := in.Batches(ctx, from)
	if err != nil {
		return nil, err
	}
	out := make([]PostedBatch, len(bs))
	for i, b := range bs {
		pb := PostedBatch{Index: b.Index, FromHeight: b.FromHeight, ToHeight: b.ToHeight, Commitment: b.Commitment,
			PrevRoot: b.PrevRoot, StateRoot: b.StateRoot, L1Block: b.L1Block}
		for _, f := range b.Frames {
			if f.Data == nil {
				return nil, fmt.Errorf("batch %d frame %d (blob %s): no data: the verifier needs a blob source for blob frames", b.Index, f.Index, f.Hash)
			}
			pb.Frames = append(pb.Frames, Frame{Hash: f.Hash, Blob: f.Blob, Data: f.Data})
		}
		out[i] = pb
	}
	return out, nil
}

func (x *InboxL1) Deposits(ctx context.Context) (map[uint64]L1Deposit, error) {
	head, err := x.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, err
	}
	ds, err := x.Inbox.Deposits(ctx, 0, head.Number.Uint64())
	if err != nil {
		return nil, err
	}
	out := make(map[uint64]L1Deposit, len(ds))
	for _, d := range ds {
		out[d.Nonce] = L1Deposit{Nonce: d.Nonce, From: d.From, To: d.To, Value: d.Value, L1Block: d.L1Block}
	}
	return out, nil
}

// ErrNoChallengerKey is returned by Challenge without a key.
var ErrNoChallengerKey = errors.New("no challenger key configured")

func (x *InboxL1) Challenge(ctx context.Context, index uint64) (common.Hash, error) {
	if x.Key == nil {
		return common.Hash{}, ErrNoChallengerKey
	}
	sender := txmgr.Sender{L1: x.Client, Key: x.Key, Policy: txmgr.DefaultPolicy, Poll: settlement.ReceiptPollInterval}
	out, err := sender.Send(ctx, txmgr.Call{To: x.Inbox.Address(), Data: settlement.PackDeleteBatches(index)})
	if err != nil {
		return common.Hash{}, settlement.DecodeRevert(err)
	}
	if out.Receipt.Status != types.ReceiptStatusSuccessful {
		return out.Tx.Hash(), fmt.Errorf("deleteBatches(%d) reverted in L1 block %d", index, out.Receipt.BlockNumber)
	}
	return out.Tx.Hash(), nil
}
