package evm

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"google.golang.org/protobuf/encoding/protodelim"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

func TestDeterminism(t *testing.T) {
	w := newWorkload(t, testSeed(t), 30)
	a := newExecutor(t, testConfig("", w.alloc()))
	b := newExecutor(t, testConfig("", w.alloc()))
	c := newExecutor(t, testConfig(t.TempDir(), w.alloc())) // and across storage
	for _, s := range w.slices {
		for _, e := range []*Executor{a, b, c} {
			mustExecute(t, e, s)
		}
		ha, hb, hc := a.Head(), b.Head(), c.Head()
		if ha.Hash() != hb.Hash() || ha.Hash() != hc.Hash() || ha.Root != hb.Root || ha.Root != hc.Root {
			t.Fatalf("height %d: heads differ: %s/%s, %s/%s, %s/%s", s.Height, ha.Hash(), ha.Root, hb.Hash(), hb.Root, hc.Hash(), hc.Root)
		}
	}
	sameChain(t, b, a)
	sameChain(t, c, a)
	var txs, skipped int
	for n := uint64(1); n <= a.Head().Number.Uint64(); n++ {
		txs += len(a.BlockByNumber(n).Transactions())
		skipped += len(a.Skipped(n))
		if len(a.Skipped(n)) != len(c.Skipped(n)) {
			t.Fatalf("block %d: skipped lists differ", n)
		}
	}
	if txs == 0 || skipped == 0 || a.Head().Number.Uint64() != 24 {
		t.Fatalf("workload too thin: %d blocks, %d txs, %d skipped", a.Head().Number, txs, skipped)
	}
	t.Logf("%d blocks, %d txs, %d skipped", a.Head().Number, txs, skipped)
}

func TestRestart(t *testing.T) {
	w := newWorkload(t, testSeed(t), 24)
	ref := newExecutor(t, testConfig("", w.alloc()))
	mustExecute(t, ref, w.slices...)

	dir := t.TempDir()
	e, err := New(testConfig(dir, w.alloc()), nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExecute(t, e, w.slices[:15]...) // height 15 is empty: its progress must persist
	head := e.Head()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e = newExecutor(t, testConfig(dir, w.alloc()))
	if e.Head().Hash() != head.Hash() || e.LastWeftHeight() != 15 {
		t.Fatalf("reopened at %s weft %d, want %s weft 15", e.Head().Hash(), e.LastWeftHeight(), head.Hash())
	}
	mustExecute(t, e, w.slices[13:]...) // overlap: already executed heights are no-ops
	sameChain(t, e, ref)
}

// TestInterruptedBeforeHead stops a block after its trie nodes reached disk
// but before the batch that moves the head, as a crash there would.
func TestInterruptedBeforeHead(t *testing.T) {
	w := newWorkload(t, testSeed(t), 12)
	ref := newExecutor(t, testConfig("", w.alloc()))
	mustExecute(t, ref, w.slices...)

	dir := t.TempDir()
	e, err := New(testConfig(dir, w.alloc()), nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExecute(t, e, w.slices[:6]...)
	head := e.Head()
	crash := errors.New("crash before head write")
	e.beforeHead = func() error { return crash }
	if err := e.Execute(w.slices[6]); !errors.Is(err, crash) {
		t.Fatalf("interrupted Execute: %v", err)
	}
	if err := e.Execute(w.slices[6]); !errors.Is(err, crash) {
		t.Fatalf("Execute after a critical failure must refuse: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e = newExecutor(t, testConfig(dir, w.alloc()))
	if e.Head().Hash() != head.Hash() || e.LastWeftHeight() != 6 {
		t.Fatalf("reopened at block %d weft %d, want block %d weft 6", e.Head().Number, e.LastWeftHeight(), head.Number)
	}
	// The interrupted block's state did reach disk; nothing points at it.
	next := ref.HeaderByNumber(head.Number.Uint64() + 1)
	if _, err := e.StateAt(next.Root); err != nil {
		t.Fatalf("trie nodes of the interrupted block were not written: %v", err)
	}
	if e.HeaderByNumber(next.Number.Uint64()) != nil {
		t.Fatal("interrupted block is visible")
	}
	mustExecute(t, e, w.slices[6:]...)
	sameChain(t, e, ref)
}

const crashDirEnv = "WEFT_EVM_CRASH_DIR"

// TestCrashWithoutClose runs an executor in a child process that kills
// itself with SIGKILL after executing, never calling Close, then reopens the
// directory here. Pebble's lock forbids a second open in one process, hence
// the child. Writes are not fsynced, so the child's last blocks may be lost;
// what must hold is that the reopened head is a block of the reference
// chain with its state, and that execution resumes from LastWeftHeight+1 to
// the same chain.
func TestCrashWithoutClose(t *testing.T) {
	w := newWorkload(t, testSeed(t), 20)
	ref := newExecutor(t, testConfig("", w.alloc()))
	mustExecute(t, ref, w.slices...)

	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "slices"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range w.slices {
		if _, err := protodelim.MarshalTo(f, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\n%s", err, out)
	}

	e := newExecutor(t, testConfig(filepath.Join(dir, "db"), w.alloc()))
	head := e.Head()
	want := ref.HeaderByNumber(head.Number.Uint64())
	if want == nil || want.Hash() != head.Hash() {
		t.Fatalf("reopened head %d %s is not on the reference chain", head.Number, head.Hash())
	}
	if _, err := e.StateAt(head.Root); err != nil {
		t.Fatalf("head state missing: %v", err)
	}
	last := e.LastWeftHeight()
	headWeft, _ := WeftHeight(head)
	if last < headWeft {
		t.Fatalf("LastWeftHeight %d behind head's Weft height %d", last, headWeft)
	}
	if next := ref.HeaderByNumber(head.Number.Uint64() + 1); next != nil {
		if nw, _ := WeftHeight(next); last >= nw {
			t.Fatalf("LastWeftHeight %d passed block %d (Weft height %d) that is not stored", last, next.Number, nw)
		}
	}
	t.Logf("child executed %d heights; reopened at block %d, Weft height %d", len(w.slices), head.Number, last)
	mustExecute(t, e, w.slices[last:]...)
	sameChain(t, e, ref)
}

// TestCrashChild is the child half of TestCrashWithoutClose.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("child process of TestCrashWithoutClose")
	}
	f, err := os.Open(filepath.Join(dir, "slices"))
	if err != nil {
		t.Fatal(err)
	}
	var slices []*weftv1.RollupSlice
	r := bufio.NewReader(f)
	for {
		s := new(weftv1.RollupSlice)
		if err := protodelim.UnmarshalFrom(r, s); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		slices = append(slices, s)
	}
	w := &workload{accounts: workloadAccounts()}
	e, err := New(testConfig(filepath.Join(dir, "db"), w.alloc()), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slices {
		if err := e.Execute(s); err != nil {
			t.Fatal(err)
		}
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // never reached
}
