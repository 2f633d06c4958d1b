package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/weftnet/weft/cmd/weft/view"
	"github.com/weftnet/weft/format"
	"github.com/weftnet/weft/p2p"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/feed"
)

// followCmd is `weft follow`: print a rollup's gossiped slices as the
// light client verifies them.
func followCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "follow",
		Short: "Follow a rollup's committed slices over libp2p gossip, each verified against a header the light client verified or one hash-linked to it",
		Args:  cobra.NoArgs,
		RunE:  runFollow,
	}
	cmd.Flags().String("rollup", "", "rollup name")
	cmd.Flags().StringArray("peer", nil, "a node's feed address, /ip4/…/udp/…/quic-v1/p2p/ID (repeatable)")
	cmd.Flags().String("rpc", "", "CometBFT RPC URL the light client reads headers from, e.g. http://127.0.0.1:26601")
	cmd.Flags().StringArray("witness", nil, "more CometBFT RPC URLs the light client cross-checks and headers are fetched from if --rpc fails (repeatable)")
	cmd.Flags().String("chain-id", "", "Weft chain id")
	cmd.Flags().Int64("trust-height", 0, "height of the trusted header (0: block 1 as served by --rpc)")
	cmd.Flags().String("trust-hash", "", "hash of the trusted header")
	cmd.Flags().Duration("trusting-period", 0, "how long a verified header is trusted; must be shorter than the chain's unbonding time (0: 2/3 of app_state.params.staking.unbonding_time from the genesis --rpc serves)")
	cmd.Flags().Int("count", 0, "exit after this many slices (0: run until Ctrl-C)")
	cmd.Flags().Bool("json", false, "the same as --output json: one JSON object per line and slice")
	return addEnvHelp(cmd)
}

// followOpts are the checked flags of `weft follow`.
type followOpts struct {
	name      string
	peers     []peer.AddrInfo
	rpcURL    string
	witnesses []string
	chainID   string
	count     int
	format    view.Format
	root      feed.TrustRoot
}

// followFlags reads and checks the flags of `weft follow`.
func followFlags(cmd *cobra.Command) (*followOpts, error) {
	f := cmd.Flags()
	name, _ := f.GetString("rollup")
	peers, _ := f.GetStringArray("peer")
	rpcURL, _ := f.GetString("rpc")
	witnesses, _ := f.GetStringArray("witness")
	chainID, _ := f.GetString("chain-id")
	count, _ := f.GetInt("count")
	asJSON, _ := f.GetBool("json")
	vf, err := outputFormat(cmd)
	if err != nil {
		return nil, err
	}
	if asJSON {
		vf = view.JSON
	}
	trustHeight, _ := f.GetInt64("trust-height")
	trustHash, _ := f.GetString("trust-hash")
	trustingPeriod, _ := f.GetDuration("trusting-period")
	if err := rollups.ValidateName(name); err != nil {
		return nil, fmt.Errorf("--rollup: %w", err)
	}
	if len(peers) == 0 || rpcURL == "" || chainID == "" {
		return nil, fmt.Errorf("--peer (a node's feed address), --rpc (a CometBFT RPC URL for headers) and --chain-id are required")
	}
	var infos []peer.AddrInfo
	for _, p := range peers {
		pi, err := peer.AddrInfoFromString(p)
		if err != nil {
			return nil, fmt.Errorf("--peer %q: %w", p, err)
		}
		infos = append(infos, *pi)
	}
	root := feed.TrustRoot{Height: trustHeight, Period: trustingPeriod}
	if trustHash != "" {
		b, err := hex.DecodeString(strings.TrimPrefix(trustHash, "0x"))
		if err != nil {
			return nil, fmt.Errorf("--trust-hash: %w", err)
		}
		root.Hash = b
	}
	return &followOpts{name: name, peers: infos, rpcURL: rpcURL, witnesses: witnesses, chainID: chainID, count: count, format: vf, root: root}, nil
}

// runFollow starts the light client and the gossip feed and prints each
// verified slice until --count slices, Ctrl-C or an error.
func runFollow(cmd *cobra.Command, _ []string) error {
	o, err := followFlags(cmd)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	headers, err := feed.NewHeaders(ctx, o.chainID, o.rpcURL, o.witnesses, o.root)
	if err != nil {
		return err
	}
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		return err
	}
	fh, err := p2p.NewFeed(ctx, key, nil, o.peers)
	if err != nil {
		return err
	}
	defer fh.Close()
	fmt.Fprintf(os.Stderr, "following rollup %s on %s; light client trusts %s\n", o.name, o.chainID, headers.TrustedRoot())
	id := rollups.IDFromName(o.name)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr := &slicePrinter{out: cmd.OutOrStdout(), format: o.format, count: o.count, cancel: cancel}
	slices, err := fh.Slices(o.chainID, id)
	if err != nil {
		return err
	}
	defer slices.Cancel()
	if err := feed.FollowGossip(ctx, slices, id, headers, pr.print); err != nil {
		return err
	}
	if pr.bad != nil {
		return fmt.Errorf("some slices failed verification; last: %w", pr.bad)
	}
	return nil
}

// slicePrinter prints the slices `weft follow` receives and cancels the
// feed after count of them (0: never).
type slicePrinter struct {
	out    io.Writer
	format view.Format
	count  int
	cancel context.CancelFunc
	seen   int
	bad    error // the last verification error
}

// print prints one slice, as a text or JSON line, and records a
// verification error.
func (p *slicePrinter) print(v feed.Verified) error {
	line := view.Slice{Height: v.Slice.Height, Items: len(v.Slice.Items), Verified: v.Err == nil, TxHashes: []string{}}
	for _, it := range v.Slice.Items {
		line.TxHashes = append(line.TxHashes, format.Hex(it.TxHash))
	}
	if v.Err != nil {
		line.Error = v.Err.Error()
		p.bad = v.Err
	}
	if err := view.PrintLine(p.out, p.format, line); err != nil {
		return err
	}
	p.seen++
	if p.count > 0 && p.seen >= p.count {
		p.cancel()
	}
	return nil
}
