package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/weftnet/weft/cmd/weft/view"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/ui"
)

// statusCmd is `weft status`: one screen for a network, from one node's
// status snapshot (GetNetworkStatus).
func statusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "One screen for a network: height, block interval, validators, rollups and their settlement, warnings",
		Long: `status asks a node for its status snapshot and prints it: the chain (height,
last block, mean block interval), every validator (moniker, operator and
consensus addresses, stake, power, missed blocks, jailed), each rollup the
node serves (Weft height, latest / safe / finalized block, settlement lag,
batches posted and pending, last L1 post, deposits waiting) and warnings.
--watch redraws it every --interval until Ctrl-C. docs/operations.md says
what each field means.`,
		Args: cobra.NoArgs,
		RunE: runStatus,
	}
	clientFlags(cmd)
	cmd.Flags().Bool("watch", false, "redraw every --interval until interrupted")
	cmd.Flags().Duration("interval", 2*time.Second, "how often --watch redraws")
	return addEnvHelp(cmd)
}

func runStatus(cmd *cobra.Command, _ []string) error {
	watch, _ := cmd.Flags().GetBool("watch")
	every, _ := cmd.Flags().GetDuration("interval")
	if watch && every <= 0 {
		return fmt.Errorf("--interval %s must be positive", every)
	}
	asJSON, err := statusJSON(cmd)
	if err != nil {
		return err
	}
	c, ctx, done, err := dial(cmd)
	if err != nil {
		return err
	}
	defer done()
	out := cmd.OutOrStdout()
	if !watch {
		return printStatus(ctx, out, c.API, asJSON)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	t := time.NewTicker(every)
	defer t.Stop()
	redraw := !asJSON && isTerminal(out)
	for {
		if redraw {
			fmt.Fprint(out, "\x1b[H\x1b[2J") // home, clear: redraw in place
		}
		if err := printStatus(ctx, out, c.API, asJSON); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			fmt.Fprintf(out, "%s (retrying every %s)\n", err, every)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// printStatus fetches one snapshot and prints it as text or as JSON (one
// line per snapshot, so that --watch streams).
func printStatus(ctx context.Context, out io.Writer, api weftv1.NodeAPIClient, asJSON bool) error {
	resp, err := api.GetNetworkStatus(ctx, &weftv1.GetNetworkStatusRequest{})
	if err != nil {
		return err
	}
	v := ui.NewView(resp.Status, "")
	if !asJSON {
		return ui.WriteText(out, v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

// statusJSON reads --output (outputFormat): JSON, or text.
func statusJSON(cmd *cobra.Command) (bool, error) {
	f, err := outputFormat(cmd)
	return f == view.JSON, err
}

// isTerminal reports whether w is a terminal (elsewhere --watch appends
// each screen instead of redrawing it).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
