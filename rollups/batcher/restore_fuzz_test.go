package batcher

import (
	"bytes"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

// FuzzRestore: a snapshot file is read back after a crash and may be
// truncated or corrupt. Any bytes either are refused with an error or give
// a builder whose own snapshot restores to the same snapshot; nothing
// panics, including asking the restored builder for its next L1 tx.
func FuzzRestore(f *testing.F) {
	cfg := testConfig()
	b, err := New(cfg, Start{NextIndex: 0, NextHeight: 1, PrevRoot: crypto.Keccak256Hash([]byte("genesis"))})
	if err != nil {
		f.Fatal(err)
	}
	empty, err := b.Snapshot()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(empty)
	c := newChain(6, 600)
	for h := int64(1); h <= 4; h++ {
		if err := b.AddBlock(t0, c.block(h, 1)); err != nil {
			f.Fatal(err)
		}
	}
	if err := b.Flush(); err != nil {
		f.Fatal(err)
	}
	full, err := b.Snapshot()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full)
	f.Add(full[:len(full)/2])
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Restore(cfg, data)
		if err != nil {
			return
		}
		snap, err := r.Snapshot()
		if err != nil {
			t.Fatalf("restored builder cannot snapshot: %v", err)
		}
		r2, err := Restore(cfg, snap)
		if err != nil {
			t.Fatalf("a restored builder's snapshot is refused: %v", err)
		}
		snap2, err := r2.Snapshot()
		if err != nil || !bytes.Equal(snap, snap2) {
			t.Fatalf("snapshot changed on a second restore: %v", err)
		}
		_, _, _ = r.NextTx(t0)
	})
}
