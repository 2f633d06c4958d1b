package rollups

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"sort"
	"sync"

	"github.com/cometbft/cometbft/crypto/merkle"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// IDLen is the length of a rollup id.
const IDLen = 32

// ID is a rollup id: sha256("weft/rollup/" || name).
type ID [IDLen]byte

// String returns the id as hex.
func (id ID) String() string { return fmt.Sprintf("%x", id[:]) }

// IDFromName derives the id of the rollup called name.
func IDFromName(name string) ID {
	return ID(sha256.Sum256(append([]byte("weft/rollup/"), name...)))
}

// IDFromBytes checks that b is a well-formed id.
func IDFromBytes(b []byte) (ID, error) {
	var id ID
	if len(b) != IDLen {
		return id, fmt.Errorf("rollup id must be %d bytes, got %d", IDLen, len(b))
	}
	copy(id[:], b)
	return id, nil
}

// MaxNameLen bounds rollup names.
const MaxNameLen = 64

// ValidateName checks a rollup name: 1 to 64 characters of [a-z0-9-], not
// starting or ending with '-'.
func ValidateName(name string) error {
	if name == "" {
		return errors.New("rollup name is empty")
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("rollup name longer than %d characters", MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return fmt.Errorf("rollup name %q: only a-z, 0-9 and '-' are allowed", name)
		}
	}
	if name[0] == '-' || name[len(name)-1] == '-' {
		return fmt.Errorf("rollup name %q must not start or end with '-'", name)
	}
	return nil
}

// CommitmentMagic prefixes the commitment item. No protobuf message can begin
// with a zero byte (field number 0 is invalid), so a commitment item is never
// mistaken for a SignedTx.
var CommitmentMagic = []byte("\x00WEFTCM1")

// Item is one RollupData action in block order.
type Item = weftv1.RollupItem

// LeafBytes is the merkle leaf encoding of an item:
// tx_hash(32) || action_index(4, big-endian) || sender(20) || data.
func LeafBytes(it *Item) []byte {
	b := make([]byte, 0, 32+4+20+len(it.Data))
	b = append(b, fixed(it.TxHash, 32)...)
	b = binary.BigEndian.AppendUint32(b, it.ActionIndex)
	b = append(b, fixed(it.Sender, 20)...)
	return append(b, it.Data...)
}

func fixed(b []byte, n int) []byte {
	if len(b) == n {
		return b
	}
	out := make([]byte, n)
	copy(out, b)
	return out
}

// LeafHash is item's merkle leaf hash, sha256(0x00 || LeafBytes(it)): what
// CometBFT's crypto/merkle hashes each leaf to (RFC 6962).
func LeafHash(it *Item) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(LeafBytes(it))
	return h.Sum(nil)
}

// RootFromLeafHashes is the merkle root over leaves already hashed with
// LeafHash: the same root merkle.HashFromByteSlices gives over the leaves'
// bytes (RFC 6962 split at the largest power of two below n), so block
// builders can hash each item once, when its tx is decoded.
func RootFromLeafHashes(leaves [][]byte) []byte {
	switch len(leaves) {
	case 0:
		e := sha256.Sum256(nil)
		return e[:]
	case 1:
		return leaves[0]
	}
	h := sha256.New()
	var rec func(ls [][]byte) []byte
	rec = func(ls [][]byte) []byte {
		if len(ls) == 1 {
			return ls[0]
		}
		k := 1 << (bits.Len(uint(len(ls)-1)) - 1) // largest power of two < len
		l, r := rec(ls[:k]), rec(ls[k:])
		h.Reset()
		h.Write([]byte{1})
		h.Write(l)
		h.Write(r)
		return h.Sum(nil)
	}
	return rec(leaves)
}

// ItemsRoot is the merkle root of items in order.
func ItemsRoot(items []*Item) []byte {
	leaves := make([][]byte, len(items))
	for i, it := range items {
		leaves[i] = LeafBytes(it)
	}
	return merkle.HashFromByteSlices(leaves)
}

// BuildCommitment groups items by rollup (keeping block order inside each
// rollup) and returns the commitment with rollup ids sorted.
func BuildCommitment(items []*Item, rollupOf func(i int) ID) *weftv1.BlockCommitment {
	leaves := make([][]byte, len(items))
	for i, it := range items {
		leaves[i] = LeafHash(it)
	}
	return BuildCommitmentFromLeaves(leaves, rollupOf)
}

