package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/weftnet/weft/devnet"
)

func devnetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a local network of N validators in one command",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, _ := cmd.Flags().GetString("dir")
			o, err := testnetOptions(cmd, dir)
			if err != nil {
				return err
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			until, _ := cmd.Flags().GetInt64("until-height")
			f := cmd.Flags()
			l1 := devnet.DefaultL1Options()
			withL1, _ := f.GetBool("l1")
			l1.Disabled = !withL1
			l1.RPC, _ = f.GetString("l1-rpc")
			l1.KeyFile, _ = f.GetString("l1-key")
			l1.Port, _ = f.GetInt("l1-port")
			l1.BlockTime, _ = f.GetDuration("l1-block-time")
			l1.ChallengeWindow, _ = f.GetUint64("challenge-window")
			l1.MaxBatchAge, _ = f.GetDuration("max-batch-age")
			if l1.BlockTime <= 0 || l1.MaxBatchAge <= 0 {
				return fmt.Errorf("--l1-block-time and --max-batch-age must be positive")
			}
			reset, _ := f.GetBool("reset")
			// Flags that only shape a new devnet: a resumed one says it
			// keeps its own.
			var creation []string
			for _, name := range []string{"validators", "chain-id", "host", "base-port", "rollup", "dev-accounts", "dev-balance", "libp2p", "rollup-rpc-port"} {
				if f.Changed(name) {
					creation = append(creation, name)
				}
			}
			// SIGHUP too (a closed terminal): the devnet then stops cleanly
			// and records where, as on Ctrl-C.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			return devnet.Run(ctx, devnet.Options{
				Testnet: o, Exe: exe, UntilHeight: until, Logger: logger(cmd), Out: os.Stdout, L1: l1,
				Reset: reset, CreationFlags: creation,
			})
		},
	}
	cmd.Long = `Run a local network of N validators in one command: the validators as
` + "`weft start`" + ` processes, node0 executing the rollups, and (unless --l1=false or
--l1-rpc) an embedded L1 where the rollups settle.

The network lives in --dir. The first run creates it; every later run resumes
it where it stopped: the Weft chain, the rollups, and the embedded L1, whose
chain is kept in DIR/l1 (contracts, deposits, batches, balances: nothing is
deployed or funded again). --reset removes the devnet in DIR (and says what)
and starts a new one. A DIR that holds something other than a devnet is
refused, --reset included.`
	cmd.Flags().String("dir", ".devnet", "devnet home: created on the first run, resumed on the next ones")
	cmd.Flags().Bool("reset", false, "remove the devnet in --dir (validators, rollups, the embedded L1) and start a new one")
	cmd.Flags().Int64("until-height", 0, "stop once every node has committed this height (0: run until Ctrl-C)")
	d := devnet.DefaultL1Options()
	cmd.Flags().Bool("l1", true, "settle the rollups on an L1 (embedded unless --l1-rpc)")
	cmd.Flags().String("l1-rpc", "", "settle on this Ethereum JSON-RPC endpoint instead of the embedded L1")
	cmd.Flags().String("l1-key", "", "deployer key file for --l1-rpc (also funds the batchers and the challenger)")
	cmd.Flags().Int("l1-port", d.Port, "embedded L1 JSON-RPC port on 127.0.0.1")
	cmd.Flags().Duration("l1-block-time", d.BlockTime, "embedded L1 block interval")
	cmd.Flags().Uint64("challenge-window", d.ChallengeWindow, "seconds during which a posted state root can be challenged")
	cmd.Flags().Duration("max-batch-age", d.MaxBatchAge, "post a batch at least this often")
	testnetFlags(cmd, []string{"alpha:901", "beta:902"}, 8546)
	return addEnvHelp(cmd)
}
