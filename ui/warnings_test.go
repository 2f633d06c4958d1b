package ui

import (
	"strings"
	"testing"
	"time"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

func TestWarningsOfFixture(t *testing.T) {
	got := map[string]string{}
	for _, w := range fixture().Warnings {
		got[w.Kind+"/"+w.Subject] = w.Message
	}
	want := map[string]string{
		WarnMissingBlocks + "/<script>alert(1)</script>": "missed 12 of the last 20 blocks",
		WarnJailed + "/node2":                            "jailed until height 4000",
		WarnBatcherBehind + "/alpha":                     "has waited 1m35s (expected under 30s)",
		WarnL1Unreachable + "/beta":                      "L1 unreachable: dial tcp",
		WarnExecutorBehind + "/beta":                     "34 Weft blocks behind",
	}
	for k, frag := range want {
		if !strings.Contains(got[k], frag) {
			t.Errorf("warning %s = %q, want it to say %q", k, got[k], frag)
		}
	}
	if len(got) != len(want) {
		t.Errorf("warnings %v, want only %d", got, len(want))
	}
}

func TestWarningRules(t *testing.T) {
	base := func() *weftv1.NetworkStatus {
		return &weftv1.NetworkStatus{ChainId: "c", Moniker: "n", Height: 100, BlockTimeUnixNano: at.UnixNano(),
			BlockIntervalNanos: int64(300 * time.Millisecond), SignedBlocksWindow: 1000, MaxMissedBlocks: 500}
	}
	val := func(missed, recent uint32, power int64) *weftv1.ValidatorStatus {
		return &weftv1.ValidatorStatus{Moniker: "v", Power: power, MissedBlocks: missed, RecentMissed: recent, RecentBlocks: 20}
	}
	cases := []struct {
		name  string
		edit  func(*weftv1.NetworkStatus)
		now   time.Time
		kinds []string
	}{
		{"healthy", func(*weftv1.NetworkStatus) {}, at.Add(time.Second), nil},
		{"stalled after 10s", func(*weftv1.NetworkStatus) {}, at.Add(11 * time.Second), []string{WarnChainStalled}},
		{"slow chain stalls later", func(s *weftv1.NetworkStatus) { s.BlockIntervalNanos = int64(time.Second) }, at.Add(15 * time.Second), nil},
		{"catching up", func(s *weftv1.NetworkStatus) { s.CatchingUp = true }, at, []string{WarnCatchingUp}},
		{"a few misses are fine", func(s *weftv1.NetworkStatus) { s.Validators = append(s.Validators, val(4, 4, 10)) }, at, nil},
		{"a quarter missed", func(s *weftv1.NetworkStatus) { s.Validators = append(s.Validators, val(5, 5, 10)) }, at, []string{WarnMissingBlocks}},
		{"close to jail", func(s *weftv1.NetworkStatus) { s.Validators = append(s.Validators, val(251, 0, 10)) }, at, []string{WarnMissingBlocks}},
		{"inactive validators are not watched", func(s *weftv1.NetworkStatus) { s.Validators = append(s.Validators, val(300, 20, 0)) }, at, nil},
		{"tombstoned", func(s *weftv1.NetworkStatus) {
			s.Validators = append(s.Validators, &weftv1.ValidatorStatus{Moniker: "v", Jailed: true, Tombstoned: true})
		}, at, []string{WarnJailed}},
		{"executor 19 behind is fine", func(s *weftv1.NetworkStatus) {
			s.Rollups = append(s.Rollups, &weftv1.RollupStatus{Name: "r", WeftHeight: 81})
		}, at, nil},
		{"executor 20 behind", func(s *weftv1.NetworkStatus) {
			s.Rollups = append(s.Rollups, &weftv1.RollupStatus{Name: "r", WeftHeight: 80})
		}, at, []string{WarnExecutorBehind}},
		{"lag within 2 batch ages + 20s", func(s *weftv1.NetworkStatus) {
			s.Rollups = append(s.Rollups, &weftv1.RollupStatus{Name: "r", WeftHeight: 100, SettlementLagNanos: int64(30 * time.Second),
				Settlement: &weftv1.RollupSettlement{Batcher: true, MaxBatchAgeNanos: int64(5 * time.Second)}})
		}, at, nil},
		{"lag beyond", func(s *weftv1.NetworkStatus) {
			s.Rollups = append(s.Rollups, &weftv1.RollupStatus{Name: "r", WeftHeight: 100, SettlementLagNanos: int64(31 * time.Second),
				Settlement: &weftv1.RollupSettlement{Batcher: true, MaxBatchAgeNanos: int64(5 * time.Second)}})
		}, at, []string{WarnBatcherBehind}},
		{"lag without a batcher is not ours", func(s *weftv1.NetworkStatus) {
			s.Rollups = append(s.Rollups, &weftv1.RollupStatus{Name: "r", WeftHeight: 100, SettlementLagNanos: int64(time.Hour),
				Settlement: &weftv1.RollupSettlement{Relayer: true}})
		}, at, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := base()
			c.edit(st)
			var kinds []string
			for _, w := range Warnings(st, c.now) {
				kinds = append(kinds, w.Kind)
			}
			if strings.Join(kinds, ",") != strings.Join(c.kinds, ",") {
				t.Errorf("warnings %v, want %v", kinds, c.kinds)
			}
		})
	}
}
