package e2e

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/node"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/test/e2e/nettest"
)

// Fault scenarios under load, each on a network of four validators run as
// processes: two validators killed (quorum lost) and restarted, a 2|2
// partition healed (packets lost in transit, or refused as they are sent),
// one validator frozen with SIGSTOP and thawed, all four killed and
// restarted. After each fault the chain must resume within resumeWithin
// with no other node restarted; in each, every acknowledged tx commits
// exactly once and every node holds the same blocks and app hashes.
//
// The outages are short by default (they run in `make test`): the short
// kill already stopped the chain for good on CometBFT v0.40's unpatched
// libp2p switch (docs/lp2p.md). WEFT_FAULTS=full gives the durations of the
// issue's reproduction (25 s down, 30 s partition, 45 s SIGSTOP), long
// enough for QUIC connections to reach their 30 s idle timeout.
// WEFT_FAULT_TRANSPORTS=libp2p,classic runs every scenario on each named
// transport (`weft testnet --libp2p=true|false`) instead of the testnet's
// default.
//
//	go test -count=1 -run TestFault ./test/e2e/
//	WEFT_FAULTS=full WEFT_FAULT_TRANSPORTS=libp2p,classic go test -count=1 -timeout 60m -run TestFault ./test/e2e/
//
// Each transport's network has its own block of ports (nettest.Ports).

// resumeWithin bounds every recovery: from the restart, the heal or the
// SIGCONT to every node committing a new block.
const resumeWithin = 30 * time.Second

// faultPlan is how long each fault lasts.
type faultPlan struct {
	name      string
	down      time.Duration // two validators killed
	partition time.Duration // 2|2 partition
	stop      time.Duration // one validator SIGSTOPped
}

func planFromEnv(t *testing.T) faultPlan {
	t.Helper()
	switch v := os.Getenv("WEFT_FAULTS"); v {
	case "", "short":
		return faultPlan{name: "short", down: 12 * time.Second, partition: 15 * time.Second, stop: 15 * time.Second}
	case "full":
		return faultPlan{name: "full", down: 25 * time.Second, partition: 30 * time.Second, stop: 45 * time.Second}
	default:
		t.Fatalf("WEFT_FAULTS=%q: want short or full", v)
		return faultPlan{}
	}
}

// transport is how `weft testnet` is told which p2p transport to write.
type transport struct {
	name string
	args []string
}

func transportsFromEnv(t *testing.T) []transport {
	t.Helper()
	v := os.Getenv("WEFT_FAULT_TRANSPORTS")
	if v == "" {
		return []transport{{name: "default"}}
	}
	var out []transport
	for _, s := range strings.Split(v, ",") {
		switch s = strings.TrimSpace(s); s {
		case "libp2p":
			out = append(out, transport{name: s, args: []string{"--libp2p=true"}})
		case "classic":
			out = append(out, transport{name: s, args: []string{"--libp2p=false"}})
		default:
			t.Fatalf("WEFT_FAULT_TRANSPORTS: unknown transport %q (libp2p, classic)", s)
		}
	}
	return out
}

// faultNet is a network whose processes each run with their own group id
// (base port + index: unique on the machine while the test holds its
// ports), so a partition can tell them apart.
type faultNet struct {
	*network
	plan faultPlan
	// violations are liveness failures the chaos soak noted and went on.
	violations []string
}

// runFault runs scenario once per transport, each on its own ports.
func runFault(t *testing.T, scenario func(t *testing.T, f *faultNet)) {
	skipShort(t)
	plan := planFromEnv(t)
	for _, tr := range transportsFromEnv(t) {
		t.Run(tr.name, func(t *testing.T) {
			f := startFaultNetwork(t, plan, tr)
			scenario(t, f)
		})
	}
}

