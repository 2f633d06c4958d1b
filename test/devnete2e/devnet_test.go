package devnete2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/devnet"
	"github.com/weftnet/weft/genesis"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups/settlement"
	"github.com/weftnet/weft/test/e2e/nettest"
)

// weftBin is the binary TestMain builds once.
var weftBin string

func TestMain(m *testing.M) { nettest.Main(m, "devnete2e", &weftBin) }

// feeLimit is what the test's Weft tx offers: the CLI's default.
var feeLimit = uint256.NewInt(1_000_000_000_000_000)

// freePorts allocates the ports of a one-validator devnet (nettest.Ports):
// base for the validator (p2p and feed over UDP, p2p, CometBFT RPC, node
// API and metrics over TCP at base..base+4) and rollupRPC (alpha's
// JSON-RPC) at base+8.
func freePorts(t *testing.T) (base, rollupRPC int) {
	t.Helper()
	base = nettest.Ports(t, 10)
	return base, base + 8
}

// devnetRun is one `weft devnet` run: devnet.Run in a goroutine.
type devnetRun struct {
	t      *testing.T
	out    *nettest.SyncBuffer
	cancel context.CancelFunc
	done   chan error
	ep     devnet.Endpoints
	// stopped: the output was logged.
	stopped bool
}

// startDevnet runs the devnet in dir and returns once it is up (it printed
// its endpoints), with endpoints.json read; opts change its options.
func startDevnet(t *testing.T, dir string, base, rollupRPC int, reset bool, opts ...func(*devnet.Options)) *devnetRun {
	t.Helper()
	l1 := devnet.DefaultL1Options()
	l1.Port = 0
	l1.BlockTime = 200 * time.Millisecond
	l1.MaxBatchAge = time.Second
	o := devnet.Options{
		Testnet: devnet.TestnetOptions{
			Validators: 1, Output: dir, ChainID: "weft-devnet", Host: "127.0.0.1", BasePort: base,
			Rollups:     []genesis.Rollup{{Name: "alpha", VM: "evm", EVMChainID: 901}},
			DevAccounts: 2, DevBalance: "10000000000000000000000", LibP2P: true, RollupRPCBasePort: rollupRPC,
		},
		Exe: weftBin, Logger: slog.New(slog.DiscardHandler), L1: l1, Reset: reset,
	}
	for _, f := range opts {
		f(&o)
	}
	r := &devnetRun{t: t, out: &nettest.SyncBuffer{}, done: make(chan error, 1)}
	o.Out = r.out
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- devnet.Run(ctx, o) }()
	t.Cleanup(func() { r.stop() })
	deadline := time.NewTimer(3 * time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(r.out.String(), "Press Ctrl-C") {
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("the devnet stopped before it was up: %v\n%s", err, r.out.String())
		case <-deadline.C:
			t.Fatalf("the devnet was not up within 3 minutes:\n%s", r.out.String())
		case <-tick.C:
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "endpoints.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r.ep); err != nil {
		t.Fatal(err)
	}
	if r.ep.L1 == nil || r.ep.L1.Deployment == nil {
		t.Fatalf("endpoints.json has no L1 deployment:\n%s", b)
	}
	return r
}

