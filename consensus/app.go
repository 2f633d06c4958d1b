package consensus

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/weftnet/weft/consensus/staking"
	"github.com/weftnet/weft/mempool"
	"github.com/weftnet/weft/mempool/journal"
)

// AppVersion is the application protocol version reported to CometBFT.
const AppVersion = 1

var _ abci.Application = (*App)(nil)

// Config configures an App.
type Config struct {
	Mempool mempool.Config
	// MaxDropped bounds how many dropped-tx reasons are remembered for queries.
	MaxDropped int
	// MaxJournaled bounds the txs acknowledged to clients and not yet
	// committed or invalid (the journal; a restart restores them all, past
	// the mempool's caps). At the bound a client's tx is refused with
	// mempool_full (retryable) rather than acknowledged. 0 means no bound.
	MaxJournaled int
	// OnCommit, when set, receives every committed block as this node
	// executed it (decoded and hashed), in height order, from Commit's
	// last step: after the block is durable and the mempool pruned, before
	// Committed and CommitNotify show the new height. The node keeps the
	// recent ones for the rollup feed; it must not block.
	OnCommit func(BlockTxs)
}

// DefaultConfig is what a node starts with.
func DefaultConfig() Config {
	return Config{
		Mempool: mempool.Config{
			MaxTxs: 200_000, MaxBytes: 512 << 20,
			TTL: mempool.DefaultTTL, MaxNonceAhead: mempool.DefaultMaxNonceAhead,
			MaxParked: mempool.DefaultMaxParked, PriceBump: mempool.DefaultPriceBump,
		},
		MaxDropped:   100_000,
		MaxJournaled: 400_000, // twice the mempool: evicted acked txs stay journaled
	}
}

// App is Weft's ABCI application.
type App struct {
	abci.BaseApplication

	store *Store
	log   *slog.Logger
	mp    *mempool.Mempool
	// weights caches the rollups' block weights for the mempool's fair
	// shares; replaced (never mutated) when rollups change.
	weights atomic.Pointer[map[[32]byte]int64]
	// peerTxsOnTopic: peers' txs come on Weft's gossip topic, not InsertTx.
	peerTxsOnTopic atomic.Bool
	// admission, when set, is why the node takes no new txs (SetAdmission).
	admission atomic.Pointer[error]
	cfg       Config

	// mu guards the committed-state summary read by the mempool connection
	// and the APIs while consensus moves on.
	mu      sync.RWMutex
	chainID string
	params  *Params
	height  int64
	appHash []byte
	// clock is the last committed block's time: the mempool's clock (TTL),
	// since consensus code never reads the wall clock. Zero until the first
	// commit of this run.
	clock   time.Time
	commitC chan struct{} // closed and replaced at every commit

	// Consensus-connection state; CometBFT calls these methods one at a time.
	processed *stagedBlock // last accepted proposal, reused by FinalizeBlock
	staged    *stagedBlock // finalized, waiting for Commit

	journal *journal.Journal // the acknowledged txs and why txs were dropped
}

type stagedBlock struct {
	// block is every tx of the block in order, as executed (Config.OnCommit).
	block   BlockTxs
	hash    []byte
	height  int64
	time    time.Time
	ov      *Overlay
	results []*abci.ExecTxResult
	txs     [][32]byte // user txs included
	appHash []byte
	// registers is set when a tx of the block registered a rollup.
	registers bool
	// staking is set when the block changed staking state in a way that
	// may invalidate pending staking txs.
	staking bool
	events  *staking.Events
	updates []abci.ValidatorUpdate
	decoded []*Tx // the block's valid txs
}

// NewApp builds the application on store. Transactions journaled by an
// earlier run are put back into the mempool.
func NewApp(store *Store, cfg Config, logger *slog.Logger) (*App, error) {
	a := &App{
		store:   store,
		log:     logger,
		cfg:     cfg,
		commitC: make(chan struct{}),
		journal: journal.New(store.db, cfg.MaxJournaled, cfg.MaxDropped),
	}
	mcfg := cfg.Mempool
	if mcfg.RollupWeight == nil {
		mcfg.RollupWeight = a.rollupWeight
	}
	a.mp = mempool.New(mcfg)
	h, ah, err := store.Meta()
	if err != nil {
		return nil, err
	}
	a.height, a.appHash = h, ah
	if err := a.refreshWeights(); err != nil {
		return nil, err
	}
	if b, ok, err := store.Get(keyChainID); err != nil {
		return nil, err
	} else if ok {
		a.chainID = string(b)
		a.params = view{NewOverlay(store)}.Params()
		if err := a.loadJournal(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// rollupWeight is the mempool's per-rollup fairness weight: the committed
// rollup's block_weight (1 when unset or unknown).
func (a *App) rollupWeight(id [32]byte) int64 {
	if m := a.weights.Load(); m != nil {
		if w, ok := (*m)[id]; ok {
			return w
		}
	}
	return 1
}

// refreshWeights reloads the rollups' block weights from committed state.
func (a *App) refreshWeights() error {
	rs, err := a.Reader().Rollups()
	if err != nil {
		return err
	}
	m := make(map[[32]byte]int64, len(rs))
	for _, r := range rs {
		var id [32]byte
		copy(id[:], r.Id)
		m[id] = int64(max(r.BlockWeight, 1))
	}
	a.weights.Store(&m)
	return nil
}

// Mempool returns the application's mempool.
func (a *App) Mempool() *mempool.Mempool { return a.mp }

func (a *App) limits() (Limits, *Params) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.params == nil {
		return Limits{}, nil
	}
	return Limits{ChainID: a.chainID, MaxTxBytes: a.params.MaxTxBytes, MaxActions: a.params.MaxActions}, a.params
}

// Limits returns the stateless limits txs are decoded with.
func (a *App) Limits() Limits {
	l, _ := a.limits()
	return l
}

// Committed returns the last committed height and app hash.
func (a *App) Committed() (int64, []byte) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.height, a.appHash
}

// ChainID returns the chain id (empty before InitChain).
func (a *App) ChainID() string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.chainID
}

// now is the mempool's clock: the last committed block's time.
func (a *App) now() time.Time {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.clock
}

// CommitNotify returns a channel closed at the next commit.
func (a *App) CommitNotify() <-chan struct{} {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.commitC
}
