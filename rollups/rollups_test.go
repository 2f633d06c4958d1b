package rollups_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

func TestIDFromName(t *testing.T) {
	want := sha256.Sum256([]byte("weft/rollup/alpha"))
	if got := rollups.IDFromName("alpha"); got != rollups.ID(want) {
		t.Fatalf("IDFromName(alpha) = %s, want %x", got, want)
	}
	if rollups.IDFromName("alpha") == rollups.IDFromName("beta") {
		t.Fatal("different names share an id")
	}
	id := rollups.IDFromName("alpha")
	if s := id.String(); len(s) != 64 || s != fmt.Sprintf("%x", want) {
		t.Fatalf("String() = %q", s)
	}
	back, err := rollups.IDFromBytes(id[:])
	if err != nil || back != id {
		t.Fatalf("IDFromBytes round trip: %v, %v", back, err)
	}
	for _, n := range []int{0, 31, 33} {
		if _, err := rollups.IDFromBytes(make([]byte, n)); err == nil {
			t.Errorf("IDFromBytes accepted %d bytes", n)
		}
	}
}

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"alpha", true},
		{"rollup-1", true},
		{"0", true},
		{"a-b-c", true},
		{"9lives", true},
		{strings.Repeat("a", rollups.MaxNameLen), true},
		{"", false},
		{strings.Repeat("a", rollups.MaxNameLen+1), false},
		{"-a", false},
		{"a-", false},
		{"-", false},
		{"Alpha", false},
		{"a_b", false},
		{"a b", false},
		{"a.b", false},
		{"é", false},
		{"a/b", false},
		{"a\x00", false},
	} {
		err := rollups.ValidateName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// items makes n items; item i carries data "d<i>".
func items(n int) []*rollups.Item {
	out := make([]*rollups.Item, n)
	for i := range out {
		h := sha256.Sum256([]byte{byte(i)})
		out[i] = &rollups.Item{
			TxHash:      h[:],
			ActionIndex: uint32(i % 3),
			Sender:      bytes.Repeat([]byte{byte(i + 1)}, 20),
			Data:        []byte(fmt.Sprintf("d%d", i)),
		}
	}
	return out
}

var (
	idA = rollups.IDFromName("alpha")
	idB = rollups.IDFromName("beta")
	idC = rollups.IDFromName("gamma")
)

// sample returns 7 items spread over three rollups and their owners.
func sample() ([]*rollups.Item, []rollups.ID) {
	its := items(7)
	owners := []rollups.ID{idA, idB, idA, idC, idB, idA, idC}
	return its, owners
}

// slice returns the items of id in block order.
func slice(its []*rollups.Item, owners []rollups.ID, id rollups.ID) []*rollups.Item {
	var out []*rollups.Item
	for i, it := range its {
		if owners[i] == id {
			out = append(out, it)
		}
	}
	return out
}

func TestCommitmentRoundTrip(t *testing.T) {
	its, owners := sample()
	c := rollups.BuildCommitment(its, func(i int) rollups.ID { return owners[i] })
	c.Height = 7
	if len(c.Rollups) != 3 {
		t.Fatalf("commitment has %d rollups, want 3", len(c.Rollups))
	}
	for i := 1; i < len(c.Rollups); i++ {
		if bytes.Compare(c.Rollups[i-1].RollupId, c.Rollups[i].RollupId) >= 0 {
			t.Fatalf("rollup ids not sorted at %d", i)
		}
	}
	for _, id := range []rollups.ID{idA, idB, idC} {
		r := rollups.RootFor(c, id)
		if r == nil {
			t.Fatalf("no root for %s", id)
		}
		want := slice(its, owners, id)
		if int(r.ItemCount) != len(want) || !bytes.Equal(r.Root, rollups.ItemsRoot(want)) {
			t.Fatalf("root for %s: count %d root %x, want %d %x", id, r.ItemCount, r.Root, len(want), rollups.ItemsRoot(want))
		}
	}
	if rollups.RootFor(c, rollups.IDFromName("absent")) != nil {
		t.Fatal("RootFor found an absent rollup")
	}

	tx := rollups.EncodeCommitment(c)
	if !rollups.IsCommitment(tx) || !bytes.HasPrefix(tx, rollups.CommitmentMagic) {
		t.Fatal("encoded commitment lacks the magic")
	}
	if !bytes.Equal(tx, rollups.EncodeCommitment(c)) {
		t.Fatal("EncodeCommitment is not deterministic")
	}
	got, err := rollups.DecodeCommitment(tx)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, c) {
		t.Fatalf("round trip: got %v, want %v", got, c)
	}

	// An empty block commits to no rollups and its height, and still
	// decodes.
	empty := rollups.EncodeCommitment(at(rollups.BuildCommitment(nil, nil), 7))
	if !bytes.Equal(empty, append(append([]byte(nil), rollups.CommitmentMagic...), 0x10, 7)) {
		t.Fatalf("empty commitment = %x, want the magic and height 7", empty)
	}
	if c, err := rollups.DecodeCommitment(empty); err != nil || len(c.Rollups) != 0 || c.Height != 7 {
		t.Fatalf("empty commitment: %v, %v", c, err)
	}
}

