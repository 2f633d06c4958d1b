package main

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
	"github.com/spf13/cobra"

	"github.com/weftnet/weft/cmd/weft/view"
	"github.com/weftnet/weft/format"
	"github.com/weftnet/weft/keys"
	"github.com/weftnet/weft/node"
	"github.com/weftnet/weft/rollups/derive"
	"github.com/weftnet/weft/rollups/settlement"
	"github.com/weftnet/weft/rollups/txmgr"
)

func rollupCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rollup", Short: "Rollup settlement tools"}
	cmd.AddCommand(rollupVerifyCmd(), rollupStatusCmd(), rollupDepositCmd(), rollupFinalizeWithdrawalCmd())
	return cmd
}

func rollupVerifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Rebuild a rollup from its L1 inbox alone and check every posted state root",
		Long: `verify reads every batch the rollup's WeftInbox holds on L1, re-executes
them with go-ethereum from the rollup's genesis (no Weft node involved),
checks each deposit credit against L1 and each posted state root, and
reports the first mismatch. With --challenge and the challenger's key it
deletes the faulty batch (and every later one) while its challenge window
is open, so the batcher posts the range again.

The rollup's genesis (chain id, genesis allocation, deposit relayer) is read
from a node home that serves it (--home, e.g. .devnet/node0).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			home, _ := f.GetString("home")
			challenge, _ := f.GetBool("challenge")
			keyFile, _ := f.GetString("l1-key")
			r, err := loadRollupL1(cmd)
			if err != nil {
				return err
			}
			defer r.Close()
			name := r.svc.Name
			ecfg, _, err := node.HomeRollupEVMConfig(home, name)
			if err != nil {
				return err
			}
			chainID := ecfg.ChainID
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			l1 := &derive.InboxL1{Inbox: r.inbox, Client: r.l1}
			if beacon, _ := f.GetString("beacon-url"); beacon != "" {
				l1.Blobs = &settlement.BeaconBlobSource{URL: beacon, L1: r.l1}
			}
			if challenge {
				if keyFile == "" {
					return errors.New("--challenge needs --l1-key (the rollup's challenger key)")
				}
				k, err := keys.LoadFile(keyFile)
				if err != nil {
					return fmt.Errorf("--l1-key: %w", err)
				}
				l1.Key = k.Private
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "verifying rollup %s (EVM chain id %d) from inbox %s\n", name, chainID, r.addr)
			rep, err := derive.Verify(ctx, ecfg, l1, derive.Options{Challenge: challenge, Out: out})
			if err != nil {
				return err
			}
			if rep.Fault != nil {
				return fmt.Errorf("rollup %s: %w", name, rep.Fault)
			}
			if len(rep.Checked) == 0 {
				fmt.Fprintln(out, "no batches posted yet")
				return nil
			}
			last := rep.Checked[len(rep.Checked)-1]
			fmt.Fprintf(out, "all %d batches verified: Weft heights 1..%d, rollup block %d, state root %s\n", len(rep.Checked), last.ToHeight, last.RollupBlock, last.StateRoot)
			return nil
		},
	}
	rollupL1Flags(cmd)
	cmd.Flags().Bool("challenge", false, "challenge the first faulty batch (needs --l1-key, the challenger's)")
	cmd.Flags().String("beacon-url", "", "beacon API URL serving blob sidecars, for batches posted as blobs")
	return addEnvHelp(cmd)
}

// rollupL1 is a rollup's settlement context read from a node home.
type rollupL1 struct {
	svc   node.RollupService
	l1    *ethclient.Client
	inbox *settlement.Inbox
	addr  common.Address
}

func (r *rollupL1) Close() { r.l1.Close() }

// loadRollupL1 reads --home/--rollup/--l1-rpc/--inbox and dials the L1.
func loadRollupL1(cmd *cobra.Command) (*rollupL1, error) {
	f := cmd.Flags()
	home, _ := f.GetString("home")
	name, _ := f.GetString("rollup")
	l1URL, _ := f.GetString("l1-rpc")
	inboxHex, _ := f.GetString("inbox")
	if name == "" {
		return nil, errors.New("--rollup is required")
	}
	if _, err := os.Stat(filepath.Join(home, "config", "config.toml")); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("--home %s holds no node (no config/config.toml): give the home of a node that serves rollup %s, e.g. --home .devnet/node0", home, name)
	}
	_, wc, err := node.LoadConfig(home)
	if err != nil {
		return nil, err
	}
	var svc *node.RollupService
	for i := range wc.Rollups {
		if wc.Rollups[i].Name == name {
			svc = &wc.Rollups[i]
		}
	}
	if svc == nil {
		return nil, fmt.Errorf("no rollup %q in %s (its weft.toml serves %s)", name, home, configuredRollups(wc.Rollups))
	}
	var start uint64
	if s := svc.Settlement; s != nil {
		if l1URL == "" {
			l1URL = s.L1RPC
		}
		if inboxHex == "" {
			inboxHex = s.Inbox
		}
		start = s.L1StartBlock
	}
	if l1URL == "" {
		return nil, errors.New("--l1-rpc is required (the rollup has no settlement config)")
	}
	if !common.IsHexAddress(inboxHex) {
		return nil, fmt.Errorf("--inbox %q is not a 0x address", inboxHex)
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	cl, err := ethclient.DialContext(ctx, l1URL)
	if err != nil {
		return nil, fmt.Errorf("dial L1 %s: %w", l1URL, err)
	}
	addr := common.HexToAddress(inboxHex)
	return &rollupL1{svc: *svc, l1: cl, inbox: settlement.NewInbox(cl, addr, settlement.WithFromBlock(start)), addr: addr}, nil
}

// configuredRollups names the rollups a home serves, for an error.
func configuredRollups(rs []node.RollupService) string {
	if len(rs) == 0 {
		return "no rollups"
	}
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	return strings.Join(names, ", ")
}

// l1Sender is the L1 tx sender for keyFile: it waits for each tx to be
// mined, replacing it with higher fees while it waits (txmgr.Sender).
func l1Sender(cl *ethclient.Client, keyFile string) (*txmgr.Sender, error) {
	if keyFile == "" {
		return nil, errors.New("--l1-key is required")
	}
	k, err := keys.LoadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("--l1-key: %w", err)
	}
	return &txmgr.Sender{L1: cl, Key: k.Private, Policy: txmgr.DefaultPolicy, Poll: settlement.ReceiptPollInterval}, nil
}

func rollupL1Flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String("rollup", "", "rollup name")
	f.String("l1-rpc", "", "L1 Ethereum JSON-RPC URL (default: the rollup's settlement.l1_rpc)")
	f.String("inbox", "", "the rollup's WeftInbox address (default: the rollup's settlement.inbox)")
	f.String("l1-key", "", "L1 key file that signs and pays")
}

func rollupDepositCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deposit",
		Short: "Deposit ETH from L1 to an account on the rollup (credited once the L1 block is final)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			toHex, _ := f.GetString("to")
			amount, _ := f.GetString("amount")
			keyFile, _ := f.GetString("l1-key")
			if !common.IsHexAddress(toHex) {
				return fmt.Errorf("--to %q is not a 0x address", toHex)
			}
			value, ok := new(big.Int).SetString(amount, 10)
			if !ok || value.Sign() <= 0 {
				return fmt.Errorf("--amount %q must be a positive number of wei", amount)
			}
			r, err := loadRollupL1(cmd)
			if err != nil {
				return err
			}
			defer r.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			sender, err := l1Sender(r.l1, keyFile)
			if err != nil {
				return err
			}
			out, err := sender.Send(ctx, txmgr.Call{To: r.addr, Value: value, Data: settlement.PackDeposit(common.HexToAddress(toHex))})
			if err != nil {
				return fmt.Errorf("deposit: %w", settlement.DecodeRevert(err))
			}
			tx, rcpt := out.Tx, out.Receipt
			if rcpt.Status != types.ReceiptStatusSuccessful {
				return fmt.Errorf("deposit tx %s reverted", tx.Hash())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deposited %s ETH (%s wei) to %s on %s in L1 tx %s (block %d); credited once that block is finalized\n",
				format.Decimal(value), value, common.HexToAddress(toHex), r.svc.Name, tx.Hash(), rcpt.BlockNumber)
			return nil
		},
	}
	rollupL1Flags(cmd)
	cmd.Flags().String("to", "", "recipient on the rollup")
	cmd.Flags().String("amount", "", "wei to deposit")
	return addEnvHelp(cmd)
}

// rollupFinalizeWithdrawalCmd is `weft rollup finalize-withdrawal`: prove a
// rollup withdrawal on L1 and pay it out.
func rollupFinalizeWithdrawalCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "finalize-withdrawal",
		Short: "Prove a rollup withdrawal against a final state root on L1 and pay it out",
		Long: `finalize-withdrawal takes the rollup tx that called the bridge's
