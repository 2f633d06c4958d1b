package feed

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/tmhash"
	cmtversion "github.com/cometbft/cometbft/proto/tendermint/version"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

const testChainID = "weft-test"

var testRollup = rollups.IDFromName("alpha")

// testBlock is one block of a test chain: its header and alpha's slice.
type testBlock struct {
	header *types.Header
	slice  *weftv1.RollupSlice
}

// testChain builds blocks 1..n the way CometBFT and Weft would: each
// block's txs are a commitment item over one alpha item, then a user tx;
// each header commits to them through DataHash and to the header below
// through LastBlockID. Index 0 is height 1.
func testChain(n int) []testBlock {
	return testChainFrom(n, nil)
}

// testChainFrom is testChain with blocks above from[len(from)-1]
// replaced, so from's chain forks there (nil: a fresh chain).
func testChainFrom(n int, from []testBlock) []testBlock {
	return testChainWith(n, from, func(h int64) int64 { return h })
}

// testChainWith is testChainFrom with the commitment item of block h
// committing to height cmHeight(h) (a byzantine proposer's).
func testChainWith(n int, from []testBlock, cmHeight func(int64) int64) []testBlock {
	out := append([]testBlock(nil), from...)
	t0 := time.Unix(1_700_000_000, 0).UTC()
	valHash := tmhash.Sum([]byte("validators"))
	for h := int64(len(out)) + 1; h <= int64(n); h++ {
		item := &rollups.Item{
			TxHash: tmhash.Sum([]byte(fmt.Sprintf("user tx %d fork %d", h, len(from)))),
			Sender: bytes.Repeat([]byte{0xaa}, 20),
			Data:   []byte(fmt.Sprintf("alpha data at %d", h)),
		}
		c := rollups.BuildCommitment([]*rollups.Item{item}, func(int) rollups.ID { return testRollup })
		c.Height = cmHeight(h)
		cm := rollups.EncodeCommitment(c)
		txs := types.Txs{cm, types.Tx(fmt.Sprintf("user tx %d fork %d", h, len(from)))}
		b := types.MakeBlock(h, txs, nil, nil)
		var last types.BlockID
		if h > 1 {
			prev := out[h-2].header
			last = types.BlockID{Hash: prev.Hash(), PartSetHeader: types.PartSetHeader{Total: 1, Hash: tmhash.Sum(prev.Hash())}}
		}
		b.Header.Populate(cmtversion.Consensus{Block: version.BlockProtocol}, testChainID,
			t0.Add(time.Duration(h)*300*time.Millisecond), last, valHash, valHash,
			tmhash.Sum([]byte("params")), tmhash.Sum([]byte(fmt.Sprintf("app %d", h))), tmhash.Sum(nil),
			bytes.Repeat([]byte{1}, 20))
		hd := b.Header
		out = append(out, testBlock{header: &hd, slice: &weftv1.RollupSlice{
			Height: h, BlockHash: hd.Hash(), RollupId: testRollup[:], Items: []*weftv1.RollupItem{item},
			CommitmentTx: cm, DataHash: hd.DataHash, CommitmentAunts: txs.Proof(0).Proof.Aunts, TxCount: int64(len(txs)),
		}})
	}
	return out
}

// at is block h of c.
func at(c []testBlock, h int64) testBlock { return c[h-1] }

// down returns copies of the headers hi down to lo of c, as an RPC node
// would serve them (fresh structs, safe to tamper with).
func down(c []testBlock, lo, hi int64) []*types.Header {
	var out []*types.Header
	for h := hi; h >= lo; h-- {
		hd := *at(c, h).header
		out = append(out, &hd)
	}
	return out
}

