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
	"sync/atomic"

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

// TxHashLen and SenderLen are the sizes of an item's tx hash and sender:
// the fixed-width slots of its leaf encoding.
const (
	TxHashLen = 32
	SenderLen = 20
)

// CheckItem checks that an item's tx hash and sender have exactly their
// leaf slots' sizes. The leaf encoding pads short fields and cuts long ones,
// so items that differ only there share a leaf hash: an item from outside
// must pass CheckItem before a root match can vouch for it (a 21- or
// 19-byte sender would otherwise name another account than the one
// committed).
func CheckItem(it *Item) error {
	switch {
	case it == nil:
		return errors.New("nil item")
	case len(it.TxHash) != TxHashLen:
		return fmt.Errorf("item tx hash must be %d bytes, got %d", TxHashLen, len(it.TxHash))
	case len(it.Sender) != SenderLen:
		return fmt.Errorf("item sender must be %d bytes, got %d", SenderLen, len(it.Sender))
	}
	return nil
}

// LeafBytes is the merkle leaf encoding of an item:
// tx_hash(32) || action_index(4, big-endian) || sender(20) || data.
// Fields of other sizes are zero padded or cut (see CheckItem).
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
	// The fixed-size prefix, then the data as is: no copy of the data,
	// which is up to a MiB.
	var pre [1 + 32 + 4 + 20]byte
	copy(pre[1:33], it.TxHash)
	binary.BigEndian.PutUint32(pre[33:37], it.ActionIndex)
	copy(pre[37:], it.Sender)
	h := sha256.New()
	h.Write(pre[:])
	h.Write(it.Data)
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
	for _, l := range leaves {
		if len(l) != sha256.Size {
			return rootOfAny(leaves)
		}
	}
	var t Tree
	for _, l := range leaves {
		t.Append(l)
	}
	return t.Root()
}

