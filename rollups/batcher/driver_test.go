package batcher_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/batcher"
	"github.com/weftnet/weft/rollups/derive"
	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/settlement"
)

const (
	rollupName = "alpha"
	chainID    = 901
)

func key(name string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("weft batcher test " + name)))
	if err != nil {
		panic(err)
	}
	return k
}

var (
	ownerKey, batcherKey, challengerKey = key("owner"), key("batcher"), key("challenger")
	users                               = []*ecdsa.PrivateKey{key("u0"), key("u1"), key("u2")}
	ether                               = big.NewInt(params.Ether)
)

func addr(k *ecdsa.PrivateKey) common.Address { return crypto.PubkeyToAddress(k.PublicKey) }

func rollupConfig() evm.Config {
	alloc := types.GenesisAlloc{}
	for _, u := range users {
		alloc[addr(u)] = types.Account{Balance: new(big.Int).Mul(big.NewInt(1000), ether)}
	}
	return evm.Config{Name: rollupName, ChainID: chainID, Alloc: alloc, GenesisTime: 1_700_000_000}
}

// slices returns n Weft heights of the rollup: most carry a few signed
// transfers with some calldata, every fourth is empty.
func slices(t testing.TB, n int) []*weftv1.RollupSlice {
	t.Helper()
	signer := types.LatestSignerForChainID(big.NewInt(chainID))
	nonces := make([]uint64, len(users))
	id := rollups.IDFromName(rollupName)
	var out []*weftv1.RollupSlice
	for h := int64(1); h <= int64(n); h++ {
		bh := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(h)))
		s := &weftv1.RollupSlice{Height: h, TimeUnixNano: (1_700_000_000 + 2*h) * 1e9, BlockHash: bh[:], RollupId: id[:]}
		if h%4 != 0 {
			var txs []*types.Transaction
			for i, u := range users {
				to := addr(users[(i+1)%len(users)])
				tx, err := types.SignNewTx(u, signer, &types.DynamicFeeTx{ChainID: big.NewInt(chainID), Nonce: nonces[i],
					GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(params.GWei), Gas: 30_000, To: &to, Value: big.NewInt(h), Data: []byte("weft batch test payload")})
				if err != nil {
					t.Fatal(err)
				}
				nonces[i]++
				txs = append(txs, tx)
			}
			data, err := evm.EncodeTxs(txs)
			if err != nil {
				t.Fatal(err)
			}
			s.Items = []*weftv1.RollupItem{{TxHash: crypto.Keccak256(data), Sender: make([]byte, 20), Data: data}}
		}
		out = append(out, s)
	}
	return out
}

// source is the batcher's Weft side: the slices, executed on demand by a
// real executor.
type source struct {
	mu     sync.Mutex
	exec   *evm.Executor
	slices []*weftv1.RollupSlice
}

