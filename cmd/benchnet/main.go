package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/weftnet/weft/client"
)

// options are the harness's flags.
type options struct {
	mode            string
	out             string
	rates           []float64
	batchMBs        []float64
	step            time.Duration
	batchStep       time.Duration
	warmup          time.Duration
	grace           time.Duration
	p99Limit        time.Duration
	stopP99         time.Duration
	txBytes         int
	batchPayload    int
	batchAPI        string
	batchBaseline   bool
	workers         int
	basePort        int
	kvLibp2p        bool
	reapInterval    time.Duration
	txBatchInterval time.Duration
	kvMempoolSize   int
	logLevel        string
	pprof           bool
	budget          bool
	keep            bool
	timeout         time.Duration
	waitQuiet       time.Duration
	rampBudget      time.Duration

	// Set by main, not flags.
	root, dir, weftBin, kvBin, profileDir string
}

func parseFlags() (*options, error) {
	o := &options{}
	var rates, batch string
	flag.StringVar(&o.mode, "mode", "all", "what to run: tx (Weft vs kvstore, 250-byte txs), batched (Weft, 64 KiB rollup payloads), all (both)")
	flag.StringVar(&o.out, "out", "", "JSON results file (default <repo>/bin/bench-results.json)")
	flag.StringVar(&rates, "rates", "250,500,1000,1500,2000,3000,4000,6000,8000,12000,16000", "offered tx/s of the steps, rising; stepping stops at saturation")
	flag.StringVar(&batch, "batch-rates", "1,2,4,8,16,24,32,48", "offered MB/s of rollup data of the batched steps, rising")
	flag.DurationVar(&o.step, "step", 10*time.Second, "how long each step submits")
	flag.DurationVar(&o.batchStep, "batch-step", 8*time.Second, "how long each batched step submits")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "start of each step left out of throughput and CPU figures")
	flag.DurationVar(&o.grace, "grace", 5*time.Second, "how long after its last send a step waits for commits")
	flag.DurationVar(&o.p99Limit, "p99-limit", time.Second, "a step whose p99 submit→commit latency is above this is saturated (not a knee)")
	flag.DurationVar(&o.stopP99, "stop-p99", 2*time.Second, "stepping goes on past a step saturated by latency alone (throughput held) while its p99 is at most this, to find the throughput capacity too; set it to -p99-limit to stop at the first saturation")
	flag.IntVar(&o.txBytes, "tx-bytes", 250, "size of every tx in tx mode")
	flag.IntVar(&o.batchPayload, "batch-payload", 64<<10, "RollupData payload of every tx in batched mode")
	flag.StringVar(&o.batchAPI, "batch-submit", "grpc", "how batched mode submits and follows commits: grpc (Weft's node API: SubmitTx, and GetBlock's tx hashes on each new header) or jsonrpc (CometBFT's broadcast_tx_async and NewBlock events, as tx mode)")
	flag.BoolVar(&o.batchBaseline, "batch-baseline", true, "batched mode also ramps the kvstore baseline with txs of the batched payload's size (over CometBFT's JSON-RPC, its only path): what a plain CometBFT chain orders on this machine")
	flag.IntVar(&o.workers, "workers", 64, "submitting connections per node")
	flag.IntVar(&o.basePort, "base-port", 24000, "first port, below the ephemeral range: Weft uses base.., kvstore base+100.., batched Weft base+200.., batched kvstore base+300..")
	flag.BoolVar(&o.kvLibp2p, "kv-libp2p", false, "run the kvstore baseline on CometBFT's libp2p transport instead of the classic one")
	flag.DurationVar(&o.reapInterval, "weft-reap-interval", 0, "what-if: override mempool.reap_interval (how often CometBFT takes Weft's new txs to gossip) in the Weft homes; 0 keeps what weft testnet writes")
	flag.DurationVar(&o.txBatchInterval, "weft-tx-batch-interval", 0, "what-if: override feed.tx_batch_interval (how often a node publishes its clients' txs to the other validators) in the Weft homes; 0 keeps what weft testnet writes")
	flag.IntVar(&o.kvMempoolSize, "kv-mempool-size", 200_000, "flood mempool size (txs) of the kvstore baseline; Weft's app mempool holds 200000")
	flag.StringVar(&o.logLevel, "log-level", "info", "log level of every node: debug, info, warn, error")
	flag.BoolVar(&o.pprof, "pprof", false, "also print the top of the CPU profile of Weft's node0 in its last tx-mode step")
	flag.BoolVar(&o.budget, "budget", true, "take a CPU profile of every validator (rpc.pprof_laddr) in every step and print the CPU budget per component (cpu_budget in the JSON)")
	flag.BoolVar(&o.keep, "keep", false, "keep the node homes and logs (printed path) instead of deleting them")
	flag.DurationVar(&o.timeout, "timeout", 12*time.Minute, "hard limit for the whole run")
	flag.DurationVar(&o.rampBudget, "ramp-budget", 130*time.Second, "no new step starts once a system's ramp has run this long (keeps the whole run near 8 minutes)")
	flag.DurationVar(&o.waitQuiet, "wait-quiet", 0, "wait up to this long for other processes to use less than 0.25 cores before starting (the figures assume the machine is otherwise idle)")
	flag.Parse()
	var err error
	if o.rates, err = parseFloats(rates); err != nil {
		return nil, fmt.Errorf("-rates: %w", err)
	}
	if o.batchMBs, err = parseFloats(batch); err != nil {
		return nil, fmt.Errorf("-batch-rates: %w", err)
	}
	if o.batchAPI != "grpc" && o.batchAPI != "jsonrpc" {
		return nil, fmt.Errorf("-batch-submit must be grpc or jsonrpc, got %q", o.batchAPI)
	}
	switch o.mode {
	case "tx", "batched", "all":
	default:
		return nil, fmt.Errorf("-mode must be tx, batched or all, got %q", o.mode)
	}
	if o.stopP99 < o.p99Limit {
		o.stopP99 = o.p99Limit
	}
	if o.workers < 1 || o.warmup >= o.step || o.warmup >= o.batchStep {
		return nil, errors.New("need -workers ≥ 1 and -warmup shorter than -step and -batch-step")
	}
	return o, nil
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for f := range strings.SplitSeq(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		if len(out) > 0 && v <= out[len(out)-1] {
			return nil, fmt.Errorf("rates must rise, got %v after %v", v, out[len(out)-1])
		}
		out = append(out, v)
	}
	return out, nil
}

