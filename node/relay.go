package node

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/rpc"
	"github.com/weftnet/weft/rollups/settlement"
)

// depositRelayer credits L1 deposits on the rollup: once the L1 block of a
// WeftInbox.DepositInitiated event is finalized, it orders a deposit item
// (signed by the rollup's deposit relayer) through Weft. The executor
// credits each nonce once, in order, so re-sending after a timeout or a
// restart is harmless.
type depositRelayer struct {
	n     *Node
	rt    *rollupRuntime
	l1    *ethclient.Client
	inbox *settlement.Inbox
	key   *ecdsa.PrivateKey
	poll  time.Duration
	log   *slog.Logger
	// startBlock is the inbox's registration block.
	startBlock uint64

	sentTo uint64    // deposits < sentTo were handed to Weft at sentAt
	sentAt time.Time // zero: nothing in flight

	// L1 is scanned once: blocks below scanned have been read, deposits
	// below nextUnknown are in known (until credited).
	scanned     uint64
	nextUnknown uint64
	known       map[uint64]evm.Deposit
}

// relayResend re-orders deposits not credited this long after submission.
const relayResend = 30 * time.Second

// scan reads the DepositInitiated events of finalized L1 blocks not read
// yet (up to fin).
func (r *depositRelayer) scan(ctx context.Context, fin uint64) error {
	if r.known == nil {
		r.known = map[uint64]evm.Deposit{}
		r.scanned = r.startBlock
	}
	if fin < r.scanned {
		return nil
	}
	ds, err := r.inbox.With(settlement.WithFromBlock(r.scanned)).Deposits(ctx, r.nextUnknown, fin)
	if err != nil {
		return err
	}
	for _, d := range ds {
		r.known[d.Nonce] = evm.Deposit{Nonce: d.Nonce, From: d.From, To: d.To, Value: d.Value}
		r.nextUnknown = d.Nonce + 1
	}
	r.scanned = fin + 1
	return nil
}

func (r *depositRelayer) run(ctx context.Context) {
	t := time.NewTicker(r.poll)
	defer t.Stop()
	for {
		if err := r.step(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("deposit relay", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *depositRelayer) step(ctx context.Context) error {
	st, err := r.rt.exec.StateAt(r.rt.exec.Head().Root)
	if err != nil {
		return err
	}
	next := evm.DepositsProcessed(st)
	if !r.sentAt.IsZero() && next < r.sentTo && time.Since(r.sentAt) < relayResend {
		return nil // in flight
	}
	fin, _, err := settlement.FinalizedHeader(ctx, r.l1)
	if err != nil {
		return fmt.Errorf("L1 finalized block: %w", err)
	}
	if err := r.scan(ctx, fin.Number.Uint64()); err != nil {
		return err
	}
	for n := range r.known {
		if n < next {
			delete(r.known, n) // credited
		}
	}
	var items []evm.Deposit
	for n := next; len(items) < evm.MaxDepositsPerItem; n++ {
		d, ok := r.known[n]
		if !ok {
			break
		}
		items = append(items, d)
	}
	if len(items) == 0 {
		return nil
	}
	data, err := evm.EncodeDeposits(items)
	if err != nil {
		return err
	}
	raw, err := rpc.RollupDataTx(r.n.app, r.key, r.rt.id, data, uint256.NewInt(1e17))
	if err != nil {
		return err
	}
	first, last := items[0].Nonce, items[len(items)-1].Nonce
	if _, rej := r.n.app.Submit(raw, true); rej != nil {
		return fmt.Errorf("order deposits %d..%d: %s", first, last, rej.Log)
	}
	r.sentTo, r.sentAt = last+1, time.Now()
	r.log.Info("deposits ordered", "first", first, "count", len(items))
	return nil
}
