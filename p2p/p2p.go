package p2p

import (
	"fmt"
	"net"

	"github.com/cometbft/cometbft/config"
	cmtcrypto "github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/lp2p"
	"github.com/libp2p/go-libp2p/core/peer"
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
