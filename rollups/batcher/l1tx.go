package batcher

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"
)

// The driver's L1 transactions: fees, signing, sending, waiting for
// receipts, fee bumps, and settling or cancelling its own pending txs after
// a restart.

// receipt returns the receipt of any version of s, or nil if none is mined.
func (d *Driver) receipt(ctx context.Context, s *sent) (*types.Receipt, error) {
	for _, h := range s.hashes {
		r, err := d.l1.TransactionReceipt(ctx, h)
		if err == nil && r != nil {
			return r, nil
		}
		if err != nil && !errors.Is(err, ethereum.NotFound) {
			return nil, err
		}
	}
	// The nonce was used by a version we do not know (sent before a
	// restart): resync reads the inbox.
	if n, err := d.l1.NonceAt(ctx, d.from, nil); err == nil && n > s.nonce {
		return nil, fmt.Errorf("%w: nonce %d used by an unknown tx", errResync, s.nonce)
	}
	return nil, nil
}

// fees returns the tip and fee cap for a new tx.
func (d *Driver) fees(ctx context.Context) (tip, feeCap *big.Int, err error) {
	tip, err = d.l1.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, nil, err
	}
	head, err := d.l1.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	base := head.BaseFee
	if base == nil {
		base = new(big.Int)
	}
	feeCap = new(big.Int).Add(tip, new(big.Int).Mul(base, big.NewInt(2)))
	return tip, feeCap, nil
}

// minBlobFeeCap is the least blob fee cap the driver offers: the blob base
// fee sits at its 1 wei floor whenever blob space is not congested, and a
// cap that low would leave a tx stuck at the first rise. Only the base fee
// is paid, so a higher cap costs nothing.
var minBlobFeeCap = big.NewInt(params.GWei)

// blobFeeCap returns the blob fee cap for a new blob tx: twice the current
// blob base fee (it rises by at most 12.5% a block, so this covers six
// blocks full of blobs), at least minBlobFeeCap.
func (d *Driver) blobFeeCap(ctx context.Context) (*big.Int, error) {
	fee, err := d.l1.(BlobBaseFeeReader).BlobBaseFee(ctx)
	if err != nil {
		return nil, fmt.Errorf("blob base fee: %w", err)
	}
	c := new(big.Int).Mul(fee, big.NewInt(2))
	if c.Cmp(minBlobFeeCap) < 0 {
		c.Set(minBlobFeeCap)
	}
	return c, nil
}

// send signs and sends a tx to the inbox with calldata data, and, when sc
// is set, sc's blobs.
func (d *Driver) send(ctx context.Context, id string, data []byte, sc *types.BlobTxSidecar, nonce uint64) (*sent, error) {
	tip, feeCap, err := d.fees(ctx)
	if err != nil {
		return nil, err
	}
	s := &sent{id: id, nonce: nonce, data: data, tip: tip, feeCap: feeCap, sidecar: sc}
	msg := ethereum.CallMsg{From: d.from, To: &d.cfg.Inbox, Data: data}
	if sc != nil {
		if s.blobFeeCap, err = d.blobFeeCap(ctx); err != nil {
			return nil, err
		}
		msg.BlobHashes, msg.BlobGasFeeCap = sc.BlobHashes(), s.blobFeeCap
	}
	gas, err := d.l1.EstimateGas(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("estimate gas (the inbox would revert): %w", err)
	}
	s.gas = gas + gas/5
	return s, d.sign(ctx, s)
}

func (d *Driver) sign(ctx context.Context, s *sent) error {
	if d.cfg.MaxGasFeeCap != nil && s.feeCap.Cmp(d.cfg.MaxGasFeeCap) > 0 {
		return fmt.Errorf("fee cap %s above the configured maximum %s", s.feeCap, d.cfg.MaxGasFeeCap)
	}
	var inner types.TxData = &types.DynamicFeeTx{
		ChainID: d.chain, Nonce: s.nonce, GasTipCap: s.tip, GasFeeCap: s.feeCap, Gas: s.gas, To: &d.cfg.Inbox, Data: s.data,
	}
	if s.sidecar != nil {
		if d.cfg.MaxBlobFeeCap != nil && s.blobFeeCap.Cmp(d.cfg.MaxBlobFeeCap) > 0 {
			return fmt.Errorf("blob fee cap %s above the configured maximum %s", s.blobFeeCap, d.cfg.MaxBlobFeeCap)
		}
		inner = d.blobTx(s.nonce, s.tip, s.feeCap, s.blobFeeCap, s.gas, d.cfg.Inbox, s.data, s.sidecar)
	}
	tx, err := types.SignNewTx(d.cfg.Key, d.signer, inner)
	if err != nil {
		return err
	}
	if err := d.l1.SendTransaction(ctx, tx); err != nil {
		return err
	}
	s.hashes = append(s.hashes, tx.Hash())
	s.sentAt = d.cfg.Now()
	d.log.Debug("sent L1 tx", "tx", s.id, "hash", tx.Hash(), "nonce", s.nonce, "tip", s.tip, "fee_cap", s.feeCap, "blob_fee_cap", s.blobFeeCap, "bytes", len(s.data))
	return nil
}

