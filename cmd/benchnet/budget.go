package main

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
)

// cpuBudget is where the validators' CPU went during a step's measured
// window, by component (attribute.go), from a CPU profile of every node.
type cpuBudget struct {
	// ProfileS is how long each profile ran; Nodes how many were taken.
	ProfileS float64 `json:"profile_s"`
	Nodes    int     `json:"nodes"`
	// Txs is what committed over the profiled time (the step's committed
	// tx/s × ProfileS), each TxBytes long.
	Txs     float64 `json:"txs"`
	TxBytes int     `json:"tx_bytes"`
	// ProfiledCPUS is the CPU time the profiles sampled, all nodes;
	// ProcCPUS the nodes' CPU time over as long a window per /proc (the
	// profiles miss what runs outside Go's signal-driven sampling).
	ProfiledCPUS float64       `json:"profiled_cpu_s"`
	ProcCPUS     float64       `json:"proc_cpu_s"`
	Components   []budgetEntry `json:"components"`
}

// budgetEntry is one component's share of a cpuBudget.
type budgetEntry struct {
	Component string  `json:"component"`
	CPUS      float64 `json:"cpu_s"`
	// UsPerTx is CPU-µs per committed tx and NsPerByte CPU-ns per
	// committed tx byte, summed over the nodes.
	UsPerTx   float64 `json:"cpu_us_per_tx"`
	NsPerByte float64 `json:"cpu_ns_per_byte"`
	Share     float64 `json:"share"`
	// Top are the frames that decided the most of the component's samples
	// (attribute.go): where to look first.
	Top []frameCost `json:"top_frames,omitempty"`
}

// frameCost is one deciding frame's share of a component.
type frameCost struct {
	Frame   string  `json:"frame"`
	CPUS    float64 `json:"cpu_s"`
	UsPerTx float64 `json:"cpu_us_per_tx"`
}

// budgetFromProfiles attributes the samples of the profiles at paths and
// divides them by what step r committed.
func budgetFromProfiles(paths []string, r *stepResult) (*cpuBudget, error) {
	a := newAttributor(attributionRules)
	total := map[string]float64{}
	frames := map[string]map[string]float64{}
	b := &cpuBudget{Nodes: len(paths), TxBytes: r.TxBytes}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		pc, err := cpuByComponent(f, a)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		b.ProfileS = max(b.ProfileS, pc.durS)
		for k, v := range pc.byComp {
			total[k] += v
		}
		for k, m := range pc.byFrame {
			if frames[k] == nil {
				frames[k] = map[string]float64{}
			}
			for fr, v := range m {
				frames[k][fr] += v
			}
		}
	}
	b.Txs = round(r.CommittedTxS*b.ProfileS, 0)
	b.ProcCPUS = round(r.NodeCPUCores*b.ProfileS, 2)
	b.fill(total)
	b.addTop(frames, topFrames)
	return b, nil
}

// topFrames is how many deciding frames each component lists.
const topFrames = 3

// addTop lists each component's n costliest deciding frames.
func (b *cpuBudget) addTop(frames map[string]map[string]float64, n int) {
	for i := range b.Components {
		e := &b.Components[i]
		m := frames[e.Component]
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(x, y int) bool {
			if m[keys[x]] != m[keys[y]] {
				return m[keys[x]] > m[keys[y]]
			}
			return keys[x] < keys[y]
		})
		for _, k := range keys[:min(n, len(keys))] {
			e.Top = append(e.Top, frameCost{Frame: k, CPUS: round(m[k], 3), UsPerTx: fmtRound(b.perTx(m[k]), 1)})
		}
	}
}

// fmtRound rounds v, and NaN (no txs) to 0.
func fmtRound(v float64, digits int) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return round(v, digits)
}

// fill sets the components from CPU seconds per component.
func (b *cpuBudget) fill(cpu map[string]float64) {
	var sum float64
	for _, v := range cpu {
		sum += v
	}
	b.ProfiledCPUS = round(sum, 2)
	b.Components = b.Components[:0]
	for _, c := range components {
		e := budgetEntry{Component: c.Key, CPUS: round(cpu[c.Key], 3)}
		if b.Txs > 0 {
			e.UsPerTx = round(cpu[c.Key]/b.Txs*1e6, 1)
			if b.TxBytes > 0 {
				e.NsPerByte = round(cpu[c.Key]/(b.Txs*float64(b.TxBytes))*1e9, 2)
			}
		}
		if sum > 0 {
			e.Share = round(cpu[c.Key]/sum, 3)
		}
		b.Components = append(b.Components, e)
	}
}

