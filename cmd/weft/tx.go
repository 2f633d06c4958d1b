package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/cmd/weft/view"
	"github.com/weftnet/weft/format"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/keys"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	rollrpc "github.com/weftnet/weft/rollups/rpc"
	"github.com/weftnet/weft/txcodec"
)

// parseData reads "0x..." as hex, "@path" as a file, anything else as text.
func parseData(s string) ([]byte, error) {
	switch {
	case strings.HasPrefix(s, "0x"):
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			return nil, fmt.Errorf("data %q is not hex: %w", s, err)
		}
		return b, nil
	case strings.HasPrefix(s, "@"):
		return os.ReadFile(s[1:])
	}
	return []byte(s), nil
}

// rollupNames maps the ids of the rollups this process named in txs (as
// the node writes them in rejections, plain hex) back to their names.
var rollupNames sync.Map

// rollupData is client.RollupData, remembering the rollup's name for
// nameRollups.
func rollupData(name string, data []byte) *weftv1.Action {
	rollupNames.Store(rollups.IDFromName(name).String(), name)
	return client.RollupData(name, data)
}

// nameRollups writes the rollup ids in the node's message msg that this
// process knows the names of as `"name"`, so that "rollup 8f41… is not
// registered" reads `rollup "nosuch" is not registered`.
func nameRollups(msg string) string {
	rollupNames.Range(func(id, name any) bool {
		msg = strings.ReplaceAll(msg, id.(string), fmt.Sprintf("%q", name))
		return true
	})
	return msg
}

// signingKey is the key of --from or --key-file.
func signingKey(cmd *cobra.Command) (*keys.Key, error) {
	from, _ := cmd.Flags().GetString("from")
	keyFile, _ := cmd.Flags().GetString("key-file")
	switch {
	case keyFile != "":
		return keys.LoadFile(keyFile)
	case from != "":
		return keysDir(cmd).Load(from)
	}
	return nil, fmt.Errorf("give --from NAME (a key of `weft keys list`) or --key-file PATH")
}

// sendTx signs actions with --from, submits the tx and, with --wait, waits
// for its block; it prints the tx (pending, or committed with its result).
func sendTx(cmd *cobra.Command, actions ...*weftv1.Action) error {
	f := cmd.Flags()
	k, err := signingKey(cmd)
	if err != nil {
		return err
	}
	fee, err := amountFlag(cmd, "fee-limit")
	if err != nil {
		return err
	}
	nonce, _ := f.GetInt64("nonce")
	c, ctx, done, err := dial(cmd)
	if err != nil {
		return err
	}
	defer done()
	raw, err := c.Build(ctx, k.Private, nonce, fee, actions...)
	if err != nil {
		return err
	}
	h, err := c.Submit(ctx, raw)
	if err != nil {
		if strings.HasPrefix(err.Error(), "weft code ") {
			return fmt.Errorf("the node refused the tx: %s", nameRollups(err.Error()))
		}
		return err
	}
	r := &weftv1.GetTxResponse{Status: weftv1.TxStatus_TX_STATUS_PENDING}
	if wait, _ := f.GetBool("wait"); wait {
		if r, err = waitTx(cmd, ctx, c, h); err != nil {
			return err
		}
	}
	if err := printView(cmd, view.NewTx(h[:], r, amounts(cmd))); err != nil {
		return err
	}
	if res := r.Result; res != nil && res.Code != txcodec.CodeOK {
		return fmt.Errorf("tx %s failed at height %d: code %d (%s): %s", format.Hex(h[:]), res.Height, res.Code, txcodec.CodeName(res.Code), res.Log)
	}
	return nil
}

