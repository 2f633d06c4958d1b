package p2p

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	cmtcrypto "github.com/cometbft/cometbft/crypto"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

// MaxSliceMessage bounds one gossiped slice (a full block of one rollup).
const MaxSliceMessage = 16 << 20

// FeedTopic is the gossipsub topic carrying rollup id's committed slices on
// chain chainID.
func FeedTopic(chainID string, id rollups.ID) string {
	return "/weft/" + chainID + "/rollup/" + id.String() + "/slices/v1"
}

// FeedKey derives the feed host's libp2p key from the node key. It differs
// from the key CometBFT's own libp2p host uses, so the two hosts of one node
// never claim the same peer id.
func FeedKey(nodeKey cmtcrypto.PrivKey) (crypto.PrivKey, error) {
	seed := sha256.Sum256(append([]byte("weft/feed/v1"), nodeKey.Bytes()...))
	k, _, err := crypto.GenerateEd25519Key(&seedReader{seed: seed[:]})
	return k, err
}

type seedReader struct {
	seed []byte
	off  int
}

func (r *seedReader) Read(p []byte) (int, error) {
	n := copy(p, r.seed[r.off:])
	r.off += n
	if n < len(p) {
		return n, errors.New("seed exhausted")
	}
	return n, nil
}

// Feed is the node's own libp2p host speaking gossipsub: the rollup slice
// topics (nodes publish every committed slice, rollup nodes subscribe and
// verify) and the validators' transaction topic (see TxGossip). Every peer's
// gossip is metered and judged by a Standing table: a peer over its budget
// has its RPCs dropped unread, one that keeps sending invalid messages is
// banned (RPCs dropped, connections closed, new ones refused).
type Feed struct {
	host host.Host
	ps   *pubsub.PubSub
	now  func() time.Time

	mu     sync.Mutex
	topics map[string]*pubsub.Topic

	smu      sync.Mutex
	standing *Standing
	counts   StandingStats // drop and refusal counters (Bans, Peers filled by Stats)

	trace msgTracer
}

// FeedOption configures NewFeed.
type FeedOption func(*feedOptions)

type feedOptions struct {
	standing StandingConfig
	now      func() time.Time
}

// WithStanding sets the per-peer gossip budget and ban policy.
func WithStanding(c StandingConfig) FeedOption { return func(o *feedOptions) { o.standing = c } }

// WithClock injects the clock Standing is driven by (tests).
func WithClock(now func() time.Time) FeedOption { return func(o *feedOptions) { o.now = now } }

// NewFeed starts a feed host listening on listen (multiaddrs; none for a
// client-only follower) and connects to peers.
func NewFeed(ctx context.Context, key crypto.PrivKey, listen []string, peers []peer.AddrInfo, opts ...FeedOption) (*Feed, error) {
	o := feedOptions{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	f := &Feed{now: o.now, topics: map[string]*pubsub.Topic{}, standing: NewStanding(o.standing)}
	lopts := []libp2p.Option{libp2p.Identity(key), libp2p.UserAgent("weft-feed"), libp2p.ConnectionGater(gater{f})}
	if len(listen) > 0 {
		lopts = append(lopts, libp2p.ListenAddrStrings(listen...))
	} else {
		lopts = append(lopts, libp2p.NoListenAddrs)
	}
	h, err := libp2p.New(lopts...)
	if err != nil {
		return nil, fmt.Errorf("feed host: %w", err)
	}
	ps, err := pubsub.NewGossipSub(ctx, h,
		// Messages are neither signed nor authored: what they carry proves
		// itself (a slice is checked against the receiver's own block and
		// a light-client-verified header, a tx carries its sender's
		// signature), so an ed25519 signature per message would only cost
		// CPU. Peers are judged as the direct sender of each RPC (inspect,
		// invalid). Messages are identified by their content.
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithMaxMessageSize(MaxSliceMessage),
		pubsub.WithPeerExchange(true),
		// A node's own messages go straight to every peer of the topic, not
		// only its mesh: the validators are few and want each other's txs
		// (and followers their slices) one hop away.
		pubsub.WithFloodPublish(true),
		pubsub.WithAppSpecificRpcInspector(f.inspect),
		// Messages wait here for a validation worker; when it is full they
		// are dropped unvalidated. gossipsub's default (32) is too small
		// for a validator taking tx batches from every peer under load;
		// each peer's share is bounded by its budget (inspect) first.
		pubsub.WithValidateQueueSize(1024),
		pubsub.WithRawTracer(&f.trace),
	)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("gossipsub: %w", err)
	}
	f.host, f.ps = h, ps
	for _, p := range peers {
		h.Peerstore().AddAddrs(p.ID, p.Addrs, 1<<62)
		go func(p peer.AddrInfo) { _ = h.Connect(ctx, p) }(p)
	}
	return f, nil
}

// messageID identifies a message by its topic and content:
// sha256(topic || 0 || data).
func messageID(m *pb.Message) string {
	h := sha256.New()
	h.Write([]byte(m.GetTopic()))
	h.Write([]byte{0})
	h.Write(m.GetData())
	return string(h.Sum(nil))
}

