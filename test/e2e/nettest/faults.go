package nettest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/weftnet/weft/client"
)

// Fault injection for the multi-process tests: processes tagged with a
// group id, partitions between them with iptables, signals such as
// SIGSTOP/SIGCONT. Linux only; a test that cannot inject a fault skips
// with the reason (see PartitionUsable).

// StartAs is Start with the process's group id set to gid, unless gid is 0
// or the test does not run as root (setting it needs the right; root reads
// the node's files whatever the gid). A Partition tells processes apart by
// this gid: on loopback the peer of a TCP connection cannot be told by its
// port (the dialing side uses an ephemeral one).
func (nd *Node) StartAs(t testing.TB, tag, bin string, gid uint32) {
	t.Helper()
	nd.Proc.startWith(t, tag, bin, func(cmd *exec.Cmd) {
		setPdeathsig(cmd)
		if gid == 0 || os.Geteuid() != 0 {
			return
		}
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: gid, NoSetGroups: true}
	}, "start", "--home", nd.Home)
	nd.redial(t)
}

// startWith is Proc.Start with setup applied to the command before it runs.
func (p *Proc) startWith(t testing.TB, tag, bin string, setup func(*exec.Cmd), args ...string) {
	t.Helper()
	f, err := os.OpenFile(p.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("%s log: %v", p.Name, err)
	}
	fmt.Fprintf(f, "==== %s: weft %s %s at %s ====\n", tag, args[0], p.Name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	setup(cmd)
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", p.Name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(exited)
	}()
	p.mu.Lock()
	p.cmd, p.exited, p.running = cmd, exited, true
	p.mu.Unlock()
}

// redial replaces the node's API client with a fresh one: a restarted
// node gets a new connection instead of waiting out gRPC's reconnect
// backoff. The old client is closed once the new one is in place.
func (nd *Node) redial(t testing.TB) {
	t.Helper()
	c, err := client.Dial(nd.API)
	if err != nil {
		t.Fatalf("dial %s: %v", nd.Name, err)
	}
	nd.mu.Lock()
	old := nd.client
	nd.client = c
	nd.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// Signal sends sig (SIGSTOP, SIGCONT...) to a started process; the test
// still expects it up.
func (p *Proc) Signal(sig os.Signal) error {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("%s was never started", p.Name)
	}
	return cmd.Process.Signal(sig)
}

// PartitionMode is where a Partition drops packets, which decides what the
// processes see.
type PartitionMode int

const (
	// DropOnInput loses packets in transit, as a broken link or a silent
	// firewall would: senders get no error, connections time out on their
	// own (QUIC after 30 s without a packet).
	DropOnInput PartitionMode = iota
	// DropOnOutput refuses packets as they are sent, as an unreachable
	// network would: a UDP sender gets EPERM, and QUIC closes the
	// connection at once; TCP retransmits until it gives up.
	DropOnOutput
)

func (m PartitionMode) String() string {
	if m == DropOnOutput {
		return "dropped on output"
	}
	return "dropped on input"
}

// Partition cuts all traffic, TCP and UDP, between groups of processes on
// loopback, told apart by their group ids (see Node.StartAs), and heals it.
// Each group marks the connections its processes send on (CONNMARK,
// mangle OUTPUT); a connection marked by two groups is dropped (filter
// INPUT or OUTPUT, see PartitionMode). Traffic of other processes, with
// other group ids, is never touched.
//
// Marks live on conntrack entries, which outlive a partition: a UDP flow
// keeps its entry as long as packets pass, and QUIC sends every connection
// of a node over one socket, so the flow between two nodes lives as long as
// they do. Each partition therefore stamps its own epoch on a connection
// before marking it, clearing the group marks an earlier partition left;
// without this, two nodes on opposite sides of one partition stayed cut off
// from each other in every later one (TestPartitionMarksDoNotOutliveTheCut).
type Partition struct {
	t      testing.TB
	mode   PartitionMode
	chain  string
	epoch  uint32 // connmark bits epochShift.., never 0
	groups [][]uint32

	mu  sync.Mutex
	cut bool
}

// The connmark bit of group k is 1<<(partitionShift+k); the partition's
// epoch is the byte at epochShift.
const (
	partitionShift     = 20
	partitionMaxGroups = 4
	epochShift         = 24
	epochMask          = 0xff << epochShift
	partitionMask      = epochMask | (1<<partitionMaxGroups-1)<<partitionShift
)

var partitionSeq struct {
	sync.Mutex
	n int
}