func main() {
	o, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchnet:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "benchnet:", err)
		os.Exit(1)
	}
}

func run(o *options) error {
	start := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	root, err := moduleRoot()
	if err != nil {
		return err
	}
	o.root = root
	if o.out == "" {
		o.out = filepath.Join(root, "bin", "bench-results.json")
	}
	if o.dir, err = os.MkdirTemp("", "weft-benchnet-"); err != nil {
		return err
	}
	if o.keep {
		fmt.Printf("benchnet: homes and logs in %s (kept)\n", o.dir)
	} else {
		defer os.RemoveAll(o.dir)
	}
	o.profileDir = filepath.Join(filepath.Dir(o.out), "benchnet-profiles")
	if o.pprof || o.budget {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}

	fmt.Printf("benchnet: %d CPUs, %s, mode %s, steps %v tx/s × %v, timeout %v\n",
		runtime.NumCPU(), runtime.Version(), o.mode, o.rates, o.step, o.timeout)
	if err := buildBinaries(ctx, o); err != nil {
		return err
	}

	res := newResults(o, start, awaitQuiet(ctx, o.waitQuiet))
	if o.budget {
		if res.Floors, err = measureFloors(res.BackgroundCores); err != nil {
			return fmt.Errorf("floors: %w", err)
		}
		res.Floors.print()
	}
	// Results are written whatever happens, so a run cut short still
	// leaves what it measured.
	defer func() {
		res.DurationS = round(time.Since(start).Seconds(), 1)
		res.evaluate()
		if err := res.write(o.out); err != nil {
			fmt.Fprintln(os.Stderr, "benchnet: write results:", err)
		} else {
			fmt.Printf("benchnet: results in %s (%.0fs total)\n", o.out, res.DurationS)
		}
	}()

	if o.mode != "batched" {
		if err := txComparison(ctx, o, res); err != nil {
			return err
		}
	}
	if o.mode != "tx" {
		if err := batched(ctx, o, res); err != nil {
			return err
		}
	}
	res.evaluate()
	res.print()
	return nil
}

// buildBinaries builds weft and, unless no step runs the kvstore baseline,
// kvnode into o.dir/bin.
func buildBinaries(ctx context.Context, o *options) error {
	o.weftBin, o.kvBin = filepath.Join(o.dir, "bin", "weft"), filepath.Join(o.dir, "bin", "kvnode")
	for _, b := range [][2]string{{o.weftBin, "./cmd/weft"}, {o.kvBin, "./cmd/benchnet/kvnode"}} {
		if o.mode == "batched" && !o.batchBaseline && b[0] == o.kvBin {
			continue
		}
		t := time.Now()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b[0], b[1])
		cmd.Dir = o.root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", b[1], err, out)
		}
		fmt.Printf("benchnet: built %s in %.1fs\n", b[1], time.Since(t).Seconds())
	}
	return nil
}

