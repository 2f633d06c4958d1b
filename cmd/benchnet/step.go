package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftnet/weft/client"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// stepRun is one step in flight: per-tx send and commit times.
type stepRun struct {
	ld     *load
	rate   float64
	send   []int64 // unix nanos; each written by the one worker owning k
	lagMs  []float32
	commit []atomic.Int64

	rpcErrs  atomic.Int64
	errMu    sync.Mutex
	firstErr string
}

func newStepRun(ld *load, rate float64) *stepRun {
	return &stepRun{ld: ld, rate: rate, send: make([]int64, ld.n()), lagMs: make([]float32, ld.n()), commit: make([]atomic.Int64, ld.n())}
}

func (r *stepRun) noteErr(msg string) {
	r.rpcErrs.Add(1)
	r.errMu.Lock()
	if r.firstErr == "" {
		r.firstErr = msg
	}
	r.errMu.Unlock()
}

// committed counts txs with a commit stamp.
func (r *stepRun) committed() int {
	n := 0
	for i := range r.commit {
		if r.commit[i].Load() != 0 {
			n++
		}
	}
	return n
}

// stepResult is what one step measured. Latencies are submit→commit at the
// client in milliseconds; -1 means more than (1-q) of the step's txs never
// committed within the grace period.
type stepResult struct {
	System     string  `json:"system"`
	Label      string  `json:"label"`
	OfferedTxS float64 `json:"offered_tx_s"`
	// SentTxS is the rate the generator achieved (below OfferedTxS when the
	// nodes' RPC or the CPU held it back).
	SentTxS      float64 `json:"sent_tx_s"`
	Txs          int     `json:"txs"`
	TxBytes      int     `json:"tx_bytes"`
	DataBytes    int     `json:"data_bytes_per_tx,omitempty"`
	RPCErrors    int     `json:"rpc_errors"`
	FirstRPCErr  string  `json:"first_rpc_error,omitempty"`
	Committed    int     `json:"committed"`
	Uncommitted  int     `json:"uncommitted"`
	CommittedTxS float64 `json:"committed_tx_s"`
	// MBs is committed tx bytes per second (MB = 1e6 bytes); DataMBs the
	// rollup data they carry (batched mode).
	MBs          float64   `json:"mb_s"`
	DataMBs      float64   `json:"data_mb_s,omitempty"`
	P50Ms        float64   `json:"p50_ms"`
	P90Ms        float64   `json:"p90_ms"`
	P99Ms        float64   `json:"p99_ms"`
	MaxMs        float64   `json:"max_ms"`
	SendLagP99Ms float64   `json:"send_lag_p99_ms"`
	WindowS      float64   `json:"window_s"`
	CPUSecPer1k  float64   `json:"cpu_s_per_1k_tx"`
	NodeCPUCores float64   `json:"node_cpu_cores"`
	NodeCPU      []float64 `json:"node_cpu_cores_each"`
	HarnessCores float64   `json:"harness_cpu_cores"`
	// MachineBusyCores is all CPU in use (/proc/stat) over the window;
	// OtherCores what neither the nodes nor the harness used (other
	// processes on a shared machine).
	MachineBusyCores float64   `json:"machine_busy_cores"`
	OtherCores       float64   `json:"other_cpu_cores"`
	PeakRSSMB        []float64 `json:"peak_rss_mb"`
	RSSMB            []float64 `json:"rss_mb"`
	Blocks           int       `json:"blocks"`
	BlockMs          float64   `json:"block_interval_ms"`
	TxsPerBlock      float64   `json:"txs_per_block"`
	BlockKB          float64   `json:"block_kb"`
	// PhasesMs is node0's mean time per ABCI call and per consensus step
	// over the window (CometBFT's Prometheus histograms).
	PhasesMs map[string]float64 `json:"phases_ms_node0,omitempty"`
	// GossipNode0 is what node0's gossip took in over the window: messages
	// and bytes validated, and duplicates dropped (Weft only).
	GossipNode0 map[string]float64 `json:"gossip_node0,omitempty"`
	// RecoveriesNode0 is how many tx signers node0 recovered over the
	// window (Weft only), RecoveriesPerTx that over the txs committed in it.
	RecoveriesNode0 float64 `json:"tx_signature_recoveries_node0,omitempty"`
	RecoveriesPerTx float64 `json:"tx_signature_recoveries_node0_per_tx,omitempty"`
	// ThroughputHeld: at least 90% of the offered rate committed.
	ThroughputHeld bool `json:"throughput_held"`
	// Saturated: throughput did not hold, p99 is above -p99-limit (1 s),
	// or over 1% of the txs never committed.
	Saturated    bool     `json:"saturated"`
	Reason       string   `json:"reason,omitempty"`
	NotCommitted []string `json:"not_committed_samples,omitempty"`
	// Profile is node0's CPU profile over the window, Profiles every
	// node's; Budget what they say the CPU went to.
	Profile  string     `json:"cpu_profile,omitempty"`
	Profiles []string   `json:"cpu_profiles,omitempty"`
	Budget   *cpuBudget `json:"cpu_budget,omitempty"`
}

