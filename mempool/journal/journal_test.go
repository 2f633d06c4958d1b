package journal

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/weftnet/weft/mempool"
)

func open(t *testing.T, dir string) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func h(b byte) [32]byte { return [32]byte{b} }

func stored(t *testing.T, j *Journal) [][32]byte {
	t.Helper()
	var out [][32]byte
	if err := j.Entries(func(h [32]byte, raw []byte) error {
		if len(raw) != 1 || raw[0] != h[0] {
			return fmt.Errorf("entry %x holds %x", h[:1], raw)
		}
		out = append(out, h)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestJournal: what leaves the journal with a block and with dropped txs
// (evicted ones stay), when the node must refuse more, and that entries
// and reasons survive reopening the store.
func TestJournal(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	j := New(db, 3, 10)
	for _, b := range []byte{1, 2, 3} {
		if err := j.Put(h(b), []byte{b}); err != nil {
			t.Fatal(err)
		}
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
	if err := j.Put(h(4), []byte{4}); err != nil {
		t.Fatal(err)
	}
	err := j.Forget([]mempool.Dropped{
		{Tx: &mempool.Tx{Hash: h(3)}, Reason: "nonce used"},
		{Tx: &mempool.Tx{Hash: h(4)}, Reason: "mempool full", Evicted: true},
		{Tx: &mempool.Tx{Hash: h(8)}, Reason: "from a peer"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Committed only untracks: the block's write deletes 1 and 2 (not
	// done here), Forget deleted 3, the evicted 4 stays.
	if got := stored(t, j); !slices.Equal(got, [][32]byte{h(1), h(2), h(4)}) {
		t.Fatalf("stored after forget: %x", got)
	}
	if j.Len() != 1 || len(j.Committed([][32]byte{h(4)})) != 1 {
		t.Fatal("the evicted acknowledged tx must stay journaled until it commits")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	j = New(open(t, dir), 0, 10)
	for _, c := range []struct {
		h      [32]byte
		reason string
	}{{h(3), "nonce used"}, {h(4), "mempool full"}, {h(8), "from a peer"}} {
		if r, ok, err := j.Reason(c.h); err != nil || !ok || r != c.reason {
			t.Errorf("reason of %x after reopening: %q %v %v", c.h[:1], r, ok, err)
		}
	}
	if _, ok, _ := j.Reason(h(1)); ok {
		t.Error("a committed tx has no dropped reason")
	}
	if full, _ := j.Full(); full {
		t.Fatal("max 0 bounds nothing")
	}
}

// TestDroppedReasonsBounded: the reasons form a queue of maxDropped, the
// oldest forgotten first; a hash recorded again keeps its place and takes
// the new reason; Drop deletes unindexed entries found at start.
func TestDroppedReasonsBounded(t *testing.T) {
	db := open(t, t.TempDir())
	defer db.Close()
	j := New(db, 0, 3)
	for _, b := range []byte{1, 2, 3} {
		if err := j.Put(h(b), []byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	// As at start: 1 and 2 cannot be restored.
	if err := j.Drop([]Record{{h(1), "after restart: a"}, {h(2), "after restart: b"}}); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, j); !slices.Equal(got, [][32]byte{h(3)}) {
		t.Fatalf("stored after drop: %x", got)
	}
	if err := j.Drop([]Record{{h(1), "again"}, {h(5), "e"}, {h(6), "f"}}); err != nil {
		t.Fatal(err)
	}
	want := map[byte]string{1: "", 2: "after restart: b", 5: "e", 6: "f"}
	// 1 kept its (oldest) place: the oldest of 4 reasons, it goes.
	for b, w := range want {
		r, ok, err := j.Reason(h(b))
		if err != nil || ok != (w != "") || r != w {
			t.Errorf("reason of %d: %q %v %v, want %q", b, r, ok, err, w)
		}
	}
	if err := j.Drop([]Record{{h(7), "g"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := j.Reason(h(2)); ok {
		t.Error("the oldest reason must be evicted at the bound")
	}
	none := New(db, 0, 0)
	if err := none.Drop([]Record{{h(9), "x"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := none.Reason(h(9)); ok {
		t.Error("maxDropped 0 keeps no reasons")
	}
}

// TestRemove: a tx that left the mempool before Put indexed it is taken
// out of both the index and the store.
func TestRemove(t *testing.T) {
	db := open(t, t.TempDir())
	defer db.Close()
	j := New(db, 2, 10)
	if err := j.Put(h(1), []byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := j.Remove(h(1)); err != nil {
		t.Fatal(err)
	}
	if j.Len() != 0 || len(stored(t, j)) != 0 {
		t.Fatalf("after Remove: %d indexed, %d stored", j.Len(), len(stored(t, j)))
	}
	if _, ok, _ := j.Reason(h(1)); ok {
		t.Fatal("Remove records no reason")
	}
}
