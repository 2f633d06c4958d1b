package derive

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/rollups/exec/evm"
)

// L1 is what the verifier reads from (and, to challenge, writes to) the
// rollup's inbox on L1.
type L1 interface {
	// GenesisRoot is the inbox's genesis state root.
	GenesisRoot(ctx context.Context) (common.Hash, error)
	// Batches returns the current batches from index from on, with their
	// frames, in index order.
	Batches(ctx context.Context, from uint64) ([]PostedBatch, error)
	// Deposits returns the inbox's DepositInitiated events by nonce.
	Deposits(ctx context.Context) (map[uint64]L1Deposit, error)
	// Challenge deletes batch index and every later one
	// (WeftInbox.deleteBatches) and returns the L1 tx hash.
	Challenge(ctx context.Context, index uint64) (common.Hash, error)
}

// Options of Verify.
type Options struct {
	// Challenge makes Verify challenge the first faulty batch.
	Challenge bool
	// Out receives one line per checked batch (nil: none).
	Out io.Writer
}

// Report is the outcome of Verify.
type Report struct {
	Checked []Checked
	// Fault is the first faulty batch (nil: every posted root derives).
	Fault *Fault
	// ChallengeTx is the L1 tx that deleted the faulty batch, if sent.
	ChallengeTx common.Hash
}

// Verify rebuilds the rollup described by cfg (its genesis; cfg.Dir may be
// "" to keep the state in memory) from the inbox's batches alone and checks
// every posted state root.
func Verify(ctx context.Context, cfg evm.Config, l1 L1, opts Options) (*Report, error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	genesis, err := l1.GenesisRoot(ctx)
	if err != nil {
		return nil, err
	}
	ex, err := evm.New(cfg, nil)
	if err != nil {
		return nil, err
	}
	defer ex.Close()
	deposits, err := l1.Deposits(ctx)
	if err != nil {
		return nil, err
	}
	d, err := New(ex, cfg.Name, genesis, func(n uint64) (L1Deposit, bool) { dep, ok := deposits[n]; return dep, ok })
	if err != nil {
		return nil, err
	}
	batches, err := l1.Batches(ctx, 0)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	for _, b := range batches {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		c, err := d.Apply(b)
		var fault *Fault
		if errors.As(err, &fault) {
			rep.Fault = fault
			fmt.Fprintf(opts.Out, "batch %d  Weft heights %d..%d  MISMATCH: %v\n", b.Index, b.FromHeight, b.ToHeight, fault)
			break
		}
		if err != nil {
			return rep, err
		}
		rep.Checked = append(rep.Checked, *c)
		fmt.Fprintf(opts.Out, "batch %d  Weft heights %d..%d  rollup block %d  %d txs  %d deposits  root %s  ok\n",
			c.Index, c.FromHeight, c.ToHeight, c.RollupBlock, c.Txs, c.Deposits, c.StateRoot)
	}
	if rep.Fault != nil && opts.Challenge {
		tx, err := l1.Challenge(ctx, rep.Fault.Index)
		if err != nil {
			return rep, fmt.Errorf("challenge batch %d: %w", rep.Fault.Index, err)
		}
		rep.ChallengeTx = tx
		fmt.Fprintf(opts.Out, "challenged batch %d in L1 tx %s\n", rep.Fault.Index, tx)
	}
	return rep, nil
}