// stepSpec says how long a step sends and which part of it is measured.
type stepSpec struct {
	label    string
	duration time.Duration // sending
	warmup   time.Duration // excluded from throughput and CPU
	grace    time.Duration // after sending, to let the last txs commit
}

// runStep submits ld open-loop at rate tx/s over the cluster's nodes and
// measures it.
func runStep(ctx context.Context, o *options, cl *cluster, w *watcher, run *stepRun, spec stepSpec) (*stepResult, error) {
	w.register(run)
	t0 := time.Now().Add(300 * time.Millisecond)
	winFrom, winTo := t0.Add(spec.warmup), t0.Add(spec.duration)

	// CPU and RSS at both ends of the measured window.
	snaps := takeSnaps(ctx, cl, winFrom, winTo)
	prof := startProfiles(ctx, o, cl, spec.label, winFrom, winTo)

	// Submitting through Weft's node API (gRPC) shares one connection per
	// node among its workers; HTTP JSON-RPC uses one connection per worker.
	var apis []*client.Client
	if cl.nodeAPI {
		for node := range validators {
			c, err := client.Dial(cl.api[node])
			if err != nil {
				return nil, err
			}
			defer c.Close()
			apis = append(apis, c)
		}
	}
	sendAll(ctx, o, cl, run, t0, apis)
	sendEnd := time.Now()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Wait for the stragglers, up to the grace period.
	if err := awaitCommits(ctx, cl, run, sendEnd.Add(spec.grace)); err != nil {
		return nil, err
	}
	a, b, err := receiveSnaps(ctx, snaps)
	if err != nil {
		return nil, err
	}
	r := measureStep(o, cl, w, run, spec, a, b)
	r.NotCommitted = explainUncommitted(ctx, cl, run)
	prof.finish(r)
	return r, nil
}

// stepSnap is CPU and RSS at one end of a step's measured window.
type stepSnap struct {
	procs   []procSample
	self    float64
	machine float64
	at      time.Time
	phases  *scrape // node0's metrics, nil if it did not answer
}

// takeSnaps takes a stepSnap at from and another at to (unless ctx ends
// first), and sends each on the channel it returns.
func takeSnaps(ctx context.Context, cl *cluster, from, to time.Time) <-chan stepSnap {
	snaps := make(chan stepSnap, 2)
	go func() {
		for _, at := range []time.Time{from, to} {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(at)):
			}
			sn := stepSnap{cl.sample(), selfCPU(), machineBusy(), time.Now(), nil}
			if len(cl.metrics) > 0 {
				sn.phases, _ = scrapePhases(ctx, cl.metrics[0])
			}
			snaps <- sn
		}
	}()
	return snaps
}

// receiveSnaps waits for the two snaps takeSnaps takes.
func receiveSnaps(ctx context.Context, snaps <-chan stepSnap) (a, b stepSnap, err error) {
	select {
	case a = <-snaps:
	case <-ctx.Done():
		return a, b, ctx.Err()
	}
	select {
	case b = <-snaps:
	case <-ctx.Done():
		return a, b, ctx.Err()
	}
	return a, b, nil
}