func (s *source) Follow(ctx context.Context, from int64, fn func(*weftv1.RollupSlice) error) error {
	for h := from; h <= int64(len(s.slices)); h++ {
		sl := s.slices[h-1]
		s.mu.Lock()
		err := s.exec.Execute(sl)
		s.mu.Unlock()
		if err != nil {
			return err
		}
		if err := fn(sl); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return nil
}

func (s *source) StateRootAt(ctx context.Context, h int64) (common.Hash, error) {
	hdr := s.exec.HeaderAtWeftHeight(h)
	if hdr == nil {
		return common.Hash{}, errors.New("height not executed")
	}
	return hdr.Root, nil
}

type env struct {
	driver  *batcher.Driver // the last one started
	t       testing.TB
	l1      *settlement.L1
	inbox   *settlement.Inbox
	addr    common.Address
	src     *source
	heights int
	rollup  evm.Config
}

func newEnv(t *testing.T, heights int, l1cfg settlement.L1Config) *env {
	t.Helper()
	return newEnvWith(t, envOptions{l1: l1cfg, heights: heights})
}

// envOptions are what newEnvWith can change from newEnv's defaults.
type envOptions struct {
	l1 settlement.L1Config
	// heights of slices(heights) make the rollup, unless slices is set.
	heights int
	slices  []*weftv1.RollupSlice
	// rollup is the rollup's config (nil: rollupConfig()).
	rollup *evm.Config
	// window is the inbox's challenge window in seconds (0: 3600).
	window uint64
}

func newEnvWith(t testing.TB, o envOptions) *env {
	t.Helper()
	l1cfg := o.l1
	rcfg := rollupConfig()
	if o.rollup != nil {
		rcfg = *o.rollup
	}
	if o.window == 0 {
		o.window = 3600
	}
	if o.slices == nil {
		o.slices = slices(t, o.heights)
	}
	bal := new(big.Int).Mul(big.NewInt(1_000_000), ether)
	l1cfg.Alloc = types.GenesisAlloc{addr(ownerKey): {Balance: bal}, addr(batcherKey): {Balance: bal}, addr(challengerKey): {Balance: bal}}
	if l1cfg.BlockTime == 0 {
		l1cfg.BlockTime = 50 * time.Millisecond
	}
	l1, err := settlement.StartL1(l1cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l1.Close() })
	ex, err := evm.New(rcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	if l1cfg.Paused {
		l1.Resume()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dep, err := settlement.Deploy(ctx, l1.Client(), ownerKey, []settlement.RollupSpec{{
		Name: rollupName, ID: rollups.IDFromName(rollupName), ChainID: chainID, Batcher: addr(batcherKey), Challenger: addr(challengerKey),
		ChallengeWindow: o.window, GenesisRoot: ex.Head().Root, StartHeight: 1,
	}})
	if l1cfg.Paused {
		l1.Pause()
	}
	if err != nil {
		t.Fatal(err)
	}
	inboxAddr := dep.Rollups[0].Inbox
	return &env{t: t, l1: l1, addr: inboxAddr, inbox: settlement.NewInbox(l1.Client(), inboxAddr), src: &source{exec: ex, slices: o.slices}, heights: len(o.slices), rollup: rcfg}
}

// testLog is the driver's logger: with -v it writes to stderr; otherwise it
// keeps the last lines and prints them if t fails, so that a failure seen
// once (in CI) says what the driver was doing.
func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	tail := &logTail{max: 300}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last %d lines of the driver's log:\n%s", tail.max, tail.String())
		}
	})
	return slog.New(slog.NewTextHandler(tail, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// logTail is an io.Writer keeping the last max lines written to it.
type logTail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	if len(l.lines) > 2*l.max {
		l.lines = append(l.lines[:0], l.lines[len(l.lines)-l.max:]...)
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[max(0, len(l.lines)-l.max):], "")
}

// start runs a driver against client until the returned stop is called.
func (e *env) start(client batcher.L1) (stop func()) {
	return e.startWith(client, testBuilderConfig(), e.src)
}

// testBuilderConfig makes small batches of several frames, closed quickly.
func testBuilderConfig() batcher.Config {
	cfg := batcher.DefaultConfig(common.Hash(rollups.IDFromName(rollupName)))
	cfg.MaxFrameSize = 700 // several frames per batch
	cfg.TargetBatchBytes = cfg.MaxFrameSize * 3
	cfg.MaxBatchAge = 150 * time.Millisecond
	cfg.MaxInFlight = 2 // pipelined, still landing batches of 3 frames in two L1 blocks
	return cfg
}

// startWith runs a driver with builder config cfg over src until the
// returned stop is called.
func (e *env) startWith(client batcher.L1, cfg batcher.Config, src batcher.Source) (stop func()) {
	return e.startDriver(client, e.driverConfig(cfg), src)
}

// driverConfig is the tests' driver config around builder config cfg.
func (e *env) driverConfig(cfg batcher.Config) batcher.DriverConfig {
	return batcher.DriverConfig{
		Builder: cfg, Inbox: e.addr, Key: batcherKey, Confirmations: 1,
		PollInterval: 20 * time.Millisecond, ResubmitAfter: 2 * time.Second,
	}
}

// startDriver runs a driver with config dcfg over src until the returned
// stop is called.
func (e *env) startDriver(client batcher.L1, dcfg batcher.DriverConfig, src batcher.Source) (stop func()) {
	d, err := batcher.NewDriver(dcfg, client, src, testLog(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	e.driver = d
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// waitFor polls cond until it holds or the deadline passes.
func (e *env) waitFor(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) nextHeight() uint64 {
	n, err := e.inbox.NextFromHeight(context.Background())
	if err != nil {
		return 0
	}
	return n
}

// verify re-derives the rollup from L1 alone and checks that the batches
// cover every height exactly once with every root right.
func (e *env) verify() []derive.Checked {
	e.t.Helper()
	return e.verifyWith(&derive.InboxL1{Inbox: e.inbox, Client: e.l1.Client()})
}

// verifyWith is verify reading L1 through l1.
func (e *env) verifyWith(l1 derive.L1) []derive.Checked {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := derive.Verify(ctx, e.rollup, l1, derive.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	if rep.Fault != nil {
		e.t.Fatalf("verifier: %v", rep.Fault)
	}
	next := uint64(1)
	for i, c := range rep.Checked {
		if c.Index != uint64(i) || c.FromHeight != next {
			e.t.Fatalf("batch %d: index %d from %d, want index %d from %d", i, c.Index, c.FromHeight, i, next)
		}
		next = c.ToHeight + 1
	}
	if next != uint64(e.heights)+1 {
		e.t.Fatalf("batches cover heights up to %d, want %d", next-1, e.heights)
	}
	if got, want := rep.Checked[len(rep.Checked)-1].StateRoot, e.src.exec.HeaderAtWeftHeight(int64(e.heights)).Root; got != want {
		e.t.Fatalf("last root %s, executor %s", got, want)
	}
	return rep.Checked
}

func TestDriverPostsEverythingAcrossRestarts(t *testing.T) {
	e := newEnv(t, 48, settlement.L1Config{})
	client := e.l1.Client()
	// Kill the driver three times in the middle of a multi-frame batch.
	for kill := 0; kill < 3; kill++ {
		stop := e.start(client)
		e.waitFor("a batch half posted", 60*time.Second, func() bool {
			n, err := e.inbox.PendingFrames(context.Background())
			return err == nil && n > 0
		})
		stop()
	}
	stop := e.start(client)
	defer stop()
	e.waitFor("every height posted", 2*time.Minute, func() bool { return e.nextHeight() > uint64(e.heights) })
	// Landed batches are let go of: memory does not grow with the chain.
	e.waitFor("the builder to let go of landed batches", 10*time.Second, func() bool { return e.driver.Retained() == 0 })
	checked := e.verify()
	t.Logf("%d batches for %d heights", len(checked), e.heights)
}

// proxy is a TCP proxy to an L1 endpoint that can go down and up again.
type proxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
}

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) up(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

func TestDriverSurvivesL1Outage(t *testing.T) {
	e := newEnv(t, 40, settlement.L1Config{HTTPHost: "127.0.0.1"})
	target := e.l1.URL()[len("http://"):]
	p := newProxy(t, target)
	client, err := ethclient.Dial("http://" + p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	stop := e.start(client)
	defer stop()
	e.waitFor("first batch", 60*time.Second, func() bool { n, _ := e.inbox.NextIndex(context.Background()); return n >= 1 })
	p.down()
	// L1 keeps producing blocks; the batcher cannot reach it.
	before, _ := e.inbox.NextIndex(context.Background())
	head0, _ := e.l1.Client().BlockNumber(context.Background())
	e.waitFor("L1 moving on", 30*time.Second, func() bool { h, _ := e.l1.Client().BlockNumber(context.Background()); return h >= head0+20 })
	if after, _ := e.inbox.NextIndex(context.Background()); after > before+1 {
		t.Fatalf("batches landed while L1 was unreachable: %d → %d", before, after)
	}
	p.up(t)
	e.waitFor("every height posted", 2*time.Minute, func() bool { return e.nextHeight() > uint64(e.heights) })
	e.verify()
}

func TestDriverRepostsAfterL1Reorg(t *testing.T) {
	e := newEnv(t, 40, settlement.L1Config{})
	client := e.l1.Client()
	stop := e.start(client)
	defer stop()
	ctx := context.Background()

	e.waitFor("two batches", 60*time.Second, func() bool { n, _ := e.inbox.NextIndex(ctx); return n >= 2 })
	e.l1.Pause() // no block is sealed from here until Resume
	bs, err := e.inbox.Batches(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := bs[len(bs)-1]
	// Reorg out the block holding the last batch (and everything after).
	parent, err := e.l1.Client().HeaderByNumber(ctx, new(big.Int).SetUint64(last.L1Block-1))
	if err != nil {
		t.Fatal(err)
	}
	e.l1.Rollback()
	if err := e.l1.Fork(parent.Hash()); err != nil {
		t.Fatal(err)
	}
	// geth puts the reorged-out txs back in its pool; drop them so the new
	// branch really lacks the batch.
	e.l1.Rollback()
	e.l1.Commit()
	if n, _ := e.inbox.NextIndex(ctx); n > last.Index {
		t.Fatalf("after the reorg the inbox still has batch %d (next index %d)", last.Index, n)
	}
	e.l1.Resume()
	e.waitFor("every height posted after the reorg", 2*time.Minute, func() bool { return e.nextHeight() > uint64(e.heights) })
	e.verify()
}