// at sets c's height (block builders do) and returns c.
func at(c *weftv1.BlockCommitment, height int64) *weftv1.BlockCommitment {
	c.Height = height
	return c
}

// TestCommitmentHeight: the commitment items of two empty blocks differ, so
// each block's commitment item has its own tx hash, and a commitment item
// with no height (as written before heights were committed) does not decode.
func TestCommitmentHeight(t *testing.T) {
	h1 := sha256.Sum256(rollups.EncodeCommitment(at(rollups.BuildCommitment(nil, nil), 1)))
	h2 := sha256.Sum256(rollups.EncodeCommitment(at(rollups.BuildCommitment(nil, nil), 2)))
	if h1 == h2 {
		t.Fatal("empty blocks at heights 1 and 2 share a commitment item hash")
	}
	its, owners := sample()
	full := rollups.BuildCommitment(its, func(i int) rollups.ID { return owners[i] })
	for _, h := range []int64{0, -1} {
		if _, err := rollups.DecodeCommitment(rollups.EncodeCommitment(at(rollups.BuildCommitment(nil, nil), h))); err == nil {
			t.Errorf("empty commitment of height %d decoded", h)
		}
		if _, err := rollups.DecodeCommitment(rollups.EncodeCommitment(at(proto.Clone(full).(*weftv1.BlockCommitment), h))); err == nil {
			t.Errorf("commitment of height %d decoded", h)
		}
	}
}

// TestCommitmentSizeBound: the bound holds for the largest fields.
func TestCommitmentSizeBound(t *testing.T) {
	for _, n := range []int{0, 1, 2, 100} {
		c := &weftv1.BlockCommitment{Height: 1<<63 - 1}
		for i := range n {
			id := rollups.IDFromName(fmt.Sprint("r", i))
			c.Rollups = append(c.Rollups, &weftv1.RollupRoot{RollupId: id[:], ItemCount: 1<<32 - 1, Root: bytes.Repeat([]byte{0xff}, 32)})
		}
		if got, bound := len(rollups.EncodeCommitment(c)), rollups.CommitmentSizeBound(n); got > bound {
			t.Fatalf("%d rollups: commitment of %d bytes, bound %d", n, got, bound)
		}
	}
}