// waitTx waits up to --wait-timeout for the tx with hash h to be committed.
func waitTx(cmd *cobra.Command, ctx context.Context, c *client.Client, h [32]byte) (*weftv1.GetTxResponse, error) {
	wt, _ := cmd.Flags().GetDuration("wait-timeout")
	wctx, cancel := context.WithTimeout(ctx, wt)
	defer cancel()
	r, err := c.WaitTx(wctx, h)
	switch {
	case r != nil && r.Status == weftv1.TxStatus_TX_STATUS_DROPPED:
		return nil, fmt.Errorf("tx %s was dropped: %s", format.Hex(h[:]), r.Log)
	case err != nil && ctx.Err() == nil && wctx.Err() != nil:
		return nil, fmt.Errorf("tx %s is not committed after %s; it may still be: weft query tx %s (or raise --wait-timeout)", format.Hex(h[:]), format.Duration(wt), format.Hex(h[:]))
	}
	return r, err
}

// txCmd is `weft tx`: the signing flags shared by its subcommands, which
// sign with --from and submit.
func txCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tx", Short: "Sign and submit transactions"}
	clientFlags(cmd)
	cmd.PersistentFlags().String("from", "", "name of the signing key (see `weft keys`)")
	cmd.PersistentFlags().String("key-file", "", "path of the signing key file (instead of --from)")
	cmd.PersistentFlags().String("keys-dir", "", "key directory (default HOME/keys)")
	cmd.PersistentFlags().String("fee-limit", "1000000000000000", "most the tx may pay in fees: "+amountUsage)
	cmd.PersistentFlags().Int64("nonce", -1, "nonce (default: the node's pending nonce of the sender)")
	cmd.PersistentFlags().Bool("wait", true, "wait until the tx is committed")
	cmd.PersistentFlags().Duration("wait-timeout", time.Minute, "with --wait, how long to wait for the tx's block")

	for _, c := range []*cobra.Command{txTransferCmd(), txRollupDataCmd(), txBundleCmd(), txRegisterRollupCmd()} {
		cmd.AddCommand(addEnvHelp(c))
	}
	cmd.AddCommand(stakeCmd())
	return cmd
}

// txTransferCmd is `weft tx transfer`: send tokens to --to.
func txTransferCmd() *cobra.Command {
	transfer := &cobra.Command{
		Use: "transfer", Short: "Send tokens", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			toS, _ := cmd.Flags().GetString("to")
			to, err := genesis.ParseAddress(toS)
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			amt, err := amountFlag(cmd, "amount")
			if err != nil {
				return err
			}
			return sendTx(cmd, client.Transfer(to, amt))
		},
	}
	transfer.Flags().String("to", "", "recipient 0x address")
	transfer.Flags().String("amount", "", "amount: "+amountUsage)
	return transfer
}

// txRollupDataCmd is `weft tx rollup-data`: order --data for one rollup.
func txRollupDataCmd() *cobra.Command {
	data := &cobra.Command{
		Use: "rollup-data", Short: "Order data for one rollup", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, _ := cmd.Flags().GetString("rollup")
			d, _ := cmd.Flags().GetString("data")
			b, err := parseData(d)
			if err != nil {
				return err
			}
			return sendTx(cmd, rollupData(name, b))
		},
	}
	data.Flags().String("rollup", "", "rollup name")
	data.Flags().String("data", "", "data: text, 0xHEX or @FILE")
	return data
}

// txBundleCmd is `weft tx bundle`: order data for several rollups in one tx.
func txBundleCmd() *cobra.Command {
	bundle := &cobra.Command{
		Use:   "bundle",
		Short: "Order data for several rollups atomically (all in one block or none)",
		Long: "Each --part ROLLUP=DATA adds opaque data for a rollup; each --eth-tx ROLLUP=0xRAW adds a signed\n" +
			"Ethereum transaction for an EVM rollup (several per rollup are packed together). All parts land\n" +
			"in one Weft block, in one transaction, or none does.",
		Args: cobra.NoArgs,
		RunE: runTxBundle,
	}
	bundle.Flags().StringArray("part", nil, "ROLLUP=DATA (repeatable; DATA is text, 0xHEX or @FILE)")
	bundle.Flags().StringArray("eth-tx", nil, "ROLLUP=0xRAW signed Ethereum tx for an EVM rollup (repeatable)")
	return bundle
}