// newResults starts the results of a run begun at start on a machine bg
// cores busy beforehand: the machine and the settings.
func newResults(o *options, start time.Time, bg float64) *results {
	return &results{BackgroundCores: bg,
		StartedAt: start.UTC().Format(time.RFC3339),
		Machine:   machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH},
		Settings: settings{Mode: o.mode, Rates: o.rates, BatchMBs: o.batchMBs, StepS: o.step.Seconds(), BatchStepS: o.batchStep.Seconds(),
			WarmupS: o.warmup.Seconds(), GraceS: o.grace.Seconds(), TxBytes: o.txBytes, BatchPayload: o.batchPayload, BatchSubmit: o.batchAPI, BatchBaseline: o.batchBaseline,
			WorkersPerNode: o.workers, KVTransport: kvTransport(o), KVMempoolSize: o.kvMempoolSize, LogLevel: o.logLevel,
			P99LimitMs: o.p99Limit.Milliseconds(), StopP99Ms: o.stopP99.Milliseconds(), WeftReapInterval: o.reapInterval.String(), WeftTxBatchInterval: o.txBatchInterval.String()},
	}
}

// awaitQuiet measures how busy the machine is before any node runs and,
// for up to limit, waits for it to calm down. It returns the last reading.
func awaitQuiet(ctx context.Context, limit time.Duration) float64 {
	t := time.Now()
	for {
		a := machineBusy()
		time.Sleep(time.Second)
		busy := round(machineBusy()-a, 2)
		if busy < 0.25 || time.Since(t) >= limit || ctx.Err() != nil {
			msg := "the machine is otherwise idle"
			if busy >= 0.25 {
				msg = "other processes are busy: expect lower figures and longer latencies than on an idle machine"
			}
			fmt.Printf("benchnet: %.2f cores busy before start; %s\n", busy, msg)
			return busy
		}
		if time.Since(t) < 1500*time.Millisecond {
			fmt.Printf("benchnet: %.2f cores busy; waiting up to %v for the machine to calm down\n", busy, limit)
		}
	}
}

func kvTransport(o *options) string {
	if o.kvLibp2p {
		return "libp2p"
	}
	return "classic"
}

// moduleRoot is the directory of the go.mod of the current module.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run benchnet from inside the weft module (go run ./cmd/benchnet)")
	}
	return filepath.Dir(gomod), nil
}

// txComparison ramps Weft, measures it at half its knee load, then ramps
// the kvstore baseline with the same generator.
func txComparison(ctx context.Context, o *options, res *results) error {
	var plan senderPlan
	ranges := make([]senderRange, len(o.rates))
	for i, r := range o.rates {
		ranges[i] = plan.take(sendersFor(r, o.workers))
	}
	half := plan.take(sendersFor(o.rates[len(o.rates)-1]/2, o.workers))
	fmt.Printf("\n== Weft: 4 validators (app mempool, libp2p), 8 rollups, %d funded senders ==\n", plan.next)
	senders := plan.addresses()
	cl, err := setupWeft(ctx, o, "weft", filepath.Join(o.dir, "weft"), o.basePort, senders)
	if err != nil {
		return err
	}
	defer cl.stop()
	w, err := startCluster(ctx, cl)
	if err != nil {
		return err
	}
	sys := &systemResult{System: "weft", Mempool: "app (Weft)", Transport: "libp2p"}
	res.Weft = sys
	if err := ramp(ctx, o, cl, w, sys, o.rates, o.step, func(i int) (*load, error) {
		return weftLoad(int(o.rates[i]*o.step.Seconds()), ranges[i], o.txBytes, 0)
	}); err != nil {
		return err
	}
	if o.pprof && len(sys.Steps) > 0 {
		printProfile(o, sys.Steps[len(sys.Steps)-1])
	}
	if hr := halfRate(sys); hr > 0 {
		ld, err := weftLoad(int(hr*o.step.Seconds()), senderRange{half.first, sendersFor(hr, o.workers)}, o.txBytes, 0)
		if err != nil {
			return err
		}
		r, err := runStep(ctx, o, cl, w, newStepRun(ld, hr), stepSpec{label: "half", duration: o.step, warmup: o.warmup, grace: o.grace})
		if err != nil {
			return err
		}
		printStep("weft", "half load", r)
		res.HalfLoad = r
	}
	cl.stop()

	fmt.Printf("\n== kvstore baseline: 4 validators (CometBFT flood mempool, %s transport) ==\n", kvTransport(o))
	kc, err := setupKV(o, filepath.Join(o.dir, "kvstore"), o.basePort+100)
	if err != nil {
		return err
	}
	defer kc.stop()
	kw, err := startCluster(ctx, kc)
	if err != nil {
		return err
	}
	ksys := &systemResult{System: "kvstore", Mempool: "flood (CometBFT)", Transport: kvTransport(o)}
	res.KVStore = ksys
	if err := ramp(ctx, o, kc, kw, ksys, o.rates, o.step, func(i int) (*load, error) {
		return kvLoad(i, int(o.rates[i]*o.step.Seconds()), o.txBytes)
	}); err != nil {
		return err
	}
	kc.stop()
	return nil
}