// startFaultNetwork is startNetwork with each process started under its
// own group id; it returns once every node has committed height 1.
func startFaultNetwork(t *testing.T, plan faultPlan, tr transport) *faultNet {
	t.Helper()
	const validators = 4
	n := writeNetwork(t, validators, tr.args...)
	ccfg, _, err := node.LoadConfig(n.nodes[0].Home)
	if err != nil {
		t.Fatal(err)
	}
	kind := "classic"
	if ccfg.P2P.LibP2PConfig.Enabled {
		kind = "libp2p"
	}
	t.Logf("consensus transport: %s; plan %s (%v down, %v partition, %v SIGSTOP; resume within %v)",
		kind, plan.name, plan.down, plan.partition, plan.stop, resumeWithin)
	f := &faultNet{network: n, plan: plan}
	for i := range n.nodes {
		f.start(i)
	}
	n.WaitHeight(90*time.Second, 1, n.All()...)
	return f
}

// gid is node i's group id.
func (f *faultNet) gid(i int) uint32 { return uint32(f.base + i) }

// start runs node i under its group id (first start and restarts).
func (f *faultNet) start(i int) {
	f.t.Helper()
	f.nodes[i].StartAs(f.t, "e2e", weftBin, f.gid(i))
}

// startLoad sends rollup data from eight senders, two through each node,
// until halted.
func (f *faultNet) startLoad() *load {
	return f.network.startLoad(loadOptions{
		accounts: []int{0, 1, 2, 3, 4, 5, 6, 7}, nodeOf: func(k int) int { return k % 4 }, interval: 50 * time.Millisecond,
		actions: func(k int, nonce uint64) []*weftv1.Action {
			return []*weftv1.Action{client.RollupData(rollupNames[(k+int(nonce))%3], payload(k, nonce))}
		},
	})
}

// ackedBy waits until each node in idx has acknowledged at least more txs
// than it had in before (before[i] for node i).
func (f *faultNet) ackedBy(l *load, timeout time.Duration, more int, before map[int]int, idx ...int) {
	f.t.Helper()
	f.WaitFor(timeout, fmt.Sprintf("nodes %v acknowledging %d more txs", idx, more), func() error {
		for _, i := range idx {
			if c := l.count(func(a ackedTx) bool { return a.node == i }); c < before[i]+more {
				return fmt.Errorf("node%d acknowledged %d new txs", i, c-before[i])
			}
		}
		return nil
	})
}

// ackCounts is how many txs each node has acknowledged so far.
func (f *faultNet) ackCounts(l *load) map[int]int {
	out := map[int]int{}
	for i := range f.nodes {
		out[i] = l.count(func(a ackedTx) bool { return a.node == i })
	}
	return out
}

// settle waits for a loaded, healthy network: height 5 on every node and
// txs acknowledged by each.
func (f *faultNet) settle(l *load) {
	f.t.Helper()
	f.WaitHeight(time.Minute, 5, f.All()...)
	f.ackedBy(l, time.Minute, 20, map[int]int{}, f.All()...)
}

// hold keeps a fault in place for d, checking cond every 250ms meanwhile:
// it fails the test as soon as cond errs or a node dies that should run.
func (f *faultNet) hold(d time.Duration, what string, cond func() error) {
	f.t.Helper()
	end := time.Now().Add(d)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(end) {
		if err := cond(); err != nil {
			f.t.Fatalf("%s: %v", what, err)
		}
		if dead := nettest.UnexpectedExit(f.Procs()...); dead != nil {
			f.t.Fatalf("%s: %v", what, dead)
		}
		<-tick.C
	}
}

// noQuorum is a hold condition: without a quorum no node in idx commits
// past the block that was in flight when it was lost (at most h+1).
func (f *faultNet) noQuorum(h int64, idx ...int) func() error {
	return func() error {
		if got := f.MaxHeight(idx...); got > h+1 {
			return fmt.Errorf("height %d committed without a quorum (quorum lost at %d)", got, h)
		}
		return nil
	}
}