// errDropped is what the RPC inspector returns for an RPC it drops.
var errDropped = errors.New("dropped by peer standing")

// inspect runs in gossipsub's event loop for every incoming RPC, before
// anything else looks at it: it charges the RPC's published messages to
// the sender's budget and drops the RPC of a peer over budget or banned.
func (f *Feed) inspect(from peer.ID, rpc *pubsub.RPC) error {
	n, bytes := len(rpc.GetPublish()), 0
	for _, m := range rpc.GetPublish() {
		bytes += len(m.GetData())
	}
	f.smu.Lock()
	a := f.standing.Admit(from, n, bytes, f.now())
	switch a {
	case OverRate:
		f.counts.DroppedOver++
	case Banned:
		f.counts.DroppedBanned++
	}
	f.smu.Unlock()
	if a == Banned {
		f.disconnect(from)
	}
	if a != Admitted {
		return errDropped
	}
	return nil
}

// invalid records an invalid message from peer p and bans it once its
// penalty reaches the limit.
func (f *Feed) invalid(p peer.ID) { f.judge(p, (*Standing).Invalid) }

// useless charges p for known and useless txs it sent (TxGossip).
func (f *Feed) useless(p peer.ID, known, useless int) {
	if known == 0 && useless == 0 {
		return
	}
	f.judge(p, func(s *Standing, p peer.ID, now time.Time) bool { return s.Useless(p, known, useless, now) })
}

func (f *Feed) judge(p peer.ID, charge func(*Standing, peer.ID, time.Time) bool) {
	if p == f.host.ID() {
		return
	}
	f.smu.Lock()
	banned := charge(f.standing, p, f.now())
	f.smu.Unlock()
	if banned {
		f.disconnect(p)
	}
}

func (f *Feed) disconnect(p peer.ID) {
	if f.host.Network().Connectedness(p) == network.Connected {
		go func() { _ = f.host.Network().ClosePeer(p) }()
	}
}

// IsBanned reports whether p is banned now.
func (f *Feed) IsBanned(p peer.ID) bool {
	f.smu.Lock()
	defer f.smu.Unlock()
	return f.standing.IsBanned(p, f.now())
}

// Penalty is p's current penalty (0 for a peer not tracked or banned).
func (f *Feed) Penalty(p peer.ID) float64 {
	f.smu.Lock()
	defer f.smu.Unlock()
	return f.standing.Penalty(p, f.now())
}

// StandingStats are counters of the peer standing table.
type StandingStats struct {
	Bans           int    // peers banned so far
	Peers          int    // peers tracked
	DroppedOver    uint64 // RPCs dropped over budget
	DroppedBanned  uint64 // RPCs dropped from banned peers
	RefusedConnect uint64 // connections refused to banned peers
	// Received counts messages taken in for validation (first copies), and
	// their data bytes; Duplicates the copies dropped as already seen.
	Received, ReceivedBytes    uint64
	Duplicates, DuplicateBytes uint64
}

// Stats returns the standing counters.
func (f *Feed) Stats() StandingStats {
	f.smu.Lock()
	st := f.counts
	st.Bans, st.Peers = f.standing.Bans(), f.standing.Len()
	f.smu.Unlock()
	st.Received, st.ReceivedBytes = f.trace.received.Load(), f.trace.receivedBytes.Load()
	st.Duplicates, st.DuplicateBytes = f.trace.duplicates.Load(), f.trace.duplicateBytes.Load()
	return st
}

// msgTracer counts the messages gossipsub takes in: first copies (each
// validated once) and the duplicates it drops, which cost the transfer and
// decoding all the same.
//
// gossipsub hands raw tracers only messages from other peers, so a node's
// own publications are not counted.
type msgTracer struct {
	received, receivedBytes    atomic.Uint64
	duplicates, duplicateBytes atomic.Uint64
}

func (t *msgTracer) ValidateMessage(m *pubsub.Message) {
	t.received.Add(1)
	t.receivedBytes.Add(uint64(len(m.Data)))
}

func (t *msgTracer) DuplicateMessage(m *pubsub.Message) {
	t.duplicates.Add(1)
	t.duplicateBytes.Add(uint64(len(m.Data)))
}

func (*msgTracer) OnNewOutboundStream(peer.ID, protocol.ID) {}
func (*msgTracer) OnClosedOutboundStream(peer.ID)           {}
func (*msgTracer) Join(string)                              {}
func (*msgTracer) Leave(string)                             {}
func (*msgTracer) Graft(peer.ID, string)                    {}
func (*msgTracer) Prune(peer.ID, string)                    {}
func (*msgTracer) DeliverMessage(*pubsub.Message)           {}
func (*msgTracer) RejectMessage(*pubsub.Message, string)    {}
func (*msgTracer) ThrottlePeer(peer.ID)                     {}
func (*msgTracer) RecvRPC(*pubsub.RPC)                      {}
func (*msgTracer) SendRPC(*pubsub.RPC, peer.ID)             {}
func (*msgTracer) DropRPC(*pubsub.RPC, peer.ID)             {}
func (*msgTracer) UndeliverableMessage(*pubsub.Message)     {}