// entry is component key's line (zero when absent).
func (b *cpuBudget) entry(key string) budgetEntry {
	if b != nil {
		for _, e := range b.Components {
			if e.Component == key {
				return e
			}
		}
	}
	return budgetEntry{Component: key}
}

// perTx and perByte are CPU-s over b's txs, in µs per tx and ns per byte.
func (b *cpuBudget) perTx(cpuS float64) float64 {
	if b == nil || b.Txs == 0 {
		return math.NaN()
	}
	return cpuS / b.Txs * 1e6
}

func (b *cpuBudget) perByte(cpuS float64) float64 {
	if b == nil || b.Txs == 0 || b.TxBytes == 0 {
		return math.NaN()
	}
	return cpuS / (b.Txs * float64(b.TxBytes)) * 1e9
}

// budgetCol is one system's column in a budget table.
type budgetCol struct {
	name string
	b    *cpuBudget
}

// printBudget prints budgets side by side: CPU-µs per tx and CPU-ns per
// byte per component, with the difference of the first two columns per tx,
// then the floors f measured on this machine for validators nodes.
func printBudget(title string, cols []budgetCol, f *floors, validators int) {
	fmt.Printf("\n%s\n", title)
	var hdr, units strings.Builder
	fmt.Fprintf(&hdr, "  %-44s", "component")
	fmt.Fprintf(&units, "  %-44s", "")
	for _, c := range cols {
		fmt.Fprintf(&hdr, " %21s", c.name)
		fmt.Fprintf(&units, " %10s %10s", "µs/tx", "ns/B")
	}
	diff := len(cols) == 2 && cols[0].b != nil && cols[1].b != nil
	if diff {
		fmt.Fprintf(&hdr, " %12s", cols[0].name+"−"+cols[1].name)
		fmt.Fprintf(&units, " %12s", "µs/tx")
	}
	fmt.Println(hdr.String())
	fmt.Println(units.String())
	line := func(label string, val func(b *cpuBudget) float64) {
		fmt.Printf("  %-44s", label)
		for _, c := range cols {
			if c.b == nil {
				fmt.Printf(" %10s %10s", "-", "-")
				continue
			}
			v := val(c.b)
			fmt.Printf(" %10s %10s", fmtNum(c.b.perTx(v), 1), fmtNum(c.b.perByte(v), 2))
		}
		if diff {
			fmt.Printf(" %12s", fmtNum(cols[0].b.perTx(val(cols[0].b))-cols[1].b.perTx(val(cols[1].b)), 1))
		}
		fmt.Println()
	}
	for _, comp := range components {
		line(comp.Label, func(b *cpuBudget) float64 { return b.entry(comp.Key).CPUS })
	}
	line("total sampled by the profiles", func(b *cpuBudget) float64 { return b.ProfiledCPUS })
	line("total per /proc (utime+stime)", func(b *cpuBudget) float64 { return b.ProcCPUS })
	if f != nil {
		n := float64(validators)
		fmt.Printf("  %-44s %10.1f %10s   (%d validators × %.1f µs, one recovery each)\n",
			"floor: secp256k1 recovery per validator", n*f.RecoveryUs, "", validators, f.RecoveryUs)
		fmt.Printf("  %-44s %10s %10.2f   (%d validators × (%.2f + %.2f ns/B))\n",
			"floor: sha256 + memcpy per validator", "", n*(f.SHA256NsPerByte+f.MemcpyNsPerByte), validators, f.SHA256NsPerByte, f.MemcpyNsPerByte)
	}
	if c := cols[0]; c.b != nil {
		fmt.Printf("  %s, the frames that decided each line (CPU-µs per tx):\n", c.name)
		for _, e := range c.b.Components {
			var parts []string
			for _, t := range e.Top {
				parts = append(parts, fmt.Sprintf("%s %.1f", shortFrame(t.Frame), t.UsPerTx))
			}
			if len(parts) > 0 {
				fmt.Printf("    %-10s %s\n", e.Component, strings.Join(parts, ", "))
			}
		}
	}
	for _, c := range cols {
		if c.b == nil {
			fmt.Printf("  %s: no budget (no step with profiles of every validator)\n", c.name)
			continue
		}
		fmt.Printf("  %s: %d profiles of %.0f s, %.0f txs of %d bytes committed meanwhile; profiles sampled %.0f%% of the CPU /proc counted\n",
			c.name, c.b.Nodes, c.b.ProfileS, c.b.Txs, c.b.TxBytes, 100*c.b.ProfiledCPUS/math.Max(c.b.ProcCPUS, 1e-9))
	}
}