// batched ramps Weft with 64 KiB rollup payloads on a fresh network.
func batched(ctx context.Context, o *options, res *results) error {
	var plan senderPlan
	rates := make([]float64, len(o.batchMBs))
	ranges := make([]senderRange, len(rates))
	for i, mb := range o.batchMBs {
		rates[i] = mb * 1e6 / float64(o.batchPayload)
		ranges[i] = plan.take(sendersFor(rates[i], o.workers))
	}
	fmt.Printf("\n== Weft batched: %d-byte RollupData payloads, steps %v MB/s ==\n", o.batchPayload, o.batchMBs)
	cl, err := setupWeft(ctx, o, "weft-batched", filepath.Join(o.dir, "weft-batched"), o.basePort+200, plan.addresses())
	if err != nil {
		return err
	}
	defer cl.stop()
	cl.nodeAPI = o.batchAPI == "grpc"
	w, err := startCluster(ctx, cl)
	if err != nil {
		return err
	}
	sys := &systemResult{System: "weft-batched", Mempool: "app (Weft)", Transport: "libp2p"}
	res.Batched = sys
	if err := ramp(ctx, o, cl, w, sys, rates, o.batchStep, func(i int) (*load, error) {
		return weftLoad(int(rates[i]*o.batchStep.Seconds()), ranges[i], 0, o.batchPayload)
	}); err != nil {
		return err
	}
	cl.stop()
	if !o.batchBaseline {
		return nil
	}

	// The same payloads as plain kvstore txs: how much data CometBFT itself
	// orders on this machine.
	fmt.Printf("\n== kvstore baseline batched: %d-byte txs (CometBFT flood mempool, %s transport), steps %v MB/s ==\n", o.batchPayload, kvTransport(o), o.batchMBs)
	kc, err := setupKV(o, filepath.Join(o.dir, "kvstore-batched"), o.basePort+300)
	if err != nil {
		return err
	}
	defer kc.stop()
	kc.system = "kvstore-batched"
	kw, err := startCluster(ctx, kc)
	if err != nil {
		return err
	}
	ksys := &systemResult{System: "kvstore-batched", Mempool: "flood (CometBFT)", Transport: kvTransport(o)}
	res.BatchedKV = ksys
	if err := ramp(ctx, o, kc, kw, ksys, rates, o.batchStep, func(i int) (*load, error) {
		return kvLoad(i, int(rates[i]*o.batchStep.Seconds()), o.batchPayload)
	}); err != nil {
		return err
	}
	kc.stop()
	return nil
}

// startCluster waits for every node to commit a few blocks and starts
// following node0's blocks (with cl.nodeAPI, their tx hashes through
// Weft's node API).
func startCluster(ctx context.Context, cl *cluster) (*watcher, error) {
	t := time.Now()
	if err := cl.waitReady(ctx, 3, 90*time.Second); err != nil {
		return nil, err
	}
	w := newWatcher(cl.rpc[0])
	if cl.nodeAPI {
		c, err := client.Dial(cl.api[0])
		if err != nil {
			return nil, err
		}
		w.api = c
	}
	wctx, cancel := context.WithCancel(ctx)
	cl.onStop = func() {
		cancel()
		if w.api != nil {
			w.api.Close()
		}
	}
	if err := w.run(wctx); err != nil {
		return nil, err
	}
	fmt.Printf("[%s] 4 nodes up, height ≥ 3, in %.1fs\n", cl.system, time.Since(t).Seconds())
	return w, nil
}

