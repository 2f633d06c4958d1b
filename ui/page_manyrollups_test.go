package ui

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// manyRollupsHistory is a full history window whose first block carried
// items of r rollups (one tiny item each, once in ten minutes): anyone can
// register rollups and order data for them, the node records every rollup
// in a block, served or not, and the page draws charts of every rollup
// named anywhere in the window, with a point for every second.
func manyRollupsHistory(r int) []*weftv1.StatusSample {
	h := NewHistory(DefaultHistoryWindow)
	start := at.Add(-DefaultHistoryWindow)
	for s := range int(DefaultHistoryWindow / time.Second) {
		blk := Block{Height: int64(s + 1), Time: start.Add(time.Duration(s) * time.Second), Interval: time.Second}
		for i := range r {
			if s != 0 { // each rollup has items in one block of the window only
				break
			}
			blk.Rollups = append(blk.Rollups, RollupBlock{Name: fmt.Sprintf("spam-%04d", i), Bytes: 1, Lag: -1})
		}
		h.AddBlock(blk)
	}
	return h.Samples()
}

// TestPageWithManyRollupsInBlocks: the page stays within its own bound
// (maxResponse) and charts at most maxChartedRollups rollups whatever
// rollups others register and fill (500 here, each named once in the
// window).
func TestPageWithManyRollupsInBlocks(t *testing.T) {
	samples := manyRollupsHistory(500)
	status := func(_ context.Context, history bool) (*weftv1.GetNetworkStatusResponse, error) {
		resp := &weftv1.GetNetworkStatusResponse{Status: fixture()}
		if history {
			resp.History = samples
		}
		return resp, nil
	}
	h := Handler(Config{Status: status})
	start := time.Now()
	r := get(t, h, http.MethodGet, "/fragment")
	b := body(t, r)
	took := time.Since(start)
	t.Logf("GET /fragment: %d, %d bytes, %s", r.StatusCode, len(b), took)
	if r.StatusCode != http.StatusOK {
		t.Errorf("GET /fragment with 500 rollups in blocks: %d %q", r.StatusCode, strings.TrimSpace(b))
	}
	if n := strings.Count(b, "<svg"); n > 1+3*maxChartedRollups {
		t.Errorf("the page draws %d charts, at most %d expected", n, 1+3*maxChartedRollups)
	}
}
