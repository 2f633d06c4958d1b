package node

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	cfg "github.com/cometbft/cometbft/config"
)

// A full disk must stop a node cleanly. Badger writes its memtable WAL, its
// value log and its tables through memory maps of sparse files: a page the
// filesystem cannot back raises SIGBUS, not ENOSPC, and kills the process
// (CometBFT's WAL fails first, halting consensus while the API would still
// acknowledge txs). So the node keeps a reserve of free space on the
// filesystems of its data directory: it does not start without it, and
// when the reserve is breached it first refuses every new tx, then stops.

// DefaultMinFreeMB is the default reserve (storage.min_free_mb), in MiB. It
// covers what badger may write into mapped but unbacked space before it
// rotates a file (a 64 MiB value log file, a 32 MiB memtable and its L0
// table, compaction output) and what CometBFT, the state store and the
// rollups write in the seconds between two checks at the largest block
// size (8 MiB blocks go to the block store and the consensus WAL), with
// room left for a clean stop (badger flushes its memtable on close).
const DefaultMinFreeMB = 512

// diskCheckEvery is how often a running node measures its free space.
const diskCheckEvery = time.Second

// DiskSpaceError says a data directory's filesystem has less free space
// than the node's reserve.
type DiskSpaceError struct {
	Dir  string
	Free uint64 // bytes available
	Need uint64 // bytes the reserve asks for
}

func (e *DiskSpaceError) Error() string {
	return fmt.Sprintf("data dir %s has %d MiB free; Weft needs at least %d MiB (storage.min_free_mb in weft.toml): free space and start again",
		e.Dir, e.Free>>20, e.Need>>20)
}

// freeSpaceFunc returns the bytes available to the node on the filesystem
// holding dir.
type freeSpaceFunc func(dir string) (uint64, error)

// statfsFree is freeSpaceFunc from statfs(2): the blocks available to
// unprivileged users (root's reserved blocks are not counted on).
func statfsFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, &fs.PathError{Op: "statfs", Path: dir, Err: err}
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

// dataDirs are the directories a node writes while it runs: CometBFT's
// stores, its consensus WAL and signing state, the state store (data/weft).
// The rollups' data (data/rollups) is on the data directory's filesystem
// unless mounted elsewhere, in which case it is listed too.
func dataDirs(c *cfg.Config) []string {
	dirs := []string{
		c.DBDir(),
		filepath.Join(c.DBDir(), "weft"),
		filepath.Dir(c.Consensus.WalFile()),
		filepath.Dir(c.PrivValidatorStateFile()),
		filepath.Join(c.DBDir(), "rollups"),
	}
	out := dirs[:0]
	seen := map[string]bool{}
	for _, d := range dirs {
		if d = filepath.Clean(d); !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// diskGuard keeps a node from running out of disk space.
type diskGuard struct {
	dirs []string
	need uint64 // bytes
	free freeSpaceFunc
	log  *slog.Logger

	// low is set once space ran short; from then on nothing is admitted.
	low atomic.Pointer[DiskSpaceError]
	// tripped is closed after low is set and the app refuses txs: the
	// node stops.
	tripped chan struct{}

	quit     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

func newDiskGuard(dirs []string, minFreeMB uint64, free freeSpaceFunc, log *slog.Logger) *diskGuard {
	return &diskGuard{dirs: dirs, need: minFreeMB << 20, free: free, log: log, tripped: make(chan struct{})}
}

// check measures every directory (a missing one on the filesystem of its
// nearest existing parent) and returns a *DiskSpaceError naming the first
// one short of the reserve, or why one could not be measured.
func (g *diskGuard) check() error {
	for _, d := range g.dirs {
		free, err := g.freeAt(d)
		if err != nil {
			return fmt.Errorf("free space of data dir %s: %w", d, err)
		}
		if free < g.need {
			return &DiskSpaceError{Dir: d, Free: free, Need: g.need}
		}
	}
	return nil
}

func (g *diskGuard) freeAt(dir string) (uint64, error) {
	for {
		free, err := g.free(dir)
		if !errors.Is(err, fs.ErrNotExist) {
			return free, err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return free, err
		}
		dir = parent
	}
}

// Err is why the node no longer admits txs (a *DiskSpaceError), or nil.
func (g *diskGuard) Err() error {
	if g == nil {
		return nil
	}
	if e := g.low.Load(); e != nil {
		return e
	}
	return nil
}

// Tripped is closed once the node must stop.
func (g *diskGuard) Tripped() <-chan struct{} { return g.tripped }

// poll is one check of a running node. When space is short it stops
// admissions, in this order: Err (the node API, the deposit relayer), then
// refuse (the app: CometBFT's CheckTx, the rollup RPC), and only then
// closes Tripped, so no tx is acknowledged once the node starts stopping.
// It reports whether it tripped; a failed measurement is logged and
// retried at the next tick.
func (g *diskGuard) poll(refuse func(error)) bool {
	err := g.check()
	var low *DiskSpaceError
	if !errors.As(err, &low) {
		if err != nil {
			g.log.Warn("cannot measure free disk space", "err", err)
		}
		return false
	}
	g.low.Store(low)
	refuse(low)
	g.log.Error("out of disk space: refusing txs and stopping the node",
		"dir", low.Dir, "free_mib", low.Free>>20, "min_free_mib", low.Need>>20)
	close(g.tripped)
	return true
}

// run polls at every tick until quit is closed or the guard trips.
func (g *diskGuard) run(tick <-chan time.Time, quit <-chan struct{}, refuse func(error)) {
	for {
		select {
		case <-quit:
			return
		case <-tick:
			if g.poll(refuse) {
				return
			}
		}
	}
}

// start polls every diskCheckEvery until stop; refuse makes the app turn
// txs away.
func (g *diskGuard) start(refuse func(error)) {
	t := time.NewTicker(diskCheckEvery)
	g.quit, g.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(g.done)
		defer t.Stop()
		g.run(t.C, g.quit, refuse)
	}()
}

// stop ends the polling started by start (if any) and waits for it.
func (g *diskGuard) stop() {
	if g.quit == nil {
		return
	}
	g.stopOnce.Do(func() { close(g.quit) })
	<-g.done
}
