//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/node"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/test/e2e/nettest"
)

// TestDiskFullStopsNodeCleanly runs four validators under load, one of them
// with its data directory on a small tmpfs, and fills that disk with a
// file: the node must stop acknowledging txs and exit with an error naming
// the directory and the space it needs (not die of SIGBUS in badger's
// memory maps), the other three keep committing, and once the file is
// deleted the node starts again, catches up, and every tx any node
// acknowledged is committed exactly once.
func TestDiskFullStopsNodeCleanly(t *testing.T) {
	skipShort(t)
	const (
		victim    = 3
		tmpfsMB   = 160
		minFreeMB = 48
	)
	survivors := []int{0, 1, 2}
	n := writeNetwork(t, 4)
	home := n.nodes[victim].Home
	dataDir := filepath.Join(home, "data")
	if err := nettest.MountTmpfs(t, dataDir, tmpfsMB); err != nil {
		t.Skipf("cannot give node%d a small disk: %v", victim, err)
	}
	t.Cleanup(n.KillAll) // before the tmpfs is unmounted
	c, wc, err := node.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	wc.Storage.MinFreeMB = minFreeMB
	if err := node.WriteConfig(home, c, wc); err != nil {
		t.Fatal(err)
	}
	for i := range n.nodes {
		n.Start(i)
	}
	n.WaitHeight(90*time.Second, 1, n.All()...)

	l := n.startLoad(loadOptions{
		accounts: []int{0, 1, 2, 3, 4, 5, 6, 7}, nodeOf: func(k int) int { return k % 4 }, interval: 40 * time.Millisecond,
		actions: func(k int, nonce uint64) []*weftv1.Action {
			return []*weftv1.Action{client.RollupData(rollupNames[(k+int(nonce))%3], payload(k, nonce))}
		},
	})
	viaVictim := func(a ackedTx) bool { return a.node == victim }
	n.WaitFor(time.Minute, "load acknowledged by every node", func() error {
		for i := range n.nodes {
			if c := l.count(func(a ackedTx) bool { return a.node == i }); c < 15 {
				return fmt.Errorf("node%d acknowledged %d txs", i, c)
			}
		}
		return nil
	})

	fill := filepath.Join(dataDir, "fill")
	wrote, err := nettest.FillDisk(fill, minFreeMB<<20/2)
	if err != nil {
		t.Fatalf("fill node%d's disk: %v", victim, err)
	}
	filledAt := time.Now()
	code, ok := n.nodes[victim].WaitExit(30 * time.Second)
	if !ok {
		t.Fatalf("node%d still running 30s after its disk was filled (%d MiB written)", victim, wrote>>20)
	}
	ackedAtStop := l.count(viaVictim)
	hStop := n.MaxHeight(survivors...)
	t.Logf("filled node%d's disk with %d MiB; it exited (code %d) in %v, at height %d, having acknowledged %d txs",
		victim, wrote>>20, code, time.Since(filledAt).Round(time.Millisecond), hStop, ackedAtStop)
	log, err := os.ReadFile(n.nodes[victim].Log)
	if err != nil {
		t.Fatal(err)
	}
	wantErr := fmt.Sprintf("Error: data dir %s has ", dataDir)
	wantNeed := fmt.Sprintf(" MiB free; Weft needs at least %d MiB (storage.min_free_mb in weft.toml): free space and start again", minFreeMB)
	switch {
	case code == 0:
		t.Errorf("node%d exited with code 0 on a full disk", victim)
	case strings.Contains(string(log), "SIGBUS") || strings.Contains(string(log), "CONSENSUS FAILURE"):
		t.Fatalf("node%d crashed instead of stopping cleanly (see its log)", victim)
	case !strings.Contains(string(log), wantErr) || !strings.Contains(string(log), wantNeed):
		t.Fatalf("node%d's output does not say %q...%q", victim, wantErr, wantNeed)
	}

	n.WaitHeight(time.Minute, hStop+5, survivors...)
	afterStop := l.count(func(a ackedTx) bool { return !viaVictim(a) })
	n.WaitFor(30*time.Second, "survivors acknowledging new txs", func() error {
		if c := l.count(func(a ackedTx) bool { return !viaVictim(a) }); c <= afterStop {
			return fmt.Errorf("no new acknowledgements since node%d stopped", victim)
		}
		return nil
	})
	hRestart := n.MaxHeight(survivors...)

	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	n.Start(victim)
	restartedAt := time.Now()
	n.WaitHeight(time.Minute, hRestart, victim)
	t.Logf("node%d restarted and reached height %d in %v", victim, hRestart, time.Since(restartedAt).Round(time.Millisecond))
	n.WaitFor(30*time.Second, "restarted node acknowledging txs again", func() error {
		if c := l.count(viaVictim); c < ackedAtStop+10 {
			return fmt.Errorf("%d new acknowledgements", c-ackedAtStop)
		}
		return nil
	})
	l.halt()
	acked := l.snapshot()
	t.Logf("load: %d txs acknowledged (%d by node%d)", len(acked), l.count(viaVictim), victim)
	// A node that is stopping refuses txs as not_accepting (the app's
	// answer, if a tx reached it after the API's check): clients retry
	// elsewhere. Any other rejection of these valid txs is a bug.
	for e, c := range l.errors() {
		if strings.Contains(e, "weft code") && !strings.Contains(e, "(not_accepting)") {
			t.Errorf("a node rejected a valid tx %d times: %s", c, e)
		}
	}

	n.waitCommitted(0, time.Minute, hashesOf(acked))
	res := n.waitCommitted(victim, time.Minute, hashesOf(acked))
	var last int64
	for _, r := range res {
		last = max(last, r.Height)
	}
	n.WaitHeight(time.Minute, last+1, n.All()...)
	ch := n.compareChains(last+1, n.All()...)
	checkExactlyOnce(t, ch, acked)
}

