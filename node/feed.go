package node

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	cmtp2p "github.com/cometbft/cometbft/p2p"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/weftnet/weft/mempool"
	"github.com/weftnet/weft/p2p"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// FeedConfig is the [feed] section of weft.toml: the gossipsub host that
// publishes every committed rollup slice to rollup nodes.
type FeedConfig struct {
	// ListenAddr is a libp2p multiaddr, e.g. "/ip4/127.0.0.1/udp/26604/quic-v1";
	// empty disables the feed.
	ListenAddr string `toml:"listen_addr"`
	// Peers are other nodes' feed addresses (multiaddrs with /p2p/ID).
	Peers []string `toml:"peers"`
	// PeerRateBytes and PeerRateMsgs are each peer's sustained gossip budget
	// per second (published bytes, messages); 0 takes the defaults of
	// p2p.DefaultStandingConfig. A peer over budget has its messages dropped.
	PeerRateBytes float64 `toml:"peer_rate_bytes"`
	PeerRateMsgs  float64 `toml:"peer_rate_msgs"`
	// TxBatchInterval is how often the txs clients submitted are published
	// to the other validators, as one batch ("20ms"); 0 takes
	// DefaultTxBatchInterval. Longer batches cost fewer messages per tx
	// and add up to one interval of latency.
	TxBatchInterval time.Duration `toml:"tx_batch_interval"`
}

// DefaultTxBatchInterval is feed.tx_batch_interval's default.
const DefaultTxBatchInterval = 20 * time.Millisecond

// maxTxBatchInterval bounds feed.tx_batch_interval: past it, gossip delay
// would dominate the block interval.
const maxTxBatchInterval = time.Second

func (c FeedConfig) txBatchInterval() time.Duration {
	if c.TxBatchInterval == 0 {
		return DefaultTxBatchInterval
	}
	return c.TxBatchInterval
}

// validate checks the [feed] section.
func (c FeedConfig) validate() error {
	if c.PeerRateBytes < 0 || c.PeerRateMsgs < 0 {
		return fmt.Errorf("feed.peer_rate_bytes and feed.peer_rate_msgs must not be negative")
	}
	if c.TxBatchInterval < 0 || c.TxBatchInterval > maxTxBatchInterval {
		return fmt.Errorf("feed.tx_batch_interval must be between 0 (default %v) and %v, got %v", DefaultTxBatchInterval, maxTxBatchInterval, c.TxBatchInterval)
	}
	for _, a := range c.Peers {
		if _, err := peer.AddrInfoFromString(a); err != nil {
			return fmt.Errorf("feed.peers %q: %w", a, err)
		}
	}
	return nil
}

// gossipsTxs reports whether the node exchanges txs with the other
// validators on Weft's tx topic (it runs a feed host) rather than on
// CometBFT's mempool channel.
func (c FeedConfig) gossipsTxs() bool { return c.ListenAddr != "" }

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
	f, err := p2p.NewFeed(ctx, key, []string{fc.ListenAddr}, peers,
		p2p.WithStanding(p2p.StandingConfig{RateBytes: fc.PeerRateBytes, RateMsgs: fc.PeerRateMsgs}))
	if err != nil {
		cancel()
		return err
	}
	g, err := f.GossipTxs(ctx, n.cmt.GenesisDoc().ChainID, n.insertGossiped, p2p.WithKnownTxs(n.knownTx))
	if err != nil {
		cancel()
		f.Close()
		return err
	}
	n.feed, n.txg, n.feedCancel, n.feedDone = f, g, cancel, make(chan struct{})
	n.txgDone = make(chan struct{})
	n.gossipFeed.Store(f)
	go n.publishSlices(ctx, peers)
	go n.publishTxs(ctx)
	n.log.Info("rollup feed started", "addrs", fmt.Sprint(f.Addrs()))
	return nil
}

