package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/weftnet/weft/cmd/weft/view"
	"github.com/weftnet/weft/format"
	"github.com/weftnet/weft/genesis"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

// query dials the node, asks it with call and prints the view call makes
// of the answer.
func query(cmd *cobra.Command, call func(context.Context, weftv1.NodeAPIClient) (view.Viewer, error)) error {
	c, ctx, done, err := dial(cmd)
	if err != nil {
		return err
	}
	defer done()
	v, err := call(ctx, c.API)
	if err != nil {
		return err
	}
	return printView(cmd, v)
}

// queryCmd is `weft query`: read-only calls to a node.
func queryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "query", Aliases: []string{"q"}, Short: "Query a node (text on a terminal, JSON otherwise; see --output)"}
	clientFlags(cmd)
	rollupsC := &cobra.Command{
		Use: "rollups", Args: cobra.NoArgs, Short: "List registered rollups",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (view.Viewer, error) {
				r, err := api.ListRollups(ctx, &weftv1.ListRollupsRequest{})
				if err != nil {
					return nil, err
				}
				return view.NewRollups(r), nil
			})
		},
	}
	status := &cobra.Command{
		Use: "status", Args: cobra.NoArgs, Short: "Show the node's chain id, height and app hash",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (view.Viewer, error) {
				r, err := api.GetStatus(ctx, &weftv1.GetStatusRequest{})
				if err != nil {
					return nil, err
				}
				return view.NewStatus(r), nil
			})
		},
	}
	validators := &cobra.Command{
		Use: "validators", Args: cobra.NoArgs, Short: "List staking validators (active first) with tokens, power, jail state",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (view.Viewer, error) {
				r, err := api.ListValidators(ctx, &weftv1.ListValidatorsRequest{})
				if err != nil {
					return nil, err
				}
				return view.NewValidators(r, amounts(cmd)), nil
			})
		},
	}
	for _, c := range []*cobra.Command{queryAccountCmd(), queryRollupCmd(), rollupsC, queryBlockCmd(), queryTxCmd(), status, validators, queryDelegationsCmd()} {
		cmd.AddCommand(addEnvHelp(c))
	}
	return cmd
}

// parseAddressArg reads a 0x address argument; what names it in the error.
func parseAddressArg(what, s string) ([20]byte, error) {
	a, err := genesis.ParseAddress(s)
	if err != nil {
		return a, fmt.Errorf("%s %q is not an address: want 0x and 40 hex digits", what, s)
	}
	return a, nil
}

// queryAccountCmd is `weft query account`: an account's balance and nonces.
func queryAccountCmd() *cobra.Command {
	return &cobra.Command{
		Use: "account 0xADDRESS", Args: cobra.ExactArgs(1), Short: "Show an account's balance and nonces",
		Long: "Show an account's balance and nonces. An address the chain holds nothing for (no balance,\n" +
			"no tx sent, none pending) is reported as an error, so a typo does not read as an empty account.",
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := parseAddressArg("account", args[0])
			if err != nil {
				return err
			}
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (view.Viewer, error) {
				r, err := api.GetAccount(ctx, &weftv1.GetAccountRequest{Address: addr[:]})
				if err != nil {
					return nil, err
				}
				acc := r.GetAccount()
				if acc.GetNonce() == 0 && format.BigEndian(acc.GetBalance()).Sign() == 0 && r.PendingNonce == 0 {
					return nil, fmt.Errorf("no account %s at height %d: it holds no tokens and has sent no tx", format.Address(addr[:]), r.Height)
				}
				return view.NewAccount(r, amounts(cmd)), nil
			})
		},
	}
}

