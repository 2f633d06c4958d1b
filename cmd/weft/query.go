package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/genesis"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// query dials --node, runs one call and prints its answer as JSON.
func query(cmd *cobra.Command, call func(context.Context, weftv1.NodeAPIClient) (proto.Message, error)) error {
	c, ctx, done, err := dial(cmd)
	if err != nil {
		return err
	}
	defer done()
	r, err := call(ctx, c.API)
	if err != nil {
		return err
	}
	return show(r)
}

func show(m proto.Message) error {
	b, err := pj.Marshal(m)
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// queryCmd is `weft query`: read-only calls to a node, printed as JSON.
func queryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "query", Aliases: []string{"q"}, Short: "Query a node (output is JSON; bytes are base64)"}
	clientFlags(cmd)
	rollupsC := &cobra.Command{
		Use: "rollups", Args: cobra.NoArgs, Short: "List registered rollups",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (proto.Message, error) {
				return api.ListRollups(ctx, &weftv1.ListRollupsRequest{})
			})
		},
	}
	status := &cobra.Command{
		Use: "status", Args: cobra.NoArgs, Short: "Show the node's chain id, height and app hash",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (proto.Message, error) {
				return api.GetStatus(ctx, &weftv1.GetStatusRequest{})
			})
		},
	}
	validators := &cobra.Command{
		Use: "validators", Args: cobra.NoArgs, Short: "List staking validators (active first) with tokens, power, jail state",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (proto.Message, error) {
				return api.ListValidators(ctx, &weftv1.ListValidatorsRequest{})
			})
		},
	}
	for _, c := range []*cobra.Command{queryAccountCmd(), queryRollupCmd(), rollupsC, queryBlockCmd(), queryTxCmd(), status, validators, queryDelegationsCmd()} {
		cmd.AddCommand(addEnvHelp(c))
	}
	return cmd
}

// queryAccountCmd is `weft query account`: an account's balance and nonces.
func queryAccountCmd() *cobra.Command {
	return &cobra.Command{
		Use: "account 0xADDRESS", Args: cobra.ExactArgs(1), Short: "Show an account's balance and nonces",
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := genesis.ParseAddress(args[0])
			if err != nil {
				return err
			}
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (proto.Message, error) {
				return api.GetAccount(ctx, &weftv1.GetAccountRequest{Address: addr[:]})
			})
		},
	}
}

// queryRollupCmd is `weft query rollup`: one rollup by name or 0x id.
func queryRollupCmd() *cobra.Command {
	return &cobra.Command{
		Use: "rollup NAME|0xID", Args: cobra.ExactArgs(1), Short: "Show a rollup (no argument lists them all with `rollups`)",
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &weftv1.GetRollupRequest{Name: args[0]}
			if h, ok := strings.CutPrefix(args[0], "0x"); ok {
				b, err := hex.DecodeString(h)
				if err != nil {
					return fmt.Errorf("rollup id %q is not hex", args[0])
				}
				req = &weftv1.GetRollupRequest{Id: b}
			}
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (proto.Message, error) {
				return api.GetRollup(ctx, req)
			})
		},
	}
}

// queryBlockCmd is `weft query block`: a committed block, the latest by
// default.
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
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (proto.Message, error) {
				return api.GetBlock(ctx, &weftv1.GetBlockRequest{Height: h})
			})
		},
	}
}

// queryTxCmd is `weft query tx`: a transaction's status and result by hash.
func queryTxCmd() *cobra.Command {
	return &cobra.Command{
		Use: "tx 0xHASH", Args: cobra.ExactArgs(1), Short: "Show a transaction's status and result",
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := hex.DecodeString(strings.TrimPrefix(args[0], "0x"))
			if err != nil || len(b) != 32 {
				return fmt.Errorf("tx hash %q must be 32 bytes of hex", args[0])
			}
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (proto.Message, error) {
				return api.GetTx(ctx, &weftv1.GetTxRequest{Hash: b})
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
			addr, err := genesis.ParseAddress(args[0])
			if err != nil {
				return err
			}
			return query(cmd, func(ctx context.Context, api weftv1.NodeAPIClient) (proto.Message, error) {
				return api.ListDelegations(ctx, &weftv1.ListDelegationsRequest{Delegator: addr[:]})
			})
		},
	}
}
