package mempool

import (
	"testing"
	"time"

	"github.com/holiman/uint256"
)

// TestTakeGossipNeverRepeatsATx: an entry queued for gossip twice (say
// queued again once journaled) is returned once by a TakeGossip call: the
// tx topic takes a batch repeating a tx for its publisher's fault.
func TestTakeGossipNeverRepeatsATx(t *testing.T) {
	p := NewPool(Config{})
	var txs []*Tx
	for i := byte(0); i < 3; i++ {
		tx := &Tx{Hash: [32]byte{i + 1}, Raw: make([]byte, 10), Sender: [20]byte{i + 1}, Cost: uint256.NewInt(1), Fee: uint256.NewInt(1), Gossip: true}
		if _, err := p.Insert(tx, AccountState{Balance: uint256.NewInt(100)}, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	p.gossip = append(p.gossip, p.byHash[txs[0].Hash], p.byHash[txs[1].Hash])
	got := p.TakeGossip(0)
	if len(got) != 3 || got[0] != txs[0] || got[1] != txs[1] || got[2] != txs[2] {
		t.Fatalf("TakeGossip returned %d txs, want the 3 once each", len(got))
	}
	if got := p.TakeGossip(0); len(got) != 0 {
		t.Fatalf("%d txs gossiped again", len(got))
	}
}