// resumed waits, at most resumeWithin, until every node in idx has
// committed a height above h; it returns the time from since to the first
// node's new block and to the last one's.
func (f *faultNet) resumed(h int64, since time.Time, idx ...int) (first, all time.Duration) {
	f.t.Helper()
	f.WaitFor(resumeWithin-time.Since(since), fmt.Sprintf("nodes %v past height %d", idx, h), func() error {
		var behind []string
		for _, i := range idx {
			got, err := f.Height(i)
			if err != nil {
				behind = append(behind, fmt.Sprintf("node%d: %v", i, err))
				continue
			}
			if got > h {
				if first == 0 {
					first = time.Since(since)
				}
			} else {
				behind = append(behind, fmt.Sprintf("node%d at %d", i, got))
			}
		}
		if len(behind) > 0 {
			return fmt.Errorf("%s", strings.Join(behind, ", "))
		}
		return nil
	})
	all = time.Since(since)
	if all > resumeWithin {
		f.t.Fatalf("nodes %v passed height %d %v after the fault ended, more than %v", idx, h, all.Round(time.Millisecond), resumeWithin)
	}
	return first, all
}

// finish checks the outcome after the fault: each node takes new txs, then
// the load stops and every acknowledged tx is committed exactly once, with
// the same blocks and app hashes at every height on every node.
func (f *faultNet) finish(l *load, what string) {
	f.t.Helper()
	f.ackedBy(l, time.Minute, 10, f.ackCounts(l), f.All()...)
	l.halt()
	acked := l.snapshot()
	l.checkNoRejections(f.t, what)
	res := f.waitCommitted(0, 2*time.Minute, hashesOf(acked))
	var last int64
	for _, r := range res {
		last = max(last, r.Height)
	}
	// The header of last+1 carries the app hash after last.
	f.WaitHeight(time.Minute, last+1, f.All()...)
	c := f.compareChains(last+1, f.All()...)
	checkExactlyOnce(f.t, c, acked)
	f.t.Logf("%s: blocks 1..%d identical with equal app hashes on all 4 nodes; %d acknowledged txs each committed once",
		what, last+1, len(acked))
}

// TestFaultKillTwoValidators kills two of four validators with SIGKILL
// under load (the quorum is lost), keeps them down, restarts them on their
// homes and checks that the chain resumes within resumeWithin with no
// other node restarted.
func TestFaultKillTwoValidators(t *testing.T) {
	runFault(t, func(t *testing.T, f *faultNet) {
		victims, survivors := []int{2, 3}, []int{0, 1}
		l := f.startLoad()
		f.settle(l)
		for _, v := range victims {
			f.Kill(v)
		}
		hKill := f.MaxHeight(survivors...)
		f.hold(f.plan.down, "two validators down", f.noQuorum(hKill, survivors...))
		h := f.MaxHeight(survivors...)
		for _, v := range victims {
			f.start(v)
		}
		restarted := time.Now()
		first, all := f.resumed(h, restarted, f.All()...)
		t.Logf("nodes %v killed at height %d and kept down %v; after their restart the chain resumed past %d in %v (first node), %v (all four)",
			victims, hKill, f.plan.down, h, first.Round(time.Millisecond), all.Round(time.Millisecond))
		f.finish(l, "kill two")
	})
}

// TestFaultPartitionHeals splits four validators 2|2 with iptables, every
// packet between the halves lost in transit as on a broken link (neither
// half has a quorum), heals the split and checks that the chain resumes
// within resumeWithin. It skips when iptables cannot be used.
func TestFaultPartitionHeals(t *testing.T) {
	testPartition(t, nettest.DropOnInput)
}

// TestFaultUnreachableHeals is TestFaultPartitionHeals with the packets
// between the halves refused as they are sent, as when the other half's
// network is unreachable: QUIC closes its connections at once, so every
// connection between the halves is a new one after the heal.
func TestFaultUnreachableHeals(t *testing.T) {
	testPartition(t, nettest.DropOnOutput)
}

