package ui

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/weftnet/weft/format"
)

// WriteText writes v as the one screen of `weft status`: the chain, the
// validators, the rollups and the warnings.
func WriteText(w io.Writer, v *View) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  height %d  last block %s (%s ago)  block interval %s (mean of %d)\n",
		v.ChainID, v.Height, v.BlockTime, v.BlockAge, v.Interval, v.IntervalBlocks)
	sync := ""
	if v.CatchingUp {
		sync = ", catching up"
	}
	fmt.Fprintf(&b, "node %s (%s%s)  mempool %d txs  collected %s\n", v.Moniker, v.NodeID, sync, v.MempoolTxs, v.Collected)
	fmt.Fprintf(&b, "\nValidators (%d; missed blocks count over the last %d, more than %d jails)\n",
		len(v.Validators)+v.MoreValidators, v.SigningWindow, v.MaxMissed)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  MONIKER\tOPERATOR\tCONSENSUS ADDRESS\tSTAKE\tPOWER\tMISSED\tRECENT\tSTATE")
	for _, val := range v.Validators {
		state := val.State
		if val.Jailed && !val.Tombstoned {
			state = fmt.Sprintf("jailed until %d", val.JailedUntil)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%d\t%d/%d\t%s\n", val.Moniker, val.Operator, val.Address, val.Stake,
			val.Power, val.MissedBlocks, val.RecentMissed, val.RecentBlocks, state)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if v.MoreValidators > 0 {
		fmt.Fprintf(&b, "  ... and %d more\n", v.MoreValidators)
	}
	writeRollupsText(&b, v)
	if len(v.Warnings) == 0 {
		b.WriteString("\nNo warnings\n")
	} else {
		fmt.Fprintf(&b, "\nWarnings (%d)\n", len(v.Warnings))
		for _, wn := range v.Warnings {
			fmt.Fprintf(&b, "  ! %s: %s [%s]\n", wn.Subject, wn.Message, wn.Kind)
		}
	}
	_, err := io.WriteString(w, printable(b.String()))
	return err
}

// printable replaces the control characters of s (but newlines) with "?":
// monikers and errors come from others, and a terminal must not take them
// for escape sequences.
func printable(s string) string { return format.Printable(s) }

func writeRollupsText(b *strings.Builder, v *View) {
	if len(v.Rollups) == 0 {
		b.WriteString("\nRollups: this node serves none\n")
		return
	}
	fmt.Fprintf(b, "\nRollups served by this node (%d)\n", len(v.Rollups))
	for _, r := range v.Rollups {
		rpc := r.RPCURL
		if rpc == "" {
			rpc = "(no RPC)"
		}
		fmt.Fprintf(b, "  %s  EVM chain id %d  JSON-RPC %s\n", r.Name, r.EVMChainID, rpc)
		fmt.Fprintf(b, "    Weft height %d  blocks: latest %d, safe %d (Weft %d), finalized %d (Weft %d)\n",
			r.WeftHeight, r.Latest, r.Safe, r.SafeWeftHeight, r.Finalized, r.FinalizedWeftHeight)
		s := r.Settlement
		if s == nil {
			b.WriteString("    not settled by this node\n")
			continue
		}
		fmt.Fprintf(b, "    L1 inbox %s  batcher %s  deposit relayer %s\n", s.Inbox, onOff(s.Batcher), onOff(s.Relayer))
		if s.L1Error != "" {
			fmt.Fprintf(b, "    L1 unreachable: %s\n", s.L1Error)
			continue
		}
		if s.Batcher {
			fmt.Fprintf(b, "    settlement lag %s\n", r.SettlementLag)
		}
		fmt.Fprintf(b, "    batches posted %d (to Weft height %d)  pending: %d batches, %d frames on L1\n",
			s.BatchesPosted, s.PostedWeftHeight, s.PendingBatches, s.PendingFrames)
		if s.LastPostL1Block > 0 {
			fmt.Fprintf(b, "    last post L1 block %d at %s (%s ago), final %s, challenge window %s\n",
				s.LastPostL1Block, s.LastPost, s.LastPostAge, yesNo(s.LastPostFinal), s.ChallengeWindow)
		} else {
			b.WriteString("    last post: never\n")
		}
		fmt.Fprintf(b, "    deposits: %d made on L1, %d credited, %d waiting\n", s.DepositsL1, s.DepositsCredited, s.DepositsWaiting)
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
