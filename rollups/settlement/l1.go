package settlement

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
)

// L1ChainID is the chain id of the embedded L1: go-ethereum's simulated
// backend always uses 1337.
const L1ChainID = 1337

// DefaultBlockTime is how often the embedded L1 seals a block when
// L1Config.BlockTime is zero.
const DefaultBlockTime = time.Second

// L1Config configures the embedded L1.
type L1Config struct {
	// Alloc prefunds accounts (and may place code) at genesis.
	Alloc types.GenesisAlloc
	// BlockTime is the interval of the block producer; 0 means DefaultBlockTime.
	BlockTime time.Duration
	// Paused starts the block producer paused: blocks are then sealed only
	// by Commit/AdjustTime until Resume. Tests use this to step the chain.
	Paused bool
	// HTTPHost, when set, serves standard Ethereum JSON-RPC (eth, net, web3)
	// over HTTP on HTTPHost:HTTPPort; port 0 picks a free port (see URL).
	HTTPHost string
	HTTPPort int
	// WS also serves WebSocket JSON-RPC on the HTTP port (same URL, ws://).
	WS bool
	// GasLimit is the block gas limit; 0 keeps the simulated backend's default.
	GasLimit uint64
	// Logger receives geth's logs; nil discards them.
	Logger *slog.Logger
	// ChainConfig overrides the fork schedule; nil means MainnetLikeChainConfig.
	ChainConfig *params.ChainConfig
	// DataDir, when set, keeps the chain on disk in this directory (a geth
	// data directory: DataDir/geth/chaindata, locked while the L1 runs)
	// instead of in memory. If DataDir already holds a chain, StartL1
	// resumes it, head, state, receipts and logs included, and Alloc,
	// ChainConfig and GasLimit's genesis part are ignored: the stored
	// genesis is the chain's. Every block's state is written as the block
	// is sealed (see Close).
	DataDir string
}

// MainnetLikeChainConfig returns the embedded L1's default chain config:
// go-ethereum's dev config (chain id 1337, every fork from genesis) stopped
// at Osaka, the fork mainnet runs. The stock simulated backend also enables
// the unreleased Bogota fork, whose state-gas metering (EIP-8037/8038)
// roughly multiplies storage-writing gas by five, so gas figures measured on
// it would not be mainnet's.
func MainnetLikeChainConfig() *params.ChainConfig {
	c := *params.AllDevChainProtocolChanges
	c.AmsterdamTime = nil
	c.BogotaTime = nil
	return &c
}

// L1 is an in-process Ethereum L1: go-ethereum's simulated backend (a real
// geth node with a simulated beacon client), every fork up to Osaka active
// from genesis (Cancun's blob transactions included, with Osaka's cell-proof
// sidecars), plus a block producer.
//
// Finality as the simulated beacon reports it (eth/catalyst/simulated_beacon.go):
// "safe" is always the head; "finalized" is the last block whose number is
// a multiple of 32 (devEpochLength) strictly below the head, or the head
// itself when its number is a multiple of 32; at genesis it is block 0. So a
// batch posted in block n is "finalized" once the chain reaches the next
// multiple of 32 above n.
type L1 struct {
	sim     simChain
	client  simulated.Client
	resumed bool
	url     string
	wsURL   string
	blockTm time.Duration

	mu     sync.Mutex // serialises sealing: Commit, AdjustTime, Fork, the producer
	paused bool
	closed bool

	stop chan struct{}
	done chan struct{}
}

// endpointCatcher is a slog handler that remembers the address geth's HTTP
// server reports once it listens: the only way to learn the bound port when
// HTTPPort is 0, as simulated.Backend keeps its node private.
type endpointCatcher struct {
	next  slog.Handler
	mu    *sync.Mutex
	addrs *[]string
}

func (h endpointCatcher) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

