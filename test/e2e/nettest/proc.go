package nettest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is one long-running process (a `weft start`) whose output is
// appended to a log file. The zero value with Name and Log set is ready to
// Start; a Proc may be started again after it exits.
type Proc struct {
	Name string // "node0": names the process in messages
	Log  string // file its stdout and stderr are appended to

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	running bool // the test expects the process to be up
}

// Start runs bin with args, appending its output to p.Log after a banner
// line naming tag, p and the time; from then on the test expects it up
// (see Died). It fails t if the log cannot be opened or bin not started.
func (p *Proc) Start(t testing.TB, tag, bin string, args ...string) {
	t.Helper()
	p.startWith(t, tag, bin, setPdeathsig, args...)
}

// Halt sends sig to p and waits up to timeout for it to exit. If it is
// still running then, Halt kills it, waits, and returns false. A Proc that
// was never started is left alone.
func (p *Proc) Halt(sig os.Signal, timeout time.Duration) bool {
	p.mu.Lock()
	p.running = false
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return true
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
		return true
	case <-time.After(timeout):
	}
	_ = cmd.Process.Kill()
	<-exited
	return false
}

// Kill kills p if it was started and waits until it is gone (a cleanup).
func (p *Proc) Kill() {
	p.mu.Lock()
	p.running = false
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Died reports whether p exited while the test expected it up.
func (p *Proc) Died() bool {
	p.mu.Lock()
	running, exited := p.running, p.exited
	p.mu.Unlock()
	if !running {
		return false
	}
	select {
	case <-exited:
		return true
	default:
		return false
	}
}

// UnexpectedExit names the first of ps that died while expected up.
func UnexpectedExit(ps ...*Proc) error {
	for _, p := range ps {
		if p.Died() {
			return fmt.Errorf("%s exited unexpectedly (see its test.log)", p.Name)
		}
	}
	return nil
}

// KillAll kills every one of ps still running.
func KillAll(ps ...*Proc) {
	for _, p := range ps {
		p.Kill()
	}
}

// DumpLogs logs the last lines of every one of ps's logs.
func DumpLogs(t testing.TB, lines int, ps ...*Proc) {
	t.Helper()
	for _, p := range ps {
		b, err := os.ReadFile(p.Log)
		if err != nil {
			t.Logf("%s: %v", p.Name, err)
			continue
		}
		ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(ls) > lines {
			ls = ls[len(ls)-lines:]
		}
		t.Logf("---- %s %s (last %d lines) ----\n%s", p.Name, p.Log, len(ls), strings.Join(ls, "\n"))
	}
}

// QuitForStacks ends every process of ps still running with SIGQUIT, on
// which a Go process writes every goroutine's stack to its log as it exits:
// run when a test failed, before the processes are killed, it shows where a
// stuck node waits. A process not gone within 10 s is killed.
func QuitForStacks(ps ...*Proc) {
	for _, p := range ps {
		p.mu.Lock()
		running := p.running && p.cmd != nil
		p.mu.Unlock()
		if running {
			p.Halt(syscall.SIGQUIT, 10*time.Second)
		}
	}
}

// KeepLogs copies each process's whole log into $WEFT_E2E_LOGS/<test name>/
// when that variable is set (make chaos sets it to bin/chaos-logs), since a
// test's temporary directory goes when it ends.
func KeepLogs(t testing.TB, ps ...*Proc) {
	t.Helper()
	root := os.Getenv("WEFT_E2E_LOGS")
	if root == "" {
		return
	}
	dir := filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("keep logs: %v", err)
		return
	}
	for _, p := range ps {
		b, err := os.ReadFile(p.Log)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, p.Name+".log"), b, 0o644)
		}
		if err != nil {
			t.Logf("keep %s's log: %v", p.Name, err)
		}
	}
	t.Logf("logs kept in %s", dir)
}

// WaitFor polls cond every poll until it returns nil; it fails t at the
// deadline (with cond's last error) or as soon as one of ps dies that
// should be running.
func WaitFor(t testing.TB, timeout, poll time.Duration, what string, cond func() error, ps ...*Proc) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if dead := UnexpectedExit(ps...); dead != nil {
			t.Fatalf("waiting for %s: %v", what, dead)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached after %v: %v", what, timeout, err)
		}
		<-tick.C
	}
}
