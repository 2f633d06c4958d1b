package main

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cmtp2p "github.com/cometbft/cometbft/p2p"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/keys"
	"github.com/weftnet/weft/node"
)

// startSlowL1Node starts a one-validator node serving rollup alpha, settled
// on an "L1" that answers nothing until the test ends (an L1 that is down
// behind a load balancer, or just slow). It returns the node and a counter
// of the L1 requests made.
func startSlowL1Node(t *testing.T) (*node.Node, *atomic.Int64) {
	t.Helper()
	release := make(chan struct{})
	var calls atomic.Int64
	l1 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); l1.Close() })

	dir := t.TempDir()
	home := filepath.Join(dir, "node0")
	dev, err := keys.DevAccounts(1)
	if err != nil {
		t.Fatal(err)
	}
	kd := keys.Dir(filepath.Join(home, "keys"))
	f, err := kd.Add("submitter", dev[0])
	if err != nil {
		t.Fatal(err)
	}
	doc := &genesis.Doc{
		ChainID: testChainID, GenesisTime: time.Now().Add(-time.Second).UTC(), BlockMaxBytes: genesis.DefaultBlockMaxBytes,
		AppState:   genesis.AppState{Params: genesis.DefaultParams(), Rollups: []genesis.Rollup{{Name: "alpha", VM: "evm", EVMChainID: 901}}},
		Validators: []genesis.Validator{{Name: "node0", PubKey: hex.EncodeToString(testValKey.PubKey().Bytes()), Power: 10}},
	}
	doc.AppState.Params.Staking = genesis.DevnetStakingParams()
	doc.AppState.Accounts = []genesis.Account{{Address: crypto.PubkeyToAddress(dev[0].PublicKey).Hex(), Balance: "10000000000000000000000"}}
	c := node.CometConfig(home, "node0", node.Ports{Host: "127.0.0.1"})
	c.RPC.ListenAddress = ""
	c.P2P.LibP2PConfig.Enabled = false
	c.Consensus.TimeoutCommit = 50 * time.Millisecond
	wc := node.DefaultConfig()
	wc.API.ListenAddr = "127.0.0.1:0"
	wc.Storage.MinFreeMB = 1
	wc.Rollups = []node.RollupService{{Name: "alpha", RPCListenAddr: "127.0.0.1:0", SubmitterKey: filepath.Join("keys", f.Name+".json"),
		Settlement: &node.SettlementConfig{L1RPC: l1.URL + "/v3/SECRET-API-KEY", Inbox: "0x00000000000000000000000000000000000000aa"}}}
	if err := os.MkdirAll(filepath.Join(home, "config"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := (&cmtp2p.NodeKey{PrivKey: testNodeKey}).SaveAs(filepath.Join(home, "config", "node_key.json")); err != nil {
		t.Fatal(err)
	}
	if err := node.InitHome(home, c, wc, doc, testValKey); err != nil {
		t.Fatal(err)
	}
	n, err := node.New(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		n.Stop()
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	return n, &calls
}

// TestStatusSlowL1SharesOneCollection: with the L1 slow, one snapshot
// takes l1StatusTimeout (3 s). Callers asking at once share one
// collection (so requests cannot stack L1 work), and a caller whose
// deadline passes while it waits gets an answer at its deadline (the
// previous snapshot), not after everyone else's collection.
func TestStatusSlowL1SharesOneCollection(t *testing.T) {
	n, calls := startSlowL1Node(t)
	if _, err := n.NetworkStatus(context.Background(), false); err != nil { // warm up: one collection
		t.Fatal(err)
	}
	// Let that snapshot age past the node's 1 s cache, so the callers
	// below need a new collection (a condition on the clock, with a
	// deadline: nothing else can make a snapshot old).
	warm := time.Now()
	for time.Since(warm) < 1100*time.Millisecond {
		time.Sleep(10 * time.Millisecond)
	}
	before := calls.Load()
	const callers = 3
	var wg sync.WaitGroup
	took := make([]time.Duration, callers)
	start := time.Now()
	for i := range callers {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			t0 := time.Now()
			_, _ = n.NetworkStatus(ctx, false)
			took[i] = time.Since(t0)
		})
	}
	wg.Wait()
	total := time.Since(start)
	t.Logf("%d callers with a 1s deadline: each took %v, all %v; L1 requests %d", callers, took, total, calls.Load()-before)
	for i, d := range took {
		if d > 2*time.Second {
			t.Errorf("caller %d with a 1s deadline returned after %v", i, d)
		}
	}
	if calls.Load() == before {
		t.Fatal("no new collection ran: the test did not exercise a slow L1")
	}
	if total > 5*time.Second {
		t.Errorf("%d concurrent callers took %v: their collections ran one after another instead of being shared", callers, total)
	}
	st, err := n.NetworkStatus(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Status.Rollups {
		if r.Settlement != nil {
			t.Logf("L1 error shown: %q", r.Settlement.L1Error)
		}
	}
}