func (h endpointCatcher) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "HTTP server started" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "endpoint" {
				h.mu.Lock()
				*h.addrs = append(*h.addrs, a.Value.String())
				h.mu.Unlock()
				return false
			}
			return true
		})
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h endpointCatcher) WithAttrs(as []slog.Attr) slog.Handler {
	return endpointCatcher{next: h.next.WithAttrs(as), mu: h.mu, addrs: h.addrs}
}

func (h endpointCatcher) WithGroup(name string) slog.Handler {
	return endpointCatcher{next: h.next.WithGroup(name), mu: h.mu, addrs: h.addrs}
}

// StartL1 starts the embedded L1 and its block producer.
func StartL1(cfg L1Config) (l *L1, err error) {
	if cfg.BlockTime < 0 {
		return nil, fmt.Errorf("l1: negative block time %v", cfg.BlockTime)
	}
	if cfg.BlockTime == 0 {
		cfg.BlockTime = DefaultBlockTime
	}
	chainConfig := cfg.ChainConfig
	if chainConfig == nil {
		chainConfig = MainnetLikeChainConfig()
	}
	var (
		mu    sync.Mutex
		addrs []string
	)
	base := slog.Handler(slog.DiscardHandler)
	if cfg.Logger != nil {
		base = cfg.Logger.Handler()
	}
	logger := log.NewLogger(endpointCatcher{next: base, mu: &mu, addrs: &addrs})

	sim, resumed, err := openChain(cfg, l1NodeOptions(cfg, chainConfig, logger))
	if err != nil {
		return nil, err
	}
	l = &L1{
		sim:     sim,
		client:  sim.Client(),
		resumed: resumed,
		blockTm: cfg.BlockTime,
		paused:  cfg.Paused,
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	if cfg.HTTPHost != "" {
		mu.Lock()
		got := append([]string(nil), addrs...)
		mu.Unlock()
		if len(got) == 0 {
			sim.Close()
			return nil, errors.New("l1: HTTP server did not report its address")
		}
		// With WS on the same port there is one listener; otherwise the first
		// report is the HTTP server.
		l.url, l.wsURL = endpointURLs(got[0], cfg.WS)
	}
	go l.produce()
	return l, nil
}

// l1NodeOptions returns the node and eth service options StartL1 gives the
// chain: geth's logs to logger, the chain config, the JSON-RPC endpoints of
// cfg (none unless HTTPHost is set) and the block gas limit.
func l1NodeOptions(cfg L1Config, chainConfig *params.ChainConfig, logger log.Logger) []func(*node.Config, *ethconfig.Config) {
	opts := []func(*node.Config, *ethconfig.Config){
		func(nc *node.Config, ec *ethconfig.Config) {
			nc.Logger = logger
			ec.Genesis.Config = chainConfig
			nc.HTTPHost = ""
			nc.WSHost = ""
			if cfg.HTTPHost != "" {
				nc.HTTPHost = cfg.HTTPHost
				nc.HTTPPort = cfg.HTTPPort
				nc.HTTPModules = []string{"eth", "net", "web3"}
				nc.HTTPVirtualHosts = []string{"*"}
				nc.HTTPCors = []string{"*"}
				if cfg.WS {
					// Same host and port: geth serves both on one listener.
					nc.WSHost = cfg.HTTPHost
					nc.WSPort = cfg.HTTPPort
					nc.WSModules = nc.HTTPModules
					nc.WSOrigins = []string{"*"}
				}
			}
		},
	}
	if cfg.GasLimit != 0 {
		opts = append(opts, simulated.WithBlockGasLimit(cfg.GasLimit))
	}
	return opts
}

// openChain starts the chain with opts: on disk in cfg.DataDir when it is
// set (resumed reports an existing chain), else simulated.NewBackend's
// in-memory chain.
func openChain(cfg L1Config, opts []func(*node.Config, *ethconfig.Config)) (sim simChain, resumed bool, err error) {
	if cfg.DataDir != "" {
		sim, resumed, err = openDiskChain(cfg.DataDir, cfg.Alloc, opts)
		if err != nil {
			return nil, false, err
		}
	} else {
		// NewBackend panics when the node cannot start (port taken).
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("l1: start simulated backend: %v", r)
				}
			}()
			sim = simulated.NewBackend(cfg.Alloc, opts...)
		}()
		if err != nil {
			return nil, false, err
		}
	}
	return sim, resumed, nil
}