// gater refuses connections to and from banned peers: dials before any
// address is tried, inbound connections once the peer is known.
type gater struct{ f *Feed }

func (g gater) allow(p peer.ID) bool {
	g.f.smu.Lock()
	defer g.f.smu.Unlock()
	if g.f.standing.IsBanned(p, g.f.now()) {
		g.f.counts.RefusedConnect++
		return false
	}
	return true
}

func (g gater) InterceptPeerDial(p peer.ID) bool                    { return g.allow(p) }
func (g gater) InterceptAddrDial(peer.ID, multiaddr.Multiaddr) bool { return true }
func (g gater) InterceptAccept(network.ConnMultiaddrs) bool         { return true }
func (g gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return g.allow(p)
}
func (g gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// Addrs are the host's dialable addresses with its /p2p/ id.
func (f *Feed) Addrs() []multiaddr.Multiaddr {
	info := peer.AddrInfo{ID: f.host.ID(), Addrs: f.host.Addrs()}
	out, _ := peer.AddrInfoToP2pAddrs(&info)
	return out
}

// ID is the host's peer id.
func (f *Feed) ID() peer.ID { return f.host.ID() }

// Connect dials a peer.
func (f *Feed) Connect(ctx context.Context, p peer.AddrInfo) error { return f.host.Connect(ctx, p) }

func (f *Feed) topic(name string) (*pubsub.Topic, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.topics[name]; ok {
		return t, nil
	}
	t, err := f.ps.Join(name)
	if err != nil {
		return nil, err
	}
	f.topics[name] = t
	return t, nil
}

// Verdict is what a slice check concludes.
type Verdict int

// Verdicts of a slice check.
const (
	Accept Verdict = iota // valid: deliver and relay
	Ignore                // cannot tell yet (e.g. block not known here): drop quietly
	Reject                // invalid: drop, and the sender loses standing
)

// Validate makes the host check every slice of a topic before it relays or
// delivers it: rejected slices are dropped and their senders lose standing
// in gossipsub's peer scoring.
func (f *Feed) Validate(chainID string, id rollups.ID, check func(*weftv1.RollupSlice) Verdict) error {
	return f.ps.RegisterTopicValidator(FeedTopic(chainID, id), func(_ context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		if from == f.host.ID() {
			return pubsub.ValidationAccept // our own slice, cut from our own block
		}
		var s weftv1.RollupSlice
		if err := proto.Unmarshal(m.Data, &s); err != nil {
			f.invalid(from)
			return pubsub.ValidationReject
		}
		switch check(&s) {
		case Accept:
			return pubsub.ValidationAccept
		case Ignore:
			return pubsub.ValidationIgnore
		}
		f.invalid(from)
		return pubsub.ValidationReject
	})
}

// Publish gossips a committed slice.
func (f *Feed) Publish(ctx context.Context, chainID string, s *weftv1.RollupSlice) error {
	id, err := rollups.IDFromBytes(s.RollupId)
	if err != nil {
		return err
	}
	t, err := f.topic(FeedTopic(chainID, id))
	if err != nil {
		return err
	}
	b, err := proto.Marshal(s)
	if err != nil {
		return err
	}
	return t.Publish(ctx, b)
}

// Subscribe returns a subscription to rollup id's slices.
func (f *Feed) Subscribe(chainID string, id rollups.ID) (*pubsub.Subscription, error) {
	t, err := f.topic(FeedTopic(chainID, id))
	if err != nil {
		return nil, err
	}
	return t.Subscribe(pubsub.WithBufferSize(1024))
}

// Slices subscribes to a rollup's slices as raw gossip (feed.FollowGossip
// checks them); Cancel ends the subscription.
func (f *Feed) Slices(chainID string, id rollups.ID) (*SliceSub, error) {
	sub, err := f.Subscribe(chainID, id)
	if err != nil {
		return nil, err
	}
	return &SliceSub{sub: sub}, nil
}

// SliceSub is a subscription to one rollup's slices.
type SliceSub struct{ sub *pubsub.Subscription }

// Next waits for the next slice and returns its bytes and the peer that
// relayed it.
func (s *SliceSub) Next(ctx context.Context) ([]byte, string, error) {
	m, err := s.sub.Next(ctx)
	if err != nil {
		return nil, "", err
	}
	return m.Data, m.ReceivedFrom.String(), nil
}

// Cancel ends the subscription.
func (s *SliceSub) Cancel() { s.sub.Cancel() }

// Peers lists the peers of a rollup's topic.
func (f *Feed) Peers(chainID string, id rollups.ID) []peer.ID {
	return f.ps.ListPeers(FeedTopic(chainID, id))
}

// Close stops the host.
func (f *Feed) Close() error { return f.host.Close() }
