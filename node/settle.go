package node

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/weftnet/weft/keys"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/batcher"
	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/feed"
	"github.com/weftnet/weft/rollups/relay"
	"github.com/weftnet/weft/rollups/settlement"
)

// SettlementConfig makes a node settle one rollup on L1, in weft.toml:
//
//	[rollup.settlement]
//	l1_rpc = "http://127.0.0.1:8545"
//	inbox = "0x…"                          # the rollup's WeftInbox
//	batcher_key = "keys/alpha-batcher.json" # L1 key the registry authorizes
//	relayer_key = "keys/alpha-submitter.json" # Weft key of deposit_relayer
//	confirmations = 1
//	max_batch_age = "10s"
type SettlementConfig struct {
	L1RPC string `toml:"l1_rpc"`
	Inbox string `toml:"inbox"`
	// BatcherKey is the L1 key file (relative to the home) that posts
	// batches; empty runs no batcher.
	BatcherKey string `toml:"batcher_key"`
	// RelayerKey is the Weft key file of the rollup's deposit_relayer;
	// empty relays no deposits.
	RelayerKey string `toml:"relayer_key"`
	// Confirmations is the L1 depth at which a batch counts as posted (the
	// rollup's "safe" tag). Default 1.
	Confirmations uint64 `toml:"confirmations"`
	// MaxBatchAge closes a batch this long after its first height (default
	// "1m"), so roots reach L1 under low load too.
	MaxBatchAge string `toml:"max_batch_age"`
	// MaxFrameSize bounds the batch bytes in one L1 tx (default 120000).
	MaxFrameSize int `toml:"max_frame_size"`
	// PollInterval paces L1 polling (default "500ms").
	PollInterval string `toml:"poll_interval"`
	// L1StartBlock is the inbox's registration block: L1 log queries start
	// there.
	L1StartBlock uint64 `toml:"l1_start_block"`
	// Blobs posts frames as EIP-4844 blobs instead of calldata (the L1 must
	// run Osaka or later; verifiers then need a beacon API).
	Blobs bool `toml:"blobs"`
	// MaxInFlight is how many frames of a batch may wait in the L1 pool at
	// once, at consecutive nonces (default 4).
	MaxInFlight int `toml:"max_in_flight"`
}

func (c *SettlementConfig) parse(name string) (maxAge, poll time.Duration, inbox common.Address, err error) {
	if c.L1RPC == "" {
		return 0, 0, inbox, fmt.Errorf("rollup %s: settlement.l1_rpc must be set", name)
	}
	if !common.IsHexAddress(c.Inbox) {
		return 0, 0, inbox, fmt.Errorf("rollup %s: settlement.inbox %q is not a 0x address", name, c.Inbox)
	}
	inbox = common.HexToAddress(c.Inbox)
	maxAge, poll = time.Minute, 500*time.Millisecond
	if c.MaxBatchAge != "" {
		if maxAge, err = time.ParseDuration(c.MaxBatchAge); err != nil || maxAge <= 0 {
			return 0, 0, inbox, fmt.Errorf("rollup %s: settlement.max_batch_age %q is not a positive duration", name, c.MaxBatchAge)
		}
	}
	if c.PollInterval != "" {
		if poll, err = time.ParseDuration(c.PollInterval); err != nil || poll <= 0 {
			return 0, 0, inbox, fmt.Errorf("rollup %s: settlement.poll_interval %q is not a positive duration", name, c.PollInterval)
		}
	}
	return maxAge, poll, inbox, nil
}

// settlementStatus serves the rollup RPC's safe and finalized tags from the
// batcher's view of L1 (genesis until a batcher runs).
type settlementStatus struct {
	exec   *evm.Executor
	driver atomic.Pointer[batcher.Driver]
}

func (s *settlementStatus) block(weftHeight int64) uint64 {
	if weftHeight <= 0 {
		return 0
	}
	h := s.exec.HeaderAtWeftHeight(min(weftHeight, s.exec.LastWeftHeight()))
	if h == nil {
		return 0
	}
	return h.Number.Uint64()
}

func (s *settlementStatus) SafeBlock() uint64 {
	if d := s.driver.Load(); d != nil {
		return s.block(d.Status().Safe)
	}
	return 0
}

func (s *settlementStatus) FinalizedBlock() uint64 {
	if d := s.driver.Load(); d != nil {
		return s.block(d.Status().Finalized)
	}
	return 0
}

// rollupSource feeds the batcher from the executor's progress: the slice
// of each height the executor has executed (from the node's slice cache,
// where the executor's read left it) and the state root after it. Nothing
// polls: both wait on rt.executed.
type rollupSource struct {
	n  *Node
	rt *rollupRuntime
}

func (s rollupSource) Follow(ctx context.Context, from int64, fn func(*weftv1.RollupSlice) error) error {
	return feed.Follow(ctx, executedSource{s}, s.rt.id, from, fn)
}