// endpointURLs returns the HTTP URL, and with ws the WebSocket URL, of the
// listener at addr, an unspecified host made 127.0.0.1.
func endpointURLs(addr string, ws bool) (httpURL, wsURL string) {
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	httpURL = "http://" + addr
	if ws {
		wsURL = "ws://" + addr
	}
	return httpURL, wsURL
}

// produce seals a block every block time unless paused.
func (l *L1) produce() {
	defer close(l.done)
	t := time.NewTicker(l.blockTm)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			if !l.paused && !l.closed {
				l.sim.Commit()
			}
			l.mu.Unlock()
		}
	}
}

// Resumed reports whether the L1 reopened a chain it found in
// L1Config.DataDir (false for a new chain, and always without DataDir).
func (l *L1) Resumed() bool { return l.resumed }

// Client returns an in-process client with the ethclient API.
func (l *L1) Client() simulated.Client { return l.client }

// URL is the HTTP JSON-RPC endpoint ("" when HTTP is off).
func (l *L1) URL() string { return l.url }

// WSURL is the WebSocket JSON-RPC endpoint ("" when WS is off).
func (l *L1) WSURL() string { return l.wsURL }

// ChainID is the L1 chain id.
func (l *L1) ChainID() *big.Int { return big.NewInt(L1ChainID) }

// Commit seals a block with the pending transactions now and returns its hash.
func (l *L1) Commit() common.Hash {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sim.Commit()
}

// AdjustTime seals an empty block whose timestamp is the head's plus d
// (geth refuses when transactions are pending).
//
// The simulated beacon checks the txpool's pending set without first waiting
// for the pool to process the latest head (unlike Commit and Fork), so right
// after a Commit the transactions it just included can still look pending.
// AdjustTime therefore retries that refusal for a short while; a transaction
// that really is pending still makes it fail.
func (l *L1) AdjustTime(d time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	deadline := time.Now().Add(adjustTimeSettle)
	for {
		err := l.sim.AdjustTime(d)
		if err == nil || !strings.Contains(err.Error(), "non-empty block") || time.Now().After(deadline) {
			return err
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// adjustTimeSettle bounds how long AdjustTime waits for the txpool to drop
// transactions the last sealed block included.
const adjustTimeSettle = 2 * time.Second

// Fork rewinds the head to parentHash so that new blocks build a side chain
// from there (a reorg once it is longer). No transaction may be pending.
func (l *L1) Fork(parentHash common.Hash) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sim.Fork(parentHash)
}

// Rollback drops pending transactions.
func (l *L1) Rollback() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sim.Rollback()
}

// Pause stops the block producer; when it returns no producer seal is running.
func (l *L1) Pause() {
	l.mu.Lock()
	l.paused = true
	l.mu.Unlock()
}

// Resume restarts the block producer.
func (l *L1) Resume() {
	l.mu.Lock()
	l.paused = false
	l.mu.Unlock()
}

// Close stops the producer and the node. With a DataDir the next StartL1
// on it resumes at the head Close left; an L1 that is killed instead loses
// the blocks the database had not yet written (a few milliseconds' worth).
func (l *L1) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	return l.sim.Close()
}

// HeaderReader is the part of an Ethereum client FinalizedHeader uses.
type HeaderReader interface {
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
}

// FallbackFinalityDepth is how far below the head FinalizedHeader looks when
// the endpoint does not support the "finalized" tag (two mainnet epochs).
const FallbackFinalityDepth = 64