func testPartition(t *testing.T, mode nettest.PartitionMode) {
	skipShort(t)
	if err := nettest.PartitionUsable(); err != nil {
		t.Skipf("a partition needs iptables as root: %v", err)
	}
	runFault(t, func(t *testing.T, f *faultNet) {
		p := nettest.NewPartition(t, mode, []uint32{f.gid(0), f.gid(1)}, []uint32{f.gid(2), f.gid(3)})
		l := f.startLoad()
		f.settle(l)
		hCut := f.MaxHeight(f.All()...)
		if err := p.Cut(); err != nil {
			t.Fatal(err)
		}
		f.hold(f.plan.partition, "partitioned 2|2", f.noQuorum(hCut, f.All()...))
		h := f.MaxHeight(f.All()...)
		if err := p.Heal(); err != nil {
			t.Fatal(err)
		}
		healed := time.Now()
		first, all := f.resumed(h, healed, f.All()...)
		t.Logf("partitioned {0,1}|{2,3} (packets %v) at height %d for %v; after the heal the chain resumed past %d in %v (first node), %v (all four)",
			mode, hCut, f.plan.partition, h, first.Round(time.Millisecond), all.Round(time.Millisecond))
		f.finish(l, "partition")
	})
}

// TestFaultIsolateOne cuts one of four validators off (packets lost in
// transit): the other three hold 3/4 of the power and must keep committing
// throughout, with no gap between blocks longer than maxBlockGap; after the
// heal the cut-off node catches up within resumeWithin.
func TestFaultIsolateOne(t *testing.T) {
	testIsolate(t, nettest.DropOnInput)
}

// TestFaultIsolateOneUnreachable is TestFaultIsolateOne with the packets to
// and from the cut-off node refused as they are sent: every sender gets an
// error from the socket it shares with its other peers. On the libp2p
// transport this once stopped the three others until the heal: quic-go
// closed the node's whole UDP transport, every connection on it, on the
// error (docs/lp2p.md).
func TestFaultIsolateOneUnreachable(t *testing.T) {
	testIsolate(t, nettest.DropOnOutput)
}

func testIsolate(t *testing.T, mode nettest.PartitionMode) {
	skipShort(t)
	if err := nettest.PartitionUsable(); err != nil {
		t.Skipf("a partition needs iptables as root: %v", err)
	}
	runFault(t, func(t *testing.T, f *faultNet) {
		const victim = 0
		others := []int{1, 2, 3}
		p := nettest.NewPartition(t, mode, []uint32{f.gid(victim)}, []uint32{f.gid(1), f.gid(2), f.gid(3)})
		l := f.startLoad()
		f.settle(l)
		hCut := f.MaxHeight(others...)
		if err := p.Cut(); err != nil {
			t.Fatal(err)
		}
		worst := f.holdCommitting(f.plan.partition, fmt.Sprintf("node%d cut off (%v)", victim, mode), others)
		hHeal := f.MaxHeight(others...)
		if err := p.Heal(); err != nil {
			t.Fatal(err)
		}
		healed := time.Now()
		f.WaitFor(resumeWithin, fmt.Sprintf("node%d catching up to %d", victim, hHeal), func() error {
			return f.nodes[victim].AtHeight(hHeal)
		})
		t.Logf("node%d cut off (packets %v) at height %d for %v: the others went on to %d (longest gap between blocks %v); healed, it reached %d in %v",
			victim, mode, hCut, f.plan.partition, hHeal, worst.Round(time.Millisecond), hHeal, time.Since(healed).Round(time.Millisecond))
		f.finish(l, "isolate one")
	})
}

// TestFaultKillOne kills one of four validators with SIGKILL under load:
// the other three keep committing throughout (no gap between blocks longer
// than maxBlockGap); restarted on its home, it catches up within
// resumeWithin.
func TestFaultKillOne(t *testing.T) {
	runFault(t, func(t *testing.T, f *faultNet) {
		const victim = 1
		others := []int{0, 2, 3}
		l := f.startLoad()
		f.settle(l)
		hKill := f.MaxHeight(others...)
		f.Kill(victim)
		worst := f.holdCommitting(f.plan.down, fmt.Sprintf("node%d killed", victim), others)
		h := f.MaxHeight(others...)
		f.start(victim)
		restarted := time.Now()
		f.WaitFor(resumeWithin, fmt.Sprintf("node%d catching up to %d", victim, h), func() error {
			return f.nodes[victim].AtHeight(h)
		})
		t.Logf("node%d killed at height %d and kept down %v: the others went on to %d (longest gap between blocks %v); restarted, it reached %d in %v",
			victim, hKill, f.plan.down, h, worst.Round(time.Millisecond), h, time.Since(restarted).Round(time.Millisecond))
		f.finish(l, "kill one")
	})
}