func fmtNum(v float64, digits int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.*f", digits, v)
}

// budgetSummary is what the summary prints of the budgets: tx mode with
// both systems at one offered rate, batched mode at batchedMBs offered.
type budgetSummary struct {
	// TxOfferedTxS is the offered rate compared: the highest at which
	// neither system saturated (else the highest both ran with profiles).
	TxOfferedTxS float64    `json:"tx_offered_tx_s,omitempty"`
	TxWeft       *cpuBudget `json:"tx_weft,omitempty"`
	TxKV         *cpuBudget `json:"tx_kvstore,omitempty"`
	TxNote       string     `json:"tx_note,omitempty"`
	// SigChecksPerTxPerNode is Weft's tx-signature CPU per committed tx
	// over one secp256k1 recovery per validator: about how many times each
	// validator recovers each tx's signer.
	SigChecksPerTxPerNode float64 `json:"weft_sig_cpu_in_recoveries_per_tx_per_node,omitempty"`
	// TxWeftRecoveriesNode0 is what node0's counter says of the same.
	TxWeftRecoveriesNode0 float64 `json:"weft_node0_recoveries_per_tx,omitempty"`
	// Batched mode at BatchedOfferedMBs: the budgets, and the cluster's
	// CPU-s per MB of payload committed (node CPU per /proc).
	BatchedOfferedMBs float64    `json:"batched_offered_mb_s,omitempty"`
	BatchedWeft       *cpuBudget `json:"batched_weft,omitempty"`
	BatchedKV         *cpuBudget `json:"batched_kvstore,omitempty"`
	CPUSPerMBWeft     float64    `json:"batched_weft_cpu_s_per_mb,omitempty"`
	CPUSPerMBKV       float64    `json:"batched_kvstore_cpu_s_per_mb,omitempty"`
	CPUSPerMBRatio    float64    `json:"batched_cpu_s_per_mb_weft_over_kvstore,omitempty"`
	BatchedNote       string     `json:"batched_note,omitempty"`
}

// batchedMBs is the offered rate of rollup data the batched budget and
// the CPU per MB are read at.
const batchedMBs = 2.0

// summarizeBudget picks the steps the summary compares (nil without any
// budget).
func (r *results) summarizeBudget() *budgetSummary {
	s := &budgetSummary{}
	if w, k := pairSteps(r.Weft, r.KVStore); w != nil {
		s.TxOfferedTxS, s.TxWeft, s.TxWeftRecoveriesNode0 = w.OfferedTxS, w.Budget, w.RecoveriesPerTx
		if k != nil {
			s.TxKV = k.Budget
		}
		if w.Saturated || (k != nil && k.Saturated) {
			s.TxNote = "no offered rate left both systems unsaturated: compared at the highest both ran"
		}
		if f := r.Floors; f != nil && f.RecoveryUs > 0 && w.Budget.Txs > 0 {
			s.SigChecksPerTxPerNode = round(w.Budget.entry("sig").UsPerTx/(float64(w.Budget.Nodes)*f.RecoveryUs), 2)
		}
	}
	if r.Batched != nil || r.BatchedKV != nil {
		s.BatchedOfferedMBs = batchedMBs
		w, k := stepAtMBs(r.Batched, r.Settings.BatchPayload), stepAtMBs(r.BatchedKV, r.Settings.BatchPayload)
		var notes []string
		if w != nil {
			s.BatchedWeft = w.Budget
			if w.DataMBs > 0 {
				s.CPUSPerMBWeft = round(w.NodeCPUCores/w.DataMBs, 3)
			}
		} else if r.Batched != nil {
			notes = append(notes, fmt.Sprintf("weft ran no step offering %.0f MB/s (-batch-rates, or its ramp stopped earlier)", batchedMBs))
		}
		if k != nil {
			s.BatchedKV = k.Budget
			if k.MBs > 0 {
				s.CPUSPerMBKV = round(k.NodeCPUCores/k.MBs, 3)
			}
		} else if r.BatchedKV != nil {
			notes = append(notes, fmt.Sprintf("kvstore ran no step offering %.0f MB/s (-batch-rates, or its ramp stopped earlier)", batchedMBs))
		}
		if s.CPUSPerMBKV > 0 && s.CPUSPerMBWeft > 0 {
			s.CPUSPerMBRatio = round(s.CPUSPerMBWeft/s.CPUSPerMBKV, 2)
		}
		s.BatchedNote = strings.Join(notes, "; ")
	}
	if s.TxWeft == nil && s.TxKV == nil && s.BatchedWeft == nil && s.BatchedKV == nil && s.CPUSPerMBWeft == 0 && s.CPUSPerMBKV == 0 {
		return nil
	}
	return s
}