// FinalizedHeader returns the header of the L1 block tagged "finalized".
// If the endpoint rejects the tag (pre-merge or non-geth dev chains), it
// falls back to the block FallbackFinalityDepth below the head and reports
// byDepth = true so callers can log that finality is only assumed.
func FinalizedHeader(ctx context.Context, c HeaderReader) (h *types.Header, byDepth bool, err error) {
	h, err = c.HeaderByNumber(ctx, big.NewInt(int64(rpc.FinalizedBlockNumber)))
	if err == nil && h != nil {
		return h, false, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, false, ctxErr
	}
	tagErr := err
	head, err := c.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("finalized tag failed (%v), head: %w", tagErr, err)
	}
	n := head.Number.Uint64()
	if n < FallbackFinalityDepth {
		n = 0
	} else {
		n -= FallbackFinalityDepth
	}
	h, err = c.HeaderByNumber(ctx, new(big.Int).SetUint64(n))
	if err != nil {
		return nil, false, fmt.Errorf("finalized tag failed (%v), fallback block %d: %w", tagErr, n, err)
	}
	return h, true, nil
}

// simChain is what L1 drives: go-ethereum's *simulated.Backend, or a
// diskChain (the same node and simulated beacon over an on-disk database).
type simChain interface {
	Commit() common.Hash
	Rollback()
	Fork(parentHash common.Hash) error
	AdjustTime(d time.Duration) error
	Client() simulated.Client
	Close() error
}

// l1DatabaseCache is the on-disk L1's database cache in MB: geth's default
// (2 GB, sized for mainnet) would let pebble reserve memtables of hundreds
// of MB for a chain of a few MB.
const l1DatabaseCache = 64

// diskChain is simulated.NewBackend's node over a database in a data
// directory. simulated.NewBackend itself cannot reopen a chain: it always
// forks the chain back to genesis after starting the node (newWithNode in
// ethclient/simulated/backend.go), which would rewind a reopened chain, so
// diskChain assembles the same stack (eth service, filter API, simulated
// beacon with no period) and forks to genesis only for a new chain.
type diskChain struct {
	stack  *node.Node
	beacon *catalyst.SimulatedBeacon
	client *ethclient.Client
}

// openDiskChain opens (or creates) the chain in dataDir with the options
// StartL1 gives simulated.NewBackend. resumed reports an existing chain.
func openDiskChain(dataDir string, alloc types.GenesisAlloc, opts []func(*node.Config, *ethconfig.Config)) (c *diskChain, resumed bool, err error) {
	const name = "geth"
	switch _, err := os.Stat(filepath.Join(dataDir, name, "chaindata")); {
	case err == nil:
		resumed = true
	case !errors.Is(err, os.ErrNotExist):
		return nil, false, fmt.Errorf("l1: data dir: %w", err)
	}
	nodeConf, ethConf, wantChainID := diskChainConfig(dataDir, name, alloc, opts, resumed)
	stack, err := node.New(&nodeConf)
	if err != nil {
		if errors.Is(err, node.ErrDatadirUsed) {
			return nil, false, fmt.Errorf("l1: data dir %s is in use by another process", dataDir)
		}
		return nil, false, fmt.Errorf("l1: %w", err)
	}
	c, err = startDiskChain(stack, &ethConf, dataDir, wantChainID, resumed)
	if err != nil {
		stack.Close()
		return nil, false, fmt.Errorf("l1: %w", err)
	}
	return c, resumed, nil
}