initiateWithdrawal (0x5745465400000000000000000000000000000001), finds the
first L1 batch covering it, and once that batch is final (its challenge
window is over) proves the withdrawal with the rollup's eth_getProof and
sends WeftInbox.finalizeWithdrawal. With --wait it waits for finality.`,
		Args: cobra.NoArgs,
		RunE: runRollupFinalizeWithdrawal,
	}
	rollupL1Flags(cmd)
	cmd.Flags().String("tx", "", "hash of the rollup tx that initiated the withdrawal")
	cmd.Flags().String("rollup-rpc", "", "the rollup's JSON-RPC URL (default: the home's rpc_listen_addr)")
	cmd.Flags().Duration("wait", 0, "wait up to this long for the covering batch to become final")
	return addEnvHelp(cmd)
}

// runRollupFinalizeWithdrawal finds the withdrawal of --tx, checks that its
// covering batch is final and pays it out on L1.
func runRollupFinalizeWithdrawal(cmd *cobra.Command, _ []string) error {
	f := cmd.Flags()
	txHex, _ := f.GetString("tx")
	rollupURL, _ := f.GetString("rollup-rpc")
	keyFile, _ := f.GetString("l1-key")
	wait, _ := f.GetDuration("wait")
	h, err := hexutil.Decode(txHex)
	if err != nil || len(h) != 32 {
		return fmt.Errorf("--tx %q is not a 32-byte 0x hash", txHex)
	}
	r, err := loadRollupL1(cmd)
	if err != nil {
		return err
	}
	defer r.Close()
	if rollupURL == "" {
		if r.svc.RPCListenAddr == "" {
			return errors.New("--rollup-rpc is required")
		}
		rollupURL = "http://" + r.svc.RPCListenAddr
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), wait+2*time.Minute)
	defer cancel()
	rc, err := gethrpc.DialContext(ctx, rollupURL)
	if err != nil {
		return fmt.Errorf("dial rollup %s: %w", rollupURL, err)
	}
	defer rc.Close()
	out := cmd.OutOrStdout()
	pw, err := awaitWithdrawal(ctx, rc, r.inbox, common.BytesToHash(h), wait)
	if err != nil {
		return err
	}
	w := pw.Withdrawal
	fmt.Fprintf(out, "withdrawal %d: %s ETH (%s wei) from %s to %s, rollup block %d (Weft height %d)\n", w.Nonce, format.Decimal(w.Value), w.Value, w.From, w.To, pw.RollupBlock, pw.WeftHeight)
	switch {
	case pw.Batch == nil:
		return fmt.Errorf("%w: no batch covers Weft height %d yet", settlement.ErrNotFinal, pw.WeftHeight)
	case !pw.Final:
		return fmt.Errorf("%w: batch %d is inside its challenge window (or --wait longer)", settlement.ErrNotFinal, pw.Batch.Index)
	}
	tx, rcpt, err := payOutWithdrawal(ctx, r, rc, keyFile, pw)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "paid out on L1 in tx %s (block %d), proved against batch %d\n", tx.Hash(), rcpt.BlockNumber, pw.Batch.Index)
	return nil
}

// awaitWithdrawal finds the withdrawal that rollup tx txHash initiated,
// polling every second for up to wait until its covering batch is final.
func awaitWithdrawal(ctx context.Context, rc *gethrpc.Client, in *settlement.Inbox, txHash common.Hash, wait time.Duration) (*settlement.PendingWithdrawal, error) {
	deadline := time.Now().Add(wait)
	for {
		pw, err := settlement.FindWithdrawal(ctx, ethclient.NewClient(rc), in, txHash)
		if err != nil {
			return nil, err
		}
		if pw.Final || time.Now().After(deadline) {
			return pw, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// payOutWithdrawal proves a final withdrawal against the rollup and sends
// WeftInbox.finalizeWithdrawal signed by keyFile, waiting for its receipt.
func payOutWithdrawal(ctx context.Context, r *rollupL1, rc *gethrpc.Client, keyFile string, pw *settlement.PendingWithdrawal) (*types.Transaction, *types.Receipt, error) {
	proof, err := settlement.ProvePending(ctx, rc, pw)
	if err != nil {
		return nil, nil, err
	}
	sender, err := l1Sender(r.l1, keyFile)
	if err != nil {
		return nil, nil, err
	}
	out, err := settlement.FinalizeWithdrawal(ctx, sender, r.addr, proof)
	if err != nil {
		return nil, nil, err
	}
	return out.Tx, out.Receipt, nil
}

// rollupStatusCmd is `weft rollup status`: a rollup's settlement on L1 and
// its RPC's block tags.
func rollupStatusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a rollup's settlement on L1: batches, last root, finality, deposits, and the rollup RPC's block tags",
		Args:  cobra.NoArgs,
		RunE:  runRollupStatus,
	}
	rollupL1Flags(cmd)
	cmd.Flags().String("rollup-rpc", "", "the rollup's JSON-RPC URL (default: the home's rpc_listen_addr)")
	return addEnvHelp(cmd)
}

// runRollupStatus prints the rollup's inbox state and, if it has an RPC
// URL, the rollup's latest, safe and finalized blocks.
func runRollupStatus(cmd *cobra.Command, _ []string) error {
	rollupURL, _ := cmd.Flags().GetString("rollup-rpc")
	r, err := loadRollupL1(cmd)
	if err != nil {
		return err
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
	defer cancel()
	v, err := inboxStatus(ctx, r)
	if err != nil {
		return err
	}
	if rollupURL == "" && r.svc.RPCListenAddr != "" {
		rollupURL = "http://" + r.svc.RPCListenAddr
	}
	if rollupURL != "" {
		if v.Blocks, err = rollupTags(ctx, rollupURL); err != nil {
			return err
		}
	}
	return printView(cmd, v)
}

// inboxStatus reads the rollup's WeftInbox: batches, last root, pending
// frames, challenge window, deposits and the last batch.
func inboxStatus(ctx context.Context, r *rollupL1) (*view.RollupSettlement, error) {
	in := r.inbox
	v := &view.RollupSettlement{Rollup: r.svc.Name, Inbox: r.addr.Hex()}
	var err error
	if v.BatchesPosted, err = in.NextIndex(ctx); err != nil {
		return nil, l1Error(r, err)
	}
	if v.NextFromHeight, err = in.NextFromHeight(ctx); err != nil {
		return nil, l1Error(r, err)
	}
	root, err := in.LastStateRoot(ctx)
	if err != nil {
		return nil, l1Error(r, err)
	}
	v.LastStateRoot = root.Hex()
	if v.PendingFrames, err = in.PendingFrames(ctx); err != nil {
		return nil, l1Error(r, err)
	}
	if v.ChallengeWindowSeconds, err = in.ChallengeWindow(ctx); err != nil {
		return nil, l1Error(r, err)
	}
	v.ChallengeWindow = view.Seconds(v.ChallengeWindowSeconds)
	if v.L1Deposits, err = in.DepositCount(ctx); err != nil {
		return nil, l1Error(r, err)
	}
	if next := v.BatchesPosted; next > 0 {
		b, err := in.Batch(ctx, next-1)
		if err != nil {
			return nil, l1Error(r, err)
		}
		final, err := in.IsFinal(ctx, next-1)
		if err != nil {
			return nil, l1Error(r, err)
		}
		v.LastBatch = &view.LastBatch{Index: next - 1, FromHeight: b.FromHeight, ToHeight: b.ToHeight, Frames: b.Frames,
			L1Block: b.L1Block, PostedAt: view.PostedAt(b.Timestamp), Final: final}
	}
	return v, nil
}

// l1Error says which L1 and inbox a failed read was of.
func l1Error(r *rollupL1, err error) error {
	return fmt.Errorf("reading rollup %s's inbox %s on L1: %w", r.svc.Name, r.addr, err)
}

// rollupTags dials the rollup's JSON-RPC at rollupURL and reads its latest,
// safe and finalized block numbers.
func rollupTags(ctx context.Context, rollupURL string) (*view.RollupBlocks, error) {
	rc, err := gethrpc.DialContext(ctx, rollupURL)
	if err != nil {
		return nil, fmt.Errorf("dial rollup %s: %w", rollupURL, err)
	}
	defer rc.Close()
	ec := ethclient.NewClient(rc)
	var nums [3]uint64
	for i, tag := range []gethrpc.BlockNumber{gethrpc.LatestBlockNumber, gethrpc.SafeBlockNumber, gethrpc.FinalizedBlockNumber} {
		h, err := ec.HeaderByNumber(ctx, big.NewInt(tag.Int64()))
		if err != nil {
			return nil, fmt.Errorf("rollup %s block at %s: %w", tag, rollupURL, err)
		}
		nums[i] = h.Number.Uint64()
	}
	return &view.RollupBlocks{Latest: nums[0], Safe: nums[1], Finalized: nums[2]}, nil
}
