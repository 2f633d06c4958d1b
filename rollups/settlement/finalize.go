package settlement

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/weftnet/weft/contracts"
	"github.com/weftnet/weft/contracts/bindings"
)

// ErrNotFinal is returned (wrapped) by PrepareWithdrawal while no final
// batch covers the withdrawal yet.
var ErrNotFinal = errors.New("withdrawal not final on L1 yet")

// PendingWithdrawal is a withdrawal found in a rollup tx, with where it
// stands on L1.
type PendingWithdrawal struct {
	Withdrawal Withdrawal
	// RollupBlock holds the initiateWithdrawal tx; WeftHeight is its Weft
	// height.
	RollupBlock uint64
	WeftHeight  uint64
	// Batch is the first posted batch covering WeftHeight (nil: none yet).
	Batch *PostedBatch
	Final bool
}

// FindWithdrawal reads the WithdrawalInitiated event of rollup tx txHash
// and the first inbox batch covering it.
func FindWithdrawal(ctx context.Context, rollup *ethclient.Client, in *Inbox, txHash common.Hash) (*PendingWithdrawal, error) {
	rcpt, err := rollup.TransactionReceipt(ctx, txHash)
	if err != nil {
		return nil, fmt.Errorf("rollup receipt of %s: %w", txHash, err)
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		return nil, fmt.Errorf("rollup tx %s failed: it initiated no withdrawal", txHash)
	}
	bridge := bindings.NewWeftL2Bridge()
	var ev *bindings.WeftL2BridgeWithdrawalInitiated
	for _, lg := range rcpt.Logs {
		if lg.Address != contracts.L2BridgeAddress {
			continue
		}
		if e, err := bridge.UnpackWithdrawalInitiatedEvent(lg); err == nil {
			if ev != nil {
				return nil, fmt.Errorf("rollup tx %s initiated several withdrawals; finalize them by nonce", txHash)
			}
			ev = e
		}
	}
	if ev == nil {
		return nil, fmt.Errorf("rollup tx %s has no WithdrawalInitiated event of the bridge %s", txHash, contracts.L2BridgeAddress)
	}
	hdr, err := rollup.HeaderByNumber(ctx, rcpt.BlockNumber)
	if err != nil {
		return nil, fmt.Errorf("rollup block %d: %w", rcpt.BlockNumber, err)
	}
	if len(hdr.Extra) != 8 {
		return nil, fmt.Errorf("rollup block %d carries no Weft height", rcpt.BlockNumber)
	}
	pw := &PendingWithdrawal{
		Withdrawal:  Withdrawal{Nonce: ev.Nonce, From: ev.From, To: ev.To, Value: ev.Value},
		RollupBlock: rcpt.BlockNumber.Uint64(),
		WeftHeight:  binary.BigEndian.Uint64(hdr.Extra),
	}
	batches, err := in.Batches(ctx, 0)
	if err != nil && !errors.Is(err, ErrNoBlobSource) {
		return nil, err
	}
	for i := range batches {
		if batches[i].ToHeight >= pw.WeftHeight {
			pw.Batch = &batches[i]
			break
		}
	}
	if pw.Batch != nil {
		if pw.Final, err = in.IsFinal(ctx, pw.Batch.Index); err != nil {
			return nil, err
		}
	}
	return pw, nil
}

// ProvePending builds the proof of pw against its batch's state root: the
// rollup block with that root is found from pw.RollupBlock on.
func ProvePending(ctx context.Context, rollup *rpc.Client, pw *PendingWithdrawal) (*WithdrawalProof, error) {
	if pw.Batch == nil || !pw.Final {
		return nil, fmt.Errorf("%w: Weft height %d", ErrNotFinal, pw.WeftHeight)
	}
	ec := ethclient.NewClient(rollup)
	head, err := ec.BlockNumber(ctx)
	if err != nil {
		return nil, err
	}
	for n := pw.RollupBlock; n <= head; n++ {
		h, err := ec.HeaderByNumber(ctx, new(big.Int).SetUint64(n))
		if err != nil {
			return nil, fmt.Errorf("rollup block %d: %w", n, err)
		}
		if h.Root == pw.Batch.StateRoot {
			return ProveWithdrawal(ctx, rollup, pw.Batch.Index, h.Number, pw.Batch.StateRoot, pw.Withdrawal)
		}
	}
	return nil, fmt.Errorf("no rollup block from %d to %d has batch %d's state root %s (is this node on the settled chain?)",
		pw.RollupBlock, head, pw.Batch.Index, pw.Batch.StateRoot)
}