func TestLinkBack(t *testing.T) {
	c := testChain(30)
	other := testChainFrom(30, c[:10]) // same up to 10, forked above
	anchor := at(c, 30).header
	for _, tc := range []struct {
		name   string
		hs     func() []*types.Header
		anchor *types.Header
		err    string // "" accepts
	}{
		{"a correct chain", func() []*types.Header { return down(c, 10, 29) }, anchor, ""},
		{"one header", func() []*types.Header { return down(c, 29, 29) }, anchor, ""},
		{"nothing", func() []*types.Header { return nil }, anchor, ""},
		{"down to genesis", func() []*types.Header { return down(c, 1, 29) }, anchor, ""},
		{"a tampered header", func() []*types.Header {
			hs := down(c, 10, 29)
			hs[5].AppHash = tmhash.Sum([]byte("not the app hash"))
			return hs
		}, anchor, "does not link"},
		{"a wrong DataHash", func() []*types.Header {
			hs := down(c, 10, 29)
			hs[0].DataHash = at(c, 28).header.DataHash
			return hs
		}, anchor, "header 29 does not link"},
		{"a wrong DataHash deep down", func() []*types.Header {
			hs := down(c, 10, 29)
			hs[19].DataHash = tmhash.Sum([]byte("other txs"))
			return hs
		}, anchor, "header 10 does not link"},
		{"a gap", func() []*types.Header {
			hs := down(c, 10, 29)
			return append(hs[:4], hs[5:]...)
		}, anchor, "height 24 where 25 was expected"},
		{"not starting below the anchor", func() []*types.Header { return down(c, 10, 28) }, anchor, "height 28 where 29 was expected"},
		{"out of order", func() []*types.Header {
			hs := down(c, 10, 29)
			hs[2], hs[3] = hs[3], hs[2]
			return hs
		}, anchor, "where"},
		{"a missing header", func() []*types.Header {
			hs := down(c, 10, 29)
			hs[7] = nil
			return hs
		}, anchor, "missing header"},
		{"another fork's headers", func() []*types.Header { return down(other, 10, 29) }, anchor, "header 29 does not link"},
		{"another fork's anchor", func() []*types.Header { return down(c, 10, 29) }, at(other, 30).header, "header 29 does not link"},
		{"another chain id", func() []*types.Header {
			hs := down(c, 10, 29)
			hs[3].ChainID = "weft-other"
			return hs
		}, anchor, "another chain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := LinkBack(tc.anchor, tc.hs())
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.err != "" && err == nil:
				t.Fatal("accepted")
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Fatalf("error %q does not mention %q", err, tc.err)
			}
		})
	}
}

func TestHeadersFromMetas(t *testing.T) {
	c := testChain(31)
	metas := func(hs []*types.Header) *ctypes.ResultBlockchainInfo {
		res := &ctypes.ResultBlockchainInfo{LastHeight: 30}
		for _, h := range hs {
			res.BlockMetas = append(res.BlockMetas, &types.BlockMeta{BlockID: types.BlockID{Hash: h.Hash()}, Header: *h})
		}
		return res
	}
	hs, err := headersFromMetas(metas(down(c, 11, 30)), 11, 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 20 || hs[0].Height != 30 || hs[19].Height != 11 {
		t.Fatalf("got %d headers from %d", len(hs), hs[0].Height)
	}
	for _, tc := range []struct {
		name string
		res  *ctypes.ResultBlockchainInfo
	}{
		{"nil", nil},
		{"fewer (node not there yet)", metas(down(c, 11, 25))},
		{"oldest first", metas(func() []*types.Header {
			hs := down(c, 11, 30)
			for i, j := 0, len(hs)-1; i < j; i, j = i+1, j-1 {
				hs[i], hs[j] = hs[j], hs[i]
			}
			return hs
		}())},
		{"other heights", metas(down(c, 10, 29))},
		{"a nil meta", func() *ctypes.ResultBlockchainInfo {
			r := metas(down(c, 11, 30))
			r.BlockMetas[3] = nil
			return r
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := headersFromMetas(tc.res, 11, 30); err == nil {
				t.Fatal("accepted")
			}
		})
	}

	// A claimed block hash is never what is checked: the header is hashed.
	res := metas(down(c, 11, 30))
	res.BlockMetas[0].Header.DataHash = tmhash.Sum([]byte("other txs"))
	hs, err = headersFromMetas(res, 11, 30)
	if err != nil {
		t.Fatal(err)
	}
	if err := LinkBack(at(c, 31).header, hs); err == nil {
		t.Fatal("a header with a changed DataHash linked because its meta claimed the right block hash")
	}
}

func TestHeaderChain(t *testing.T) {
	c := testChain(40)
	other := testChainFrom(40, c[:20])
	hc := NewHeaderChain(8)
	if _, ok := hc.Above(1); ok {
		t.Fatal("empty chain has a header")
	}
	mustAdd := func(h *types.Header) {
		t.Helper()
		if err := hc.Add(h); err != nil {
			t.Fatalf("add %d: %v", h.Height, err)
		}
	}
	mustAdd(at(c, 30).header)
	mustAdd(at(c, 25).header)
	mustAdd(at(c, 30).header) // again: no change
	if got, ok := hc.Above(26); !ok || got.Height != 30 {
		t.Fatalf("Above(26) = %v, want 30", got)
	}
	if got, ok := hc.Above(25); !ok || got.Height != 25 {
		t.Fatalf("Above(25) = %v, want 25", got)
	}
	if _, ok := hc.Above(31); ok {
		t.Fatal("a header above 30")
	}
	if _, ok := hc.Header(26); ok {
		t.Fatal("header 26 was never added")
	}

	// Verified headers that contradict held ones are refused.
	for _, tc := range []struct {
		name string
		h    *types.Header
	}{
		{"another header at a held height", at(other, 30).header},
		{"a header below a held one that does not link to it", at(other, 29).header},
		{"a header above a held one that does not link to it", at(other, 31).header},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := hc.Len()
			if err := hc.Add(tc.h); err == nil {
				t.Fatal("accepted")
			}
			if hc.Len() != n {
				t.Fatal("held a refused header")
			}
		})
	}
	mustAdd(at(c, 29).header)
	mustAdd(at(c, 31).header)

	// Bounded: the lowest heights go first.
	for h := int64(32); h <= 40; h++ {
		mustAdd(at(c, h).header)
	}
	if hc.Len() != 8 {
		t.Fatalf("holds %d headers, limit 8", hc.Len())
	}
	if got, _ := hc.Above(1); got.Height != 33 {
		t.Fatalf("lowest held header %d, want 33", got.Height)
	}
	mustAdd(at(c, 10).header) // below the window: held by no one, no error
	if _, ok := hc.Header(10); ok || hc.Len() != 8 {
		t.Fatalf("holds %d headers, header 10 too", hc.Len())
	}
}

