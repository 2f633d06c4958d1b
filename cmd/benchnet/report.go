package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// results is the JSON the harness writes.
type results struct {
	StartedAt string  `json:"started_at"`
	DurationS float64 `json:"duration_s"`
	Machine   machine `json:"machine"`
	// BackgroundCores is the CPU other processes used just before the run.
	BackgroundCores float64       `json:"background_cpu_cores_at_start"`
	Settings        settings      `json:"settings"`
	Weft            *systemResult `json:"weft,omitempty"`
	KVStore         *systemResult `json:"kvstore,omitempty"`
	// HalfLoad is Weft at half its knee's offered rate.
	HalfLoad *stepResult `json:"weft_half_load,omitempty"`
	// TxsRatio is Weft's committed tx/s over kvstore's, each at its knee;
	// CapacityRatio the same at each one's capacity.
	TxsRatio      float64       `json:"weft_over_kvstore_tx_s,omitempty"`
	CapacityRatio float64       `json:"weft_over_kvstore_capacity_tx_s,omitempty"`
	Batched       *systemResult `json:"batched,omitempty"`
	// BatchedMBs is rollup data ordered per second at the batched knee;
	// BatchedPeakMBs the most any batched step committed.
	BatchedMBs     float64 `json:"batched_data_mb_s,omitempty"`
	BatchedPeakMBs float64 `json:"batched_peak_data_mb_s,omitempty"`
	// BatchedKV is the kvstore baseline fed txs of the batched payload's
	// size; BatchedKVMBs its MB/s of txs at the knee, BatchedKVPeakMBs the
	// most any of its steps committed.
	BatchedKV        *systemResult `json:"batched_kvstore,omitempty"`
	BatchedKVMBs     float64       `json:"batched_kvstore_mb_s,omitempty"`
	BatchedKVPeakMBs float64       `json:"batched_kvstore_peak_mb_s,omitempty"`
	Targets          []target      `json:"targets,omitempty"`
	// Floors are the per-tx and per-byte floors measured on this machine
	// at the start; CPUBudget the budgets the summary prints.
	Floors    *floors        `json:"floors,omitempty"`
	CPUBudget *budgetSummary `json:"cpu_budget,omitempty"`
}

type machine struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

type settings struct {
	Mode           string    `json:"mode"`
	Rates          []float64 `json:"rates_tx_s"`
	BatchMBs       []float64 `json:"batch_rates_mb_s"`
	StepS          float64   `json:"step_s"`
	BatchStepS     float64   `json:"batch_step_s"`
	WarmupS        float64   `json:"warmup_s"`
	GraceS         float64   `json:"grace_s"`
	TxBytes        int       `json:"tx_bytes"`
	BatchPayload   int       `json:"batch_payload_bytes"`
	BatchSubmit    string    `json:"batch_submit"`
	BatchBaseline  bool      `json:"batch_kvstore_baseline"`
	WorkersPerNode int       `json:"workers_per_node"`
	KVTransport    string    `json:"kvstore_transport"`
	KVMempoolSize  int       `json:"kvstore_mempool_size"`
	LogLevel       string    `json:"log_level"`
	P99LimitMs     int64     `json:"p99_limit_ms"`
	StopP99Ms      int64     `json:"stop_p99_ms"`
	// WeftReapInterval is the what-if override of mempool.reap_interval
	// ("0s": Weft as `weft testnet` configures it).
	WeftReapInterval string `json:"weft_reap_interval_override"`
	// WeftTxBatchInterval is the what-if override of
	// feed.tx_batch_interval ("0s": none).
	WeftTxBatchInterval string `json:"weft_tx_batch_interval_override"`
}

// systemResult is one system's ramp.
type systemResult struct {
	System    string        `json:"system"`
	Mempool   string        `json:"mempool"`
	Transport string        `json:"transport"`
	Steps     []*stepResult `json:"steps"`
	// Knee is the highest step that did not saturate.
	Knee *stepResult `json:"knee,omitempty"`
	// Capacity is the step with the highest committed rate among those
	// whose throughput held (≥ 90% of offered), whatever their latency.
	Capacity *stepResult `json:"capacity,omitempty"`
	Note     string      `json:"note,omitempty"`
}

// target is one of the goals: reported, not asserted.
type target struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Goal  string  `json:"goal"`
	Met   bool    `json:"met"`
}

