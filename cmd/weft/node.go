package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/spf13/cobra"

	"github.com/weftnet/weft/cmd/weft/view"
	"github.com/weftnet/weft/devnet"
	"github.com/weftnet/weft/format"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/keys"
	"github.com/weftnet/weft/node"
)

func logger(cmd *cobra.Command) *slog.Logger {
	lv, _ := cmd.Flags().GetString("log-level")
	f, _ := cmd.Flags().GetString("log-format")
	return node.NewLogger(os.Stderr, f, lv)
}

func startCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run a Weft node from its home directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, _ := cmd.Flags().GetString("home")
			n, err := node.New(home, logger(cmd))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return n.Run(ctx)
		},
	}
	return addEnvHelp(cmd)
}

// parseRollups parses "name[:evm_chain_id]" entries.
func parseRollups(specs []string) ([]genesis.Rollup, error) {
	var out []genesis.Rollup
	for i, s := range specs {
		name, idStr, hasID := strings.Cut(s, ":")
		chainID := uint64(900_000 + i)
		if hasID {
			v, err := strconv.ParseUint(idStr, 10, 64)
			if err != nil || v == 0 {
				return nil, fmt.Errorf("--rollup %q: evm chain id must be a positive integer", s)
			}
			chainID = v
		}
		out = append(out, genesis.Rollup{Name: name, VM: "evm", EVMChainID: chainID})
	}
	return out, nil
}

func testnetFlags(cmd *cobra.Command, rollups []string, rollupRPCPort int) {
	cmd.Flags().Int("rollup-rpc-port", rollupRPCPort, "if set, node0 serves each rollup's Ethereum JSON-RPC from this port on (0: none)")
	cmd.Flags().Int("validators", 4, "number of validators")
	cmd.Flags().String("chain-id", "weft-devnet", "chain id")
	cmd.Flags().String("host", "127.0.0.1", "host every node listens on")
	cmd.Flags().Int("base-port", 26600, "first port; node i uses base+10i .. base+10i+3")
	cmd.Flags().StringSlice("rollup", rollups, "rollup registered at genesis, as name[:evm_chain_id] (repeatable)")
	cmd.Flags().Int("dev-accounts", 20, "number of Hardhat/Anvil development accounts to prefund")
	cmd.Flags().String("dev-balance", "10000000000000000000000", "balance of each development account")
	cmd.Flags().Bool("libp2p", true, "run consensus over CometBFT's libp2p transport (false: the classic transport; see docs/lp2p.md)")
}

func testnetOptions(cmd *cobra.Command, out string) (devnet.TestnetOptions, error) {
	f := cmd.Flags()
	o := devnet.TestnetOptions{Output: out}
	o.Validators, _ = f.GetInt("validators")
	o.ChainID, _ = f.GetString("chain-id")
	o.Host, _ = f.GetString("host")
	o.BasePort, _ = f.GetInt("base-port")
	o.DevAccounts, _ = f.GetInt("dev-accounts")
	o.DevBalance, _ = f.GetString("dev-balance")
	o.LibP2P, _ = f.GetBool("libp2p")
	o.RollupRPCBasePort, _ = f.GetInt("rollup-rpc-port")
	specs, _ := f.GetStringSlice("rollup")
	var err error
	o.Rollups, err = parseRollups(specs)
	return o, err
}

func testnetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Write homes for N validators of a local network (start each with `weft start --home DIR/nodeI`)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, _ := cmd.Flags().GetString("output")
			if out == "" {
				return fmt.Errorf("--output is required")
			}
			o, err := testnetOptions(cmd, out)
			if err != nil {
				return err
			}
			o.AllowUnprotectedTxs, _ = cmd.Flags().GetBool("allow-unprotected-txs")
			m, err := devnet.GenerateTestnet(o)
			if err != nil {
				return err
			}
			for _, n := range m.Nodes {
				fmt.Printf("%s  home=%s api=%s rpc=%s p2p=%s\n", n.Moniker, n.Home, n.API, n.RPC, n.P2P)
			}
			return nil
		},
	}
	cmd.Flags().String("output", "", "directory to write the network into")
	cmd.Flags().Bool("allow-unprotected-txs", false, "node0's rollup RPCs accept txs without EIP-155 replay protection (allow_unprotected_txs; the devnet always does)")
	testnetFlags(cmd, nil, 0)
	return addEnvHelp(cmd)
}

func initCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a single-validator node home (its own one-node network)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			home, _ := f.GetString("home")
			moniker, _ := f.GetString("moniker")
			chainID, _ := f.GetString("chain-id")
			specs, _ := f.GetStringSlice("rollup")
			accts, _ := f.GetStringSlice("account")
			rs, err := parseRollups(specs)
			if err != nil {
				return err
			}
			vk := secp256k1eth.GenPrivKey()
			doc := &genesis.Doc{
				ChainID: chainID, GenesisTime: time.Now().UTC(), BlockMaxBytes: genesis.DefaultBlockMaxBytes,
				Validators: []genesis.Validator{{Name: moniker, PubKey: hex.EncodeToString(vk.PubKey().Bytes()), Power: 10}},
				AppState:   genesis.AppState{Params: genesis.DefaultParams(), Rollups: rs},
			}
			for _, a := range accts {
				addr, bal, ok := strings.Cut(a, "=")
				if !ok {
					return fmt.Errorf("--account %q: want ADDRESS=BALANCE", a)
				}
				doc.AppState.Accounts = append(doc.AppState.Accounts, genesis.Account{Address: addr, Balance: bal})
			}
			c := node.CometConfig(home, moniker, node.Ports{Host: "127.0.0.1", P2P: 26656, RPC: 26657, Metrics: 26660})
			c.P2P.LibP2PConfig.Enabled, _ = f.GetBool("libp2p")
			if err := node.InitHome(home, c, node.DefaultConfig(), doc, vk); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "initialised %s (chain %s, validator %s)\n", home, chainID, format.Address(vk.PubKey().Address()))
			return nil
		},
	}
	cmd.Flags().String("moniker", "node0", "node name")
	cmd.Flags().String("chain-id", "weft-local", "chain id")
	cmd.Flags().StringSlice("rollup", nil, "rollup registered at genesis, as name[:evm_chain_id] (repeatable)")
	cmd.Flags().StringSlice("account", nil, "prefunded account as 0xADDRESS=BALANCE (repeatable)")
	cmd.Flags().Bool("libp2p", true, "run consensus over CometBFT's libp2p transport (false: the classic transport; see docs/lp2p.md)")
	return addEnvHelp(cmd)
}

func keysDir(cmd *cobra.Command) keys.Dir {
	if d, _ := cmd.Flags().GetString("keys-dir"); d != "" {
		return keys.Dir(d)
	}
	home, _ := cmd.Flags().GetString("home")
	return keys.Dir(filepath.Join(home, "keys"))
}

func keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage account keys (files written 0600)"}
	cmd.PersistentFlags().String("keys-dir", "", "key directory (default HOME/keys)")
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a key, or derive it from a mnemonic with --mnemonic",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mn, _ := cmd.Flags().GetString("mnemonic")
			idx, _ := cmd.Flags().GetUint32("index")
			var err error
			pk, _ := crypto.GenerateKey()
			if mn != "" {
				if pk, err = keys.Derive(mn, idx); err != nil {
					return err
				}
			}
			k, err := keysDir(cmd).Add(args[0], pk)
			if err != nil {
				return err
			}
			return printView(cmd, view.Key{Name: k.Name, Address: k.Address.Hex()})
		},
	}
	add.Flags().String("mnemonic", "", "BIP-39 mnemonic to derive from (m/44'/60'/0'/0/INDEX)")
	add.Flags().Uint32("index", 0, "account index for --mnemonic")
	list := &cobra.Command{
		Use: "list", Short: "List keys", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ks, err := keysDir(cmd).List()
			if err != nil {
				return err
			}
			v := view.Keys{Keys: []view.Key{}}
			for _, k := range ks {
				v.Keys = append(v.Keys, view.Key{Name: k.Name, Address: k.Address.Hex()})
			}
			return printView(cmd, v)
		},
	}
	show := &cobra.Command{
		Use: "show NAME", Short: "Show a key's address", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := keysDir(cmd).Load(args[0])
			if err != nil {
				return err
			}
			return printView(cmd, view.Key{Name: k.Name, Address: k.Address.Hex()})
		},
	}
	for _, c := range []*cobra.Command{add, list, show} {
		addEnvHelp(c)
	}
	cmd.AddCommand(add, list, show)
	return cmd
}
