package rollups

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/cometbft/cometbft/crypto/merkle"
)

func testItem(i int) *Item {
	h := sha256.Sum256([]byte(fmt.Sprint("tx", i)))
	return &Item{TxHash: h[:], ActionIndex: uint32(i % 3), Sender: h[:20], Data: bytes.Repeat([]byte{byte(i)}, 1+i%300)}
}

// TestRootFromLeafHashesMatchesCometBFT: hashing each item once and building
// the tree from the hashes gives merkle.HashFromByteSlices' root, for every
// tree shape up to 600 leaves.
func TestRootFromLeafHashesMatchesCometBFT(t *testing.T) {
	var items []*Item
	var leaves, hashes [][]byte
	for n := 0; n <= 600; n++ {
		if got, want := RootFromLeafHashes(hashes), merkle.HashFromByteSlices(leaves); !bytes.Equal(got, want) {
			t.Fatalf("%d leaves: root %x, CometBFT's %x", n, got, want)
		}
		if got, want := RootFromLeafHashes(hashes), ItemsRoot(items); !bytes.Equal(got, want) {
			t.Fatalf("%d items: root %x, ItemsRoot %x", n, got, want)
		}
		it := testItem(n)
		items = append(items, it)
		leaves = append(leaves, LeafBytes(it))
		hashes = append(hashes, LeafHash(it))
	}
}

// TestCommitmentFromLeavesMatches: the commitment built from leaf hashes
// (in parallel for large blocks) has, for each rollup in id order, its
// item count and the CometBFT merkle root of its items (ItemsRoot).
func TestCommitmentFromLeavesMatches(t *testing.T) {
	for _, n := range []int{0, 1, 7, 100, 5000, 20000} {
		groups := map[ID][]*Item{}
		var hashes [][]byte
		var ids []ID
		for i := 0; i < n; i++ {
			it := testItem(i)
			id := IDFromName(fmt.Sprint("r", (i*7)%11))
			groups[id] = append(groups[id], it)
			hashes = append(hashes, LeafHash(it))
			ids = append(ids, id)
		}
		c := BuildCommitmentFromLeaves(hashes, func(i int) ID { return ids[i] })
		if len(c.Rollups) != len(groups) {
			t.Fatalf("%d items: %d rollups in the commitment, want %d", n, len(c.Rollups), len(groups))
		}
		for k, r := range c.Rollups {
			id := ID(r.RollupId)
			if k > 0 && bytes.Compare(c.Rollups[k-1].RollupId, r.RollupId) >= 0 {
				t.Fatalf("%d items: rollup ids not sorted at %d", n, k)
			}
			if int(r.ItemCount) != len(groups[id]) || !bytes.Equal(r.Root, ItemsRoot(groups[id])) {
				t.Fatalf("%d items: rollup %x: count %d root %x, want %d %x", n, id[:4], r.ItemCount, r.Root, len(groups[id]), ItemsRoot(groups[id]))
			}
		}
	}
}

// TestTreeMatchesRootFromLeafHashes: a Tree fed leaf hashes one at a time
// has, after every append, the root RootFromLeafHashes gives over the same
// prefix (every tree shape up to 1100 leaves, across a chunk boundary).
func TestTreeMatchesRootFromLeafHashes(t *testing.T) {
	var tr Tree
	var hashes [][]byte
	for n := 0; n <= 1100; n++ {
		if got, want := tr.Root(), RootFromLeafHashes(hashes); !bytes.Equal(got, want) || tr.Len() != n {
			t.Fatalf("%d leaves: tree root %x (len %d), want %x", n, got, tr.Len(), want)
		}
		h := LeafHash(testItem(n))
		hashes = append(hashes, h)
		tr.Append(h)
	}
}

// TestCommitmentFromTreesMatches: per-rollup trees fed in block order give
// the commitment BuildCommitmentFromLeaves builds over the whole block;
// empty trees are left out.
func TestCommitmentFromTreesMatches(t *testing.T) {
	for _, n := range []int{0, 1, 7, 5000} {
		var hashes [][]byte
		var ids []ID
		names := []ID{IDFromName("unused")}
		trees := make([]Tree, 1)
		index := map[ID]int{}
		for i := 0; i < n; i++ {
			id := IDFromName(fmt.Sprint("r", (i*7)%11))
			h := LeafHash(testItem(i))
			hashes = append(hashes, h)
			ids = append(ids, id)
			k, ok := index[id]
			if !ok {
				k = len(names)
				index[id] = k
				names = append(names, id)
				trees = append(trees, Tree{})
			}
			trees[k].Append(h)
		}
		got := EncodeCommitment(CommitmentFromTrees(names, trees))
		want := EncodeCommitment(BuildCommitmentFromLeaves(hashes, func(i int) ID { return ids[i] }))
		if !bytes.Equal(got, want) {
			t.Fatalf("%d items: commitment from trees differs", n)
		}
	}
}

func BenchmarkCommitmentFromLeaves(b *testing.B) {
	var hashes [][]byte
	var ids []ID
	for i := 0; i < 28_500; i++ {
		hashes = append(hashes, LeafHash(testItem(i)))
		ids = append(ids, IDFromName(fmt.Sprint("r", i%3)))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		BuildCommitmentFromLeaves(hashes, func(i int) ID { return ids[i] })
	}
}

// TestLeafHashOfOddItems: LeafHash hashes what LeafBytes encodes (CometBFT's
// leaf hash of it) also when the tx hash or sender is not of its usual
// size: LeafBytes zero-pads or cuts them, and so must LeafHash.
func TestLeafHashOfOddItems(t *testing.T) {
	for _, it := range []*Item{
		{TxHash: []byte{1, 2, 3}, ActionIndex: 7, Sender: []byte{9}, Data: []byte("short fields")},
		{TxHash: bytes.Repeat([]byte{4}, 40), ActionIndex: 1 << 31, Sender: bytes.Repeat([]byte{5}, 25), Data: nil},
		{Data: bytes.Repeat([]byte("x"), 1<<16)},
	} {
		if got, want := LeafHash(it), merkle.HashFromByteSlices([][]byte{LeafBytes(it)}); !bytes.Equal(got, want) {
			t.Fatalf("item %v: leaf hash %x, CometBFT's %x", it.ActionIndex, got, want)
		}
	}
}
