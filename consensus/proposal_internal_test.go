package consensus

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/weftnet/weft/rollups"
)

// TestLeafHasherMatchesCommitment: the trees leafHasher builds while a
// block is chosen (inline for small blocks or when not concurrent, on its
// goroutine in batches for large ones) give the commitment built over the
// whole block at once.
func TestLeafHasherMatchesCommitment(t *testing.T) {
	for _, n := range []int{0, 1, 5, leafBatch - 1, leafBatch, leafBatch + 1, 5*leafBatch + 17, -(5*leafBatch + 17)} {
		// A negative n: as many leaves, hashed in line (no goroutine).
		h := leafHasher{concurrent: n >= 0}
		n := max(n, -n)
		var x rollupIndex
		var leaves [][]byte
		var ids []rollups.ID
		for i := 0; i < n; i++ {
			id := rollups.IDFromName(fmt.Sprint("r", (i*7)%5))
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(i))
			leaf := sha256.Sum256(b[:])
			k, ok := x.find(id)
			if !ok {
				k = x.add(id)
			}
			h.add(k, leaf[:])
			leaves = append(leaves, leaf[:])
			ids = append(ids, id)
		}
		trees := h.finish()
		h.stop()
		for len(trees) < len(x.ids) {
			trees = append(trees, rollups.Tree{})
		}
		got := rollups.EncodeCommitment(rollups.CommitmentFromTrees(x.ids, trees))
		want := rollups.EncodeCommitment(rollups.BuildCommitmentFromLeaves(leaves, func(i int) rollups.ID { return ids[i] }))
		if !bytes.Equal(got, want) {
			t.Fatalf("%d leaves: commitment differs", n)
		}
	}
}

// TestLeafHasherStop: a build abandoned half way (a panic in the walk)
// still ends the hashing goroutine.
func TestLeafHasherStop(t *testing.T) {
	h := leafHasher{concurrent: true}
	leaf := make([]byte, 32)
	for i := 0; i < 3*leafBatch-1; i++ {
		h.add(0, leaf)
	}
	done := h.done
	h.stop()
	if trees := <-done; len(trees) != 1 || trees[0].Len() != 2*leafBatch {
		t.Fatalf("goroutine hashed %v", trees)
	}
}

// TestRollupIndex numbers ids in order, past the switch from scanning to
// the map.
func TestRollupIndex(t *testing.T) {
	var x rollupIndex
	for i := 0; i < 3*scanRollups; i++ {
		id := rollups.IDFromName(fmt.Sprint("r", i))
		if _, ok := x.find(id); ok {
			t.Fatalf("%d found before it was added", i)
		}
		if k := x.add(id); k != i {
			t.Fatalf("%d numbered %d", i, k)
		}
		for j := 0; j <= i; j++ {
			if k, ok := x.find(rollups.IDFromName(fmt.Sprint("r", j))); !ok || k != j {
				t.Fatalf("after %d: %d found as %d, %v", i, j, k, ok)
			}
		}
	}
	x.reset()
	if _, ok := x.find(rollups.IDFromName("r0")); ok || len(x.ids) != 0 {
		t.Fatal("reset index still finds ids")
	}
}