// runTxBundle builds the actions of --part and --eth-tx and sends them as
// one tx.
func runTxBundle(cmd *cobra.Command, _ []string) error {
	parts, _ := cmd.Flags().GetStringArray("part")
	ethTxs, _ := cmd.Flags().GetStringArray("eth-tx")
	acts, err := bundleDataActions(parts)
	if err != nil {
		return err
	}
	ethActs, err := bundleEthTxActions(cmd, ethTxs)
	if err != nil {
		return err
	}
	acts = append(acts, ethActs...)
	if len(acts) < 2 {
		return fmt.Errorf("a bundle needs parts for at least two rollups (--part or --eth-tx)")
	}
	return sendTx(cmd, acts...)
}

// bundleDataActions turns each --part ROLLUP=DATA into a rollup-data action.
func bundleDataActions(parts []string) ([]*weftv1.Action, error) {
	var acts []*weftv1.Action
	for _, p := range parts {
		name, d, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("--part %q: want ROLLUP=DATA", p)
		}
		b, err := parseData(d)
		if err != nil {
			return nil, err
		}
		acts = append(acts, rollupData(name, b))
	}
	return acts, nil
}

// bundleEthTxActions checks each --eth-tx ROLLUP=0xRAW against its rollup's
// chain id and packs the txs of each rollup into one rollup-data action, in
// the order the rollups first appear.
func bundleEthTxActions(cmd *cobra.Command, ethTxs []string) ([]*weftv1.Action, error) {
	var order []string
	byRollup := map[string][][]byte{}
	chainIDs := map[string]*big.Int{}
	for _, p := range ethTxs {
		name, d, ok := strings.Cut(p, "=")
		if !ok || !strings.HasPrefix(d, "0x") {
			return nil, fmt.Errorf("--eth-tx %q: want ROLLUP=0xRAW_SIGNED_TX", p)
		}
		raw, err := hex.DecodeString(d[2:])
		if err != nil {
			return nil, fmt.Errorf("--eth-tx %q: not hex: %w", p, err)
		}
		if _, ok := chainIDs[name]; !ok {
			if chainIDs[name], err = evmChainID(cmd, name); err != nil {
				return nil, fmt.Errorf("--eth-tx for rollup %q: %w", name, err)
			}
		}
		// The stateless part of the rollup's rules: a part that can
		// never execute must not be ordered with the others.
		if _, _, err := rollrpc.CheckRaw(raw, chainIDs[name]); err != nil {
			return nil, fmt.Errorf("--eth-tx for rollup %q (tx %d of it): %w", name, len(byRollup[name]), err)
		}
		if _, ok := byRollup[name]; !ok {
			order = append(order, name)
		}
		byRollup[name] = append(byRollup[name], raw)
	}
	var acts []*weftv1.Action
	for _, name := range order {
		item, err := rollrpc.Item(byRollup[name])
		if err != nil {
			return nil, err
		}
		acts = append(acts, rollupData(name, item))
	}
	return acts, nil
}

// txRegisterRollupCmd is `weft tx register-rollup`: register an EVM rollup.
func txRegisterRollupCmd() *cobra.Command {
	reg := &cobra.Command{
		Use: "register-rollup", Short: "Register an EVM rollup", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, _ := cmd.Flags().GetString("name")
			id, _ := cmd.Flags().GetUint64("evm-chain-id")
			return sendTx(cmd, client.RegisterRollup(name, id))
		},
	}
	reg.Flags().String("name", "", "rollup name ([a-z0-9-])")
	reg.Flags().Uint64("evm-chain-id", 0, "the rollup's EIP-155 chain id")
	return reg
}

// evmChainID looks up an EVM rollup's chain id in the node's registry.
func evmChainID(cmd *cobra.Command, name string) (*big.Int, error) {
	c, ctx, done, err := dial(cmd)
	if err != nil {
		return nil, err
	}
	defer done()
	r, err := c.API.GetRollup(ctx, &weftv1.GetRollupRequest{Name: name})
	if err != nil {
		return nil, err
	}
	if r.Rollup.GetVm() != "evm" {
		return nil, fmt.Errorf("rollup %q runs vm %q, not evm", name, r.Rollup.GetVm())
	}
	return new(big.Int).SetUint64(r.Rollup.EvmChainId), nil
}
