package evm

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/consensus/beacon"
	"github.com/ethereum/go-ethereum/consensus/ethash"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/ethdb/memorydb"
	"github.com/ethereum/go-ethereum/ethdb/pebble"
	"github.com/ethereum/go-ethereum/event"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/triedb"
	"github.com/ethereum/go-ethereum/triedb/hashdb"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/exec"
)

var _ exec.Executor = (*Executor)(nil)

// Storage sizing for one rollup. Small on purpose: a node runs an executor
// per rollup it follows.
const (
	dbCacheMB      = 32       // pebble block cache and memtables
	dbHandles      = 128      // pebble open files
	trieCleanCache = 16 << 20 // hashdb clean node cache, bytes
)

// BlockEvent is sent to subscribers after a block is committed.
type BlockEvent struct {
	Block *types.Block
	// Receipts have their derived fields filled, as Receipts returns them.
	Receipts   types.Receipts
	Logs       []*types.Log
	WeftHeight int64
}

// Executor is the EVM executor of one rollup. Execute must be called from one
// goroutine at a time (calls are serialised); the read methods are safe to
// call concurrently with it.
type Executor struct {
	cfg         Config
	rollupID    rollups.ID
	log         *slog.Logger
	chainConfig *params.ChainConfig
	engine      consensus.Engine
	db          ethdb.Database
	triedb      *triedb.Database
	state       state.Database
	chain       *chainContext

	// beforeHead, when set by tests, runs after a block's state is flushed
	// and before the batch that moves the head; an error stops Execute there,
	// as a crash would.
	beforeHead func() error

	execMu sync.Mutex // serialises Execute and Close
	closed bool
	halted error // first critical failure; Execute refuses to run after it

	mu       sync.RWMutex // guards head and lastWeft for readers
	head     *types.Header
	lastWeft int64

	feed  event.Feed
	scope event.SubscriptionScope
}

// New opens (or creates) the rollup chain in cfg.Dir and returns an executor
// positioned at its stored head. A nil log discards.
func New(cfg Config, log *slog.Logger) (*Executor, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	kv, err := openKeyValueStore(cfg.Dir, cfg.Name)
	if err != nil {
		return nil, err
	}
	db := rawdb.NewDatabase(kv) // no freezer: blocks stay in the key-value store
	// The hash scheme with a commit per block: every block's trie nodes are
	// on disk before the head moves to it, so any head a restart finds has
	// its state, and every past state stays readable (an archive; nothing is
	// pruned). The path scheme would keep recent layers in memory behind a
	// journal written on clean shutdown only.
	tdb := triedb.NewDatabase(db, &triedb.Config{HashDB: &hashdb.Config{CleanCacheSize: trieCleanCache}})
	e := &Executor{
		cfg:         cfg,
		rollupID:    rollups.IDFromName(cfg.Name),
		log:         log.With("rollup", cfg.Name),
		chainConfig: NewChainConfig(cfg.ChainID),
		engine:      beacon.New(ethash.NewFaker()), // post-merge: Author is the header's Coinbase
		db:          db,
		triedb:      tdb,
		state:       state.NewDatabase(tdb, nil),
	}
	e.chain = &chainContext{e}
	if err := e.load(); err != nil {
		tdb.Close()
		db.Close()
		return nil, err
	}
	e.log.Info("evm executor ready", "head", e.head.Number, "hash", e.head.Hash(), "weft_height", e.lastWeft, "dir", cfg.Dir)
	return e, nil
}

// openKeyValueStore opens go-ethereum's own pebble store in dir, or a memory
// store for "". Pebble rather than an ethdb adapter over Weft's badger:
// go-ethereum's state, trie and rawdb layers are built and tested on pebble
// (batch atomicity, iterator and compaction behaviour included), and an
// adapter would be a second, untested storage path for the same data.
func openKeyValueStore(dir, name string) (ethdb.KeyValueStore, error) {
	if dir == "" {
		return memorydb.New(), nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("evm executor: %w", err)
	}
	db, err := pebble.New(dir, dbCacheMB, dbHandles, "weft/exec/"+name+"/", false)
	if err != nil {
		return nil, fmt.Errorf("evm executor: open %s: %w", dir, err)
	}
	return db, nil
}