// sendAll sends the step's txs from o.workers workers per node, over the
// node API clients apis or else over HTTP JSON-RPC, and returns when all
// are sent (or ctx ends).
func sendAll(ctx context.Context, o *options, cl *cluster, run *stepRun, t0 time.Time, apis []*client.Client) {
	var wg sync.WaitGroup
	for node := range validators {
		for wk := range o.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first, stride := node+validators*wk, validators*o.workers
				if cl.nodeAPI {
					sendLoop(ctx, run, t0, first, stride, apiSubmitter(ctx, apis[node], run))
					return
				}
				hc := &http.Client{
					Timeout: 10 * time.Second,
					Transport: &http.Transport{
						MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true, IdleConnTimeout: time.Minute,
					},
				}
				defer hc.CloseIdleConnections()
				sendLoop(ctx, run, t0, first, stride, rpcSubmitter(hc, cl.rpc[node]+"/", run))
			}()
		}
	}
	wg.Wait()
}

// awaitCommits waits until every tx of run committed or deadline passed;
// it fails if a node exits or ctx ends.
func awaitCommits(ctx context.Context, cl *cluster, run *stepRun, deadline time.Time) error {
	n := run.ld.n()
	for time.Now().Before(deadline) {
		if d := cl.dead(); d != "" {
			return fmt.Errorf("%s exited during the step; last log lines:\n%s", d, tail(cl.procByName(d).log, 30))
		}
		if run.committed() == n {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// measureStep computes what the step measured from its per-tx stamps,
// node0's blocks and the snaps a and b at both ends of its window.
func measureStep(o *options, cl *cluster, w *watcher, run *stepRun, spec stepSpec, a, b stepSnap) *stepResult {
	ld, rate := run.ld, run.rate
	r := &stepResult{System: cl.system, Label: spec.label, OfferedTxS: rate, Txs: ld.n(), TxBytes: ld.txBytes, DataBytes: ld.dataBytes,
		RPCErrors: int(run.rpcErrs.Load()), FirstRPCErr: run.firstErr}
	if a.phases != nil && b.phases != nil {
		r.PhasesMs = phaseMeans(a.phases, b.phases)
		if g := gossipDelta(a.phases, b.phases); len(g) > 0 {
			r.GossipNode0 = g
		}
	}
	// Throughput counts whole blocks: the step's txs in the blocks that
	// arrived in the window, over the time from the block before the first
	// of them to the last. Counting commits between two instants instead
	// would be off by up to one block's worth.
	blocks, prev := w.blocksBetween(a.at.UnixNano(), b.at.UnixNano())
	var thrFrom, thrTo int64
	if len(blocks) > 0 && prev > 0 {
		thrFrom, thrTo = prev, blocks[len(blocks)-1].at
	}
	inWindow := r.addLatencies(run, thrFrom, thrTo)
	if thrTo > thrFrom {
		r.CommittedTxS = float64(inWindow) / (float64(thrTo-thrFrom) / 1e9)
	}
	r.MBs = r.CommittedTxS * float64(ld.txBytes) / 1e6
	r.DataMBs = r.CommittedTxS * float64(ld.dataBytes) / 1e6
	r.addCPU(a, b)
	if a.phases != nil && b.phases != nil {
		if v, ok := b.phases.counters[recoveriesCounter]; ok {
			r.RecoveriesNode0 = v - a.phases.counters[recoveriesCounter]
			if r.CommittedTxS > 0 && r.WindowS > 0 {
				r.RecoveriesPerTx = round(r.RecoveriesNode0/(r.CommittedTxS*r.WindowS), 2)
			}
		}
	}
	r.addBlocks(blocks, prev)
	r.judge(o, rate, spec.grace)
	return r
}

// addLatencies sets the commit counts, the achieved send rate and the
// latency and send-lag quantiles, and returns how many txs committed in
// (thrFrom, thrTo].
func (r *stepResult) addLatencies(run *stepRun, thrFrom, thrTo int64) (inWindow int) {
	n := run.ld.n()
	var firstSend, lastSend int64
	lats := make([]float64, 0, n)
	lags := make([]float64, 0, n)
	for k := range n {
		s, c := run.send[k], run.commit[k].Load()
		if s != 0 {
			if firstSend == 0 || s < firstSend {
				firstSend = s
			}
			lastSend = max(lastSend, s)
			lags = append(lags, float64(run.lagMs[k]))
		}
		if c == 0 || s == 0 {
			lats = append(lats, math.Inf(1))
			continue
		}
		r.Committed++
		lats = append(lats, float64(c-s)/1e6)
		if c > thrFrom && c <= thrTo {
			inWindow++
		}
	}
	r.Uncommitted = n - r.Committed
	if lastSend > firstSend {
		r.SentTxS = float64(len(lags)-1) / (float64(lastSend-firstSend) / 1e9)
	}
	slices.Sort(lats)
	slices.Sort(lags)
	r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs = quantile(lats, 0.5), quantile(lats, 0.9), quantile(lats, 0.99), quantile(lats, 1)
	r.SendLagP99Ms = quantile(lags, 0.99)
	return inWindow
}

// addCPU sets the window's length, the CPU the nodes, the harness and
// the rest of the machine used over it, and the nodes' memory.
func (r *stepResult) addCPU(a, b stepSnap) {
	win := b.at.Sub(a.at).Seconds()
	r.WindowS = round(win, 2)
	var cpu float64
	for i := range a.procs {
		c := float64(b.procs[i].cpuTicks-a.procs[i].cpuTicks) / clockTicks
		cpu += c
		r.NodeCPU = append(r.NodeCPU, round(c/win, 2))
		r.PeakRSSMB = append(r.PeakRSSMB, round(float64(b.procs[i].hwmKB)/1024, 1))
		r.RSSMB = append(r.RSSMB, round(float64(b.procs[i].rssKB)/1024, 1))
	}
	r.NodeCPUCores = round(cpu/win, 2)
	r.HarnessCores = round((b.self-a.self)/win, 2)
	r.MachineBusyCores = round((b.machine-a.machine)/win, 2)
	r.OtherCores = round(max(0, r.MachineBusyCores-r.NodeCPUCores-r.HarnessCores), 2)
	if r.CommittedTxS > 0 {
		r.CPUSecPer1k = round(cpu/win/r.CommittedTxS*1000, 3)
	}
}

// addBlocks sets the block figures of the window's blocks, prev being the
// time of the block before them.
func (r *stepResult) addBlocks(blocks []blockRec, prev int64) {
	r.Blocks = len(blocks)
	if len(blocks) > 0 && prev > 0 {
		r.BlockMs = round(float64(blocks[len(blocks)-1].at-prev)/1e6/float64(len(blocks)), 1)
		txs, by := 0, 0
		for _, bl := range blocks {
			txs += bl.txs
			by += bl.bytes
		}
		r.TxsPerBlock = round(float64(txs)/float64(len(blocks)), 1)
		r.BlockKB = round(float64(by)/1024/float64(len(blocks)), 1)
	}
}

// judge says whether the step held its offered rate and whether it
// saturated, and why.
func (r *stepResult) judge(o *options, rate float64, grace time.Duration) {
	r.ThroughputHeld = r.CommittedTxS >= 0.9*rate
	limit := float64(o.p99Limit.Milliseconds())
	switch {
	case r.P99Ms < 0:
		r.Saturated, r.Reason = true, fmt.Sprintf("over 1%% of txs not committed within %v of the last send", grace)
	case !r.ThroughputHeld:
		r.Saturated, r.Reason = true, fmt.Sprintf("committed %.0f tx/s is below 90%% of offered", r.CommittedTxS)
	case r.P99Ms > limit:
		r.Saturated, r.Reason = true, fmt.Sprintf("p99 %.0f ms is above %v", r.P99Ms, o.p99Limit)
	}
	if r.SentTxS < 0.9*rate && r.Reason != "" {
		r.Reason += fmt.Sprintf("; the generator only reached %.0f tx/s (RPC or CPU backpressure)", r.SentTxS)
	}
}

// sendLoop submits txs first, first+stride, … each at its scheduled time
// t0 + k/rate, one at a time with submit. A late worker sends at once and
// the lag is recorded; latency runs from the actual send.
func sendLoop(ctx context.Context, run *stepRun, t0 time.Time, first, stride int, submit func(k int) error) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for k := first; k < run.ld.n(); k += stride {
		due := t0.Add(time.Duration(float64(k) / run.rate * 1e9))
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		now := time.Now()
		run.send[k] = now.UnixNano()
		run.lagMs[k] = float32(now.Sub(due).Seconds() * 1000)
		if err := submit(k); err != nil {
			run.noteErr(err.Error())
		}
	}
}

// rpcSubmitter submits over CometBFT's JSON-RPC broadcast_tx_async, as
// both systems' tx mode does.
func rpcSubmitter(hc *http.Client, url string, run *stepRun) func(k int) error {
	return func(k int) error {
		resp, err := hc.Post(url, "application/json", bytes.NewReader(run.ld.body(k)))
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"error"`)) {
			return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
		}
		return nil
	}
}

// apiSubmitter submits over Weft's node API (SubmitTx, binary protobuf),
// the way a rollup's batcher hands Weft its payloads.
func apiSubmitter(ctx context.Context, c *client.Client, run *stepRun) func(k int) error {
	return func(k int) error {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		resp, err := c.API.SubmitTx(cctx, &weftv1.SubmitTxRequest{Tx: run.ld.raw[k]})
		if err != nil {
			return err
		}
		if resp.Code != 0 {
			return fmt.Errorf("SubmitTx code %d: %.200s", resp.Code, resp.Log)
		}
		return nil
	}
}

// quantile of sorted xs; +Inf (never committed) reads as -1.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	i = max(0, min(i, len(xs)-1))
	if math.IsInf(xs[i], 1) {
		return -1
	}
	return round(xs[i], 1)
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// explainUncommitted asks Weft's node API, on each tx's entry node, what
// became of a sample of the step's uncommitted txs.
func explainUncommitted(ctx context.Context, cl *cluster, run *stepRun) []string {
	if len(cl.api) == 0 {
		return nil
	}
	var missing []int
	for k := range run.commit {
		if run.commit[k].Load() == 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	const sample = 40
	stride := max(1, len(missing)/sample)
	clients := map[int]*client.Client{}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	counts := map[string]int{}
	var order []string
	asked := 0
	for i := 0; i < len(missing) && asked < sample; i += stride {
		k := missing[i]
		node := k % validators
		c, ok := clients[node]
		if !ok {
			var err error
			if c, err = client.Dial(cl.api[node]); err != nil {
				return []string{err.Error()}
			}
			clients[node] = c
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		h := run.ld.hashes[k]
		resp, err := c.API.GetTx(cctx, &weftv1.GetTxRequest{Hash: h[:]})
		cancel()
		var what string
		switch {
		case err != nil:
			what = "node API error: " + err.Error()
		case resp.Status == weftv1.TxStatus_TX_STATUS_UNKNOWN:
			what = "unknown to its entry node (rejected at CheckTx, e.g. a nonce gap)"
		case resp.Status == weftv1.TxStatus_TX_STATUS_DROPPED:
			what = "dropped: " + resp.Log
		case resp.Status == weftv1.TxStatus_TX_STATUS_PENDING:
			what = "still pending in its entry node's mempool"
		case resp.Status == weftv1.TxStatus_TX_STATUS_COMMITTED:
			what = "committed after the grace period"
		default:
			what = resp.Status.String()
		}
		if counts[what] == 0 {
			order = append(order, what)
		}
		counts[what]++
		asked++
	}
	out := make([]string, len(order))
	for i, w := range order {
		out[i] = fmt.Sprintf("%d/%d sampled: %s", counts[w], asked, w)
	}
	return append(out, senderPattern(run))
}

// senderPattern says how the uncommitted txs spread over senders. Sender s
// signs txs s, s+S, s+2S… with nonces 0, 1, 2…; when one is rejected (a
// nonce gap), every later one is stuck behind it, so a lost suffix per
// sender points at ordering, scattered losses at capacity.
func senderPattern(run *stepRun) string {
	S := run.ld.senders
	if S == 0 {
		return ""
	}
	hit, suffix := 0, 0
	for s := range S {
		first := -1
		all := true
		for k := s; k < run.ld.n(); k += S {
			missing := run.commit[k].Load() == 0
			if missing && first < 0 {
				first = k
			}
			if first >= 0 && !missing {
				all = false
			}
		}
		if first >= 0 {
			hit++
			if all {
				suffix++
			}
		}
	}
	return fmt.Sprintf("the uncommitted txs belong to %d of %d senders; for %d of those every tx from the first uncommitted nonce on is uncommitted "+
		"(a nonce gap strands the rest of a sender's txs; so does a backlog still draining)", hit, S, suffix)
}
