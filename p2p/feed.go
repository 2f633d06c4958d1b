package p2p

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	cmtcrypto "github.com/cometbft/cometbft/crypto"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
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

// Feed is a libp2p host speaking gossipsub for rollup slice topics: nodes
// publish every committed slice, rollup nodes subscribe and verify.
type Feed struct {
	host host.Host
	ps   *pubsub.PubSub

	mu     sync.Mutex
	topics map[string]*pubsub.Topic
}

// NewFeed starts a feed host listening on listen (multiaddrs; none for a
// client-only follower) and connects to peers.
func NewFeed(ctx context.Context, key crypto.PrivKey, listen []string, peers []peer.AddrInfo) (*Feed, error) {
	opts := []libp2p.Option{libp2p.Identity(key), libp2p.UserAgent("weft-feed")}
	if len(listen) > 0 {
		opts = append(opts, libp2p.ListenAddrStrings(listen...))
	} else {
		opts = append(opts, libp2p.NoListenAddrs)
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("feed host: %w", err)
	}
	ps, err := pubsub.NewGossipSub(ctx, h,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithMaxMessageSize(MaxSliceMessage),
		pubsub.WithPeerExchange(true),
	)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("gossipsub: %w", err)
	}
	f := &Feed{host: h, ps: ps, topics: map[string]*pubsub.Topic{}}
	for _, p := range peers {
		h.Peerstore().AddAddrs(p.ID, p.Addrs, 1<<62)
		go func(p peer.AddrInfo) { _ = h.Connect(ctx, p) }(p)
	}
	return f, nil
}

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
	return f.ps.RegisterTopicValidator(FeedTopic(chainID, id), func(_ context.Context, _ peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		var s weftv1.RollupSlice
		if err := proto.Unmarshal(m.Data, &s); err != nil {
			return pubsub.ValidationReject
		}
		switch check(&s) {
		case Accept:
			return pubsub.ValidationAccept
		case Ignore:
			return pubsub.ValidationIgnore
		}
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

// Peers lists the peers of a rollup's topic.
func (f *Feed) Peers(chainID string, id rollups.ID) []peer.ID {
	return f.ps.ListPeers(FeedTopic(chainID, id))
}

// Close stops the host.
func (f *Feed) Close() error { return f.host.Close() }