func clone(s *weftv1.RollupSlice) *weftv1.RollupSlice { return proto.Clone(s).(*weftv1.RollupSlice) }

func TestCheckSlice(t *testing.T) {
	c := testChain(12)
	wrong := testChainWith(7, nil, func(h int64) int64 { return h - 1 })
	if err := CheckSlice(at(c, 7).slice, at(c, 7).header); err != nil {
		t.Fatalf("slice of block 7 rejected: %v", err)
	}
	for _, tc := range []struct {
		name string
		s    func() *weftv1.RollupSlice
		h    *types.Header
	}{
		{"against another height", func() *weftv1.RollupSlice { return at(c, 7).slice }, at(c, 8).header},
		{"naming another block", func() *weftv1.RollupSlice {
			s := clone(at(c, 7).slice)
			s.BlockHash = at(c, 8).header.Hash()
			return s
		}, at(c, 7).header},
		{"another block's data under this block's hash", func() *weftv1.RollupSlice {
			s := clone(at(c, 8).slice)
			s.Height, s.BlockHash = 7, at(c, 7).slice.BlockHash
			return s
		}, at(c, 7).header},
		{"an item changed", func() *weftv1.RollupSlice {
			s := clone(at(c, 7).slice)
			s.Items[0].Data = []byte("other data")
			return s
		}, at(c, 7).header},
		{"an item's sender grown by a byte", func() *weftv1.RollupSlice {
			s := clone(at(c, 7).slice)
			s.Items[0].Sender = append(s.Items[0].Sender, 0xbb)
			return s
		}, at(c, 7).header},
		{"an item's tx hash grown by two bytes", func() *weftv1.RollupSlice {
			s := clone(at(c, 7).slice)
			s.Items[0].TxHash = append(s.Items[0].TxHash, 0, 1)
			return s
		}, at(c, 7).header},
		// A block whose commitment item names another height: its header
		// commits to it, yet a follower does not take its items for
		// height 7's.
		{"a commitment item of another height", func() *weftv1.RollupSlice { return at(wrong, 7).slice }, at(wrong, 7).header},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckSlice(tc.s(), tc.h); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
