package main

import (
	"fmt"
	"math/big"
	"os"

	"github.com/holiman/uint256"
	"github.com/spf13/cobra"

	"github.com/weftnet/weft/cmd/weft/view"
	"github.com/weftnet/weft/format"
)

// outputFlags adds the root's flags for how answers are printed.
func outputFlags(root *cobra.Command) {
	root.PersistentFlags().StringP("output", "o", "", "how answers are printed: text or json (default: text on a terminal, json otherwise)")
	root.PersistentFlags().Bool("raw-amounts", false, "print token amounts as integers in the smallest unit (10^-18 "+format.Unit+") instead of decimal "+format.Unit)
}

// outputFormat is --output, or text when stdout is a terminal and JSON
// when it is not (a pipe, a file).
func outputFormat(cmd *cobra.Command) (view.Format, error) {
	if s, _ := cmd.Flags().GetString("output"); s != "" {
		return view.ParseFormat(s)
	}
	if f, ok := cmd.OutOrStdout().(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return view.Text, nil
		}
	}
	return view.JSON, nil
}

// checkOutput refuses a bad --output before the command does anything
// (a command with an --output of its own, testnet's directory, is left
// alone).
func checkOutput(cmd *cobra.Command) error {
	if cmd.Flags().Lookup("output") != cmd.Root().PersistentFlags().Lookup("output") {
		return nil
	}
	_, err := outputFormat(cmd)
	return err
}

// amounts is how the command prints token amounts (--raw-amounts).
func amounts(cmd *cobra.Command) view.Amounts {
	raw, _ := cmd.Flags().GetBool("raw-amounts")
	return view.Amounts{Raw: raw}
}

// printView prints v as --output says.
func printView(cmd *cobra.Command, v view.Viewer) error {
	f, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	return view.Print(cmd.OutOrStdout(), f, v)
}

// amountFlag reads an amount flag as format.ParseAmount does: an integer
// in the smallest unit ("1000") or a number of WEFT ("1.5 WEFT").
func amountFlag(cmd *cobra.Command, name string) (*uint256.Int, error) {
	s, _ := cmd.Flags().GetString(name)
	if s == "" {
		return nil, fmt.Errorf("--%s is required: an integer in the smallest unit (1000) or a number of %s (\"1.5 %s\")", name, format.Unit, format.Unit)
	}
	v, err := format.ParseAmount(s)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", name, err)
	}
	return toUint256(name, v)
}

// toUint256 is v as the chain's uint256, or an error naming the flag.
func toUint256(name string, v *big.Int) (*uint256.Int, error) {
	u, overflow := uint256.FromBig(v)
	if overflow {
		return nil, fmt.Errorf("--%s %s does not fit in 256 bits", name, v)
	}
	return u, nil
}

// amountUsage is the usage text of an amount flag.
const amountUsage = "an integer in the smallest unit (1000) or a number of " + format.Unit + " (\"1.5 " + format.Unit + "\")"