// holdCommitting holds a minority fault for d while the nodes in idx must
// keep committing: it fails the test on any gap between their blocks longer
// than maxBlockGap and returns the longest gap seen.
func (f *faultNet) holdCommitting(d time.Duration, what string, idx []int) time.Duration {
	f.t.Helper()
	lastH, lastAt, worst := f.MaxHeight(idx...), time.Now(), time.Duration(0)
	f.hold(d, what, func() error {
		h := f.MaxHeight(idx...)
		now := time.Now()
		if h > lastH {
			worst = max(worst, now.Sub(lastAt))
			lastH, lastAt = h, now
		} else if now.Sub(lastAt) > maxBlockGap {
			return fmt.Errorf("no block on nodes %v for %v (height %d)", idx, now.Sub(lastAt).Round(time.Millisecond), h)
		}
		return nil
	})
	return worst
}

// maxBlockGap bounds the time between two blocks on the running validators
// while one is frozen: a round whose proposer is frozen times out (propose
// timeout 1.5 s) and the next proposer goes on.
const maxBlockGap = 10 * time.Second

// TestFaultStopOneValidator freezes one of four validators with SIGSTOP,
// checks that the other three keep committing throughout, thaws it with
// SIGCONT and checks that it catches up within resumeWithin.
func TestFaultStopOneValidator(t *testing.T) {
	runFault(t, func(t *testing.T, f *faultNet) {
		const victim = 3
		others := []int{0, 1, 2}
		l := f.startLoad()
		f.settle(l)
		hStop := f.MaxHeight(others...)
		if err := f.nodes[victim].Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		// A failing test kills a frozen process all the same (SIGKILL).
		t.Cleanup(func() { _ = f.nodes[victim].Signal(syscall.SIGCONT) })
		worst := f.holdCommitting(f.plan.stop, fmt.Sprintf("node%d frozen", victim), others)
		hCont := f.MaxHeight(others...)
		if err := f.nodes[victim].Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		thawed := time.Now()
		f.WaitFor(resumeWithin, fmt.Sprintf("node%d catching up to %d", victim, hCont), func() error {
			return f.nodes[victim].AtHeight(hCont)
		})
		caught := time.Since(thawed)
		t.Logf("node%d frozen %v at height %d: the others went on to %d (longest gap between blocks %v); thawed, it reached %d in %v",
			victim, f.plan.stop, hStop, hCont, worst.Round(time.Millisecond), hCont, caught.Round(time.Millisecond))
		f.finish(l, "SIGSTOP")
	})
}

// TestFaultRestartAll kills all four validators with SIGKILL under load and
// restarts them: the chain resumes within resumeWithin of the restart and
// every tx acknowledged before the kill commits exactly once.
func TestFaultRestartAll(t *testing.T) {
	runFault(t, func(t *testing.T, f *faultNet) {
		l := f.startLoad()
		f.settle(l)
		// A node may commit one more block while the others are killed:
		// past h+1, at least one block was made after the restart.
		h := f.MaxHeight(f.All()...) + 1
		for i := range f.nodes {
			f.Kill(i)
		}
		for i := range f.nodes {
			f.start(i)
		}
		restarted := time.Now()
		first, all := f.resumed(h, restarted, f.All()...)
		t.Logf("all four killed at height %d or %d and restarted: the chain resumed past %d in %v (first node), %v (all four)",
			h-1, h, h, first.Round(time.Millisecond), all.Round(time.Millisecond))
		f.finish(l, "restart all")
	})
}
