package batcher

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/rollups/txmgr"
)

// The driver's L1 transactions: signing, sending, waiting for receipts,
// fee bumps, and settling or cancelling its own pending txs after a
// restart, around the rules of package txmgr (fees, replacements, cancels,
// when a tx is due).

// receipt returns the receipt of any version of s, or nil if none is mined.
func (d *Driver) receipt(ctx context.Context, s *sent) (*types.Receipt, error) {
	for _, h := range s.Hashes {
		r, err := d.l1.TransactionReceipt(ctx, h)
		if err == nil && r != nil {
			return r, nil
		}
		if err != nil && !txmgr.NotMined(err) {
			return nil, err
		}
		if !errors.Is(err, ethereum.NotFound) {
			// geth is still indexing: a version may be mined and not
			// found yet, so the nonce checks below would misread it.
			return nil, nil
		}
	}
	// The nonce was used by a version we do not know (sent before a
	// restart): resync reads the inbox.
	if n, err := d.l1.NonceAt(ctx, d.from, nil); err == nil && n > s.Nonce {
		return nil, fmt.Errorf("%w: nonce %d used by an unknown tx", errResync, s.Nonce)
	}
	// A tx above the account's pending nonce waits behind a gap (an L1
	// reorg took the txs before it, and the pool dropped them): no fee bump
	// gets it mined, so resync.
	if p, err := d.l1.PendingNonceAt(ctx, d.from); err == nil && p < s.Nonce {
		return nil, fmt.Errorf("%w: nonce %d is past the account's pending nonce %d (the txs before it are gone)", errResync, s.Nonce, p)
	}
	return nil, nil
}

// suggest returns the fees for a new tx now (txmgr.Suggest), with a blob
// fee cap when blob is set.
func (d *Driver) suggest(ctx context.Context, blob bool) (txmgr.Fees, error) {
	tip, err := d.l1.SuggestGasTipCap(ctx)
	if err != nil {
		return txmgr.Fees{}, err
	}
	head, err := d.l1.HeaderByNumber(ctx, nil)
	if err != nil {
		return txmgr.Fees{}, err
	}
	var blobBase *big.Int
	if blob {
		if blobBase, err = d.l1.(BlobBaseFeeReader).BlobBaseFee(ctx); err != nil {
			return txmgr.Fees{}, fmt.Errorf("blob base fee: %w", err)
		}
	}
	return txmgr.Suggest(tip, head.BaseFee, blobBase), nil
}

// send signs and sends a tx to the inbox with calldata data, and, when sc
// is set, sc's blobs.
func (d *Driver) send(ctx context.Context, id string, data []byte, sc *types.BlobTxSidecar, nonce uint64) (*sent, error) {
	fees, err := d.suggest(ctx, sc != nil)
	if err != nil {
		return nil, err
	}
	s := &sent{id: id, data: data, sidecar: sc, Tx: txmgr.Tx{Nonce: nonce}}
	msg := ethereum.CallMsg{From: d.from, To: &d.cfg.Inbox, Data: data}
	if sc != nil {
		msg.BlobHashes, msg.BlobGasFeeCap = sc.BlobHashes(), fees.BlobFeeCap
	}
	gas, err := d.l1.EstimateGas(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("estimate gas (the inbox would revert): %w", err)
	}
	s.gas = gas + gas/5
	return s, d.sign(ctx, s, fees)
}

// sign signs a version of s with fees f, sends it and records it.
func (d *Driver) sign(ctx context.Context, s *sent, f txmgr.Fees) error {
	if err := d.policy.Check(f); err != nil {
		return err
	}
	var inner types.TxData = &types.DynamicFeeTx{
		ChainID: d.chain, Nonce: s.Nonce, GasTipCap: f.Tip, GasFeeCap: f.FeeCap, Gas: s.gas, To: &d.cfg.Inbox, Data: s.data,
	}
	if s.sidecar != nil {
		inner = d.blobTx(s.Nonce, f, s.gas, d.cfg.Inbox, s.data, s.sidecar)
	}
	tx, err := types.SignNewTx(d.cfg.Key, d.signer, inner)
	if err != nil {
		return err
	}
	if err := d.l1.SendTransaction(ctx, tx); err != nil {
		return err
	}
	s.Sent(tx.Hash(), f, d.cfg.Now())
	d.log.Debug("sent L1 tx", "tx", s.id, "hash", tx.Hash(), "nonce", s.Nonce, "tip", f.Tip, "fee_cap", f.FeeCap, "blob_fee_cap", f.BlobFeeCap, "bytes", len(s.data))
	return nil
}

func (d *Driver) blobTx(nonce uint64, f txmgr.Fees, gas uint64, to common.Address, data []byte, sc *types.BlobTxSidecar) *types.BlobTx {
	return &types.BlobTx{
		ChainID: uint256.MustFromBig(d.chain), Nonce: nonce, GasTipCap: uint256.MustFromBig(f.Tip), GasFeeCap: uint256.MustFromBig(f.FeeCap),
		Gas: gas, To: to, Value: new(uint256.Int), Data: data,
		BlobFeeCap: uint256.MustFromBig(f.BlobFeeCap), BlobHashes: sc.BlobHashes(), Sidecar: sc,
	}
}

