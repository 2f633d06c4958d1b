package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	cmtp2p "github.com/cometbft/cometbft/p2p"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/keys"
	"github.com/weftnet/weft/node"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// The test node's fixed identity, so that every answer but the heights
// and app hashes of blocks after the first is the same on every run.
var (
	testChainID     = "weft-golden"
	testGenesisTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	testValKey      = secp256k1eth.GenPrivKeySecp256k1Eth([]byte("weft cmd/weft golden validator"))
	testNodeKey     = ed25519.GenPrivKeyFromSecret([]byte("weft cmd/weft golden node"))
	devMnemonic     = "test test test test test test test test test test test junk"
)

// testNode is a one-validator Weft node run in this process by node.New,
// the composition root `weft start` runs: CometBFT, the consensus app on
// its badger store and the gRPC node API on 127.0.0.1:0. Hardhat dev
// accounts 0-2 hold 10000 WEFT each; rollups alpha (EVM chain id 901) and
// beta (902) are registered at genesis. Block 1's time is the genesis
// time, so block 1 is the same on every run.
type testNode struct {
	api  string
	dir  string
	n    *node.Node
	keys []string // key files of dev accounts 0-2
}

// startTestNode starts a test node with a fresh chain; it stops when the
// test ends.
func startTestNode(t *testing.T) *testNode {
	t.Helper()
	tn, err := newTestNode(t.TempDir())
	if tn != nil && tn.n != nil {
		t.Cleanup(func() { tn.n.Stop() })
	}
	if err != nil {
		t.Fatalf("test node: %v", err)
	}
	return tn
}

func newTestNode(dir string) (*testNode, error) {
	tn := &testNode{dir: dir}
	home := filepath.Join(dir, "node0")
	if err := initTestHome(home); err != nil {
		return nil, err
	}
	dev, err := keys.DevAccounts(3)
	if err != nil {
		return nil, err
	}
	for i, k := range dev {
		kd := keys.Dir(filepath.Join(dir, "keys"))
		f, err := kd.Add("dev"+string(rune('0'+i)), k)
		if err != nil {
			return nil, err
		}
		tn.keys = append(tn.keys, filepath.Join(string(kd), f.Name+".json"))
	}
	n, err := node.New(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	if err := n.Start(); err != nil {
		n.Stop()
		return nil, err
	}
	tn.n, tn.api = n, n.APIAddr()
	return tn, tn.waitHeight(1)
}

// initTestHome writes the node's home: genesis, fixed keys, loopback
// listeners on ports the system picks, no feed, no RPC, no metrics.
func initTestHome(home string) error {
	doc := &genesis.Doc{
		ChainID: testChainID, GenesisTime: testGenesisTime, BlockMaxBytes: genesis.DefaultBlockMaxBytes,
		AppState: genesis.AppState{Params: genesis.DefaultParams(), Rollups: []genesis.Rollup{
			{Name: "alpha", VM: "evm", EVMChainID: 901}, {Name: "beta", VM: "evm", EVMChainID: 902},
		}},
		Validators: []genesis.Validator{{Name: "node0", PubKey: hex.EncodeToString(testValKey.PubKey().Bytes()), Power: 10}},
	}
	doc.AppState.Params.Staking = genesis.DevnetStakingParams()
	dev, err := keys.DevAccounts(3)
	if err != nil {
		return err
	}
	for _, k := range dev {
		doc.AppState.Accounts = append(doc.AppState.Accounts, genesis.Account{Address: crypto.PubkeyToAddress(k.PublicKey).Hex(), Balance: "10000000000000000000000"})
	}
	c := node.CometConfig(home, "node0", node.Ports{Host: "127.0.0.1"})
	c.RPC.ListenAddress = ""
	c.P2P.LibP2PConfig.Enabled = false
	c.Consensus.TimeoutCommit = 50 * time.Millisecond
	wc := node.DefaultConfig()
	wc.API.ListenAddr = "127.0.0.1:0"
	wc.Storage.MinFreeMB = 1
	if err := os.MkdirAll(filepath.Join(home, "config"), 0o700); err != nil {
		return err
	}
	nk := &cmtp2p.NodeKey{PrivKey: testNodeKey}
	if err := nk.SaveAs(filepath.Join(home, "config", "node_key.json")); err != nil {
		return err
	}
	return node.InitHome(home, c, wc, doc, testValKey)
}

// waitHeight waits up to a minute for the node to commit height h.
func (tn *testNode) waitHeight(h int64) error {
	c, err := client.Dial(tn.api)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		st, err := c.API.GetStatus(ctx, &weftv1.GetStatusRequest{})
		if err == nil && st.Height >= h {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// height is the node's committed height.
func (tn *testNode) height(t *testing.T) int64 {
	t.Helper()
	c, err := client.Dial(tn.api)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.API.GetStatus(ctx, &weftv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return st.Height
}

// cli runs the weft command line in this process and returns its stdout,
// stderr and exit code.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, args, &out, &errb)
	return out.String(), errb.String(), code
}

// mustCLI is cli for a command that must succeed.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := cli(t, args...)
	if code != 0 {
		t.Fatalf("weft %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// isolate keeps the environment from choosing the node or the output:
// no WEFT_* variables, a home of its own, and a working directory without
// a devnet.
func isolate(t *testing.T) string {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "WEFT_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Chdir(dir)
	return dir
}
