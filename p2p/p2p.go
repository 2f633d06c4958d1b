package p2p

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"sync"
	"time"

	"github.com/cometbft/cometbft/blocksync"
	"github.com/cometbft/cometbft/config"
	cmtcrypto "github.com/cometbft/cometbft/crypto"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/lp2p"
	cmtp2p "github.com/cometbft/cometbft/p2p"
	bcproto "github.com/cometbft/cometbft/proto/tendermint/blocksync"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// PeerID returns the libp2p peer id of the node whose CometBFT node key is
// key: the same key signs libp2p handshakes, so the id is stable across
// restarts and known before the node starts.
func PeerID(key cmtcrypto.PrivKey) (peer.ID, error) {
	pk, err := lp2p.PrivateKeyFromCosmosKey(key)
	if err != nil {
		return "", fmt.Errorf("libp2p identity: %w", err)
	}
	return peer.IDFromPrivateKey(pk)
}

// Peer is another node to bootstrap from.
type Peer struct {
	// Host is the peer's p2p "ip:port" (QUIC over UDP when libp2p is on).
	Host string
	ID   peer.ID
	// NodeID is the CometBFT node id, used by the classic transport.
	NodeID string
}

// ConfigureTransport turns CometBFT's libp2p transport on or off and sets
// the bootstrap peers. Validators of one network are persistent peers of each
// other so the transport redials them after a restart.
func ConfigureTransport(cfg *config.P2PConfig, libp2p bool, peers []Peer) error {
	cfg.LibP2PConfig.Enabled = libp2p
	cfg.LibP2PConfig.BootstrapPeers = nil
	cfg.PersistentPeers = ""
	for i, p := range peers {
		if _, _, err := net.SplitHostPort(p.Host); err != nil {
			return fmt.Errorf("bootstrap peer %q: %w", p.Host, err)
		}
		if i > 0 {
			cfg.PersistentPeers += ","
		}
		cfg.PersistentPeers += p.NodeID + "@" + p.Host
		cfg.LibP2PConfig.BootstrapPeers = append(cfg.LibP2PConfig.BootstrapPeers, config.LibP2PBootstrapPeer{
			Host: p.Host, ID: p.ID.String(), Persistent: true,
		})
	}
	return cfg.LibP2PConfig.ValidateBasic()
}

// lp2pReactors are the reactors CometBFT's node puts on its libp2p switch,
// in the switch's order (cometbft node/node.go, NewNode): peers are
// initialised, added and removed in this order.
var lp2pReactors = []string{"MEMPOOL", "BLOCKSYNC", "CONSENSUS", "EVIDENCE", "STATESYNC"}

// lp2pRedialEvery is how often a persistent peer with no connection is
// dialled again.
const lp2pRedialEvery = time.Second

// SupervisePeers works around a liveness bug of CometBFT v0.40.0's libp2p
// switch (lp2p, "experimental"); docs/lp2p.md has the whole story. Call it
// once the CometBFT node has started, with its switch; it stops by itself
// when the switch stops. It does nothing for the classic switch.
//
// The lp2p switch creates a peer, and with it each reactor's per-peer state
// (the consensus reactor's PeerState: the peer's height, round, step and
// which votes and block parts it has), only when it first hears from or
// dials that peer id, and removes it only after a failed dial
// (lp2p/peer.go handleSendErr). A peer whose libp2p connection dies and
// comes back (the process restarted, a partition healed, QUIC's idle
// timeout) keeps the old Peer, so:
//   - AddPeer never runs again, and the consensus reactor never sends the
//     restarted peer our NewRoundStep: that peer never learns our height and
//     gossips us nothing;
//   - our PeerState still says the peer holds the votes and block parts we
//     wrote into the dead connection (a stream write succeeds locally on a
//     QUIC connection that has not timed out yet; what a restarted peer
//     gets on it is lost), so we never send them again.
//
// With the quorum lost and no +2/3 of any prevote, no timeout fires, so no
// new step message ever repairs it: the chain stops for good.
//
// SupervisePeers watches the connections of the switch's libp2p host and:
//   - when a peer opens a connection more than replacedAfter after one we
//     hold, closes the older one first (see staleConns);
//   - when a new connection to a known peer opens (or one of several
//     closes), replaces the peer in the switch with a fresh one: every
//     reactor's RemovePeer, then InitPeer (a fresh PeerState) before any
//     stream on the new connection is read, then AddPeer (our round state
//     is sent, gossip starts again) and a block sync StatusRequest — what
//     the classic switch does on every reconnection;
//   - when a connection opens to a configured bootstrap peer the switch
//     dropped, adds it back at once instead of after the switch's own
//     backoff (up to 5 minutes);
//   - dials persistent bootstrap peers that have no connection every
//     second, clearing libp2p's dial backoff first: the lp2p switch redials
//     only after a failed send, and a stalled consensus sends nothing.
//
// The switch does not expose its libp2p host; SupervisePeers reads the
// field by reflection and fails, rather than run without the workaround,
// if the switch's layout changed (a CometBFT upgrade must revisit this).
func SupervisePeers(sw cmtp2p.Switcher) error {
	lsw, ok := sw.(*lp2p.Switch)
	if !ok {
		return nil
	}
	host, err := switchHost(lsw)
	if err != nil {
		return err
	}
	peers, ok := lsw.Peers().(*lp2p.PeerSet)
	if !ok {
		return fmt.Errorf("lp2p switch workaround: peer set is a %T, not *lp2p.PeerSet", lsw.Peers())
	}
	s := &peerSupervisor{sw: lsw, host: host, peers: peers, log: lsw.Log().With("module", "lp2p-supervisor"),
		dialing: map[peer.ID]bool{}, closing: map[network.Conn]bool{}}
	for _, name := range lp2pReactors {
		if r, ok := lsw.Reactor(name); ok {
			s.reactors = append(s.reactors, r)
			s.blocksync = s.blocksync || name == "BLOCKSYNC"
		}
	}
	nb := &network.NotifyBundle{ConnectedF: s.connected, DisconnectedF: s.disconnected}
	host.Network().Notify(nb)
	go s.redial(nb)
	return nil
}

