package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/weftnet/weft/devnet"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/node"
)

// writeHome writes a node home whose weft.toml serves the node API on api.
func writeHome(t *testing.T, home, api string) {
	t.Helper()
	k, _ := crypto.GenerateKey()
	doc := &genesis.Doc{ChainID: "weft-discovery", GenesisTime: testGenesisTime, BlockMaxBytes: genesis.DefaultBlockMaxBytes,
		AppState: genesis.AppState{Params: genesis.DefaultParams(), Accounts: []genesis.Account{{Address: crypto.PubkeyToAddress(k.PublicKey).Hex(), Balance: "1"}}},
	}
	doc.Validators = []genesis.Validator{{Name: "node0", PubKey: hex.EncodeToString(testValKey.PubKey().Bytes()), Power: 10}}
	wc := node.DefaultConfig()
	wc.API.ListenAddr = api
	if err := node.InitHome(home, node.CometConfig(home, "node0", node.Ports{Host: "127.0.0.1", P2P: 1, RPC: 2}), wc, doc, testValKey); err != nil {
		t.Fatal(err)
	}
}

// writeEndpoints writes a devnet's endpoints.json in dir/.devnet with
// node0's API at api.
func writeEndpoints(t *testing.T, dir, api string) {
	t.Helper()
	b, _ := json.Marshal(devnet.Endpoints{ChainID: "weft-devnet", Nodes: []devnet.NodeInfo{{Moniker: "node0", API: api}}})
	if err := os.MkdirAll(filepath.Join(dir, ".devnet"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".devnet", "endpoints.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNodeDiscovery: without --node the CLI finds the node API in, in
// order, WEFT_NODE, an explicit --home's weft.toml, ./.devnet's node0, the
// default home's weft.toml, and 127.0.0.1:9090.
func TestNodeDiscovery(t *testing.T) {
	dir := isolate(t)
	explicit, devnetAPI, defaultAPI, envAPI := "127.0.0.1:1111", "127.0.0.1:2222", "0.0.0.0:3333", "127.0.0.1:4444"
	home := filepath.Join(dir, "home")
	writeHome(t, home, explicit)
	steps := []struct {
		name  string
		setup func()
		args  []string
		want  string
	}{
		{"nothing anywhere", func() {}, nil, fallbackNode},
		{"the default home", func() { writeHome(t, filepath.Join(dir, ".weft"), defaultAPI) }, nil, "127.0.0.1:3333"},
		{"a devnet here", func() { writeEndpoints(t, dir, devnetAPI) }, nil, devnetAPI},
		{"--home", func() {}, []string{"--home", home}, explicit},
		{"WEFT_HOME", func() { t.Setenv("WEFT_HOME", home) }, nil, explicit},
		{"WEFT_NODE", func() { t.Setenv("WEFT_NODE", envAPI) }, []string{"--home", home}, envAPI},
		{"--node", func() {}, []string{"--node", "127.0.0.1:5555"}, "127.0.0.1:5555"},
	}
	for _, s := range steps {
		s.setup()
		root := rootCmd()
		cmd, _, err := root.Find([]string{"query", "status"})
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.ParseFlags(s.args); err != nil {
			t.Fatal(err)
		}
		if err := bindEnv(cmd); err != nil {
			t.Fatal(err)
		}
		got, err := nodeAddr(cmd)
		if err != nil || got != s.want {
			t.Errorf("%s: node %q, %v; want %q", s.name, got, err, s.want)
		}
	}
}

// TestDevnetDiscovery: run where a devnet wrote .devnet/endpoints.json,
// `weft query status` finds its node0 with no --node, and a devnet that
// is not running is the one unreachable-node line naming node0's address.
func TestDevnetDiscovery(t *testing.T) {
	dir := isolate(t)
	tn := startTestNode(t)
	writeEndpoints(t, dir, tn.api)
	out := mustCLI(t, "query", "status", "--output", "json")
	if !regexp.MustCompile(`"chain_id": "weft-golden"`).MatchString(out) {
		t.Errorf("query status found no node through .devnet/endpoints.json:\n%s", out)
	}
	gone := closedAddr(t)
	writeEndpoints(t, dir, gone)
	oneLine(t, regexp.QuoteMeta("no Weft node API at "+gone+" (is it running? set --node or WEFT_NODE)"), "query", "status")
}

// TestOutputEnvIsGlobal: WEFT_OUTPUT sets the global --output, not a
// command's own --output (testnet's directory).
func TestOutputEnvIsGlobal(t *testing.T) {
	isolate(t)
	t.Setenv("WEFT_OUTPUT", "json")
	root := rootCmd()
	cmd, _, _ := root.Find([]string{"testnet"})
	if err := cmd.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if err := bindEnv(cmd); err != nil {
		t.Fatal(err)
	}
	if v, _ := cmd.Flags().GetString("output"); v != "" {
		t.Errorf("testnet --output is %q from WEFT_OUTPUT", v)
	}
}
