package mempool

import (
	"slices"
	"testing"
)

// TestJournalIndex: what leaves the journal index with a block, with
// dropped txs (evicted ones stay), and when the node must refuse more.
func TestJournalIndex(t *testing.T) {
	j := NewJournal(3)
	h := func(b byte) [32]byte { return [32]byte{b} }
	for _, b := range []byte{1, 2, 3} {
		j.Add(h(b))
	}
	if full, n := j.Full(); !full || n != 3 {
		t.Fatalf("3 of 3: full %v, %d", full, n)
	}
	// A block with two journaled txs and one the node never acknowledged.
	if del := j.Committed([][32]byte{h(2), h(9), h(1)}); !slices.Equal(del, [][32]byte{h(2), h(1)}) {
		t.Fatalf("committed: delete %v", del)
	}
	if full, n := j.Full(); full || n != 1 {
		t.Fatalf("after the block: full %v, %d", full, n)
	}
	j.Add(h(4))
	var persisted [][32]byte
	err := j.Forget([]Dropped{
		{Tx: &Tx{Hash: h(3)}, Reason: "nonce used", Evicted: false},
		{Tx: &Tx{Hash: h(4)}, Reason: "mempool full", Evicted: true},
		{Tx: &Tx{Hash: h(8)}, Reason: "from a peer"},
	}, func(del [][32]byte) error { persisted = del; return nil })
	if err != nil || !slices.Equal(persisted, [][32]byte{h(3)}) {
		t.Fatalf("forget: %v, deleted %v", err, persisted)
	}
	if j.Len() != 1 || len(j.Committed([][32]byte{h(4)})) != 1 {
		t.Fatal("the evicted acknowledged tx must stay journaled until it commits")
	}
	if full, _ := NewJournal(0).Full(); full {
		t.Fatal("max 0 bounds nothing")
	}
}
