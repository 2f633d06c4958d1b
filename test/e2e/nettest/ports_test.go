package nettest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestPortsDisjoint: allocations in one process never share a port, and
// each is held (its lock file locked) until its test's cleanup.
func TestPortsDisjoint(t *testing.T) {
	dir := filepath.Join(os.TempDir(), "weft-e2e-ports")
	var bases []int
	t.Run("hold", func(t *testing.T) {
		for range 4 {
			b := Ports(t, PortBlock)
			if b < portsLow || b+PortBlock > portsHigh || (b-portsLow)%PortBlock != 0 {
				t.Fatalf("base %d: not a block of %d..%d", b, portsLow, portsHigh)
			}
			for _, o := range bases {
				if b < o+PortBlock && o < b+PortBlock {
					t.Fatalf("blocks at %d and %d overlap", o, b)
				}
			}
			bases = append(bases, b)
			// Another open file (as another process would have) cannot lock it.
			if _, err := lockFile(filepath.Join(dir, strconv.Itoa(b)+".lock")); !errors.Is(err, errLocked) {
				t.Fatalf("block %d not locked while held: %v", b, err)
			}
		}
	})
	for _, b := range bases {
		unlock, err := lockFile(filepath.Join(dir, strconv.Itoa(b)+".lock"))
		if err != nil {
			// Another test binary may have taken it since: only ours must be gone.
			heldPorts.Lock()
			held := heldPorts.m[filepath.Join(dir, strconv.Itoa(b)+".lock")]
			heldPorts.Unlock()
			if held {
				t.Fatalf("block %d still held after its test's cleanup", b)
			}
			continue
		}
		unlock()
	}
}

// TestPortsSkipsLockedBlocks: a block whose lock file another holder has
// locked, or one with a port in use, is never handed out; with every block
// taken the allocation fails.
func TestPortsSkipsLockedBlocks(t *testing.T) {
	const low = 40000
	busy := low + PortBlock // a block with a port in use
	a := portAllocator{dir: t.TempDir(), low: low, high: low + 4*PortBlock, free: func(base, n int) bool { return base != busy }}
	// Held "by another process": an open file of its own, not this process's heldPorts.
	other, err := lockFile(filepath.Join(a.dir, strconv.Itoa(low)+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer other()
	for range 20 { // from random starting blocks
		b, release, err := a.alloc(10)
		if err != nil {
			t.Fatal(err)
		}
		if b != low+2*PortBlock && b != low+3*PortBlock {
			t.Fatalf("got block %d: want %d or %d", b, low+2*PortBlock, low+3*PortBlock)
		}
		release()
	}
	b1, r1, err := a.alloc(10)
	if err != nil {
		t.Fatal(err)
	}
	defer r1()
	b2, r2, err := a.alloc(PortBlock)
	if err != nil {
		t.Fatal(err)
	}
	defer r2()
	if b1 == b2 {
		t.Fatalf("block %d handed out twice", b1)
	}
	if _, _, err := a.alloc(1); err == nil {
		t.Fatal("allocated with every block taken")
	}
	if _, _, err := a.alloc(PortBlock + 1); err == nil {
		t.Fatal("allocated more than a block")
	}
	r1()
	if b, r, err := a.alloc(1); err != nil || b != b1 {
		t.Fatalf("after release: got %d, %v; want %d", b, err, b1)
	} else {
		r()
	}
}
