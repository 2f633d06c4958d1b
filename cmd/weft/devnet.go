package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/weftnet/weft/node"
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
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return node.RunDevnet(ctx, node.DevnetOptions{
				Testnet: o, Exe: exe, UntilHeight: until, Logger: logger(cmd), Out: os.Stdout,
			})
		},
	}
	cmd.Flags().String("dir", ".devnet", "devnet home (created on first run, reused after)")
	cmd.Flags().Int64("until-height", 0, "stop once every node has committed this height (0: run until Ctrl-C)")
	testnetFlags(cmd, []string{"alpha:901", "beta:902"}, 8546)
	return addEnvHelp(cmd)
}