func (r *results) evaluate() {
	r.Targets = nil
	if r.Weft != nil && r.KVStore != nil {
		r.TxsRatio, r.CapacityRatio = 0, 0
		if r.Weft.Knee != nil && r.KVStore.Knee != nil && r.KVStore.Knee.CommittedTxS > 0 {
			r.TxsRatio = round(r.Weft.Knee.CommittedTxS/r.KVStore.Knee.CommittedTxS, 2)
		}
		if r.Weft.Capacity != nil && r.KVStore.Capacity != nil && r.KVStore.Capacity.CommittedTxS > 0 {
			r.CapacityRatio = round(r.Weft.Capacity.CommittedTxS/r.KVStore.Capacity.CommittedTxS, 2)
		}
		r.Targets = append(r.Targets, target{Name: "weft/kvstore committed tx/s at the knee (p99 ≤ 1 s)", Value: r.TxsRatio, Goal: "≥ 2",
			Met: r.TxsRatio >= 2})
	}
	if r.HalfLoad != nil {
		r.Targets = append(r.Targets, target{Name: fmt.Sprintf("weft p50 at half load (%.0f tx/s), ms", r.HalfLoad.OfferedTxS), Value: r.HalfLoad.P50Ms,
			Goal: "≤ 300", Met: r.HalfLoad.P50Ms >= 0 && r.HalfLoad.P50Ms <= 300})
	}
	if r.Batched != nil {
		r.BatchedMBs, r.BatchedPeakMBs = kneeAndPeak(r.Batched, func(s *stepResult) float64 { return s.DataMBs })
		r.Targets = append(r.Targets, target{Name: "batched rollup data ordered at the knee, MB/s", Value: r.BatchedMBs, Goal: "≥ 30", Met: r.BatchedMBs >= 30})
	}
	if r.BatchedKV != nil {
		r.BatchedKVMBs, r.BatchedKVPeakMBs = kneeAndPeak(r.BatchedKV, func(s *stepResult) float64 { return s.MBs })
	}
	r.CPUBudget = r.summarizeBudget()
}

// kneeAndPeak is figure f of sys's knee step (0 without a knee) and the
// highest f of any of its steps, both rounded to 2 decimals.
func kneeAndPeak(sys *systemResult, f func(*stepResult) float64) (knee, peak float64) {
	if sys.Knee != nil {
		knee = round(f(sys.Knee), 2)
	}
	for _, s := range sys.Steps {
		peak = max(peak, round(f(s), 2))
	}
	return knee, peak
}