func TestItemsRootOrderMatters(t *testing.T) {
	its := items(3)
	swapped := []*rollups.Item{its[1], its[0], its[2]}
	if bytes.Equal(rollups.ItemsRoot(its), rollups.ItemsRoot(swapped)) {
		t.Fatal("ItemsRoot ignores order")
	}
	// Each leaf field is committed.
	base := rollups.LeafBytes(its[0])
	if len(base) != 32+4+20+len(its[0].Data) {
		t.Fatalf("leaf is %d bytes", len(base))
	}
	for name, mut := range map[string]func(it *rollups.Item){
		"tx_hash":      func(it *rollups.Item) { it.TxHash = bytes.Repeat([]byte{9}, 32) },
		"action_index": func(it *rollups.Item) { it.ActionIndex++ },
		"sender":       func(it *rollups.Item) { it.Sender = bytes.Repeat([]byte{9}, 20) },
		"data":         func(it *rollups.Item) { it.Data = []byte("other") },
	} {
		it := proto.Clone(its[0]).(*rollups.Item)
		mut(it)
		if bytes.Equal(rollups.LeafBytes(it), base) {
			t.Errorf("leaf does not commit to %s", name)
		}
	}
	// Short fields are zero padded to their fixed width.
	short := &rollups.Item{TxHash: []byte{1}, Sender: []byte{2}, Data: []byte("x")}
	if l := rollups.LeafBytes(short); len(l) != 32+4+20+1 || l[0] != 1 || l[36] != 2 {
		t.Fatalf("short fields not padded: %x", l)
	}
}

func encodeRaw(c *weftv1.BlockCommitment) []byte {
	b, err := proto.Marshal(c)
	if err != nil {
		panic(err)
	}
	return append(append([]byte(nil), rollups.CommitmentMagic...), b...)
}

