package nettest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Port allocation: every multi-process test takes its ports from Ports, so
// the e2e packages can run in parallel (`go test` without -p 1) without two
// networks, in one test binary or in two, ever listening on the same port.
//
// The candidates are blocks of PortBlock ports from portsLow up to the
// kernel's ephemeral range (never into it: a port the kernel hands out to
// an outgoing connection would make a node's listen fail). A block is held
// by an exclusive flock on its lock file under os.TempDir()/weft-e2e-ports;
// the kernel drops the lock when its holder exits, however it exits, so a
// killed test binary leaves no stale reservation behind.

// PortBlock is how many ports one Ports call may ask for.
const PortBlock = 100

// portsLow and portsHigh bound the candidate blocks: [portsLow, portsHigh),
// portsHigh lowered to the start of the ephemeral range if that is lower.
const (
	portsLow  = 20000
	portsHigh = 32000
)

// Ports returns the base of n consecutive ports (n <= PortBlock) on
// 127.0.0.1 that are free now, over TCP and UDP, and that no other caller
// of Ports on this machine holds until t's cleanup; t fails if there is
// none. Call it before registering the cleanups that stop what listens on
// the ports, so the block is released only after them.
func Ports(t testing.TB, n int) int {
	t.Helper()
	a := portAllocator{dir: filepath.Join(os.TempDir(), "weft-e2e-ports"), low: portsLow, high: portsHigh, free: portsFree}
	if e := ephemeralLow(); e > a.low && e < a.high {
		a.high = e
	}
	base, release, err := a.alloc(n)
	if err != nil {
		t.Fatalf("ports: %v", err)
	}
	t.Cleanup(release)
	return base
}

// portAllocator hands out blocks of PortBlock ports in [low, high), each
// held by a lock file in dir; free says whether n ports from base can be
// bound now.
type portAllocator struct {
	dir       string
	low, high int
	free      func(base, n int) bool
}

// heldPorts are the lock files this process holds: a second allocation in
// the process skips them without relying on flock's semantics between two
// open files of one process.
var heldPorts = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

// errLocked is lockFile's answer for a lock someone else holds.
var errLocked = errors.New("locked")

// alloc tries every candidate block once, from a random one on, and takes
// the first it can lock whose ports are free; release unlocks it.
func (a portAllocator) alloc(n int) (base int, release func(), err error) {
	if n < 1 || n > PortBlock {
		return 0, nil, fmt.Errorf("%d ports asked for: want 1..%d", n, PortBlock)
	}
	blocks := (a.high - a.low) / PortBlock
	if blocks < 1 {
		return 0, nil, fmt.Errorf("no room for a block of %d ports in %d..%d", PortBlock, a.low, a.high)
	}
	if err := os.MkdirAll(a.dir, 0o777); err != nil {
		return 0, nil, fmt.Errorf("lock dir: %w", err)
	}
	_ = os.Chmod(a.dir, 0o777|os.ModeSticky) // other users' tests share it, as /tmp
	start := rand.IntN(blocks)
	var locked, busy int
	for k := range blocks {
		base := a.low + PortBlock*((start+k)%blocks)
		path := filepath.Join(a.dir, strconv.Itoa(base)+".lock")
		heldPorts.Lock()
		if heldPorts.m[path] {
			heldPorts.Unlock()
			locked++
			continue
		}
		heldPorts.m[path] = true
		heldPorts.Unlock()
		unlock, err := lockFile(path)
		if err == nil && !a.free(base, n) {
			unlock()
			err = errBusy
		}
		if err != nil {
			heldPorts.Lock()
			delete(heldPorts.m, path)
			heldPorts.Unlock()
			switch {
			case errors.Is(err, errLocked):
				locked++
			case errors.Is(err, errBusy):
				busy++
			default:
				return 0, nil, err
			}
			continue
		}
		var once sync.Once
		return base, func() {
			once.Do(func() {
				unlock()
				heldPorts.Lock()
				delete(heldPorts.m, path)
				heldPorts.Unlock()
			})
		}, nil
	}
	return 0, nil, fmt.Errorf("no free block of %d ports in %d..%d: %d held by other tests (lock files in %s), %d with a port in use",
		PortBlock, a.low, a.low+PortBlock*blocks, locked, a.dir, busy)
}

// errBusy: a port of the block is in use.
var errBusy = errors.New("port in use")

// portsFree says whether ports base..base+n-1 on 127.0.0.1 can all be
// bound now, over UDP (QUIC) and TCP.
func portsFree(base, n int) bool {
	for q := base; q < base+n; q++ {
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", q))
		if err != nil {
			return false
		}
		u.Close()
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", q))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// ephemeralLow is the first port of Linux's ephemeral range, or 0 if it
// cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	p, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return p
}