// writeNetwork writes a network of validators with `weft testnet` (extra:
// more flags for it) without starting it; its processes are killed, and
// their logs shown if the test failed, when the test ends. Its ports are
// a block of its own (nettest.Ports): node i at base B listens on B+10i
// (p2p, QUIC), +1 (CometBFT RPC), +2 (API), +3 (metrics), +4 (rollup feed,
// QUIC).
func writeNetwork(t *testing.T, validators int, extra ...string) *network {
	t.Helper()
	basePort := nettest.Ports(t, 10*validators)
	dir := filepath.Join(t.TempDir(), "net")
	args := []string{"--validators", strconv.Itoa(validators), "--base-port", strconv.Itoa(basePort)}
	for _, r := range rollupNames {
		args = append(args, "--rollup", r)
	}
	m := nettest.Testnet(t, weftBin, dir, append(args, extra...)...)
	n := &network{Cluster: nettest.Cluster{T: t, Tag: "e2e", Bin: weftBin}, t: t, dir: dir, chainID: m.ChainID, base: basePort}
	for i, info := range m.Nodes {
		nd := &nettest.Node{
			Proc: nettest.Proc{Name: fmt.Sprintf("node%d", i), Log: filepath.Join(info.Home, "test.log")},
			Home: info.Home, API: info.API,
		}
		n.Nodes = append(n.Nodes, nd)
		n.nodes = append(n.nodes, &nodeProc{Node: nd, idx: i, info: info})
	}
	t.Cleanup(func() {
		if t.Failed() {
			nettest.DumpLogs(t, 60, n.Procs()...)
			nettest.KeepLogs(t, n.Procs()...)
		}
	})
	t.Cleanup(n.KillAll)
	// Runs first: a failed test's running nodes dump their goroutines.
	t.Cleanup(func() {
		if t.Failed() {
			nettest.QuitForStacks(n.Procs()...)
		}
	})
	return n
}