// diskChainConfig returns the node and eth service configuration of the
// chain in dataDir (node name name): simulated.NewBackend's, with opts
// applied, over an archive database on the hash scheme; a resumed chain
// keeps its stored genesis and state scheme. wantChainID is the chain id
// the configured genesis has.
func diskChainConfig(dataDir, name string, alloc types.GenesisAlloc, opts []func(*node.Config, *ethconfig.Config), resumed bool) (nodeConf node.Config, ethConf ethconfig.Config, wantChainID *big.Int) {
	// The configuration simulated.NewBackend starts from.
	nodeConf = node.DefaultConfig
	nodeConf.DataDir = dataDir
	nodeConf.Name = name
	nodeConf.P2P = p2p.Config{NoDiscovery: true}
	genesisAlloc := core.SystemContractAllocs()
	maps.Copy(genesisAlloc, alloc)
	ethConf = ethconfig.Defaults
	ethConf.Genesis = &core.Genesis{
		Config:   params.AllDevChainProtocolChanges,
		GasLimit: ethconfig.Defaults.Miner.GasCeil,
		Alloc:    genesisAlloc,
	}
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.TxPool.NoLocals = true
	ethConf.LogNoHistory = true
	for _, o := range opts {
		o(&nodeConf, &ethConf)
	}
	ethConf.DatabaseCache = l1DatabaseCache
	// Archive mode on the hash scheme writes every block's state to disk as
	// the block is inserted, so an L1 that is killed resumes within a block
	// or two of its head. The path scheme (geth's default) keeps the last
	// 128 blocks' state, and its write buffer, in memory until Close: a kill
	// rewinds it far (to genesis on a young chain). The price is disk, about
	// 8 KB per block instead of 2. No snapshot: the state is tiny.
	ethConf.StateScheme = rawdb.HashScheme
	ethConf.NoPruning = true
	ethConf.SnapshotCache = 0
	wantChainID = ethConf.Genesis.Config.ChainID
	if resumed {
		ethConf.StateScheme = "" // whatever the stored chain uses
		// The stored genesis and chain config are the chain's; the caller's
		// alloc may differ (more dev accounts this run) and must not make the
		// reopening fail with a genesis mismatch.
		ethConf.Genesis = nil
	}
	return nodeConf, ethConf, wantChainID
}

// startDiskChain starts the eth service, the filter API and the simulated
// beacon on stack; a new chain is forked to its genesis. On error the
// caller closes stack.
func startDiskChain(stack *node.Node, ethConf *ethconfig.Config, dataDir string, wantChainID *big.Int, resumed bool) (*diskChain, error) {
	backend, err := eth.New(stack, ethConf)
	if err != nil {
		return nil, err
	}
	if got := backend.BlockChain().Config().ChainID; got == nil || got.Cmp(wantChainID) != 0 {
		// A chaindata whose genesis was never written (the first start was
		// killed at once) gets geth's default, mainnet's.
		return nil, fmt.Errorf("%s holds a chain with chain id %v, not %v: not this L1's; remove it to start afresh", dataDir, got, wantChainID)
	}
	stack.RegisterAPIs([]rpc.API{{
		Namespace: "eth",
		Service:   filters.NewFilterAPI(filters.NewFilterSystem(backend.APIBackend, filters.Config{})),
	}})
	if err := stack.Start(); err != nil {
		return nil, err
	}
	// On a reopened chain the beacon starts from the stored head, safe and
	// finalized included; its first sealed block marks that head finalized
	// for the length of one forkchoice update before the usual rule (see
	// L1) applies again.
	beacon, err := catalyst.NewSimulatedBeacon(0, common.Address{}, backend)
	if err != nil {
		return nil, err
	}
	if !resumed {
		if err := beacon.Fork(backend.BlockChain().GetCanonicalHash(0)); err != nil {
			return nil, err
		}
	}
	return &diskChain{stack: stack, beacon: beacon, client: ethclient.NewClient(stack.Attach())}, nil
}

func (c *diskChain) Commit() common.Hash               { return c.beacon.Commit() }
func (c *diskChain) Rollback()                         { c.beacon.Rollback() }
func (c *diskChain) Fork(parentHash common.Hash) error { return c.beacon.Fork(parentHash) }
func (c *diskChain) AdjustTime(d time.Duration) error  { return c.beacon.AdjustTime(d) }
func (c *diskChain) Client() simulated.Client          { return c.client }

// Close stops the beacon and the node; the node's close stops the chain,
// which writes its in-memory state layers to disk.
func (c *diskChain) Close() error {
	c.client.Close()
	return errors.Join(c.beacon.Stop(), c.stack.Close())
}
