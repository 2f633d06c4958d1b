package rpc_test

import (
	"context"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/event"
	"github.com/ethereum/go-ethereum/params"

	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/rpc"
)

// backend is a real executor; its blocks are not published (no driver).
type backend struct{ *evm.Executor }

func (backend) SubscribeBlocks(chan<- *rpc.BlockEvent) event.Subscription {
	return event.NewSubscription(func(quit <-chan struct{}) error { <-quit; return nil })
}

// recorder is the Weft side: it records what the server hands over.
type recorder struct {
	mu  sync.Mutex
	txs [][]byte
}

func (r *recorder) Submit(_ context.Context, raw []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.txs = append(r.txs, raw)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.txs)
}

// TestSyncingRefusesTxs: until the rollup first comes within SyncSlack
// heights of the chain, eth_syncing reports progress and
// eth_sendRawTransaction refuses txs with ErrSyncing instead of checking them
// against stale state; once caught up, both behave as on a live node unless
// it falls more than SyncRelapse heights behind.
func TestSyncingRefusesTxs(t *testing.T) {
	const chainID = 977
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	from := crypto.PubkeyToAddress(k.PublicKey)
	ex, err := evm.New(evm.Config{Name: "alpha", ChainID: chainID, GenesisTime: 1_700_000_000,
		Alloc: types.GenesisAlloc{from: {Balance: big.NewInt(params.Ether)}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	var executed, chain atomic.Int64
	var nodeCatchingUp atomic.Bool
	executed.Store(0)
	chain.Store(10)
	sub := &recorder{}
	srv, err := rpc.NewServer(rpc.Config{Name: "alpha", ListenAddr: "127.0.0.1:0",
		Progress: func() (int64, int64, bool) { return executed.Load(), chain.Load(), nodeCatchingUp.Load() }}, backend{ex}, sub, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := ethclient.DialContext(ctx, "http://"+srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	to := common.Address{1}
	tx, err := types.SignNewTx(k, types.LatestSignerForChainID(big.NewInt(chainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(chainID), Nonce: 0, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(params.GWei), Gas: 21000, To: &to, Value: big.NewInt(1)})
	if err != nil {
		t.Fatal(err)
	}

	// While the node itself catches up with the network, the rollup is
	// syncing even when it has executed all the node has committed (this
	// must not count as caught up).
	executed.Store(10)
	nodeCatchingUp.Store(true)
	if prog, err := c.SyncProgress(ctx); err != nil || prog == nil {
		t.Fatalf("eth_syncing while the node catches up: %v, %v; want progress", prog, err)
	}
	nodeCatchingUp.Store(false)
	executed.Store(0)

	prog, err := c.SyncProgress(ctx)
	if err != nil || prog == nil {
		t.Fatalf("eth_syncing while 10 heights behind: %v, %v; want progress", prog, err)
	}
	if prog.CurrentBlock != 0 || prog.HighestBlock != 10 {
		t.Fatalf("progress current %d highest %d, want 0 and 10", prog.CurrentBlock, prog.HighestBlock)
	}
	if err := c.SendTransaction(ctx, tx); err == nil || !strings.Contains(err.Error(), rpc.ErrSyncing.Error()) {
		t.Fatalf("send while syncing: %v, want %q", err, rpc.ErrSyncing)
	}
	if sub.count() != 0 {
		t.Fatal("a tx was handed to Weft while syncing")
	}

	executed.Store(10 - rpc.SyncSlack) // within the slack: live
	if prog, err := c.SyncProgress(ctx); err != nil || prog != nil {
		t.Fatalf("eth_syncing when caught up: %v, %v; want false", prog, err)
	}
	if err := c.SendTransaction(ctx, tx); err != nil {
		t.Fatalf("send when caught up: %v", err)
	}
	if sub.count() != 1 {
		t.Fatalf("%d txs handed to Weft, want 1", sub.count())
	}

	// Once caught up, trailing under load is not syncing...
	chain.Store(executed.Load() + rpc.SyncRelapse)
	if prog, err := c.SyncProgress(ctx); err != nil || prog != nil {
		t.Fatalf("eth_syncing %d heights behind after catching up: %v, %v; want false", rpc.SyncRelapse, prog, err)
	}
	// ...falling further behind is.
	chain.Add(1)
	if prog, err := c.SyncProgress(ctx); err != nil || prog == nil {
		t.Fatalf("eth_syncing %d heights behind: %v, %v; want progress", rpc.SyncRelapse+1, prog, err)
	}
}
