package e2e

import (
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/weftnet/weft/test/e2e/nettest"
)

// TestChaos is the soak behind `make chaos`: four validators under load
// take randomized faults, one after another, for WEFT_CHAOS (a duration,
// e.g. 30m; the test is skipped without it). The faults are drawn from a
// seed printed at the start (WEFT_CHAOS_SEED replays a run): kill -9 of one
// validator (the others keep committing), kill -9 of two (quorum lost) and
// their restart, a 2|2 partition and its heal, one validator cut off by a
// partition, SIGSTOP of one, a restart of all four. After every fault the
// chain must resume within resumeWithin with no node restarted beyond the
// faulted ones; at the end every acknowledged tx is committed exactly once
// and every node holds the same blocks and app hashes at every height. It
// prints the faults injected, the txs acknowledged and the longest stall.
// WEFT_CHAOS_TRANSPORT=libp2p|classic picks the consensus transport
// (default: what `weft testnet` writes).
func TestChaos(t *testing.T) {
	skipShort(t)
	spec := os.Getenv("WEFT_CHAOS")
	if spec == "" {
		t.Skip("chaos soak: set WEFT_CHAOS to a duration (make chaos runs 30m)")
	}
	total, err := time.ParseDuration(spec)
	if err != nil {
		t.Fatalf("WEFT_CHAOS=%q: %v", spec, err)
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("WEFT_CHAOS_SEED"); s != "" {
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("WEFT_CHAOS_SEED=%q: %v", s, err)
		}
	}
	t.Logf("chaos seed %d (replay with WEFT_CHAOS_SEED=%d), running %v", seed, seed, total)
	fmt.Printf("chaos seed %d (replay with WEFT_CHAOS_SEED=%d), running %v\n", seed, seed, total)
	rng := rand.New(rand.NewSource(seed))
	partitions := nettest.PartitionUsable()
	if partitions != nil {
		t.Logf("partitions left out: %v", partitions)
	}

	tr := transport{name: "default"}
	switch v := os.Getenv("WEFT_CHAOS_TRANSPORT"); v {
	case "":
	case "libp2p", "classic":
		tr = transport{name: v, args: []string{"--libp2p=" + strconv.FormatBool(v == "libp2p")}}
	default:
		t.Fatalf("WEFT_CHAOS_TRANSPORT=%q: want libp2p or classic", v)
	}
	f := startFaultNetwork(t, planFromEnv(t), tr)
	l := f.startLoad()
	f.settle(l)
	stalls := watchStalls(f)
	defer stalls.stop()

	faults := map[string]int{}
	var longestRecovery time.Duration
	var recoveryOf string
	deadline := time.Now().Add(total)
	for i := 1; time.Now().Before(deadline); i++ {
		kinds := []string{"kill-one", "kill-two", "sigstop-one", "restart-all"}
		if partitions == nil {
			kinds = append(kinds, "partition-2-2", "isolate-one")
		}
		kind := kinds[rng.Intn(len(kinds))]
		hold := time.Duration(5+rng.Intn(26)) * time.Second // 5..30 s
		victims := rng.Perm(4)
		what := fmt.Sprintf("fault %d: %s for %v (nodes %v)", i, kind, hold, victims[:2])
		t.Log(what)
		h, since := f.inject(kind, hold, victims)
		first, all := f.recovered(h, since)
		faults[kind]++
		if all > longestRecovery {
			longestRecovery, recoveryOf = all, what
		}
		t.Logf("%s: resumed past %d in %v (first node), %v (all four)", what, h, first.Round(time.Millisecond), all.Round(time.Millisecond))
		// A healthy spell between faults, long enough for every node to
		// take txs again.
		f.ackedBy(l, time.Minute, 5, f.ackCounts(l), f.All()...)
		f.hold(time.Duration(2+rng.Intn(8))*time.Second, "healthy between faults", func() error { return nil })
	}
	stalls.stop()
	f.finish(l, "chaos")
	for _, v := range f.violations {
		t.Errorf("liveness: %s", v)
	}

	var names []string
	n := 0
	for k, c := range faults {
		names = append(names, fmt.Sprintf("%s %d", k, c))
		n += c
	}
	sort.Strings(names)
	longest, at := stalls.longest()
	summary := fmt.Sprintf("chaos seed %d: %v, %d faults injected (%s); %d txs acknowledged, all committed exactly once, no divergence; longest stall %v (at height %d); slowest recovery %v after %s; %d liveness violations",
		seed, total, n, strings.Join(names, ", "), len(l.snapshot()), longest.Round(time.Millisecond), at, longestRecovery.Round(time.Millisecond), recoveryOf, len(f.violations))
	t.Log(summary)
	fmt.Println(summary)
}