// PartitionUsable says why iptables cannot cut loopback traffic here, or
// nil: the binary, the owner and connmark matches and the right to change
// the tables are all needed. Install it with `apt-get install -y iptables`.
func PartitionUsable() error {
	if _, err := exec.LookPath("iptables"); err != nil {
		return fmt.Errorf("iptables not installed (apt-get install -y iptables): %w", err)
	}
	chain := fmt.Sprintf("WEFTPROBE%d", os.Getpid())
	steps := [][]string{
		{"-t", "mangle", "-N", chain},
		{"-t", "mangle", "-A", chain, "-m", "connmark", "!", "--mark", fmt.Sprintf("%#x/%#x", 1<<epochShift, epochMask),
			"-j", "CONNMARK", "--set-xmark", fmt.Sprintf("%#x/%#x", 1<<epochShift, partitionMask)},
		{"-t", "mangle", "-A", chain, "-m", "owner", "--gid-owner", "65533", "-j", "CONNMARK", "--or-mark", "0x100000"},
		{"-N", chain},
		{"-A", chain, "-m", "connmark", "--mark", "0x300000/0x300000", "-j", "DROP"},
	}
	defer func() {
		_ = iptables("-F", chain)
		_ = iptables("-X", chain)
		_ = iptables("-t", "mangle", "-F", chain)
		_ = iptables("-t", "mangle", "-X", chain)
	}()
	for _, s := range steps {
		if err := iptables(s...); err != nil {
			return err
		}
	}
	return nil
}

// NewPartition prepares a partition between groups (each a list of
// process group ids); nothing is cut until Cut. The rules are removed in
// t.Cleanup.
func NewPartition(t testing.TB, mode PartitionMode, groups ...[]uint32) *Partition {
	t.Helper()
	if len(groups) < 2 || len(groups) > partitionMaxGroups {
		t.Fatalf("partition of %d groups: want 2..%d", len(groups), partitionMaxGroups)
	}
	partitionSeq.Lock()
	partitionSeq.n++
	seq := partitionSeq.n
	partitionSeq.Unlock()
	// Consecutive partitions of a process differ in epoch; those of two
	// test processes (run one after the other) most likely do too.
	epoch := uint32((os.Getpid()*7+seq)%255+1) << epochShift
	p := &Partition{t: t, mode: mode, chain: fmt.Sprintf("WEFT%d-%d", os.Getpid(), seq), epoch: epoch, groups: groups}
	t.Cleanup(func() {
		if err := p.Heal(); err != nil {
			t.Errorf("partition cleanup: %v", err)
		}
	})
	return p
}

// Cut installs the rules: from now on no packet passes between groups.
func (p *Partition) Cut() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return nil
	}
	var steps [][]string
	steps = append(steps, []string{"-t", "mangle", "-N", p.chain},
		// A connection first seen by another partition: clear its marks.
		[]string{"-t", "mangle", "-A", p.chain, "-m", "connmark", "!", "--mark", fmt.Sprintf("%#x/%#x", p.epoch, epochMask),
			"-j", "CONNMARK", "--set-xmark", fmt.Sprintf("%#x/%#x", p.epoch, partitionMask)})
	for k, g := range p.groups {
		for _, gid := range g {
			steps = append(steps, []string{"-t", "mangle", "-A", p.chain, "-m", "owner", "--gid-owner", fmt.Sprint(gid),
				"-j", "CONNMARK", "--or-mark", fmt.Sprintf("%#x", 1<<(partitionShift+k))})
		}
	}
	steps = append(steps, []string{"-N", p.chain})
	for a := range p.groups {
		for b := a + 1; b < len(p.groups); b++ {
			bits := uint32(1<<(partitionShift+a) | 1<<(partitionShift+b))
			m := fmt.Sprintf("%#x/%#x", p.epoch|bits, epochMask|bits)
			steps = append(steps, []string{"-A", p.chain, "-m", "connmark", "--mark", m, "-j", "DROP"})
		}
	}
	// Jump to the drop chain first, so no packet slips through between
	// marking and dropping.
	steps = append(steps, []string{"-I", p.dropHook(), "-j", p.chain}, []string{"-t", "mangle", "-I", "OUTPUT", "-j", p.chain})
	p.cut = true // Heal undoes whatever part was installed
	for _, s := range steps {
		if err := iptables(s...); err != nil {
			return err
		}
	}
	return nil
}

// Heal removes the rules (if cut): traffic flows again. Connections that
// timed out meanwhile stay closed; the processes must dial again.
func (p *Partition) Heal() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cut {
		return nil
	}
	p.cut = false
	var errs []string
	for _, s := range [][]string{
		{"-t", "mangle", "-D", "OUTPUT", "-j", p.chain},
		{"-D", p.dropHook(), "-j", p.chain},
		{"-F", p.chain}, {"-X", p.chain},
		{"-t", "mangle", "-F", p.chain}, {"-t", "mangle", "-X", p.chain},
	} {
		if err := iptables(s...); err != nil && !strings.Contains(err.Error(), "No chain") &&
			!strings.Contains(err.Error(), "does not exist") && !strings.Contains(err.Error(), "Bad rule") {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("heal: %s", strings.Join(errs, "; "))
	}
	return nil
}

// dropHook is the filter chain the drop rules hang from.
func (p *Partition) dropHook() string {
	if p.mode == DropOnOutput {
		return "OUTPUT"
	}
	return "INPUT"
}

func iptables(args ...string) error {
	out, err := exec.Command("iptables", append([]string{"-w", "5"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("iptables %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