// queryRollupCmd is `weft query rollup`: one rollup by name or 0x id.
func queryRollupCmd() *cobra.Command {
	return &cobra.Command{
		Use: "rollup NAME|0xID", Args: cobra.ExactArgs(1), Short: "Show a rollup (`rollups` lists them all)",
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &weftv1.GetRollupRequest{Name: args[0]}
			if h, ok := strings.CutPrefix(args[0], "0x"); ok {
				b, err := hex.DecodeString(h)
				if err != nil || len(b) != rollups.IDLen {
					return fmt.Errorf("rollup id %q is not 0x and %d hex digits", args[0], 2*rollups.IDLen)
				}
				req = &weftv1.GetRollupRequest{Id: b}
			} else if err := rollups.ValidateName(args[0]); err != nil {
				return fmt.Errorf("%q is not a rollup name or 0x id: %w", args[0], err)
			}
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (view.Viewer, error) {
				r, err := api.GetRollup(ctx, req)
				if isNotFound(err) {
					return nil, fmt.Errorf("no rollup %s is registered (weft query rollups lists them)", args[0])
				}
				if err != nil {
					return nil, err
				}
				return view.NewRollup(r.Rollup), nil
			})
		},
	}
}

// queryBlockCmd is `weft query block`: a committed block, the latest by
// default, with its rollups named.
func queryBlockCmd() *cobra.Command {
	return &cobra.Command{
		Use: "block [HEIGHT]", Args: cobra.MaximumNArgs(1), Short: "Show a committed block (latest by default)",
		RunE: func(cmd *cobra.Command, args []string) error {
			var h int64
			if len(args) == 1 {
				v, err := strconv.ParseInt(args[0], 10, 64)
				if err != nil || v < 1 {
					return fmt.Errorf("height %q must be a positive integer", args[0])
				}
				h = v
			}
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (view.Viewer, error) {
				b, err := api.GetBlock(ctx, &weftv1.GetBlockRequest{Height: h})
				if err != nil {
					return nil, err
				}
				rs, err := api.ListRollups(ctx, &weftv1.ListRollupsRequest{})
				if err != nil {
					return nil, err
				}
				names := map[string]string{}
				for _, r := range rs.Rollups {
					names[format.Hex(r.Id)] = r.Name
				}
				return view.NewBlock(b, names), nil
			})
		},
	}
}

// parseTxHash reads a 0x tx hash argument.
func parseTxHash(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) != 32 || !strings.HasPrefix(s, "0x") {
		return nil, fmt.Errorf("tx hash %q must be 32 bytes of hex: 0x and 64 hex digits", s)
	}
	return b, nil
}

// queryTxCmd is `weft query tx`: a transaction's status and result by hash.
func queryTxCmd() *cobra.Command {
	return &cobra.Command{
		Use: "tx 0xHASH", Args: cobra.ExactArgs(1), Short: "Show a transaction's status (pending, committed, dropped) and result",
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := parseTxHash(args[0])
			if err != nil {
				return err
			}
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (view.Viewer, error) {
				r, err := api.GetTx(ctx, &weftv1.GetTxRequest{Hash: b})
				if err != nil {
					return nil, err
				}
				if r.Status == weftv1.TxStatus_TX_STATUS_UNKNOWN {
					return nil, fmt.Errorf("tx %s is unknown to this node: not pending, not committed, not recently dropped", format.Hex(b))
				}
				return view.NewTx(b, r, amounts(cmd)), nil
			})
		},
	}
}

// queryDelegationsCmd is `weft query delegations`: a delegator's
// delegations and unbonding entries.
func queryDelegationsCmd() *cobra.Command {
	return &cobra.Command{
		Use: "delegations 0xDELEGATOR", Args: cobra.ExactArgs(1), Short: "List a delegator's delegations and unbonding entries",
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := parseAddressArg("delegator", args[0])
			if err != nil {
				return err
			}
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (view.Viewer, error) {
				r, err := api.ListDelegations(ctx, &weftv1.ListDelegationsRequest{Delegator: addr[:]})
				if err != nil {
					return nil, err
				}
				return view.NewDelegations(addr[:], r, amounts(cmd)), nil
			})
		},
	}
}
