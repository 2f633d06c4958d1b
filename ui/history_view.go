package ui

import (
	"io/fs"
	"time"

	"github.com/weftnet/weft/format"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// SampleView is one second of history, readable.
type SampleView struct {
	Time           string             `json:"time"`
	Blocks         int32              `json:"blocks"`
	Height         int64              `json:"height"`
	MeanIntervalMS float64            `json:"mean_block_interval_ms,omitempty"`
	Rollups        []RollupSampleView `json:"rollups,omitempty"`
}

// RollupSampleView is a rollup's part of a SampleView.
type RollupSampleView struct {
	Name  string `json:"name"`
	Txs   uint64 `json:"txs"`
	Bytes uint64 `json:"bytes"`
	// SettlementLagS is absent where the node does not settle the rollup.
	SettlementLagS *float64 `json:"settlement_lag_seconds,omitempty"`
}

// HistoryView is samples, readable, oldest first.
func HistoryView(samples []*weftv1.StatusSample) []SampleView {
	out := make([]SampleView, 0, len(samples))
	for _, s := range samples {
		sv := SampleView{Time: format.Time(time.Unix(s.TimeUnix, 0)), Blocks: s.Blocks, Height: s.Height}
		if s.Blocks > 0 {
			sv.MeanIntervalMS = float64(s.IntervalNanosSum) / float64(s.Blocks) / 1e6
		}
		for _, r := range s.Rollups {
			rv := RollupSampleView{Name: r.Name, Txs: r.Txs, Bytes: r.Bytes}
			if r.SettlementLagNanos >= 0 {
				lag := float64(r.SettlementLagNanos) / 1e9
				rv.SettlementLagS = &lag
			}
			sv.Rollups = append(sv.Rollups, rv)
		}
		out = append(out, sv)
	}
	return out
}

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return s
}