func (s rollupSource) StateRootAt(ctx context.Context, h int64) (common.Hash, error) {
	for {
		next := s.rt.executed.notify()
		if hdr := s.rt.exec.HeaderAtWeftHeight(h); hdr != nil {
			return hdr.Root, nil
		}
		select {
		case <-ctx.Done():
			return common.Hash{}, ctx.Err()
		case <-next:
		}
	}
}

// executedSource is the feed as far as the executor has executed it.
type executedSource struct{ rollupSource }

func (s executedSource) Committed() int64              { return s.rt.executed.height() }
func (s executedSource) CommitNotify() <-chan struct{} { return s.rt.executed.notify() }
func (s executedSource) Slice(h int64, id rollups.ID) (*weftv1.RollupSlice, error) {
	return s.n.Slice(h, id)
}

// progress is a height that only grows, with a channel closed at each
// advance.
type progress struct {
	mu   sync.Mutex
	h    int64
	next chan struct{}
}

func (p *progress) advance(h int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h <= p.h {
		return
	}
	p.h = h
	if p.next != nil {
		close(p.next)
	}
	p.next = make(chan struct{})
}

func (p *progress) height() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.h
}

func (p *progress) notify() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next == nil {
		p.next = make(chan struct{})
	}
	return p.next
}

// startSettlement starts the rollup's batcher and deposit relayer.
func (n *Node) startSettlement(ctx context.Context, rt *rollupRuntime, log *slog.Logger) error {
	sc := rt.svc.Settlement
	if sc == nil {
		return nil
	}
	maxAge, poll, inbox, err := sc.parse(rt.svc.Name)
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	l1, err := ethclient.DialContext(dctx, sc.L1RPC)
	cancel()
	if err != nil {
		return fmt.Errorf("rollup %s: dial L1 %s: %w", rt.svc.Name, sc.L1RPC, err)
	}
	log = log.With("service", "settlement", "inbox", inbox)
	rt.l1 = &rollupL1{client: l1, url: sc.L1RPC, inbox: settlement.NewInbox(l1, inbox, settlement.WithFromBlock(sc.L1StartBlock)), maxBatchAge: maxAge}
	if sc.BatcherKey != "" {
		key, err := keys.LoadFile(filepath.Join(n.home, sc.BatcherKey))
		if err != nil {
			l1.Close()
			return fmt.Errorf("rollup %s: batcher key: %w", rt.svc.Name, err)
		}
		bc := batcher.DefaultConfig(common.Hash(rt.id))
		bc.MaxBatchAge = maxAge
		switch {
		case sc.MaxFrameSize > 0:
			bc.MaxFrameSize = sc.MaxFrameSize
		case sc.Blobs:
			bc.MaxFrameSize = batcher.MaxBlobPayload
		}
		bc.TargetBatchBytes = bc.MaxFrameSize * bc.MaxFramesPerBatch * 9 / 10
		if sc.MaxInFlight > 0 {
			bc.MaxInFlight = sc.MaxInFlight
		}
		d, err := batcher.NewDriver(batcher.DriverConfig{
			Builder: bc, Inbox: inbox, Key: key.Private, Confirmations: max(sc.Confirmations, 1), PollInterval: poll, Blobs: sc.Blobs,
			StateFile: filepath.Join(n.ccfg.DBDir(), "rollups", rt.svc.Name+"-batcher.json"),
		}, l1, rollupSource{n, rt}, log)
		if err != nil {
			l1.Close()
			return fmt.Errorf("rollup %s: batcher: %w", rt.svc.Name, err)
		}
		rt.status.driver.Store(d)
		rt.bg.Go(func() { _ = d.Run(ctx) })
	}
	if sc.RelayerKey != "" {
		key, err := keys.LoadFile(filepath.Join(n.home, sc.RelayerKey))
		if err != nil {
			l1.Close()
			return fmt.Errorf("rollup %s: relayer key: %w", rt.svc.Name, err)
		}
		if rt.svc.DepositRelayer == "" || common.HexToAddress(rt.svc.DepositRelayer) != key.Address {
			l1.Close()
			return fmt.Errorf("rollup %s: relayer_key is %s, but the rollup's deposit_relayer is %q", rt.svc.Name, key.Address, rt.svc.DepositRelayer)
		}
		r := relay.New(relay.Config{
			Rollup: rt.id, Key: key.Private, Weft: n.app, Exec: rt.exec,
			L1: l1, Inbox: settlement.NewInbox(l1, inbox), StartBlock: sc.L1StartBlock,
			Poll: poll, Now: time.Now, Log: log,
		})
		rt.bg.Go(func() { r.Run(ctx) })
		rt.l1.relayer = true
	}
	rt.bg.Go(func() {
		<-ctx.Done()
		l1.Close()
	})
	return nil
}
