package main

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/weftnet/weft/cmd/weft/view"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups/feed"
)

// TestFollowLines: `weft follow` prints one line per slice — JSON with
// 0x tx hashes, or text — and stops after --count slices.
func TestFollowLines(t *testing.T) {
	slice := &weftv1.RollupSlice{Height: 7, Items: []*weftv1.RollupItem{{TxHash: []byte{0xab, 0xcd}}}}
	for _, c := range []struct {
		format view.Format
		want   string
	}{
		{view.JSON, `{"height":7,"items":1,"verified":true,"tx_hashes":["0xabcd"]}` + "\n" +
			`{"height":8,"items":0,"verified":false,"tx_hashes":[],"error":"bad proof"}` + "\n"},
		{view.Text, "height 7: 1 items, verified\nheight 8: REJECTED: bad proof\n"},
	} {
		var out bytes.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		p := &slicePrinter{out: &out, format: c.format, count: 2, cancel: cancel}
		if err := p.print(feed.Verified{Slice: slice}); err != nil {
			t.Fatal(err)
		}
		if ctx.Err() != nil {
			t.Fatal("cancelled after one of two slices")
		}
		if err := p.print(feed.Verified{Slice: &weftv1.RollupSlice{Height: 8}, Err: errors.New("bad proof")}); err != nil {
			t.Fatal(err)
		}
		if ctx.Err() == nil {
			t.Error("not cancelled after --count slices")
		}
		if out.String() != c.want || p.bad == nil {
			t.Errorf("printed %q (bad %v), want %q", out.String(), p.bad, c.want)
		}
	}
}
