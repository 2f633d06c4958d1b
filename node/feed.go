package node

import (
	"bytes"
	"context"
	"fmt"
	"time"

	cmtp2p "github.com/cometbft/cometbft/p2p"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/weftnet/weft/p2p"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

// FeedConfig is the [feed] section of weft.toml: the gossipsub host that
// publishes every committed rollup slice to rollup nodes.
type FeedConfig struct {
	// ListenAddr is a libp2p multiaddr, e.g. "/ip4/127.0.0.1/udp/26604/quic-v1";
	// empty disables the feed.
	ListenAddr string `toml:"listen_addr"`
	// Peers are other nodes' feed addresses (multiaddrs with /p2p/ID).
	Peers []string `toml:"peers"`
}

// startFeed starts the feed host and a publisher that gossips each
// committed block's slice of every registered rollup.
func (n *Node) startFeed() error {
	fc := n.wcfg.Feed
	if fc.ListenAddr == "" {
		return nil
	}
	nk, err := cmtp2p.LoadNodeKey(n.ccfg.NodeKeyFile())
	if err != nil {
		return err
	}
	key, err := p2p.FeedKey(nk.PrivKey)
	if err != nil {
		return err
	}
	var peers []peer.AddrInfo
	for _, a := range fc.Peers {
		pi, err := peer.AddrInfoFromString(a)
		if err != nil {
			return fmt.Errorf("weft.toml feed.peers %q: %w", a, err)
		}
		peers = append(peers, *pi)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f, err := p2p.NewFeed(ctx, key, []string{fc.ListenAddr}, peers)
	if err != nil {
		cancel()
		return err
	}
	n.feed, n.feedCancel, n.feedDone = f, cancel, make(chan struct{})
	go n.publishSlices(ctx, peers)
	n.log.Info("rollup feed started", "addrs", fmt.Sprint(f.Addrs()))
	return nil
}

// checkSlice validates a gossiped slice against this node's own block.
func (n *Node) checkSlice(s *weftv1.RollupSlice) p2p.Verdict {
	if s.Height > n.Committed() {
		return p2p.Ignore
	}
	b, err := n.loadBlock(s.Height)
	if err != nil {
		return p2p.Ignore
	}
	if !bytes.Equal(b.Hash(), s.BlockHash) || rollups.VerifySlice(s, b.DataHash) != nil {
		return p2p.Reject
	}
	return p2p.Accept
}

func (n *Node) publishSlices(ctx context.Context, peers []peer.AddrInfo) {
	defer close(n.feedDone)
	chainID := n.app.ChainID()
	validated := map[rollups.ID]bool{}
	h := n.Committed() + 1
	redial := time.NewTicker(10 * time.Second)
	defer redial.Stop()
	for {
		next := n.CommitNotify()
		rs, err := n.app.Rollups()
		if err != nil {
			n.log.Error("feed: list rollups", "err", err)
		}
		for _, r := range rs {
			id, _ := rollups.IDFromBytes(r.Id)
			if !validated[id] {
				if err := n.feed.Validate(chainID, id, n.checkSlice); err != nil {
					n.log.Error("feed: register validator", "rollup", r.Name, "err", err)
				}
				validated[id] = true
			}
		}
		for committed := n.Committed(); h <= committed; h++ {
			for _, r := range rs {
				id, _ := rollups.IDFromBytes(r.Id)
				s, err := n.Slice(h, id)
				if err != nil {
					n.log.Error("feed: slice", "height", h, "rollup", r.Name, "err", err)
					continue
				}
				if err := n.feed.Publish(ctx, chainID, s); err != nil && ctx.Err() == nil {
					n.log.Warn("feed: publish", "height", h, "rollup", r.Name, "err", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-next:
		case <-redial.C:
			for _, p := range peers {
				go func(p peer.AddrInfo) { _ = n.feed.Connect(ctx, p) }(p)
			}
		}
	}
}

func (n *Node) stopFeed() {
	if n.feed == nil {
		return
	}
	n.feedCancel()
	<-n.feedDone
	_ = n.feed.Close()
	n.feed = nil
}

// FeedAddrs are the feed host's addresses (nil when the feed is off).
func (n *Node) FeedAddrs() []string {
	if n.feed == nil {
		return nil
	}
	var out []string
	for _, a := range n.feed.Addrs() {
		out = append(out, a.String())
	}
	return out
}
