package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
)

// proc is one node process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

// cluster is four validator processes of one system and their RPC endpoints.
type cluster struct {
	system string
	procs  []*proc
	rpc    []string // http://host:port, CometBFT RPC
	api    []string // host:port, Weft's node API (Weft only)
	// metrics are the nodes' Prometheus endpoints (http://…/metrics).
	metrics []string
	// nodeAPI: the harness submits and follows commits through Weft's
	// node API instead of CometBFT's JSON-RPC.
	nodeAPI bool
	// pprof are the nodes' pprof addresses, when enabled.
	pprof []string
	// onStop, when set, runs before the processes stop (it ends the block
	// watcher).
	onStop func()
}

// startProc runs bin with args, output to logPath, killed with the harness.
func startProc(name, bin, logPath string, args ...string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, waits up to grace, then SIGKILLs.
func (p *proc) stop(grace time.Duration) {
	if !p.alive() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// stop stops every process of the cluster, in parallel.
func (c *cluster) stop() {
	if c == nil {
		return
	}
	if c.onStop != nil {
		c.onStop()
	}
	done := make(chan struct{}, len(c.procs))
	for _, p := range c.procs {
		go func() {
			p.stop(5 * time.Second)
			done <- struct{}{}
		}()
	}
	for range c.procs {
		<-done
	}
}

// dead names a process that exited, or returns "".
func (c *cluster) dead() string {
	for _, p := range c.procs {
		if !p.alive() {
			return p.name
		}
	}
	return ""
}

// tail returns the last n lines of a log file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// waitReady waits until every node has committed height minHeight.
func (c *cluster) waitReady(ctx context.Context, minHeight int64, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	clients := make([]*rpchttp.HTTP, len(c.rpc))
	for i, u := range c.rpc {
		cl, err := rpchttp.New(u, "/websocket")
		if err != nil {
			return err
		}
		clients[i] = cl
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		if d := c.dead(); d != "" {
			p := c.procByName(d)
			return fmt.Errorf("%s exited during startup; last log lines:\n%s", d, tail(p.log, 30))
		}
		ready := 0
		var lastErr error
		for _, cl := range clients {
			st, err := cl.Status(ctx)
			if err != nil {
				lastErr = err
				continue
			}
			if st.SyncInfo.LatestBlockHeight >= minHeight {
				ready++
			}
		}
		if ready == len(clients) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %d/%d nodes at height %d after %v (last error: %v)", c.system, ready, len(clients), minHeight, timeout, lastErr)
		case <-tick.C:
		}
	}
}

func (c *cluster) procByName(name string) *proc {
	for _, p := range c.procs {
		if p.name == name {
			return p
		}
	}
	return nil
}

// procSample is what /proc says about one process at one instant.
type procSample struct {
	cpuTicks int64 // utime + stime
	hwmKB    int64 // VmHWM
	rssKB    int64 // VmRSS
}

// clockTicks is USER_HZ, 100 on every Linux platform Go supports.
const clockTicks = 100

func readProc(pid int) (procSample, error) {
	var s procSample
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return s, err
	}
	// The command name (field 2) may hold spaces; fields after it start
	// after the last ')'.
	rest := string(b)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	s.cpuTicks = ut + st
	sf, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return s, err
	}
	defer sf.Close()
	sc := bufio.NewScanner(sf)
	for sc.Scan() {
		line := sc.Text()
		var dst *int64
		switch {
		case strings.HasPrefix(line, "VmHWM:"):
			dst = &s.hwmKB
		case strings.HasPrefix(line, "VmRSS:"):
			dst = &s.rssKB
		default:
			continue
		}
		if fs := strings.Fields(line); len(fs) >= 2 {
			*dst, _ = strconv.ParseInt(fs[1], 10, 64)
		}
	}
	return s, sc.Err()
}

// sample reads every node process; a process that is gone reads as zero.
func (c *cluster) sample() []procSample {
	out := make([]procSample, len(c.procs))
	for i, p := range c.procs {
		out[i], _ = readProc(p.pid())
	}
	return out
}

// selfCPU is the harness's own utime+stime in seconds.
func selfCPU() float64 {
	s, err := readProc(os.Getpid())
	if err != nil {
		return 0
	}
	return float64(s.cpuTicks) / clockTicks
}

// machineBusy is the CPU time, in seconds, all processes have used since
// boot: the first line of /proc/stat less idle and iowait.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		if i >= 8 { // guest time is already counted in user
			break
		}
		x, _ := strconv.ParseInt(v, 10, 64)
		if i != 3 && i != 4 { // idle, iowait
			busy += x
		}
	}
	return float64(busy) / clockTicks
}

// checkPortsFree fails fast when a port a cluster needs is taken: p2p is
// QUIC over UDP with libp2p and TCP with the classic transport; RPC, API and
// metrics are TCP.
func checkPortsFree(base, nodes int) error {
	for i := 0; i < nodes; i++ {
		p := base + 10*i
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return fmt.Errorf("udp port %d is taken (need %d..%d; pick another -base-port): %w", p, base, base+10*nodes, err)
		}
		u.Close()
		for q := p; q <= p+5; q++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", q))
			if err != nil {
				return fmt.Errorf("tcp port %d is taken (need %d..%d; pick another -base-port): %w", q, base, base+10*nodes, err)
			}
			l.Close()
		}
	}
	return nil
}