// BuildCommitmentFromLeaves is BuildCommitment over items given as their
// LeafHash, in block order (block builders hash each item once, when its
// tx is decoded). Large blocks hash their rollups' trees in
// parallel; the result does not depend on it.
func BuildCommitmentFromLeaves(leaves [][]byte, rollupOf func(i int) ID) *weftv1.BlockCommitment {
	counts := map[ID]int{}
	for i := range leaves {
		counts[rollupOf(i)]++
	}
	groups := make(map[ID][][]byte, len(counts))
	for id, n := range counts {
		groups[id] = make([][]byte, 0, n)
	}
	for i, l := range leaves {
		id := rollupOf(i)
		groups[id] = append(groups[id], l)
	}
	ids := make([]ID, 0, len(groups))
	for id := range groups {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
	c := &weftv1.BlockCommitment{Rollups: make([]*weftv1.RollupRoot, len(ids))}
	root := func(i int) {
		id := ids[i]
		c.Rollups[i] = &weftv1.RollupRoot{
			RollupId:  append([]byte(nil), id[:]...),
			ItemCount: uint32(len(groups[id])),
			Root:      RootFromLeafHashes(groups[id]),
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(ids))
	if len(leaves) < 4096 || workers < 2 {
		for i := range ids {
			root(i)
		}
		return c
	}
	var wg sync.WaitGroup
	next := make(chan int, len(ids))
	for i := range ids {
		next <- i
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				root(i)
			}
		}()
	}
	wg.Wait()
	return c
}

// EncodeCommitment returns the commitment item's transaction bytes.
func EncodeCommitment(c *weftv1.BlockCommitment) []byte {
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("invariant: marshal commitment: %v", err))
	}
	return append(append([]byte(nil), CommitmentMagic...), body...)
}

// IsCommitment reports whether tx carries the commitment magic.
func IsCommitment(tx []byte) bool { return bytes.HasPrefix(tx, CommitmentMagic) }

// DecodeCommitment parses a commitment item and checks its shape: ids of 32
// bytes, strictly increasing, non-zero item counts, 32-byte roots.
func DecodeCommitment(tx []byte) (*weftv1.BlockCommitment, error) {
	if !IsCommitment(tx) {
		return nil, errors.New("not a commitment item (missing magic prefix)")
	}
	c := &weftv1.BlockCommitment{}
	if err := proto.Unmarshal(tx[len(CommitmentMagic):], c); err != nil {
		return nil, fmt.Errorf("commitment item: %w", err)
	}
	var prev []byte
	for i, r := range c.Rollups {
		if len(r.RollupId) != IDLen {
			return nil, fmt.Errorf("commitment rollup %d: id must be %d bytes", i, IDLen)
		}
		if prev != nil && bytes.Compare(prev, r.RollupId) >= 0 {
			return nil, fmt.Errorf("commitment rollup %d: ids not strictly sorted", i)
		}
		if r.ItemCount == 0 {
			return nil, fmt.Errorf("commitment rollup %d: zero items", i)
		}
		if len(r.Root) != sha256.Size {
			return nil, fmt.Errorf("commitment rollup %d: root must be 32 bytes", i)
		}
		prev = r.RollupId
	}
	return c, nil
}

// RootFor returns the commitment entry of rollup id, or nil when the block
// carries no data for it.
func RootFor(c *weftv1.BlockCommitment, id ID) *weftv1.RollupRoot {
	i := sort.Search(len(c.Rollups), func(i int) bool { return bytes.Compare(c.Rollups[i].RollupId, id[:]) >= 0 })
	if i < len(c.Rollups) && bytes.Equal(c.Rollups[i].RollupId, id[:]) {
		return c.Rollups[i]
	}
	return nil
}

// VerifyItems checks that items are exactly rollup id's items committed by
// the commitment item commitmentTx: same count, same order, same merkle root.
// An empty items list verifies only when the block holds no data for id.
func VerifyItems(commitmentTx []byte, id ID, items []*Item) error {
	c, err := DecodeCommitment(commitmentTx)
	if err != nil {
		return err
	}
	r := RootFor(c, id)
	if r == nil {
		if len(items) != 0 {
			return fmt.Errorf("rollup %s: block commits to no items, slice has %d", id, len(items))
		}
		return nil
	}
	if int(r.ItemCount) != len(items) {
		return fmt.Errorf("rollup %s: block commits to %d items, slice has %d", id, r.ItemCount, len(items))
	}
	if got := ItemsRoot(items); !bytes.Equal(got, r.Root) {
		return fmt.Errorf("rollup %s: items root %x does not match committed root %x", id, got, r.Root)
	}
	return nil
}

// VerifySlice checks a slice as served by a Weft node: the commitment item is
// transaction 0 of the block whose header DataHash is dataHash (proved by the
// merkle aunts), and the items match what the commitment holds for the
// slice's rollup. dataHash must come from a header the caller trusts (for
// example one verified with CometBFT's light client).
func VerifySlice(s *weftv1.RollupSlice, dataHash []byte) error {
	id, err := IDFromBytes(s.RollupId)
	if err != nil {
		return err
	}
	if !bytes.Equal(dataHash, s.DataHash) {
		return fmt.Errorf("slice data hash %x differs from trusted header's %x", s.DataHash, dataHash)
	}
	// CometBFT's DataHash is the merkle root over sha256(tx) of each tx.
	txHash := sha256.Sum256(s.CommitmentTx)
	leafHash := sha256.Sum256(append([]byte{0}, txHash[:]...))
	proof := merkle.Proof{Total: s.TxCount, Index: 0, LeafHash: leafHash[:], Aunts: s.CommitmentAunts}
	if err := proof.Verify(dataHash, txHash[:]); err != nil {
		return fmt.Errorf("commitment item not proven in block %d: %w", s.Height, err)
	}
	return VerifyItems(s.CommitmentTx, id, s.Items)
}
