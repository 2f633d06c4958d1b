package node

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/contracts/bindings"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups/exec/evm"
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
	inbox common.Address
	key   *ecdsa.PrivateKey
	poll  time.Duration
	log   *slog.Logger

	scanned uint64 // L1 blocks ≤ scanned have been read
	known   map[uint64]evm.Deposit
	sentTo  uint64    // deposits < sentTo were handed to Weft at sentAt
	sentAt  time.Time // zero: nothing in flight
}

// relayResend re-orders deposits not credited this long after submission.
const relayResend = 30 * time.Second

func (r *depositRelayer) run(ctx context.Context) {
	r.known = map[uint64]evm.Deposit{}
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
	fin, err := r.l1.HeaderByNumber(ctx, big.NewInt(int64(rpc.FinalizedBlockNumber)))
	if err != nil {
		return fmt.Errorf("L1 finalized block: %w", err)
	}
	if to := fin.Number.Uint64(); to >= r.scanned {
		if err := r.scan(ctx, to); err != nil {
			return err
		}
	}
	st, err := r.rt.exec.StateAt(r.rt.exec.Head().Root)
	if err != nil {
		return err
	}
	next := evm.DepositsProcessed(st)
	if !r.sentAt.IsZero() && next < r.sentTo && time.Since(r.sentAt) < relayResend {
		return nil // in flight
	}
	var ds []evm.Deposit
	for n := next; len(ds) < evm.MaxDepositsPerItem; n++ {
		d, ok := r.known[n]
		if !ok {
			break
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		return nil
	}
	data, err := evm.EncodeDeposits(ds)
	if err != nil {
		return err
	}
	from := crypto.PubkeyToAddress(r.key.PublicKey)
	body := &weftv1.TxBody{
		ChainId: r.n.app.ChainID(), Nonce: r.n.app.PendingNonce(from), FeeLimit: uint256.NewInt(1e17).Bytes(),
		Actions: []*weftv1.Action{{Kind: &weftv1.Action_RollupData{RollupData: &weftv1.RollupData{RollupId: r.rt.id[:], Data: data}}}},
	}
	raw, err := consensus.Sign(r.key, body)
	if err != nil {
		return err
	}
	if _, rej := r.n.app.Submit(raw, true); rej != nil {
		return fmt.Errorf("order deposits %d..%d: %s", ds[0].Nonce, ds[len(ds)-1].Nonce, rej.Log)
	}
	r.sentTo, r.sentAt = ds[len(ds)-1].Nonce+1, time.Now()
	r.log.Info("deposits ordered", "first", ds[0].Nonce, "count", len(ds))
	return nil
}

// scan reads DepositInitiated events of L1 blocks (scanned, to].
func (r *depositRelayer) scan(ctx context.Context, to uint64) error {
	inbox := bindings.NewWeftInbox()
	ev := inbox.GetABI().Events[bindings.WeftInboxDepositInitiatedEventName]
	logs, err := r.l1.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(r.scanned), ToBlock: new(big.Int).SetUint64(to),
		Addresses: []common.Address{r.inbox}, Topics: [][]common.Hash{{ev.ID}},
	})
	if err != nil {
		return fmt.Errorf("L1 deposit logs: %w", err)
	}
	for i := range logs {
		if logs[i].Removed {
			continue
		}
		e, err := inbox.UnpackDepositInitiatedEvent(&logs[i])
		if err != nil {
			return fmt.Errorf("L1 deposit log %s: %w", logs[i].TxHash, err)
		}
		r.known[e.Nonce] = evm.Deposit{Nonce: e.Nonce, From: e.From, To: e.To, Value: e.Value}
	}
	r.scanned = to + 1
	return nil
}