// inject applies one fault for hold and undoes it (restart, heal,
// SIGCONT); it returns the height reached before the fault was undone and
// when it was undone: the chain must move past that height from then on.
// Faults that leave a quorum check that the others keep committing.
func (f *faultNet) inject(kind string, hold time.Duration, victims []int) (int64, time.Time) {
	f.t.Helper()
	others := func(out ...int) []int {
		var rest []int
		for i := range f.nodes {
			if !containsInt(out, i) {
				rest = append(rest, i)
			}
		}
		return rest
	}
	v := victims[0]
	switch kind {
	case "kill-one":
		f.Kill(v)
		f.holdNoted(hold, fmt.Sprintf("node%d down", v), f.progress(others(v)...))
		h := f.MaxHeight(others(v)...)
		f.start(v)
		return h, time.Now()
	case "kill-two":
		two := victims[:2]
		for _, i := range two {
			f.Kill(i)
		}
		hKill := f.MaxHeight(others(two...)...)
		f.hold(hold, fmt.Sprintf("nodes %v down", two), f.noQuorum(hKill, others(two...)...))
		h := f.MaxHeight(others(two...)...)
		for _, i := range two {
			f.start(i)
		}
		return h, time.Now()
	case "sigstop-one":
		if err := f.nodes[v].Signal(syscall.SIGSTOP); err != nil {
			f.t.Fatal(err)
		}
		f.holdNoted(hold, fmt.Sprintf("node%d frozen", v), f.progress(others(v)...))
		h := f.MaxHeight(others(v)...)
		if err := f.nodes[v].Signal(syscall.SIGCONT); err != nil {
			f.t.Fatal(err)
		}
		return h, time.Now()
	case "restart-all":
		h := f.MaxHeight(f.All()...) + 1
		for i := range f.nodes {
			f.Kill(i)
		}
		for i := range f.nodes {
			f.start(i)
		}
		return h, time.Now()
	case "partition-2-2", "isolate-one":
		var a []int
		if kind == "partition-2-2" {
			a = victims[:2]
		} else {
			a = victims[:1]
		}
		var ga, gb []uint32
		for i := range f.nodes {
			if containsInt(a, i) {
				ga = append(ga, f.gid(i))
			} else {
				gb = append(gb, f.gid(i))
			}
		}
		mode := nettest.DropOnInput
		if victims[3]%2 == 1 {
			mode = nettest.DropOnOutput
		}
		p := nettest.NewPartition(f.t, mode, ga, gb)
		hCut := f.MaxHeight(f.All()...)
		if err := p.Cut(); err != nil {
			f.t.Fatal(err)
		}
		if kind == "partition-2-2" {
			f.hold(hold, fmt.Sprintf("partitioned %v (%v)", a, mode), f.noQuorum(hCut, f.All()...))
		} else {
			f.holdNoted(hold, fmt.Sprintf("node%d cut off (%v)", a[0], mode), f.progress(others(a...)...))
		}
		h := f.MaxHeight(f.All()...)
		if err := p.Heal(); err != nil {
			f.t.Fatal(err)
		}
		return h, time.Now()
	}
	f.t.Fatalf("unknown fault %q", kind)
	return 0, time.Time{}
}

// holdNoted is hold for liveness conditions: a broken one is recorded as
// a violation (the soak fails at the end) and the fault goes on, so one
// run reports every violation with the figures.
func (f *faultNet) holdNoted(d time.Duration, what string, cond func() error) {
	f.t.Helper()
	noted := false
	f.hold(d, what, func() error {
		if err := cond(); err != nil && !noted {
			noted = true
			f.note(fmt.Sprintf("%s: %v", what, err))
		}
		return nil
	})
}

func (f *faultNet) note(v string) {
	f.violations = append(f.violations, v)
	f.t.Logf("LIVENESS VIOLATION: %s", v)
}

// recovered waits for every node to pass height h: a recovery slower than
// resumeWithin is a violation; one that never comes (5 minutes) fails.
func (f *faultNet) recovered(h int64, since time.Time) (first, all time.Duration) {
	f.t.Helper()
	past := func() error {
		for _, i := range f.All() {
			got, err := f.Height(i)
			if err != nil {
				return fmt.Errorf("node%d: %v", i, err)
			}
			if got <= h {
				return fmt.Errorf("node%d at %d", i, got)
			}
		}
		return nil
	}
	deadline := since.Add(resumeWithin)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for ; time.Now().Before(deadline); <-tick.C {
		if first == 0 && f.MaxHeight(f.All()...) > h {
			first = time.Since(since)
		}
		if past() == nil {
			return first, time.Since(since)
		}
	}
	f.note(fmt.Sprintf("not every node past height %d within %v: %v", h, resumeWithin, past()))
	f.WaitFor(5*time.Minute, fmt.Sprintf("every node past height %d", h), past)
	return first, time.Since(since)
}

// progress is a hold condition for faults that leave a quorum: nodes idx
// keep committing, never going maxBlockGap without a block.
func (f *faultNet) progress(idx ...int) func() error {
	last, at := f.MaxHeight(idx...), time.Now()
	return func() error {
		if h := f.MaxHeight(idx...); h > last {
			last, at = h, time.Now()
		} else if time.Since(at) > maxBlockGap {
			return fmt.Errorf("no block on nodes %v for %v (height %d)", idx, time.Since(at).Round(time.Millisecond), h)
		}
		return nil
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// stallWatch records the longest time the network went without a new
// block (the highest height any node reports), faults included.
type stallWatch struct {
	mu      sync.Mutex
	worst   time.Duration
	worstAt int64
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

func watchStalls(f *faultNet) *stallWatch {
	s := &stallWatch{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		last, at := f.MaxHeight(f.All()...), time.Now()
		for {
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
			h := f.MaxHeight(f.All()...)
			if h > last {
				last, at = h, time.Now()
				continue
			}
			if d := time.Since(at); d > s.get() {
				s.mu.Lock()
				s.worst, s.worstAt = d, h
				s.mu.Unlock()
			}
		}
	}()
	return s
}

func (s *stallWatch) get() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.worst
}

func (s *stallWatch) longest() (time.Duration, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.worst, s.worstAt
}

func (s *stallWatch) stop() {
	s.once.Do(func() { close(s.done) })
	s.wg.Wait()
}