// checkSlice validates a gossiped slice against this node's own block.
func (n *Node) checkSlice(s *weftv1.RollupSlice) p2p.Verdict {
	if s.Height > n.Committed() {
		return p2p.Ignore
	}
	// The block split by rollup is cached (this node publishes its own
	// slices from it): no block is loaded and decoded per gossiped slice.
	bs, err := n.splitter.Block(s.Height)
	if err != nil {
		return p2p.Ignore
	}
	if !bytes.Equal(bs.Hash, s.BlockHash) || rollups.VerifySlice(s, bs.DataHash) != nil {
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
		rs, err := n.app.Reader().Rollups()
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
				// Gossipsub delivers a slice only to peers subscribed to
				// its topic when it is published: with none, building it
				// (loading and splitting the block) would be wasted.
				if len(n.feed.Peers(chainID, id)) == 0 {
					continue
				}
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

// knownTx reports whether a gossiped tx is pending here or committed, by
// its hash alone: a peer replaying known txs costs a lookup each, no
// decoding and no signature recovery.
func (n *Node) knownTx(h [32]byte) bool {
	return n.app.Mempool().Has(h) || n.app.Reader().TxResult(h) != nil
}

// insertGossiped hands a tx from the tx topic to the mempool and tells the
// topic what the sender deserves.
func (n *Node) insertGossiped(raw []byte) p2p.TxResult {
	if n.app.ChainID() == "" {
		return p2p.TxIgnored // not initialised yet: cannot judge
	}
	_, rej := n.app.Submit(raw, false)
	if rej == nil {
		return p2p.TxAccepted
	}
	return gossipVerdict(rej)
}

// gossipVerdict is what a tx a peer relayed and the app rejected with rej
// says of that peer. Honest peers relay only txs their own mempool took, so
// a tx that can never be valid, or whose fee its sender cannot pay, is a
// fault; a tx the state here refuses (a nonce used or too far ahead, a
// balance spent by pending txs, an underpriced replacement) brought
// nothing; one refused for this node's own reasons costs the peer nothing.
func gossipVerdict(rej *txcodec.Rejection) p2p.TxResult {
	switch {
	case txcodec.PeerFault(rej.Code) || cannotPay(rej):
		return p2p.TxInvalid
	case rej.Code == txcodec.CodeAlreadyKnown:
		return p2p.TxKnown
	case rej.Code == txcodec.CodeMempoolFull || rej.Code == txcodec.CodeNotAccepting:
		return p2p.TxIgnored
	}
	return p2p.TxUseless
}

// cannotPay reports whether rej says the sender's balance does not cover
// even the tx's fee (mempool.ErrCannotPay). The app reports it as
// insufficient funds; its log names the mempool's error.
func cannotPay(rej *txcodec.Rejection) bool {
	return rej.Code == txcodec.CodeInsufficientFunds && strings.Contains(rej.Log, mempool.ErrCannotPay.Error())
}

// restoredGossipRate is how many txs a second a node publishes again, after
// a restart, of those its mempool restored from the journal (what the
// gossip queue holds when the feed starts). Its peers received nearly all
// of them before the restart, and each known tx costs the publisher
// standing at every peer (p2p.StandingConfig.KnownPenalty): at 100 a
// second, a restored journal all known to the peers costs 0.5 points a
// second, less than half the rate that could ever get the node banned, however large
// the journal. The few txs a peer lacks (acknowledged in the last batch
// interval before a crash, or lost by a peer that restarted too) reach it
// later; this node includes them in its own proposals meanwhile.
const restoredGossipRate = 100

// publishTxs publishes the txs clients submitted to this node on the tx
// topic, in batches, every feed.tx_batch_interval, and the txs restored
// from the journal at restoredGossipRate.
func (n *Node) publishTxs(ctx context.Context) {
	defer close(n.txgDone)
	interval := n.wcfg.Feed.txBatchInterval()
	restored := n.app.TakeGossip(0)
	perTick := max(1, int(restoredGossipRate*interval/time.Second))
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if len(restored) > 0 {
			k := min(perTick, len(restored))
			n.publish(ctx, restored[:k])
			restored = restored[k:]
		}
		for {
			txs := n.app.TakeGossip(p2p.MaxTxBatchBytes)
			if len(txs) == 0 {
				break
			}
			n.publish(ctx, txs)
		}
	}
}

func (n *Node) publish(ctx context.Context, txs [][]byte) {
	if err := n.txg.Publish(ctx, txs); err != nil && ctx.Err() == nil {
		// The txs stay in this node's mempool: it includes them when it
		// proposes, only the other proposers miss them.
		n.log.Warn("tx gossip: publish", "txs", len(txs), "err", err)
	}
}

// GossipStats are the feed host's peer-standing counters (zero without a feed).
func (n *Node) GossipStats() p2p.StandingStats {
	f := n.gossipFeed.Load()
	if f == nil {
		return p2p.StandingStats{}
	}
	return f.Stats()
}

func (n *Node) stopFeed() {
	if n.feed == nil {
		return
	}
	n.feedCancel()
	<-n.feedDone
	<-n.txgDone
	_ = n.txg.Close()
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