func (r *results) write(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// printStep is a step's progress line.
func printStep(system, what string, r *stepResult) {
	verdict := "ok"
	if r.Saturated {
		verdict = "SATURATED: " + r.Reason
	}
	data := ""
	if r.DataBytes > 0 {
		data = fmt.Sprintf(", %.1f MB/s rollup data", r.DataMBs)
	}
	fmt.Printf("[%s] %s: offered %.0f tx/s (sent %.0f) → committed %.0f tx/s (%.2f MB/s%s); p50 %s p99 %s; "+
		"nodes %.2f cores (others %.2f), %.2f CPU-s/1k tx; blocks every %.0f ms, %.0f txs/block; %d not committed, %d RPC errors → %s\n",
		system, what, r.OfferedTxS, r.SentTxS, r.CommittedTxS, r.MBs, data, ms(r.P50Ms), ms(r.P99Ms),
		r.NodeCPUCores, r.OtherCores, r.CPUSecPer1k, r.BlockMs, r.TxsPerBlock, r.Uncommitted, r.RPCErrors, verdict)
	if len(r.PhasesMs) > 0 {
		fmt.Printf("  node0 mean ms: %s\n", phaseLine(r.PhasesMs))
	}
	if g := r.GossipNode0; len(g) > 0 {
		fmt.Printf("  node0 gossip: %.0f messages (%.1f MB) validated, %.0f duplicates (%.1f MB) dropped\n",
			g["messages_received"], g["received_bytes"]/1e6, g["duplicate_messages"], g["duplicate_bytes"]/1e6)
	}
	if r.RecoveriesNode0 > 0 {
		fmt.Printf("  node0 recovered %.0f tx signers: %.2f per committed tx\n", r.RecoveriesNode0, r.RecoveriesPerTx)
	}
	if r.FirstRPCErr != "" {
		fmt.Printf("  first RPC error: %s\n", r.FirstRPCErr)
	}
	for _, s := range r.NotCommitted {
		fmt.Printf("  not committed: %s\n", s)
	}
}

func ms(v float64) string {
	if v < 0 {
		return "n/a (not committed)"
	}
	return fmt.Sprintf("%.0f ms", v)
}

// print is the closing summary: both systems side by side, at their knees
// and at their capacities.
func (r *results) print() {
	fmt.Println("\n================ benchnet summary ================")
	if r.Weft != nil || r.KVStore != nil {
		for _, sys := range []*systemResult{r.Weft, r.KVStore} {
			if sys != nil {
				fmt.Printf("%-8s mempool %s, transport %s\n", sys.System, sys.Mempool, sys.Transport)
			}
		}
		table("at the knee (highest step with p99 ≤ limit and ≥ 90% committed)", knee(r.Weft), knee(r.KVStore), r.TxsRatio)
		table("at capacity (highest committed rate with ≥ 90% committed, any latency)", capacity(r.Weft), capacity(r.KVStore), r.CapacityRatio)
		for _, s := range []*systemResult{r.Weft, r.KVStore} {
			if s != nil && s.Note != "" {
				fmt.Printf("note (%s): %s\n", s.System, s.Note)
			}
			if last := lastStep(s); last != nil && last.Saturated {
				fmt.Printf("%s: last step (%.0f tx/s) saturated: %s\n", s.System, last.OfferedTxS, last.Reason)
			}
		}
	}
	if r.HalfLoad != nil {
		fmt.Printf("weft at half its max load (%.0f tx/s): p50 %s, p99 %s\n", r.HalfLoad.OfferedTxS, ms(r.HalfLoad.P50Ms), ms(r.HalfLoad.P99Ms))
	}
	if r.Batched != nil {
		fmt.Printf("weft batched (%d-byte payloads): %.1f MB/s of rollup data at the knee, peak %.1f MB/s",
			r.Settings.BatchPayload, r.BatchedMBs, r.BatchedPeakMBs)
		if k := r.Batched.Knee; k != nil {
			fmt.Printf(" (knee: %.0f tx/s offered, p50 %s, p99 %s, blocks of %.0f KB every %.0f ms)", k.OfferedTxS, ms(k.P50Ms), ms(k.P99Ms), k.BlockKB, k.BlockMs)
		}
		fmt.Println()
		if last := lastStep(r.Batched); last != nil && last.Saturated {
			fmt.Printf("batched: last step (%.1f MB/s offered) saturated: %s\n", last.OfferedTxS*float64(last.DataBytes)/1e6, last.Reason)
		}
	}
	if r.BatchedKV != nil {
		fmt.Printf("kvstore with %d-byte txs: %.1f MB/s at the knee, peak %.1f MB/s", r.Settings.BatchPayload, r.BatchedKVMBs, r.BatchedKVPeakMBs)
		if r.Batched != nil && r.BatchedKVMBs > 0 {
			fmt.Printf("; weft batched / kvstore: %.2fx at the knee", r.BatchedMBs/r.BatchedKVMBs)
		}
		if r.Batched != nil && r.BatchedKVPeakMBs > 0 {
			fmt.Printf(", %.2fx at the peak", r.BatchedPeakMBs/r.BatchedKVPeakMBs)
		}
		fmt.Println()
		if last := lastStep(r.BatchedKV); last != nil && last.Saturated {
			fmt.Printf("kvstore batched: last step (%.1f MB/s offered) saturated: %s\n", last.OfferedTxS*float64(last.TxBytes)/1e6, last.Reason)
		}
	}
	r.printBudgets()
	if len(r.Targets) > 0 {
		fmt.Println("targets (reported, not asserted):")
		for _, t := range r.Targets {
			met := "missed"
			if t.Met {
				met = "met"
			}
			fmt.Printf("  %-55s %8.2f  goal %-6s %s\n", t.Name, t.Value, t.Goal, met)
		}
	}
}

// table prints two steps side by side.
func table(title string, w, k *stepResult, ratio float64) {
	fmt.Printf("\n%s\n", title)
	row := func(name string, f func(s *stepResult) string) {
		fmt.Printf("  %-30s %20s %20s\n", name, f(w), f(k))
	}
	fmt.Printf("  %-30s %20s %20s\n", "", "weft", "kvstore")
	row("offered (tx/s)", num(func(s *stepResult) float64 { return s.OfferedTxS }, "%.0f"))
	row("committed (tx/s)", num(func(s *stepResult) float64 { return s.CommittedTxS }, "%.0f"))
	row("MB/s of txs", num(func(s *stepResult) float64 { return s.MBs }, "%.2f"))
	row("p50 submit→commit (ms)", num(func(s *stepResult) float64 { return s.P50Ms }, "%.0f"))
	row("p99 submit→commit (ms)", num(func(s *stepResult) float64 { return s.P99Ms }, "%.0f"))
	row("CPU-s per 1,000 txs (4 nodes)", num(func(s *stepResult) float64 { return s.CPUSecPer1k }, "%.3f"))
	row("node CPU (cores, 4 nodes)", num(func(s *stepResult) float64 { return s.NodeCPUCores }, "%.2f"))
	row("other processes (cores)", num(func(s *stepResult) float64 { return s.OtherCores }, "%.2f"))
	row("peak RSS per node (MB)", func(s *stepResult) string {
		if s == nil {
			return "-"
		}
		parts := make([]string, len(s.PeakRSSMB))
		for i, v := range s.PeakRSSMB {
			parts[i] = fmt.Sprintf("%.0f", v)
		}
		return strings.Join(parts, "/")
	})
	row("block interval (ms)", num(func(s *stepResult) float64 { return s.BlockMs }, "%.0f"))
	if ratio > 0 {
		fmt.Printf("  %-30s %20.2fx\n", "weft / kvstore tx/s", ratio)
	}
}

func capacity(s *systemResult) *stepResult {
	if s == nil {
		return nil
	}
	return s.Capacity
}

func knee(s *systemResult) *stepResult {
	if s == nil {
		return nil
	}
	return s.Knee
}

func lastStep(s *systemResult) *stepResult {
	if s == nil || len(s.Steps) == 0 {
		return nil
	}
	return s.Steps[len(s.Steps)-1]
}

func num(f func(s *stepResult) float64, format string) func(s *stepResult) string {
	return func(s *stepResult) string {
		if s == nil {
			return "-"
		}
		return fmt.Sprintf(format, f(s))
	}
}