// bump re-sends s at the same nonce with the replacement fees of
// txmgr.Policy.Replacement.
func (d *Driver) bump(ctx context.Context, s *sent) error {
	suggested, err := d.suggest(ctx, s.sidecar != nil)
	if err != nil {
		return err
	}
	f := d.policy.Replacement(s.Fees, suggested)
	d.log.Info("re-sending L1 tx with higher fees", "tx", s.id, "nonce", s.Nonce, "tip", f.Tip, "fee_cap", f.FeeCap, "blob_fee_cap", f.BlobFeeCap)
	return d.sign(ctx, s, f)
}

// sendAndWait sends one tx and waits for its receipt, bumping fees.
func (d *Driver) sendAndWait(ctx context.Context, id string, data []byte) (*types.Receipt, error) {
	nonce, err := d.l1.PendingNonceAt(ctx, d.from)
	if err != nil {
		return nil, err
	}
	s, err := d.send(ctx, id, data, nil, nonce)
	if err != nil {
		return nil, err
	}
	for {
		if !sleepCtx(ctx, d.cfg.PollInterval) {
			return nil, ctx.Err()
		}
		r, err := d.receipt(ctx, s)
		if err != nil {
			return nil, err
		}
		if r != nil {
			if r.Status != types.ReceiptStatusSuccessful {
				return nil, fmt.Errorf("%s: tx %s reverted", id, r.TxHash)
			}
			return r, nil
		}
		if d.policy.Due(&s.Tx, d.cfg.Now()) {
			if err := d.bump(ctx, s); err != nil {
				d.log.Warn("fee bump failed", "tx", id, "err", err)
			}
		}
	}
}

// settleOwnTxs waits until no tx of the batcher's account is pending (one
// sent before a restart, or re-injected by an L1 reorg), replacing those
// that do not get mined with empty self-transfers at rising fees.
func (d *Driver) settleOwnTxs(ctx context.Context) error {
	waitedSince := d.cfg.Now()
	attempt := 0
	for {
		latest, err := d.l1.NonceAt(ctx, d.from, nil)
		if err != nil {
			return fmt.Errorf("L1 nonce: %w", err)
		}
		pending, err := d.l1.PendingNonceAt(ctx, d.from)
		if err != nil {
			return fmt.Errorf("L1 pending nonce: %w", err)
		}
		if pending <= latest {
			return nil
		}
		if d.cfg.Now().Sub(waitedSince) >= d.policy.ResubmitAfter {
			attempt++
			if err := d.cancel(ctx, latest, pending, attempt); err != nil {
				return err
			}
			waitedSince = d.cfg.Now()
		}
		if !sleepCtx(ctx, d.cfg.PollInterval) {
			return ctx.Err()
		}
	}
}

// cancel replaces the tx at nonce with an empty self-transfer at the fees
// of the attempt-th cancel (txmgr.Cancel).
func (d *Driver) cancel(ctx context.Context, nonce, pending uint64, attempt int) error {
	suggested, err := d.suggest(ctx, false)
	if err != nil {
		return err
	}
	f := txmgr.Cancel(suggested, attempt)
	d.log.Info("cancelling a stuck batcher tx", "nonce", nonce, "pending_nonce", pending, "attempt", attempt)
	if d.cfg.Blobs {
		// geth keeps an account's txs in one pool: a blob tx can only be
		// replaced by a blob tx (with every fee cap doubled, which each
		// attempt does). If the stuck tx is a calldata one, the plain
		// cancel below replaces it instead.
		err := d.cancelWithBlob(ctx, nonce, attempt)
		if err == nil {
			return nil
		}
		d.log.Warn("blob cancel tx", "nonce", nonce, "err", err)
	}
	tx, err := types.SignNewTx(d.cfg.Key, d.signer, &types.DynamicFeeTx{ChainID: d.chain, Nonce: nonce, GasTipCap: f.Tip, GasFeeCap: f.FeeCap, Gas: 21000, To: &d.from})
	if err != nil {
		return err
	}
	if err := d.l1.SendTransaction(ctx, tx); err != nil {
		d.log.Warn("cancel tx", "nonce", nonce, "err", err)
	}
	return nil
}

// cancelWithBlob replaces the tx at nonce with a self-transfer carrying an
// empty blob, at the fees of the attempt-th cancel.
func (d *Driver) cancelWithBlob(ctx context.Context, nonce uint64, attempt int) error {
	suggested, err := d.suggest(ctx, true)
	if err != nil {
		return err
	}
	sc, err := blobSidecar(nil)
	if err != nil {
		return err
	}
	tx, err := types.SignNewTx(d.cfg.Key, d.signer, d.blobTx(nonce, txmgr.Cancel(suggested, attempt), 21000, d.from, nil, sc))
	if err != nil {
		return err
	}
	return d.l1.SendTransaction(ctx, tx)
}
