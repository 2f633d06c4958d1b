package relay

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/rpc"
	"github.com/weftnet/weft/rollups/settlement"
)

// Executor is what the relayer reads of the rollup's executor
// (*evm.Executor): the state at its head, where the L2 bridge counts the
// deposits credited.
type Executor interface {
	Head() *types.Header
	StateAt(root common.Hash) (*state.StateDB, error)
}

// Config wires a deposit relayer.
type Config struct {
	// Rollup is the rollup whose deposits are relayed.
	Rollup rollups.ID
	// Key signs the deposit items: the rollup's deposit_relayer.
	Key *ecdsa.PrivateKey
	// Weft orders the deposit items (the node's app).
	Weft rpc.Sink
	// Exec is the rollup's executor.
	Exec Executor
	// L1 tells the finalized L1 block; Inbox reads the rollup's
	// WeftInbox deposits.
	L1    settlement.HeaderReader
	Inbox *settlement.Inbox
	// StartBlock is the inbox's registration block: the L1 scan starts
	// there.
	StartBlock uint64
	// Poll paces the relayer.
	Poll time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Log is the logger (slog.Default when nil).
	Log *slog.Logger
}

// Deposits is a running deposit relayer for one rollup.
type Deposits struct {
	cfg Config

	sentTo uint64    // deposits < sentTo were handed to Weft at sentAt
	sentAt time.Time // zero: nothing in flight

	// L1 is scanned once: blocks below scanned have been read, deposits
	// below nextUnknown are in known (until credited).
	scanned     uint64
	nextUnknown uint64
	known       map[uint64]evm.Deposit
}

// resendAfter re-orders deposits not credited this long after submission.
const resendAfter = 30 * time.Second

// New returns a relayer; Run starts it.
func New(cfg Config) *Deposits {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Deposits{cfg: cfg}
}

// Run relays every Poll until ctx is done.
func (r *Deposits) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Poll)
	defer t.Stop()
	for {
		if err := r.step(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Log.Warn("deposit relay", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// inFlight reports whether deposits handed to Weft at sentAt (those below
// sentTo) are still awaited at now, with the executor having credited the
// deposits below next: not all credited, and sent less than resendAfter
// ago.
func inFlight(next, sentTo uint64, sentAt, now time.Time) bool {
	return !sentAt.IsZero() && next < sentTo && now.Sub(sentAt) < resendAfter
}

// batch forgets the credited deposits (nonces below next) and returns the
// known deposits from nonce next on, up to the first gap and at most
// evm.MaxDepositsPerItem.
func batch(known map[uint64]evm.Deposit, next uint64) []evm.Deposit {
	for n := range known {
		if n < next {
			delete(known, n) // credited
		}
	}
	var items []evm.Deposit
	for n := next; len(items) < evm.MaxDepositsPerItem; n++ {
		d, ok := known[n]
		if !ok {
			break
		}
		items = append(items, d)
	}
	return items
}

// scan reads the DepositInitiated events of finalized L1 blocks not read
// yet (up to fin).
func (r *Deposits) scan(ctx context.Context, fin uint64) error {
	if r.known == nil {
		r.known = map[uint64]evm.Deposit{}
		r.scanned = r.cfg.StartBlock
	}
	if fin < r.scanned {
		return nil
	}
	ds, err := r.cfg.Inbox.With(settlement.WithFromBlock(r.scanned)).Deposits(ctx, r.nextUnknown, fin)
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

// step orders the next deposits unless some are in flight.
func (r *Deposits) step(ctx context.Context) error {
	st, err := r.cfg.Exec.StateAt(r.cfg.Exec.Head().Root)
	if err != nil {
		return err
	}
	next := evm.DepositsProcessed(st)
	if inFlight(next, r.sentTo, r.sentAt, r.cfg.Now()) {
		return nil
	}
	fin, _, err := settlement.FinalizedHeader(ctx, r.cfg.L1)
	if err != nil {
		return fmt.Errorf("L1 finalized block: %w", err)
	}
	if err := r.scan(ctx, fin.Number.Uint64()); err != nil {
		return err
	}
	items := batch(r.known, next)
	if len(items) == 0 {
		return nil
	}
	data, err := evm.EncodeDeposits(items)
	if err != nil {
		return err
	}
	raw, err := rpc.RollupDataTx(r.cfg.Weft, r.cfg.Key, r.cfg.Rollup, data, uint256.NewInt(1e17))
	if err != nil {
		return err
	}
	first, last := items[0].Nonce, items[len(items)-1].Nonce
	if _, rej := r.cfg.Weft.Submit(raw, true); rej != nil {
		return fmt.Errorf("order deposits %d..%d: %s", first, last, rej.Log)
	}
	r.sentTo, r.sentAt = last+1, r.cfg.Now()
	r.cfg.Log.Info("deposits ordered", "first", first, "count", len(items))
	return nil
}