func (d *Driver) blobTx(nonce uint64, tip, feeCap, blobFeeCap *big.Int, gas uint64, to common.Address, data []byte, sc *types.BlobTxSidecar) *types.BlobTx {
	return &types.BlobTx{
		ChainID: uint256.MustFromBig(d.chain), Nonce: nonce, GasTipCap: uint256.MustFromBig(tip), GasFeeCap: uint256.MustFromBig(feeCap),
		Gas: gas, To: to, Value: new(uint256.Int), Data: data,
		BlobFeeCap: uint256.MustFromBig(blobFeeCap), BlobHashes: sc.BlobHashes(), Sidecar: sc,
	}
}

// bump re-sends s at the same nonce with fees raised by FeeBumpPercent (at
// least 100 for a blob tx) and at least the current suggestion.
func (d *Driver) bump(ctx context.Context, s *sent) error {
	tip, feeCap, err := d.fees(ctx)
	if err != nil {
		return err
	}
	pct := d.cfg.FeeBumpPercent
	var blobFeeCap *big.Int
	if s.sidecar != nil {
		pct = max(pct, 100)
		if blobFeeCap, err = d.blobFeeCap(ctx); err != nil {
			return err
		}
	}
	up := func(old, suggested *big.Int) *big.Int {
		b := new(big.Int).Mul(old, big.NewInt(100+pct))
		b.Div(b, big.NewInt(100))
		if b.Cmp(old) <= 0 {
			b.Add(old, common.Big1)
		}
		if suggested.Cmp(b) > 0 {
			return suggested
		}
		return b
	}
	s.tip, s.feeCap = up(s.tip, tip), up(s.feeCap, feeCap)
	if s.feeCap.Cmp(s.tip) < 0 {
		s.feeCap = new(big.Int).Set(s.tip)
	}
	if s.sidecar != nil {
		s.blobFeeCap = up(s.blobFeeCap, blobFeeCap)
	}
	d.log.Info("re-sending L1 tx with higher fees", "tx", s.id, "nonce", s.nonce, "tip", s.tip, "fee_cap", s.feeCap, "blob_fee_cap", s.blobFeeCap)
	return d.sign(ctx, s)
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
		if d.cfg.Now().Sub(s.sentAt) >= d.cfg.ResubmitAfter {
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
	mult := int64(2)
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
		if d.cfg.Now().Sub(waitedSince) >= d.cfg.ResubmitAfter {
			tip, feeCap, err := d.fees(ctx)
			if err != nil {
				return err
			}
			tip.Mul(tip, big.NewInt(mult))
			feeCap.Mul(feeCap, big.NewInt(mult))
			d.log.Info("cancelling a stuck batcher tx", "nonce", latest, "pending_nonce", pending)
			plain := &types.DynamicFeeTx{ChainID: d.chain, Nonce: latest, GasTipCap: tip, GasFeeCap: feeCap, Gas: 21000, To: &d.from}
			if d.cfg.Blobs {
				// geth keeps an account's txs in one pool: a blob tx can
				// only be replaced by a blob tx (with every fee cap
				// doubled, which mult does). If the stuck tx is a calldata
				// one, the plain cancel below replaces it instead.
				err := d.cancelWithBlob(ctx, latest, tip, feeCap, mult)
				if err == nil {
					plain = nil
				} else {
					d.log.Warn("blob cancel tx", "nonce", latest, "err", err)
				}
			}
			if plain != nil {
				tx, err := types.SignNewTx(d.cfg.Key, d.signer, plain)
				if err != nil {
					return err
				}
				if err := d.l1.SendTransaction(ctx, tx); err != nil {
					d.log.Warn("cancel tx", "nonce", latest, "err", err)
				}
			}
			mult *= 2
			waitedSince = d.cfg.Now()
		}
		if !sleepCtx(ctx, d.cfg.PollInterval) {
			return ctx.Err()
		}
	}
}

// cancelWithBlob replaces the tx at nonce with a self-transfer carrying an
// empty blob, at mult times the current blob fee cap.
func (d *Driver) cancelWithBlob(ctx context.Context, nonce uint64, tip, feeCap *big.Int, mult int64) error {
	blobFeeCap, err := d.blobFeeCap(ctx)
	if err != nil {
		return err
	}
	blobFeeCap.Mul(blobFeeCap, big.NewInt(mult))
	sc, err := blobSidecar(nil)
	if err != nil {
		return err
	}
	tx, err := types.SignNewTx(d.cfg.Key, d.signer, d.blobTx(nonce, tip, feeCap, blobFeeCap, 21000, d.from, nil, sc))
	if err != nil {
		return err
	}
	return d.l1.SendTransaction(ctx, tx)
}
