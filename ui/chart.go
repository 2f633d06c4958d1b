package ui

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/weftnet/weft/format"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// Chart is one small line chart, drawn as an inline SVG polyline.
type Chart struct {
	Title string
	// Points is the polyline in the chart's viewBox (ChartWidth ×
	// ChartHeight, y downwards); empty when there is nothing to draw.
	Points string
	// Latest and Max label the newest and the largest value; Span the time
	// the chart covers.
	Latest, Max, Span string
}

// The charts' viewBox.
const (
	ChartWidth  = 300
	ChartHeight = 60
)

// point is one value at one second; gaps (no value) are left out.
type point struct {
	t int64
	v float64
}

// Charts are the page's charts over samples: the block interval, then per
// rollup tx/s, MB/s (data ordered) and settlement lag where settled.
func Charts(samples []*weftv1.StatusSample) []Chart {
	if len(samples) == 0 {
		return nil
	}
	from, to := samples[0].TimeUnix, samples[len(samples)-1].TimeUnix
	var interval []point
	var names []string
	seen := map[string]bool{}
	bytes := map[string]uint64{}
	settled := map[string]bool{}
	for _, s := range samples {
		if s.Blocks > 0 && s.IntervalNanosSum > 0 {
			interval = append(interval, point{s.TimeUnix, float64(s.IntervalNanosSum) / float64(s.Blocks) / 1e6})
		}
		for _, r := range s.Rollups {
			if !seen[r.Name] {
				seen[r.Name] = true
				names = append(names, r.Name)
			}
			bytes[r.Name] += r.Bytes
			settled[r.Name] = settled[r.Name] || r.SettlementLagNanos >= 0
		}
	}
	names = chartedRollups(names, bytes, settled)
	out := []Chart{newChart("block interval", interval, from, to, func(v float64) string {
		return format.Duration(time.Duration(v * 1e6))
	})}
	for _, name := range names {
		txs, bytes, lag := rollupSeries(samples, name)
		out = append(out,
			newChart(name+" tx/s", txs, from, to, func(v float64) string { return trimFloat(v, 1) + " tx/s" }),
			newChart(name+" MB/s", bytes, from, to, rate))
		if len(lag) > 0 {
			out = append(out, newChart(name+" settlement lag", lag, from, to, func(v float64) string {
				return format.Duration(time.Duration(v * 1e9))
			}))
		}
	}
	return out
}

// maxChartedRollups bounds the rollups charted (three charts each): anyone
// can register rollups and put data in blocks, and the page must stay
// small and cheap whatever they do.
const maxChartedRollups = 8

// chartedRollups are the rollups to chart: settled ones (the node's own)
// first, then by data ordered over the window, then by name; at most
// maxChartedRollups.
func chartedRollups(names []string, bytes map[string]uint64, settled map[string]bool) []string {
	sort.SliceStable(names, func(i, j int) bool {
		a, b := names[i], names[j]
		if settled[a] != settled[b] {
			return settled[a]
		}
		if bytes[a] != bytes[b] {
			return bytes[a] > bytes[b]
		}
		return a < b
	})
	return names[:min(len(names), maxChartedRollups)]
}

// rollupSeries are a rollup's tx/s and MB/s (seconds without a sample
// count as zero: no block, nothing ordered) and its settlement lag in
// seconds (where known).
func rollupSeries(samples []*weftv1.StatusSample, name string) (txs, bytes, lag []point) {
	prev := samples[0].TimeUnix - 1
	for _, s := range samples {
		if s.TimeUnix > prev+1 { // a gap: zero at its edges
			txs = append(txs, point{prev + 1, 0}, point{s.TimeUnix - 1, 0})
			bytes = append(bytes, point{prev + 1, 0}, point{s.TimeUnix - 1, 0})
		}
		prev = s.TimeUnix
		var rs *weftv1.RollupSample
		for _, r := range s.Rollups {
			if r.Name == name {
				rs = r
			}
		}
		if rs == nil {
			txs, bytes = append(txs, point{s.TimeUnix, 0}), append(bytes, point{s.TimeUnix, 0})
			continue
		}
		txs = append(txs, point{s.TimeUnix, float64(rs.Txs)})
		bytes = append(bytes, point{s.TimeUnix, float64(rs.Bytes) / 1e6})
		if rs.SettlementLagNanos >= 0 {
			lag = append(lag, point{s.TimeUnix, float64(rs.SettlementLagNanos) / 1e9})
		}
	}
	return txs, bytes, lag
}

// newChart scales pts into the viewBox, x over [from, to] and y from 0 to
// the largest value.
func newChart(title string, pts []point, from, to int64, label func(float64) string) Chart {
	c := Chart{Title: title, Span: format.Duration(time.Duration(to-from) * time.Second)}
	if len(pts) == 0 {
		return c
	}
	top := 0.0
	for _, p := range pts {
		top = math.Max(top, p.v)
	}
	c.Latest, c.Max = label(pts[len(pts)-1].v), label(top)
	if top == 0 {
		top = 1
	}
	span := float64(max(to-from, 1))
	var b strings.Builder
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		x := float64(p.t-from) / span * ChartWidth
		y := ChartHeight - p.v/top*(ChartHeight-2) - 1
		fmt.Fprintf(&b, "%s,%s", trimFloat(x, 1), trimFloat(y, 1))
	}
	c.Points = b.String()
	return c
}

// trimFloat formats v with at most prec decimals, without trailing zeros.
func trimFloat(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// rate labels a data rate given in MB/s with a unit that fits it.
func rate(mbps float64) string {
	switch b := mbps * 1e6; {
	case b == 0:
		return "0 MB/s"
	case b < 1e3:
		return trimFloat(b, 0) + " B/s"
	case b < 1e6:
		return trimFloat(b/1e3, 1) + " kB/s"
	}
	return trimFloat(mbps, 2) + " MB/s"
}