// load commits genesis into an empty database, or checks the stored chain
// against cfg and positions the executor at the stored head.
func (e *Executor) load() error {
	genesis := e.cfg.genesis(e.chainConfig)
	stored := rawdb.ReadCanonicalHash(e.db, 0)
	if stored == (common.Hash{}) {
		block, err := genesis.Commit(e.db, e.triedb, nil)
		if err != nil {
			return fmt.Errorf("evm executor: commit genesis: %w", err)
		}
		e.head = block.Header()
		return nil
	}
	if want := genesis.ToBlock().Hash(); stored != want {
		return fmt.Errorf("evm executor: database holds genesis %s, config gives %s (alloc, gas limit or genesis time changed, or the database predates this weft's genesis revision %d, which added the preinstalls: the rollup's chain must be started over)", stored, want, GenesisRevision)
	}
	if cc := rawdb.ReadChainConfig(e.db, stored); cc == nil || cc.ChainID == nil || cc.ChainID.Uint64() != e.cfg.ChainID {
		return fmt.Errorf("evm executor: database chain config does not match chain id %d", e.cfg.ChainID)
	}
	headHash := rawdb.ReadHeadBlockHash(e.db)
	number, ok := rawdb.ReadHeaderNumber(e.db, headHash)
	if !ok {
		return fmt.Errorf("evm executor: head block %s has no number", headHash)
	}
	head := rawdb.ReadHeader(e.db, headHash, number)
	if head == nil {
		return fmt.Errorf("evm executor: head block %d %s missing", number, headHash)
	}
	if _, err := state.New(head.Root, e.state); err != nil {
		return fmt.Errorf("evm executor: state of head block %d (root %s) missing: %w", number, head.Root, err)
	}
	headWeft, ok := WeftHeight(head)
	if !ok {
		return fmt.Errorf("evm executor: head block %d has no Weft height in extra", number)
	}
	last, ok, err := readLastWeftHeight(e.db)
	if err != nil {
		return fmt.Errorf("evm executor: %w", err)
	}
	if !ok {
		last = 0
	}
	if last < headWeft {
		return fmt.Errorf("evm executor: last Weft height %d is behind head block %d built at Weft height %d", last, number, headWeft)
	}
	e.head, e.lastWeft = head, last
	return nil
}

// Execute applies the rollup's slice of one Weft block; see package exec.
// Errors other than exec.ErrHeightGap, exec.ErrInvalidSlice and
// exec.ErrClosed are critical and halt the executor until it is reopened.
func (e *Executor) Execute(s *weftv1.RollupSlice) error {
	e.execMu.Lock()
	defer e.execMu.Unlock()
	if e.closed {
		return exec.ErrClosed
	}
	if e.halted != nil {
		return fmt.Errorf("evm executor halted: %w", e.halted)
	}
	if s == nil {
		return fmt.Errorf("%w: nil slice", exec.ErrInvalidSlice)
	}
	// Only Execute writes lastWeft, and Execute holds execMu.
	if s.Height <= e.lastWeft {
		return nil
	}
	if s.Height != e.lastWeft+1 {
		return fmt.Errorf("%w: got %d, want %d", exec.ErrHeightGap, s.Height, e.lastWeft+1)
	}
	if err := e.checkSlice(s); err != nil {
		return err
	}
	if len(s.Items) == 0 {
		batch := e.db.NewBatch()
		if err := writeLastWeftHeight(batch, s.Height); err != nil {
			return e.halt(err)
		}
		if err := batch.Write(); err != nil {
			return e.halt(err)
		}
		e.mu.Lock()
		e.lastWeft = s.Height
		e.mu.Unlock()
		return nil
	}
	ev, err := e.executeBlock(s)
	if err != nil {
		return e.halt(err)
	}
	// Send blocks until every subscriber has taken the event.
	e.feed.Send(ev)
	return nil
}

func (e *Executor) checkSlice(s *weftv1.RollupSlice) error {
	if !bytes.Equal(s.RollupId, e.rollupID[:]) {
		return fmt.Errorf("%w: height %d is for rollup %x, not %s (%s)", exec.ErrInvalidSlice, s.Height, s.RollupId, e.cfg.Name, e.rollupID)
	}
	// An empty height makes no block, so its hash is optional (a verifier
	// re-deriving from L1 batches does not have it).
	if (len(s.Items) > 0 || len(s.BlockHash) > 0) && len(s.BlockHash) != common.HashLength {
		return fmt.Errorf("%w: height %d: block hash has %d bytes, want %d", exec.ErrInvalidSlice, s.Height, len(s.BlockHash), common.HashLength)
	}
	for i, it := range s.Items {
		if err := rollups.CheckItem(it); err != nil {
			return fmt.Errorf("%w: height %d item %d: %v", exec.ErrInvalidSlice, s.Height, i, err)
		}
	}
	return nil
}

func (e *Executor) halt(err error) error {
	e.halted = err
	e.log.Error("evm executor halted", "err", err)
	return err
}

// LastWeftHeight is the last Weft height executed and persisted.
func (e *Executor) LastWeftHeight() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.lastWeft
}

// Close ends subscriptions and closes the database. It waits for a running
// Execute to finish.
func (e *Executor) Close() error {
	// Subscriptions end first: a subscriber that stopped reading would
	// otherwise hold Execute in Send, and Close behind it.
	e.scope.Close()
	e.execMu.Lock()
	defer e.execMu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	return errors.Join(e.triedb.Close(), e.db.Close())
}
