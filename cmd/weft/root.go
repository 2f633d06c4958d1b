package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func defaultHome() string {
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".weft")
	}
	return ".weft"
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "weft",
		Short:         "Weft: a shared decentralized sequencer for many rollups",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			return checkOutput(cmd)
		},
	}
	root.PersistentFlags().String("home", defaultHome(), "node home directory")
	root.PersistentFlags().String("log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().String("log-format", "text", "log format: text or json")
	outputFlags(root)
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) { f.Usage += " [$" + envName(f.Name) + "]" })
	root.AddCommand(initCmd(), keysCmd(), testnetCmd(), startCmd(), devnetCmd(), txCmd(), queryCmd(), followCmd(), rollupCmd())
	root.AddCommand(statusCmd())
	return root
}

// envName is the environment variable of a flag: WEFT_ + upper snake case.
func envName(flag string) string {
	return "WEFT_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindEnv gives every flag the value of its WEFT_* variable unless the flag
// was set on the command line.
func bindEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		// A command's own flag named like a global one (testnet's
		// --output directory) does not take the global flag's variable.
		if g := cmd.Root().PersistentFlags().Lookup(f.Name); g != nil && g != f {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := cmd.Flags().Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// addEnvHelp appends each flag's variable to its usage text.
func addEnvHelp(cmd *cobra.Command) *cobra.Command {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !strings.Contains(f.Usage, "WEFT_") {
			f.Usage += " [$" + envName(f.Name) + "]"
		}
	})
	return cmd
}
