package ui

import (
	"testing"
	"time"
)

func TestHistoryBucketsBySecondAndForgetsOld(t *testing.T) {
	h := NewHistory(5 * time.Second)
	t0 := time.Unix(1000, 0)
	h.AddBlock(Block{Height: 1, Time: t0.Add(100 * time.Millisecond), Rollups: []RollupBlock{{Name: "alpha", Bytes: 10, Lag: -1}}})
	h.AddBlock(Block{Height: 2, Time: t0.Add(400 * time.Millisecond), Interval: 300 * time.Millisecond,
		Rollups: []RollupBlock{{Name: "alpha", Bytes: 5, Lag: 2 * time.Second}}})
	h.AddTxs("alpha", t0, 7)
	h.AddBlock(Block{Height: 3, Time: t0.Add(1200 * time.Millisecond), Interval: 800 * time.Millisecond})
	s := h.Samples()
	if len(s) != 2 || s[0].TimeUnix != 1000 || s[1].TimeUnix != 1001 {
		t.Fatalf("samples %v, want seconds 1000 and 1001", s)
	}
	if s[0].Blocks != 2 || s[0].Height != 2 || s[0].IntervalNanosSum != int64(300*time.Millisecond) {
		t.Errorf("second 1000: %v", s[0])
	}
	if r := s[0].Rollups; len(r) != 1 || r[0].Txs != 7 || r[0].Bytes != 15 || r[0].SettlementLagNanos != int64(2*time.Second) {
		t.Errorf("second 1000's alpha: %v", r)
	}
	// Txs of a second with no block yet make that second's sample, in order.
	h.AddTxs("beta", time.Unix(999, 0), 1)
	if s := h.Samples(); len(s) != 3 || s[0].TimeUnix != 999 || s[0].Rollups[0].SettlementLagNanos != -1 {
		t.Fatalf("after txs at 999: %v", s)
	}
	// A block at 1005 keeps the last 5 s: 1001 and 1005.
	h.AddBlock(Block{Height: 4, Time: time.Unix(1005, 0)})
	s = h.Samples()
	if len(s) != 2 || s[0].TimeUnix != 1001 || s[1].TimeUnix != 1005 {
		t.Fatalf("after 1005: %v, want 1001 and 1005", s)
	}
	// Too old to keep.
	h.AddTxs("alpha", time.Unix(1000, 0), 3)
	if s := h.Samples(); len(s) != 2 {
		t.Fatalf("txs older than the window were kept: %v", s)
	}
	// Samples are copies.
	s[0].Blocks = 99
	if h.Samples()[0].Blocks == 99 {
		t.Fatal("Samples shares its samples")
	}
}

func TestChartsScaleIntoTheViewBox(t *testing.T) {
	h := NewHistory(time.Minute)
	for i := range 10 {
		h.AddBlock(Block{Height: int64(i + 1), Time: time.Unix(int64(2000+i), 0), Interval: time.Duration(i+1) * 100 * time.Millisecond,
			Rollups: []RollupBlock{{Name: "alpha", Bytes: uint64(i) * 1e6, Lag: time.Duration(i) * time.Second}}})
		h.AddTxs("alpha", time.Unix(int64(2000+i), 0), uint64(2*i))
	}
	charts := Charts(h.Samples())
	var titles []string
	for _, c := range charts {
		titles = append(titles, c.Title)
	}
	want := []string{"block interval", "alpha tx/s", "alpha MB/s", "alpha settlement lag"}
	if len(titles) != len(want) {
		t.Fatalf("charts %v, want %v", titles, want)
	}
	for i := range want {
		if titles[i] != want[i] {
			t.Fatalf("charts %v, want %v", titles, want)
		}
	}
	tx := charts[1]
	if tx.Latest != "18 tx/s" || tx.Max != "18 tx/s" || tx.Span != "9s" {
		t.Errorf("tx/s chart labels: %+v", tx)
	}
	if tx.Points != "0,59 33.3,52.6 66.7,46.1 100,39.7 133.3,33.2 166.7,26.8 200,20.3 233.3,13.9 266.7,7.4 300,1" {
		t.Errorf("tx/s points %q", tx.Points)
	}
	if charts[0].Latest != "1s" || charts[3].Max != "9s" {
		t.Errorf("interval %+v, lag %+v", charts[0], charts[3])
	}
	if Charts(nil) != nil {
		t.Error("charts without samples")
	}
}

func TestRateLabels(t *testing.T) {
	for v, want := range map[float64]string{0: "0 MB/s", 0.000512: "512 B/s", 0.0512: "51.2 kB/s", 3.456: "3.46 MB/s"} {
		if got := rate(v); got != want {
			t.Errorf("rate(%v) = %q, want %q", v, got, want)
		}
	}
}