func TestDecodeCommitmentRejects(t *testing.T) {
	root := bytes.Repeat([]byte{7}, 32)
	lo, hi := idA, idB
	if bytes.Compare(lo[:], hi[:]) > 0 {
		lo, hi = hi, lo
	}
	entry := func(id rollups.ID, n uint32, root []byte) *weftv1.RollupRoot {
		return &weftv1.RollupRoot{RollupId: append([]byte(nil), id[:]...), ItemCount: n, Root: root}
	}
	good := encodeRaw(&weftv1.BlockCommitment{Height: 9, Rollups: []*weftv1.RollupRoot{entry(lo, 1, root), entry(hi, 2, root)}})
	if _, err := rollups.DecodeCommitment(good); err != nil {
		t.Fatalf("good commitment rejected: %v", err)
	}
	for _, tc := range []struct {
		name string
		tx   []byte
		want string
	}{
		{"empty", nil, "magic"},
		{"no magic", good[len(rollups.CommitmentMagic):], "magic"},
		{"truncated magic", rollups.CommitmentMagic[:7], "magic"},
		{"wrong magic", append([]byte("\x00WEFTCM2"), good[8:]...), "magic"},
		{"garbage body", append(append([]byte(nil), rollups.CommitmentMagic...), 0xff, 0xff, 0xff), "commitment item"},
		{"truncated body", good[:len(good)-5], "commitment item"},
		{"unsorted", encodeRaw(&weftv1.BlockCommitment{Rollups: []*weftv1.RollupRoot{entry(hi, 1, root), entry(lo, 1, root)}}), "sorted"},
		{"duplicate id", encodeRaw(&weftv1.BlockCommitment{Rollups: []*weftv1.RollupRoot{entry(lo, 1, root), entry(lo, 1, root)}}), "sorted"},
		{"zero count", encodeRaw(&weftv1.BlockCommitment{Rollups: []*weftv1.RollupRoot{entry(lo, 0, root)}}), "zero items"},
		{"short id", encodeRaw(&weftv1.BlockCommitment{Rollups: []*weftv1.RollupRoot{{RollupId: lo[:31], ItemCount: 1, Root: root}}}), "id must be"},
		{"long id", encodeRaw(&weftv1.BlockCommitment{Rollups: []*weftv1.RollupRoot{{RollupId: append(lo[:], 0), ItemCount: 1, Root: root}}}), "id must be"},
		{"missing id", encodeRaw(&weftv1.BlockCommitment{Rollups: []*weftv1.RollupRoot{{ItemCount: 1, Root: root}}}), "id must be"},
		{"short root", encodeRaw(&weftv1.BlockCommitment{Rollups: []*weftv1.RollupRoot{entry(lo, 1, root[:31])}}), "root must be"},
		{"long root", encodeRaw(&weftv1.BlockCommitment{Rollups: []*weftv1.RollupRoot{entry(lo, 1, append(root, 0))}}), "root must be"},
		{"missing root", encodeRaw(&weftv1.BlockCommitment{Rollups: []*weftv1.RollupRoot{entry(lo, 1, nil)}}), "root must be"},
		{"missing height", encodeRaw(&weftv1.BlockCommitment{Rollups: []*weftv1.RollupRoot{entry(lo, 1, root)}}), "height"},
		{"negative height", encodeRaw(&weftv1.BlockCommitment{Height: -3, Rollups: []*weftv1.RollupRoot{entry(lo, 1, root)}}), "height"},
		{"empty without height", rollups.CommitmentMagic, "height"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := rollups.DecodeCommitment(tc.tx)
			if err == nil {
				t.Fatalf("accepted: %v", c)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestVerifyItems(t *testing.T) {
	its, owners := sample()
	c := at(rollups.BuildCommitment(its, func(i int) rollups.ID { return owners[i] }), 3)
	cm := rollups.EncodeCommitment(c)
	a := slice(its, owners, idA) // 3 items

	for _, id := range []rollups.ID{idA, idB, idC} {
		if err := rollups.VerifyItems(cm, id, slice(its, owners, id)); err != nil {
			t.Fatalf("rollup %s: right items rejected: %v", id, err)
		}
	}
	absent := rollups.IDFromName("absent")
	if err := rollups.VerifyItems(cm, absent, nil); err != nil {
		t.Fatalf("absent rollup with no items rejected: %v", err)
	}
	if err := rollups.VerifyItems(cm, absent, a[:1]); err == nil {
		t.Fatal("absent rollup with items accepted")
	}

	tampered := func(i int, mut func(*rollups.Item)) []*rollups.Item {
		out := make([]*rollups.Item, len(a))
		copy(out, a)
		out[i] = proto.Clone(a[i]).(*rollups.Item)
		mut(out[i])
		return out
	}
	for _, tc := range []struct {
		name  string
		items []*rollups.Item
	}{
		{"none", nil},
		{"missing first", a[1:]},
		{"missing last", a[:2]},
		{"missing middle", []*rollups.Item{a[0], a[2]}},
		{"extra", append(append([]*rollups.Item(nil), a...), its[1])},
		{"duplicated", []*rollups.Item{a[0], a[1], a[1]}},
		{"reordered", []*rollups.Item{a[1], a[0], a[2]}},
		{"other rollup's items", slice(its, owners, idC)},
		{"tampered data", tampered(1, func(it *rollups.Item) { it.Data = append(it.Data, '!') })},
		{"tampered sender", tampered(0, func(it *rollups.Item) { it.Sender[0] ^= 1 })},
		{"tampered tx hash", tampered(2, func(it *rollups.Item) { it.TxHash[31] ^= 1 })},
		{"tampered action index", tampered(2, func(it *rollups.Item) { it.ActionIndex++ })},
		{"nil item", []*rollups.Item{a[0], nil, a[2]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := rollups.VerifyItems(cm, idA, tc.items); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if err := rollups.VerifyItems(cm[1:], idA, a); err == nil {
		t.Fatal("accepted a commitment without magic")
	}
	// A commitment whose root was tampered with rejects the true items.
	bad := proto.Clone(c).(*weftv1.BlockCommitment)
	rollups.RootFor(bad, idA).Root[0] ^= 1
	if err := rollups.VerifyItems(rollups.EncodeCommitment(bad), idA, a); err == nil {
		t.Fatal("accepted items against a tampered root")
	}
}

// block is a CometBFT block's txs: the commitment item first, then n filler txs.
func block(cm []byte, n int) cmttypes.Txs {
	txs := cmttypes.Txs{cm}
	for i := 0; i < n; i++ {
		txs = append(txs, cmttypes.Tx(fmt.Sprintf("user tx %d", i)))
	}
	return txs
}

func TestVerifySlice(t *testing.T) {
	its, owners := sample()
	cm := rollups.EncodeCommitment(at(rollups.BuildCommitment(its, func(i int) rollups.ID { return owners[i] }), 7))
	for _, n := range []int{0, 1, 2, 6, 9} {
		t.Run(fmt.Sprintf("%d txs after commitment", n), func(t *testing.T) {
			txs := block(cm, n)
			dataHash := txs.Hash()
			mk := func() *weftv1.RollupSlice {
				return &weftv1.RollupSlice{
					RollupId:        append([]byte(nil), idA[:]...),
					Height:          7,
					DataHash:        dataHash,
					TxCount:         int64(len(txs)),
					CommitmentTx:    cm,
					CommitmentAunts: txs.Proof(0).Proof.Aunts,
					Items:           slice(its, owners, idA),
				}
			}
			if err := rollups.VerifySlice(mk(), dataHash); err != nil {
				t.Fatalf("valid slice rejected: %v", err)
			}

			otherHash := block(cm, n+1).Hash()
			for _, tc := range []struct {
				name     string
				mut      func(s *weftv1.RollupSlice)
				dataHash []byte
			}{
				{"wrong trusted data hash", nil, otherHash},
				{"slice data hash differs", func(s *weftv1.RollupSlice) { s.DataHash = otherHash }, nil},
				{"both data hashes wrong", func(s *weftv1.RollupSlice) { s.DataHash = otherHash }, otherHash},
				{"wrong aunts", func(s *weftv1.RollupSlice) {
					s.CommitmentAunts = block(cm, n+1).Proof(0).Proof.Aunts
					if len(s.CommitmentAunts) == len(txs.Proof(0).Proof.Aunts) {
						s.CommitmentAunts[0] = bytes.Repeat([]byte{1}, 32)
					}
				}, nil},
				{"extra aunt", func(s *weftv1.RollupSlice) {
					s.CommitmentAunts = append(s.CommitmentAunts, bytes.Repeat([]byte{1}, 32))
				}, nil},
				// tx_count only shapes the proof: one that does not fit the aunts fails.
				{"tx count inconsistent with aunts", func(s *weftv1.RollupSlice) {
					if n == 0 {
						s.TxCount = 2
					} else {
						s.TxCount = 1
					}
				}, nil},
				{"zero tx count", func(s *weftv1.RollupSlice) { s.TxCount = 0 }, nil},
				{"negative tx count", func(s *weftv1.RollupSlice) { s.TxCount = -1 }, nil},
				{"tampered commitment", func(s *weftv1.RollupSlice) {
					s.CommitmentTx = append([]byte(nil), cm...)
					s.CommitmentTx[len(cm)-1] ^= 1
				}, nil},
				{"tampered item", func(s *weftv1.RollupSlice) {
					s.Items[1] = proto.Clone(s.Items[1]).(*rollups.Item)
					s.Items[1].Data = []byte("forged")
				}, nil},
				{"missing item", func(s *weftv1.RollupSlice) { s.Items = s.Items[:2] }, nil},
				{"other rollup", func(s *weftv1.RollupSlice) { s.RollupId = idB[:] }, nil},
				// The commitment item is of height 7: a slice that claims
				// another height must not pass for it (its proof is fine).
				{"other height", func(s *weftv1.RollupSlice) { s.Height = 8 }, nil},
				{"bad rollup id", func(s *weftv1.RollupSlice) { s.RollupId = idA[:31] }, nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					s := mk()
					if tc.mut != nil {
						tc.mut(s)
					}
					trusted := dataHash
					if tc.dataHash != nil {
						trusted = tc.dataHash
					}
					if err := rollups.VerifySlice(s, trusted); err == nil {
						t.Fatal("accepted")
					}
				})
			}
		})
	}

	// A user tx at position 0 cannot pass for the commitment.
	txs := cmttypes.Txs{cmttypes.Tx("not a commitment"), cm}
	s := &weftv1.RollupSlice{
		RollupId: idA[:], Height: 7, DataHash: txs.Hash(), TxCount: 2,
		CommitmentTx: cm, CommitmentAunts: txs.Proof(1).Proof.Aunts, Items: slice(its, owners, idA),
	}
	if err := rollups.VerifySlice(s, txs.Hash()); err == nil {
		t.Fatal("accepted a commitment proven at index 1")
	}
}

func FuzzDecodeCommitment(f *testing.F) {
	its, owners := sample()
	c := rollups.BuildCommitment(its, func(i int) rollups.ID { return owners[i] })
	f.Add(rollups.EncodeCommitment(c))
	f.Add(rollups.EncodeCommitment(at(c, 12345)))
	f.Add(rollups.EncodeCommitment(&weftv1.BlockCommitment{}))
	f.Add(rollups.EncodeCommitment(&weftv1.BlockCommitment{Height: 1}))
	f.Add([]byte{})
	f.Add([]byte("\x00WEFTCM1\x0a\x02\x08\x01"))
	f.Add(append(append([]byte(nil), rollups.CommitmentMagic...), 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, tx []byte) {
		c, err := rollups.DecodeCommitment(tx)
		if err != nil {
			return
		}
		// Whatever decodes has the promised shape and re-encodes to a
		// commitment that decodes to the same thing.
		if c.Height < 1 {
			t.Fatalf("height %d decoded", c.Height)
		}
		for i, r := range c.Rollups {
			if len(r.RollupId) != rollups.IDLen || len(r.Root) != 32 || r.ItemCount == 0 {
				t.Fatalf("entry %d has a bad shape: %v", i, r)
			}
			if i > 0 && bytes.Compare(c.Rollups[i-1].RollupId, r.RollupId) >= 0 {
				t.Fatalf("entry %d out of order", i)
			}
			id, _ := rollups.IDFromBytes(r.RollupId)
			if rollups.RootFor(c, id) != r {
				t.Fatalf("RootFor misses entry %d", i)
			}
		}
		c2, err := rollups.DecodeCommitment(rollups.EncodeCommitment(c))
		if err != nil || !proto.Equal(c, c2) {
			t.Fatalf("re-encoding: %v", err)
		}
		// VerifyItems on arbitrary input must not panic either.
		for _, r := range c.Rollups {
			id, _ := rollups.IDFromBytes(r.RollupId)
			_ = rollups.VerifyItems(tx, id, nil)
		}
	})
}

// depositItem is an item whose tx hash and sender end in a zero byte, as a
// deposit's may: cutting that byte off and padding it back gives the same
// leaf bytes.
func depositItem() *rollups.Item {
	h := sha256.Sum256([]byte("deposit tx"))
	h[31] = 0
	sender := bytes.Repeat([]byte{0xd0}, 20)
	sender[19] = 0
	return &rollups.Item{TxHash: h[:], ActionIndex: 1, Sender: sender, Data: []byte("deposit 1 ETH")}
}

// oddFields are the item's tx hash and sender grown or cut by a byte or
// two: each names another tx or account (a 21-byte sender makes
// common.BytesToAddress keep its last 20 bytes, a 19-byte one pads it on
// the left), yet LeafBytes pads or cuts each back to the same leaf.
func oddFields(it *rollups.Item) map[string]*rollups.Item {
	with := func(mut func(*rollups.Item)) *rollups.Item {
		c := proto.Clone(it).(*rollups.Item)
		mut(c)
		return c
	}
	return map[string]*rollups.Item{
		"34-byte tx hash": with(func(c *rollups.Item) { c.TxHash = append(c.TxHash, 0xbe, 0xef) }),
		"31-byte tx hash": with(func(c *rollups.Item) { c.TxHash = c.TxHash[:31] }),
		"21-byte sender":  with(func(c *rollups.Item) { c.Sender = append(c.Sender, 0x42) }),
		"19-byte sender":  with(func(c *rollups.Item) { c.Sender = c.Sender[:19] }),
	}
}

// TestVerifySliceRejectsOddFields: a feed peer cannot rewrite an item's tx
// hash or sender into another of a different size with the same leaf.
func TestVerifySliceRejectsOddFields(t *testing.T) {
	it := depositItem()
	cm := rollups.EncodeCommitment(at(rollups.BuildCommitment([]*rollups.Item{it}, func(int) rollups.ID { return idA }), 5))
	txs := block(cm, 3)
	mk := func(item *rollups.Item) *weftv1.RollupSlice {
		return &weftv1.RollupSlice{
			RollupId: idA[:], Height: 5, DataHash: txs.Hash(), TxCount: int64(len(txs)),
			CommitmentTx: cm, CommitmentAunts: txs.Proof(0).Proof.Aunts, Items: []*rollups.Item{item},
		}
	}
	if err := rollups.VerifySlice(mk(it), txs.Hash()); err != nil {
		t.Fatalf("true slice rejected: %v", err)
	}
	for name, odd := range oddFields(it) {
		t.Run(name, func(t *testing.T) {
			if !bytes.Equal(rollups.LeafHash(odd), rollups.LeafHash(it)) {
				t.Fatal("test premise: the altered item should share the true item's leaf")
			}
			if err := rollups.VerifySlice(mk(odd), txs.Hash()); err == nil {
				t.Fatal("accepted")
			}
			if err := rollups.VerifyItems(cm, idA, []*rollups.Item{odd}); err == nil {
				t.Fatal("VerifyItems accepted")
			}
		})
	}
}

// FuzzVerifyItems: VerifyItems accepts an item against a commitment to one
// item only if it is that item, field for field.
func FuzzVerifyItems(f *testing.F) {
	it := depositItem()
	cm := rollups.EncodeCommitment(at(rollups.BuildCommitment([]*rollups.Item{it}, func(int) rollups.ID { return idA }), 5))
	f.Add(it.TxHash, it.ActionIndex, it.Sender, it.Data)
	for _, odd := range oddFields(it) {
		f.Add(odd.TxHash, odd.ActionIndex, odd.Sender, odd.Data)
	}
	f.Add([]byte{}, uint32(0), []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, txHash []byte, index uint32, sender, data []byte) {
		got := &rollups.Item{TxHash: txHash, ActionIndex: index, Sender: sender, Data: data}
		if rollups.VerifyItems(cm, idA, []*rollups.Item{got}) != nil {
			return
		}
		if !bytes.Equal(txHash, it.TxHash) || index != it.ActionIndex || !bytes.Equal(sender, it.Sender) || !bytes.Equal(data, it.Data) {
			t.Fatalf("accepted %x/%d/%x/%q for the committed %x/%d/%x/%q", txHash, index, sender, data, it.TxHash, it.ActionIndex, it.Sender, it.Data)
		}
	})
}

// FuzzVerifySlice: a slice decoded from any bytes verifies against a block's
// data hash only if its items are the ones committed for its rollup, item
// for item; nothing panics.
func FuzzVerifySlice(f *testing.F) {
	its, owners := sample()
	cm := rollups.EncodeCommitment(at(rollups.BuildCommitment(its, func(i int) rollups.ID { return owners[i] }), 7))
	txs := block(cm, 3)
	dataHash := txs.Hash()
	good, err := proto.Marshal(&weftv1.RollupSlice{
		RollupId: append([]byte(nil), idA[:]...), Height: 7, DataHash: dataHash, TxCount: int64(len(txs)),
		CommitmentTx: cm, CommitmentAunts: txs.Proof(0).Proof.Aunts, Items: slice(its, owners, idA),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		var s weftv1.RollupSlice
		if proto.Unmarshal(raw, &s) != nil {
			return
		}
		if rollups.VerifySlice(&s, dataHash) != nil {
			return
		}
		if len(s.RollupId) != rollups.IDLen {
			t.Fatalf("verified a slice with a %d-byte rollup id", len(s.RollupId))
		}
		want := slice(its, owners, rollups.ID(s.RollupId))
		if len(s.Items) != len(want) {
			t.Fatalf("verified %d items, %d committed", len(s.Items), len(want))
		}
		for i := range want {
			if !proto.Equal(s.Items[i], want[i]) {
				t.Fatalf("item %d verified as %v, committed %v", i, s.Items[i], want[i])
			}
		}
	})
}