// rootOfAny is RootFromLeafHashes over leaves of any length (a LeafHash is
// 32 bytes; the recursion keeps the old answer for anything else).
func rootOfAny(leaves [][]byte) []byte {
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

// Tree computes the merkle root of RootFromLeafHashes over leaf hashes
// appended one at a time, so a block builder can hash a rollup's tree while
// it is still choosing txs. An RFC 6962 tree over n leaves is the perfect
// subtrees of n's binary digits, largest first, folded from the right: Tree
// keeps their roots (O(log n) memory) and merges two of equal size as soon
// as both exist, so it hashes each inner node once, as the recursion does.
// The zero Tree is empty.
type Tree struct {
	n     uint64
	peaks [][32]byte // perfect subtree roots, largest first
}

// Append adds the next leaf hash (32 bytes, from LeafHash).
func (t *Tree) Append(leaf []byte) {
	if len(leaf) != sha256.Size {
		panic(fmt.Sprintf("invariant: tree leaf hash of %d bytes", len(leaf)))
	}
	t.AppendHash([32]byte(leaf))
}

// AppendHash is Append for a leaf hash held as an array.
func (t *Tree) AppendHash(h [32]byte) {
	for k := t.n; k&1 == 1; k >>= 1 {
		top := len(t.peaks) - 1
		h = innerHash(&t.peaks[top], &h)
		t.peaks = t.peaks[:top]
	}
	t.peaks = append(t.peaks, h)
	t.n++
}

// Len is the number of leaves appended.
func (t *Tree) Len() int { return int(t.n) }

// Root is the merkle root over the leaves appended so far.
func (t *Tree) Root() []byte {
	if t.n == 0 {
		e := sha256.Sum256(nil)
		return e[:]
	}
	r := t.peaks[len(t.peaks)-1]
	for i := len(t.peaks) - 2; i >= 0; i-- {
		r = innerHash(&t.peaks[i], &r)
	}
	return r[:]
}

// innerHash is RFC 6962's inner node hash, sha256(0x01 || l || r).
func innerHash(l, r *[32]byte) [32]byte {
	var b [1 + 2*sha256.Size]byte
	b[0] = 1
	copy(b[1:], l[:])
	copy(b[1+sha256.Size:], r[:])
	return sha256.Sum256(b[:])
}

// ItemsRoot is the merkle root of items in order:
// merkle.HashFromByteSlices over their LeafBytes, without copying them.
func ItemsRoot(items []*Item) []byte {
	leaves := make([][]byte, len(items))
	for i, it := range items {
		leaves[i] = LeafHash(it)
	}
	return RootFromLeafHashes(leaves)
}

// BuildCommitment groups items by rollup (keeping block order inside each
// rollup) and returns the commitment with rollup ids sorted. Its Height is
// left for the block builder to set.
func BuildCommitment(items []*Item, rollupOf func(i int) ID) *weftv1.BlockCommitment {
	leaves := make([][]byte, len(items))
	for i, it := range items {
		leaves[i] = LeafHash(it)
	}
	return BuildCommitmentFromLeaves(leaves, rollupOf)
}

// BuildCommitmentFromLeaves is BuildCommitment over items given as their
// LeafHash, in block order (block builders hash each item once, when its
// tx is decoded). Large blocks hash their rollups' trees in parallel, in
// subtrees of similar size so that one big rollup does not leave cores
// idle; the result does not depend on it.
func BuildCommitmentFromLeaves(leaves [][]byte, rollupOf func(i int) ID) *weftv1.BlockCommitment {
	var ids []ID
	var groups [][][]byte
	index := map[ID]int{}
	g, prev := -1, ID{}
	for i, l := range leaves {
		// Consecutive items often share a rollup: look the id up only when
		// it changes.
		if id := rollupOf(i); g < 0 || id != prev {
			k, ok := index[id]
			if !ok {
				k = len(ids)
				index[id] = k
				ids = append(ids, id)
				groups = append(groups, nil)
			}
			g, prev = k, id
		}
		groups[g] = append(groups[g], l)
	}
	roots := make([][]byte, len(groups))
	if workers := runtime.GOMAXPROCS(0); len(leaves) >= 4096 && workers >= 2 && allLeafHashes(leaves) {
		parallelRoots(groups, roots, workers)
	} else {
		for k, ls := range groups {
			roots[k] = RootFromLeafHashes(ls)
		}
	}
	counts := make([]int, len(groups))
	for k, ls := range groups {
		counts[k] = len(ls)
	}
	return commitment(ids, counts, roots)
}

// CommitmentFromTrees is the commitment over the rollups ids, trees[i]
// holding the leaf hashes of ids[i]'s items in block order. ids must be
// distinct; rollups whose tree is empty are left out.
func CommitmentFromTrees(ids []ID, trees []Tree) *weftv1.BlockCommitment {
	var keep []ID
	var counts []int
	var roots [][]byte
	for i := range trees {
		if n := trees[i].Len(); n > 0 {
			keep = append(keep, ids[i])
			counts = append(counts, n)
			roots = append(roots, trees[i].Root())
		}
	}
	return commitment(keep, counts, roots)
}

// commitment sorts the rollups by id into a commitment.
func commitment(ids []ID, counts []int, roots [][]byte) *weftv1.BlockCommitment {
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return bytes.Compare(ids[order[i]][:], ids[order[j]][:]) < 0 })
	c := &weftv1.BlockCommitment{Rollups: make([]*weftv1.RollupRoot, len(ids))}
	for k, i := range order {
		c.Rollups[k] = &weftv1.RollupRoot{
			RollupId:  append([]byte(nil), ids[i][:]...),
			ItemCount: uint32(counts[i]),
			Root:      roots[i],
		}
	}
	return c
}

func allLeafHashes(leaves [][]byte) bool {
	for _, l := range leaves {
		if len(l) != sha256.Size {
			return false
		}
	}
	return true
}

// chunkLeaves is the size of the subtrees parallelRoots hashes as one task
// (a power of two, so that they are whole nodes of the tree).
const chunkLeaves = 1024