// switchHost returns the libp2p host of CometBFT's lp2p switch (the
// unexported field Switch.host, lp2p/switch.go).
func switchHost(sw *lp2p.Switch) (*lp2p.Host, error) {
	f := reflect.ValueOf(sw).Elem().FieldByName("host")
	if !f.IsValid() || f.Type() != reflect.TypeOf((*lp2p.Host)(nil)) {
		return nil, fmt.Errorf("lp2p switch workaround: CometBFT's lp2p.Switch has no field host *lp2p.Host any more; " +
			"check whether the reconnection bug in docs/lp2p.md is fixed upstream and update p2p.SupervisePeers")
	}
	h := (*lp2p.Host)(f.UnsafePointer())
	if h == nil {
		return nil, fmt.Errorf("lp2p switch workaround: the switch has no host")
	}
	return h, nil
}

type peerSupervisor struct {
	sw        *lp2p.Switch
	host      *lp2p.Host
	peers     *lp2p.PeerSet
	reactors  []cmtp2p.Reactor
	blocksync bool // the switch has the block sync reactor
	log       cmtlog.Logger

	mu      sync.Mutex
	dialing map[peer.ID]bool
	closing map[network.Conn]bool // replaced connections being closed
}

// replacedAfter: a connection that opens more than this after another one
// to the same peer replaces it (see staleConns). Both peers dialling each
// other at once open two connections within one redial period
// (lp2pRedialEvery) plus a handshake; a restarted process takes longer.
const replacedAfter = 3 * time.Second

// staleConns returns the connections of conns (all to one peer) that fresh
// replaces: those opened more than after before it. A peer opens a new
// connection while we hold one only when it has no use for the old one —
// it restarted, or its side of the connection died — and for a while we
// cannot tell: a QUIC connection to a dead peer looks open until its idle
// timeout (30 s), and libp2p sends on the connection with the most open
// streams, which is the dead one (every message written to the peer while
// it was down left a stream open there). Messages then wait on it for
// seconds and arrive out of order once it closes, or are lost. Seen in
// Weft's soaks (docs/lp2p.md): a restarted validator's peers kept sending
// on its old connections for 6 s.
func staleConns(conns []network.Conn, fresh network.Conn, after time.Duration) []network.Conn {
	var out []network.Conn
	for _, c := range conns {
		if c != fresh && !c.IsClosed() && c.Stat().Opened.Add(after).Before(fresh.Stat().Opened) {
			out = append(out, c)
		}
	}
	return out
}

// connected runs in libp2p's notification, before any stream of c is
// handled, so the fresh peer state is in place for the first message the
// new connection carries.
func (s *peerSupervisor) connected(_ network.Network, c network.Conn) {
	if !s.sw.IsRunning() {
		return
	}
	id := c.RemotePeer()
	for _, stale := range staleConns(s.host.Network().ConnsToPeer(id), c, replacedAfter) {
		s.mu.Lock()
		s.closing[stale] = true
		s.mu.Unlock()
		s.log.Info("Closing a connection the peer replaced", "peer_id", id.String(),
			"opened", stale.Stat().Opened.UTC().Format(time.RFC3339Nano), "streams", len(stale.GetStreams()))
		// Closed before the reset below sends anything, or that would go
		// to the old connection too (swarm allows Close in a notification).
		_ = stale.Close()
	}
	if old, ok := s.peers.Get(cmtp2p.ID(id.String())).(*lp2p.Peer); ok {
		s.reset(old, "new connection")
		return
	}
	if bp, ok := s.host.BootstrapPeer(id); ok {
		s.add(bp.AddrInfo, bp.Private, bp.Persistent, bp.Unconditional)
	}
}

