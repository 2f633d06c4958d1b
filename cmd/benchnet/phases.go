package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// phaseSeries are the CometBFT histograms a step's phase line averages:
// the ABCI calls (the app's share of a height) and the consensus steps
// (where the rest of the block interval goes).
var phaseSeries = map[string]string{
	"cometbft_abci_connection_method_timing_seconds": "method",
	"cometbft_consensus_step_duration_seconds":       "step",
}

// phaseNames orders the phase line: a height's life from proposal to commit.
var phaseNames = []string{
	"prepare_proposal", "process_proposal", "finalize_block", "commit",
	"Propose", "Prevote", "PrevoteWait", "Precommit", "PrecommitWait", "Commit",
}

// gossipCounters are Weft's gossip counters a step's line reports (the
// kvstore baseline has none), and the tx signers it recovered.
var gossipCounters = []string{
	"weft_gossip_messages_received_total", "weft_gossip_received_bytes_total",
	"weft_gossip_duplicate_messages_total", "weft_gossip_duplicate_bytes_total",
	recoveriesCounter,
}

// recoveriesCounter counts the tx signers a Weft node recovered.
const recoveriesCounter = "weft_tx_signature_recoveries_total"

// histSum is a histogram's running sum and count.
type histSum struct{ sum, count float64 }

// scrape is what a step reads from a node's metrics at each end of its
// window: the phase histograms by label value, and the gossip counters.
type scrape struct {
	phases   map[string]histSum
	counters map[string]float64
}

// scrapePhases reads node url's Prometheus metrics (an error when the node
// does not answer).
func scrapePhases(ctx context.Context, url string) (*scrape, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: HTTP %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	out := &scrape{phases: map[string]histSum{}, counters: map[string]float64{}}
	for _, name := range gossipCounters {
		if f := fams[name]; f != nil && len(f.Metric) == 1 && f.Metric[0].GetCounter() != nil {
			out.counters[name] = f.Metric[0].GetCounter().GetValue()
		}
	}
	for name, label := range phaseSeries {
		f := fams[name]
		if f == nil {
			continue
		}
		for _, m := range f.Metric {
			h := m.GetHistogram()
			if h == nil {
				continue
			}
			k := labelValue(m, label)
			// Only the ABCI calls' sync timings (not the async CheckTx path).
			if label == "method" && labelValue(m, "type") != "sync" {
				continue
			}
			s := out.phases[k]
			s.sum += h.GetSampleSum()
			s.count += float64(h.GetSampleCount())
			out.phases[k] = s
		}
	}
	return out, nil
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// phaseMeans is the mean duration in ms of each phase between two scrapes.
func phaseMeans(a, b *scrape) map[string]float64 {
	out := map[string]float64{}
	for k, v := range b.phases {
		n := v.count - a.phases[k].count
		if n <= 0 {
			continue
		}
		out[k] = round((v.sum-a.phases[k].sum)/n*1000, 1)
	}
	return out
}

// phaseLine is a step's phase means in height order, the known ones first.
func phaseLine(means map[string]float64) string {
	var parts []string
	seen := map[string]bool{}
	for _, k := range phaseNames {
		if v, ok := means[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %.1f", k, v))
			seen[k] = true
		}
	}
	var rest []string
	for k := range means {
		if !seen[k] && k != "" {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		if strings.HasPrefix(k, "check_tx") || strings.HasPrefix(k, "insert_tx") {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, means[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// gossipDelta is how much each gossip counter grew between two scrapes.
func gossipDelta(a, b *scrape) map[string]float64 {
	out := map[string]float64{}
	for k, v := range b.counters {
		if k == recoveriesCounter {
			continue
		}
		out[strings.TrimPrefix(strings.TrimSuffix(k, "_total"), "weft_gossip_")] = v - a.counters[k]
	}
	return out
}
