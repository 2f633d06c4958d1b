package p2p

import (
	"testing"

	"github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestIdentitiesAreStableAndDistinct(t *testing.T) {
	nk := ed25519.GenPrivKey()
	id1, err := PeerID(nk)
	if err != nil {
		t.Fatal(err)
	}
	id2, _ := PeerID(nk)
	if id1 != id2 {
		t.Fatal("peer id of one node key changed")
	}
	fk1, err := FeedKey(nk)
	if err != nil {
		t.Fatal(err)
	}
	fk2, _ := FeedKey(nk)
	f1, _ := peer.IDFromPrivateKey(fk1)
	f2, _ := peer.IDFromPrivateKey(fk2)
	if f1 != f2 {
		t.Fatal("feed id of one node key changed")
	}
	if f1 == id1 {
		t.Fatal("the feed host must not reuse CometBFT's libp2p identity")
	}
	other, _ := FeedKey(ed25519.GenPrivKey())
	if o, _ := peer.IDFromPrivateKey(other); o == f1 {
		t.Fatal("two node keys gave one feed id")
	}
}

func TestConfigureTransport(t *testing.T) {
	c := config.DefaultP2PConfig()
	pid, _ := PeerID(ed25519.GenPrivKey())
	peers := []Peer{{Host: "127.0.0.1:26656", ID: pid, NodeID: "abcd"}, {Host: "127.0.0.1:26666", ID: pid, NodeID: "ef01"}}
	if err := ConfigureTransport(c, true, peers); err != nil {
		t.Fatal(err)
	}
	if !c.LibP2PConfig.Enabled || len(c.LibP2PConfig.BootstrapPeers) != 2 || !c.LibP2PConfig.BootstrapPeers[0].Persistent {
		t.Fatalf("libp2p config: %+v", c.LibP2PConfig)
	}
	if c.PersistentPeers != "abcd@127.0.0.1:26656,ef01@127.0.0.1:26666" {
		t.Fatalf("persistent peers for the classic transport: %q", c.PersistentPeers)
	}
	if err := ConfigureTransport(c, false, []Peer{{Host: "no-port", ID: pid}}); err == nil {
		t.Fatal("accepted a host without a port")
	}
}