// disconnected resets a peer that still has another connection: what was
// written to the closed one is lost. A peer left with no connection is
// reset when one opens again (see redial).
func (s *peerSupervisor) disconnected(n network.Network, c network.Conn) {
	if !s.sw.IsRunning() {
		return
	}
	s.mu.Lock()
	ours := s.closing[c]
	delete(s.closing, c)
	s.mu.Unlock()
	id := c.RemotePeer()
	if ours || n.Connectedness(id) != network.Connected {
		return // a replaced connection: connected has reset the peer
	}
	if old, ok := s.peers.Get(cmtp2p.ID(id.String())).(*lp2p.Peer); ok {
		s.reset(old, "one of its connections closed")
	}
}

// reset replaces old in the switch by a fresh peer with the same flags.
func (s *peerSupervisor) reset(old *lp2p.Peer, reason string) {
	err := s.peers.Remove(old.ID(), lp2p.PeerRemovalOptions{Reason: reason, OnAfterStop: s.removeFromReactors})
	if err != nil {
		return // removed meanwhile; whoever removed it adds it back
	}
	s.log.Info("Reset peer after a connection change", "peer_id", old.ID(), "reason", reason)
	s.add(old.AddrInfo(), old.IsPrivate(), old.IsPersistent(), old.IsUnconditional())
}

// add puts a peer in the switch the way the switch itself does (InitPeer,
// start, AddPeer), except that AddPeer, which sends, runs on its own
// goroutine.
func (s *peerSupervisor) add(ai peer.AddrInfo, private, persistent, unconditional bool) {
	_, err := s.peers.Add(ai, lp2p.PeerAddOptions{
		Private: private, Persistent: persistent, Unconditional: unconditional,
		OnBeforeStart: func(p *lp2p.Peer) {
			for _, r := range s.reactors {
				r.InitPeer(p)
			}
		},
		OnAfterStart: func(p *lp2p.Peer) {
			go func() {
				for _, r := range s.reactors {
					r.AddPeer(p)
				}
				// The block sync pool forgot the peer's range in
				// RemovePeer and learns it again only from the peer's
				// StatusResponse, which the peer sends when asked (every
				// 10 s): ask now, or a node still syncing waits that long.
				if s.blocksync {
					p.Send(cmtp2p.Envelope{ChannelID: blocksync.BlocksyncChannel, Message: &bcproto.StatusRequest{}})
				}
			}()
		},
		OnStartFailed: s.removeFromReactors,
	})
	if err != nil && !errors.Is(err, lp2p.ErrPeerExists) {
		s.log.Error("Failed to add peer", "peer_id", ai.ID.String(), "err", err)
	}
}

func (s *peerSupervisor) removeFromReactors(p *lp2p.Peer, reason any) {
	for _, r := range s.reactors {
		r.RemovePeer(p, reason)
	}
}

// redial dials, every lp2pRedialEvery, each persistent bootstrap peer that
// has no connection, until the switch stops.
func (s *peerSupervisor) redial(nb network.Notifiee) {
	tick := time.NewTicker(lp2pRedialEvery)
	defer tick.Stop()
	defer s.host.Network().StopNotify(nb)
	for range tick.C {
		if !s.sw.IsRunning() {
			return
		}
		for id, bp := range s.host.BootstrapPeers() {
			if !bp.Persistent || s.host.Network().Connectedness(id) == network.Connected {
				continue
			}
			s.mu.Lock()
			busy := s.dialing[id]
			s.dialing[id] = true
			s.mu.Unlock()
			if busy {
				continue
			}
			go func() {
				defer func() {
					s.mu.Lock()
					delete(s.dialing, id)
					s.mu.Unlock()
				}()
				if sw, ok := s.host.Network().(*swarm.Swarm); ok {
					sw.Backoff().Clear(id) // the peer is back when it answers, not when backoff says so
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := s.host.Connect(ctx, bp.AddrInfo); err != nil {
					s.log.Debug("Redial failed", "peer_id", id.String(), "err", err)
				}
			}()
		}
	}
}