// ramp runs the steps in order. It stops when a step's throughput does not
// hold, when latency alone saturates it beyond -stop-p99, or when time runs
// short. The knee is the highest step that did not saturate; the capacity
// the highest committed rate of a step whose throughput held.
func ramp(ctx context.Context, o *options, cl *cluster, w *watcher, sys *systemResult, rates []float64, dur time.Duration, build func(i int) (*load, error)) error {
	var runs []*stepRun
	began := time.Now()
	for i, rate := range rates {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < dur+o.grace+30*time.Second {
			sys.Note = fmt.Sprintf("stopped before %.0f tx/s: -timeout leaves too little time", rate)
			fmt.Printf("[%s] %s\n", cl.system, sys.Note)
			break
		}
		if time.Since(began)+dur > o.rampBudget {
			sys.Note = fmt.Sprintf("stopped before %.0f tx/s: -ramp-budget %v used up (the system had not saturated)", rate, o.rampBudget)
			fmt.Printf("[%s] %s\n", cl.system, sys.Note)
			break
		}
		t := time.Now()
		ld, err := build(i)
		if err != nil {
			return err
		}
		fmt.Printf("[%s] step %d: %d txs of %d bytes built in %.1fs; offering %.0f tx/s for %v\n",
			cl.system, i+1, ld.n(), ld.txBytes, time.Since(t).Seconds(), rate, dur)
		label := fmt.Sprintf("step%d-%.0f", i+1, rate)
		run := newStepRun(ld, rate)
		runs = append(runs, run)
		r, err := runStep(ctx, o, cl, w, run, stepSpec{label: label, duration: dur, warmup: o.warmup, grace: o.grace})
		if err != nil {
			return err
		}
		printStep(cl.system, fmt.Sprintf("step %d", i+1), r)
		sys.Steps = append(sys.Steps, r)
		if !r.Saturated {
			sys.Knee = r
		}
		if r.ThroughputHeld && r.P99Ms >= 0 && (sys.Capacity == nil || r.CommittedTxS > sys.Capacity.CommittedTxS) {
			sys.Capacity = r
		}
		if !r.ThroughputHeld || r.P99Ms < 0 || r.P99Ms > float64(o.stopP99.Milliseconds()) {
			break
		}
		if r.Saturated {
			fmt.Printf("[%s] latency alone saturated this step; stepping on (p99 ≤ %v) to find the throughput capacity\n", cl.system, o.stopP99)
		}
	}
	if sys.Knee == nil && len(sys.Steps) > 0 && sys.Note == "" {
		sys.Note = "no step met p99 ≤ " + o.p99Limit.String() + " with ≥ 90% of the offered rate committed"
	}
	drain(ctx, runs, 30*time.Second)
	return nil
}

// halfRate is half of Weft's max load: the knee's offered rate, or without
// a knee the capacity's, or what the first step committed.
func halfRate(sys *systemResult) float64 {
	switch {
	case sys.Knee != nil:
		return sys.Knee.OfferedTxS / 2
	case sys.Capacity != nil:
		return sys.Capacity.OfferedTxS / 2
	case len(sys.Steps) > 0:
		return sys.Steps[0].CommittedTxS / 2
	}
	return 0
}

// drain waits until the txs of earlier steps stop committing (a saturated
// step leaves a backlog), so the next step starts on an idle network.
func drain(ctx context.Context, runs []*stepRun, limit time.Duration) {
	t := time.Now()
	count := func() (done, total int) {
		for _, r := range runs {
			done += r.committed()
			total += r.ld.n()
		}
		return
	}
	last, _ := count()
	still := time.Now()
	for time.Since(t) < limit && ctx.Err() == nil {
		time.Sleep(500 * time.Millisecond)
		c, total := count()
		if c == total {
			break
		}
		if c != last {
			last, still = c, time.Now()
		} else if time.Since(still) > 3*time.Second {
			break
		}
	}
	fmt.Printf("  drained the backlog for %.1fs\n", time.Since(t).Seconds())
}

// printProfile prints the top of a step's CPU profile of node0.
func printProfile(o *options, r *stepResult) {
	if r.Profile == "" {
		return
	}
	cmd := exec.Command("go", "tool", "pprof", "-top", "-nodecount=30", o.weftBin, r.Profile)
	cmd.Dir = o.root
	out, err := cmd.CombinedOutput()
	if err != nil {
		fmt.Printf("  go tool pprof: %v\n%s", err, out)
		return
	}
	fmt.Printf("\n-- CPU profile of Weft node0 during %s (%s) --\n%s", r.Label, r.Profile, out)
	cmd = exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=40", o.weftBin, r.Profile)
	cmd.Dir = o.root
	if out, err := cmd.CombinedOutput(); err == nil {
		fmt.Printf("\n-- same, by cumulative time --\n%s", out)
	}
}
