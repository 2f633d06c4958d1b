package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/spf13/cobra"

	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/node"
	"github.com/weftnet/weft/node/keys"
	"github.com/weftnet/weft/rollups/derive"
	"github.com/weftnet/weft/rollups/settlement"
)

func rollupCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rollup", Short: "Rollup settlement tools"}
	cmd.AddCommand(rollupVerifyCmd())
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
			name, _ := f.GetString("rollup")
			l1URL, _ := f.GetString("l1-rpc")
			inboxHex, _ := f.GetString("inbox")
			challenge, _ := f.GetBool("challenge")
			keyFile, _ := f.GetString("l1-key")
			if name == "" {
				return errors.New("--rollup is required")
			}
			_, wc, err := node.LoadConfig(home)
			if err != nil {
				return err
			}
			var svc *node.RollupService
			for i := range wc.Rollups {
				if wc.Rollups[i].Name == name {
					svc = &wc.Rollups[i]
				}
			}
			if svc == nil {
				return fmt.Errorf("rollup %q is not configured in %s", name, home)
			}
			gd, app, err := genesis.LoadCometBFT(filepath.Join(home, "config", "genesis.json"))
			if err != nil {
				return err
			}
			var chainID uint64
			for _, r := range app.Rollups {
				if r.Name == name {
					chainID = r.EVMChainID
				}
			}
			if chainID == 0 {
				return fmt.Errorf("rollup %q is not an EVM rollup of this chain's genesis", name)
			}
			ecfg, err := node.RollupEVMConfig(*svc, chainID, uint64(gd.GenesisTime.Unix()))
			if err != nil {
				return err
			}
			var startBlock uint64
			if s := svc.Settlement; s != nil {
				if l1URL == "" {
					l1URL = s.L1RPC
				}
				if inboxHex == "" {
					inboxHex = s.Inbox
				}
				startBlock = s.L1StartBlock
			}
			if l1URL == "" {
				return errors.New("--l1-rpc is required (the rollup has no settlement config)")
			}
			if !common.IsHexAddress(inboxHex) {
				return fmt.Errorf("--inbox %q is not a 0x address", inboxHex)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			cl, err := ethclient.DialContext(dctx, l1URL)
			cancel()
			if err != nil {
				return fmt.Errorf("dial L1 %s: %w", l1URL, err)
			}
			defer cl.Close()
			l1 := &derive.InboxL1{Inbox: settlement.NewInbox(cl, common.HexToAddress(inboxHex), settlement.WithFromBlock(startBlock)), Client: cl}
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
			fmt.Fprintf(out, "verifying rollup %s (EVM chain id %d) from inbox %s on %s\n", name, chainID, inboxHex, l1URL)
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
	f := cmd.Flags()
	f.String("rollup", "", "rollup name")
	f.String("l1-rpc", "", "L1 Ethereum JSON-RPC URL (default: the rollup's settlement.l1_rpc)")
	f.String("inbox", "", "the rollup's WeftInbox address (default: the rollup's settlement.inbox)")
	f.Bool("challenge", false, "challenge the first faulty batch (needs --l1-key)")
	f.String("l1-key", "", "the challenger's L1 key file")
	return addEnvHelp(cmd)
}