// parallelRoots writes each group's root into roots: workers hash the
// tree's nodes of at most chunkLeaves leaves, then the nodes above them are
// hashed in order. Leaves must be 32-byte leaf hashes.
func parallelRoots(groups [][][]byte, roots [][]byte, workers int) {
	type span struct{ g, lo, hi int }
	var spans []span
	var split func(g, lo, hi int)
	split = func(g, lo, hi int) {
		if hi-lo <= chunkLeaves {
			spans = append(spans, span{g, lo, hi})
			return
		}
		k := 1 << (bits.Len(uint(hi-lo-1)) - 1) // as in RootFromLeafHashes
		split(g, lo, lo+k)
		split(g, lo+k, hi)
	}
	for g, ls := range groups {
		split(g, 0, len(ls))
	}
	sub := make([][32]byte, len(spans))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(spans)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(spans); i = int(next.Add(1) - 1) {
				s := spans[i]
				sub[i] = [32]byte(RootFromLeafHashes(groups[s.g][s.lo:s.hi]))
			}
		}()
	}
	wg.Wait()
	i := 0
	var join func(lo, hi int) [32]byte
	join = func(lo, hi int) [32]byte {
		if hi-lo <= chunkLeaves {
			i++
			return sub[i-1]
		}
		k := 1 << (bits.Len(uint(hi-lo-1)) - 1)
		l := join(lo, lo+k)
		r := join(lo+k, hi)
		return innerHash(&l, &r)
	}
	for g, ls := range groups {
		r := join(0, len(ls))
		roots[g] = r[:]
	}
}

// CommitmentSizeBound bounds len(EncodeCommitment(c)) for a commitment of
// n rollups and any height: the magic, the height (tag and a varint of at
// most 10 bytes) and per rollup its entry (tag, length, a 32-byte id, a
// count of at most 5 varint bytes and a 32-byte root, each tagged).
func CommitmentSizeBound(n int) int {
	const entry = 2 + (2 + IDLen) + (1 + 5) + (2 + sha256.Size)
	return len(CommitmentMagic) + 1 + 10 + n*entry
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

// DecodeCommitment parses a commitment item and checks its shape: a
// positive height, ids of 32 bytes, strictly increasing, non-zero item
// counts, 32-byte roots.
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
	if c.Height < 1 {
		return nil, fmt.Errorf("commitment item: height %d, want a block height (at least 1)", c.Height)
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
// the commitment item commitmentTx: same count, same order, each item's
// fields of their exact sizes (CheckItem), same merkle root. An empty items
// list verifies only when the block holds no data for id. It does not know
// the block's height: VerifySlice also checks the commitment's.
func VerifyItems(commitmentTx []byte, id ID, items []*Item) error {
	c, err := DecodeCommitment(commitmentTx)
	if err != nil {
		return err
	}
	return verifyItems(c, id, items)
}

func verifyItems(c *weftv1.BlockCommitment, id ID, items []*Item) error {
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
	for i, it := range items {
		if err := CheckItem(it); err != nil {
			return fmt.Errorf("rollup %s: item %d: %w", id, i, err)
		}
	}
	if got := ItemsRoot(items); !bytes.Equal(got, r.Root) {
		return fmt.Errorf("rollup %s: items root %x does not match committed root %x", id, got, r.Root)
	}
	return nil
}

// VerifySlice checks a slice as served by a Weft node: the commitment item is
// transaction 0 of the block whose header DataHash is dataHash (proved by the
// merkle aunts), it is the commitment of the slice's height, and the items
// match what the commitment holds for the slice's rollup. dataHash must come
// from a header the caller trusts (for example one verified with CometBFT's
// light client), and the caller must check that the header is of the
// slice's height.
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
	c, err := DecodeCommitment(s.CommitmentTx)
	if err != nil {
		return err
	}
	if c.Height != s.Height {
		return fmt.Errorf("commitment item of height %d in a slice of height %d", c.Height, s.Height)
	}
	return verifyItems(c, id, s.Items)
}