// stop stops the devnet as Ctrl-C does and returns devnet.Run's error.
func (r *devnetRun) stop() error {
	r.cancel()
	select {
	case err := <-r.done:
		if !r.stopped {
			r.stopped = true
			r.t.Logf("devnet output:\n%s", r.out.String())
		}
		r.done <- err // a second stop gets it too
		return err
	case <-time.After(90 * time.Second):
		r.t.Fatalf("the devnet did not stop within 90s:\n%s", r.out.String())
		return nil
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func (r *devnetRun) weft() *client.Client {
	c, err := client.Dial(r.ep.Nodes[0].API)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { c.Close() })
	return c
}

func (r *devnetRun) l1() *ethclient.Client {
	c, err := ethclient.Dial(r.ep.L1.RPC)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(c.Close)
	return c
}

func (r *devnetRun) alpha() *ethclient.Client {
	c, err := ethclient.Dial(r.ep.Nodes[0].RollupRPC["alpha"])
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(c.Close)
	return c
}

func (r *devnetRun) weftHeight() int64 {
	st, err := r.weft().API.GetStatus(ctx(r.t), &weftv1.GetStatusRequest{})
	if err != nil {
		r.t.Fatal(err)
	}
	return st.Height
}

func (r *devnetRun) weftBalance(a common.Address) *big.Int {
	acc, err := r.weft().API.GetAccount(ctx(r.t), &weftv1.GetAccountRequest{Address: a.Bytes()})
	if err != nil {
		r.t.Fatal(err)
	}
	if acc.Account == nil {
		return new(big.Int)
	}
	return new(big.Int).SetBytes(acc.Account.Balance)
}

// weftTransfer sends amount from dev account 0 to `to` on Weft and waits
// until it is committed.
func (r *devnetRun) weftTransfer(to common.Address, amount uint64) {
	c := r.weft()
	raw, err := c.Build(ctx(r.t), nettest.DevKey(r.t, 0), -1, feeLimit, client.Transfer(to, uint256.NewInt(amount)))
	if err != nil {
		r.t.Fatal(err)
	}
	h, err := c.Submit(ctx(r.t), raw)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := c.WaitTx(ctx(r.t), h); err != nil {
		r.t.Fatal(err)
	}
}

// l1Transfer sends value wei from dev account 0 to `to` on the L1 and waits
// for the receipt.
func (r *devnetRun) l1Transfer(to common.Address, value int64) {
	c := r.l1()
	key := nettest.DevKey(r.t, 0)
	nonce, err := c.PendingNonceAt(ctx(r.t), nettest.AddrOf(key))
	if err != nil {
		r.t.Fatal(err)
	}
	head, err := c.HeaderByNumber(ctx(r.t), nil)
	if err != nil {
		r.t.Fatal(err)
	}
	chainID := big.NewInt(settlement.L1ChainID)
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.DynamicFeeTx{
		ChainID: chainID, Nonce: nonce, GasTipCap: big.NewInt(1e9),
		GasFeeCap: new(big.Int).Add(big.NewInt(1e9), new(big.Int).Mul(head.BaseFee, big.NewInt(2))),
		Gas:       21000, To: &to, Value: big.NewInt(value),
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := c.SendTransaction(ctx(r.t), tx); err != nil {
		r.t.Fatal(err)
	}
	if _, err := settlement.WaitReceipt(ctx(r.t), c, tx.Hash()); err != nil {
		r.t.Fatal(err)
	}
}

func (r *devnetRun) l1Block() uint64 {
	n, err := r.l1().BlockNumber(ctx(r.t))
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

func (r *devnetRun) l1Balance(a common.Address) *big.Int {
	b, err := r.l1().BalanceAt(ctx(r.t), a, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}

func (r *devnetRun) l1Code(a common.Address) []byte {
	c, err := r.l1().CodeAt(ctx(r.t), a, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

func (r *devnetRun) alphaBlock() uint64 {
	n, err := r.alpha().BlockNumber(ctx(r.t))
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// TestDevnetRestartResumes: `weft devnet` on the dir of a stopped devnet
// resumes it: the Weft chain goes on past where it stopped with a transfer
// kept, the rollup resumes, the embedded L1 keeps its blocks, its
// contracts (the same deployment, not a new one) and a transfer's balance.
// With --reset the devnet starts fresh: new chains, nothing kept.
func TestDevnetRestartResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	dir := filepath.Join(t.TempDir(), "devnet")
	base, rollupRPC := freePorts(t)
	who := common.HexToAddress("0x00000000000000000000000000000000000d3e57")

	r := startDevnet(t, dir, base, rollupRPC, false)
	if !strings.Contains(r.out.String(), "started fresh") {
		t.Fatalf("first run did not say it started fresh:\n%s", r.out.String())
	}
	r.weftTransfer(who, 1234)
	r.l1Transfer(who, 5678)
	dep := r.ep.L1.Deployment
	registryCode := r.l1Code(dep.Registry)
	if len(registryCode) == 0 {
		t.Fatal("no registry code on the L1")
	}
	h1, b1, a1 := r.weftHeight(), r.l1Block(), r.alphaBlock()
	if err := r.stop(); err != nil {
		t.Fatalf("first run: %v\n%s", err, r.out.String())
	}
	st, err := devnet.LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Stopped == nil || st.Stopped.WeftHeight < h1 || st.Stopped.L1Block < b1 {
		t.Fatalf("stop record %+v; want Weft height >= %d, L1 block >= %d", st.Stopped, h1, b1)
	}
	stopped := *st.Stopped

	// Resume.
	r = startDevnet(t, dir, base, rollupRPC, false)
	out := r.out.String()
	for _, want := range []string{"Resuming the devnet in " + dir, fmt.Sprintf("at Weft height %d, L1 block %d", stopped.WeftHeight, stopped.L1Block), "resumed in " + dir, "contracts and balances kept"} {
		if !strings.Contains(out, want) {
			t.Errorf("second run's output lacks %q:\n%s", want, out)
		}
	}
	if h := r.weftHeight(); h <= stopped.WeftHeight {
		t.Errorf("resumed Weft height %d, not past where it stopped (%d)", h, stopped.WeftHeight)
	}
	if b := r.weftBalance(who); b.Cmp(big.NewInt(1234)) != 0 {
		t.Errorf("Weft balance after the restart %v, want 1234", b)
	}
	if n := r.l1Block(); n < stopped.L1Block {
		t.Errorf("resumed L1 at block %d, below where it stopped (%d)", n, stopped.L1Block)
	}
	if !reflect.DeepEqual(r.ep.L1.Deployment, dep) {
		t.Errorf("deployment after the restart %+v, want the first run's %+v", r.ep.L1.Deployment, dep)
	}
	if c := r.l1Code(dep.Registry); !bytes.Equal(c, registryCode) {
		t.Error("registry code changed across the restart")
	}
	if b := r.l1Balance(who); b.Cmp(big.NewInt(5678)) != 0 {
		t.Errorf("L1 balance after the restart %v, want 5678", b)
	}
	if a := r.alphaBlock(); a < a1 {
		t.Errorf("alpha at block %d after the restart, was at %d", a, a1)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("second run: %v\n%s", err, r.out.String())
	}
	if t.Failed() {
		return
	}

	// Reset.
	r = startDevnet(t, dir, base, rollupRPC, true)
	out = r.out.String()
	for _, want := range []string{"--reset: removing the devnet in " + dir, filepath.Join(dir, "node0"), filepath.Join(dir, devnet.L1Dir), "started fresh"} {
		if !strings.Contains(out, want) {
			t.Errorf("--reset run's output lacks %q:\n%s", want, out)
		}
	}
	if b := r.weftBalance(who); b.Sign() != 0 {
		t.Errorf("Weft balance after --reset %v, want 0", b)
	}
	if b := r.l1Balance(who); b.Sign() != 0 {
		t.Errorf("L1 balance after --reset %v, want 0", b)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("--reset run: %v\n%s", err, r.out.String())
	}
}