// pairSteps is the Weft step, and the kvstore step at the same offered
// rate, that the tx budget compares: the highest rate at which both have
// a budget and neither saturated, else the highest at which both have a
// budget; without a kvstore ramp, Weft's knee (or its first step).
func pairSteps(w, k *systemResult) (*stepResult, *stepResult) {
	if w == nil {
		return nil, nil
	}
	var best, bestK, any, anyK *stepResult
	for _, ws := range w.Steps {
		if ws.Budget == nil {
			continue
		}
		if k == nil {
			if any == nil || !ws.Saturated {
				any = ws
			}
			continue
		}
		for _, ks := range k.Steps {
			if ks.Budget == nil || ks.OfferedTxS != ws.OfferedTxS {
				continue
			}
			any, anyK = ws, ks
			if !ws.Saturated && !ks.Saturated {
				best, bestK = ws, ks
			}
		}
	}
	if best != nil {
		return best, bestK
	}
	return any, anyK
}

// stepAtMBs is sys's step offering batchedMBs of payload-byte txs.
func stepAtMBs(sys *systemResult, payload int) *stepResult {
	if sys == nil {
		return nil
	}
	for _, s := range sys.Steps {
		if math.Abs(s.OfferedTxS*float64(payload)/1e6-batchedMBs) < 0.01 {
			return s
		}
	}
	return nil
}

// printBudgets prints the summary's budget tables.
func (r *results) printBudgets() {
	s := r.CPUBudget
	if s == nil {
		return
	}
	if s.TxWeft != nil {
		printBudget(fmt.Sprintf("CPU budget, tx mode at %.0f tx/s offered (4 validators, CPU profiles of each; per committed tx and tx byte)", s.TxOfferedTxS),
			[]budgetCol{{"weft", s.TxWeft}, {"kvstore", s.TxKV}}, r.Floors, validators)
		if s.TxNote != "" {
			fmt.Printf("  note: %s\n", s.TxNote)
		}
		if s.TxWeftRecoveriesNode0 > 0 {
			fmt.Printf("  weft's node0 counted %.2f tx signer recoveries per committed tx (weft_tx_signature_recoveries_total)\n", s.TxWeftRecoveriesNode0)
		}
		if s.SigChecksPerTxPerNode > 0 {
			e := s.TxWeft.entry("sig")
			fmt.Printf("  weft's tx signature checks cost %.2f recoveries per committed tx per validator (from %.0f profile samples; a saturated step admits more than it commits)\n",
				s.SigChecksPerTxPerNode, e.CPUS*100)
		}
	}
	if s.BatchedWeft != nil || s.BatchedKV != nil {
		printBudget(fmt.Sprintf("CPU budget, batched mode at %.0f MB/s offered (%d-byte payloads; per committed tx and tx byte)", s.BatchedOfferedMBs, r.Settings.BatchPayload),
			[]budgetCol{{"weft", s.BatchedWeft}, {"kvstore", s.BatchedKV}}, r.Floors, validators)
	}
	if s.BatchedOfferedMBs > 0 {
		fmt.Printf("cluster CPU-s per MB of payload at %.0f MB/s offered: weft %s, kvstore %s, weft/kvstore %s\n",
			s.BatchedOfferedMBs, fmtNum(nanIfZero(s.CPUSPerMBWeft), 3), fmtNum(nanIfZero(s.CPUSPerMBKV), 3), fmtNum(nanIfZero(s.CPUSPerMBRatio), 2))
		if s.BatchedNote != "" {
			fmt.Printf("  note: %s\n", s.BatchedNote)
		}
	}
}

func nanIfZero(v float64) float64 {
	if v == 0 {
		return math.NaN()
	}
	return v
}

// shortFrame is a function name without its package path's directories.
func shortFrame(fn string) string {
	p := pkgPath(fn)
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return fn[i+1:]
	}
	return fn
}
