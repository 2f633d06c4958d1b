package archtest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/weftnet/weft"

// pkg is what `go list -json` says of one package.
type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
}

// list runs `go list -json -deps=false` on patterns, with each package's
// transitive dependencies (Deps) and direct imports.
func list(t *testing.T, patterns ...string) []pkg {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-json"}, patterns...)...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list %v: %v\n%s", patterns, err, stderr)
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list %v: no packages", patterns)
	}
	return pkgs
}

func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// TestOnlyNodeImportsConsensus: consensus decodes, orders and applies txs;
// a client or a rollup needs only the tx codec (txcodec). Outside consensus
// itself, only node (which composes the sequencer) imports it.
func TestOnlyNodeImportsConsensus(t *testing.T) {
	for _, p := range list(t, module+"/...") {
		if under(p.ImportPath, module+"/consensus") || under(p.ImportPath, module+"/node") {
			continue
		}
		for _, imp := range append(append(p.Imports, p.TestImports...), p.XTestImports...) {
			if imp == module+"/consensus" {
				t.Errorf("%s imports %s: use %s/txcodec for the tx codec and result codes", p.ImportPath, imp, module)
			}
		}
	}
}

// TestDependencyRules: what each package must not depend on, directly or
// through another package.
func TestDependencyRules(t *testing.T) {
	rules := []struct {
		pkgs      []string // go list patterns
		forbidden []string // import path prefixes
		why       string
	}{
		{
			pkgs:      []string{module + "/consensus", module + "/consensus/staking"},
			forbidden: []string{module + "/node", module + "/rollups/", module + "/p2p"},
			why:       "the state machine knows rollups only as ids and items (package rollups), never their executors, RPC, feed or the node",
		},
		{
			pkgs:      []string{module + "/rollups/feed"},
			forbidden: []string{module + "/p2p", "github.com/libp2p/"},
			why:       "the feed's checks take slices from an interface (feed.Gossip), not from the libp2p host",
		},
		{
			pkgs:      []string{module + "/txcodec"},
			forbidden: []string{module + "/consensus", module + "/mempool", module + "/rollups", "github.com/cometbft/", "github.com/dgraph-io/badger"},
			why:       "the tx codec is a leaf: a client signs and reads results without consensus, storage or CometBFT",
		},
		{
			pkgs:      []string{module + "/client", module + "/rollups/rpc"},
			forbidden: []string{module + "/consensus", module + "/node", "github.com/dgraph-io/badger"},
			why:       "clients and the rollup RPC talk to a node; they need the tx codec, not the state machine or the node itself",
		},
		{
			pkgs:      []string{module + "/attest/bls"},
			forbidden: []string{module + "/node", module + "/consensus", module + "/rollups", module + "/p2p", module + "/devnet", module + "/genesis", module + "/proto", "github.com/cometbft/"},
			why:       "attestation keys are a leaf (blst and a ciphersuite): staking, key files and the L1 contract's tools use them without a chain",
		},
		{
			pkgs:      []string{module + "/keys"},
			forbidden: []string{module + "/node", module + "/consensus", module + "/rollups", module + "/p2p", "github.com/cometbft/"},
			why:       "key files are a leaf shared by the CLI, devnet and node: they need no node, chain or network",
		},
		{
			pkgs:      []string{module + "/rollups/..."},
			forbidden: []string{module + "/node", module + "/consensus", module + "/devnet"},
			why:       "rollup services (settlement, the batcher, the deposit relayer, …) are composed by node, never compose it: the node passes its app and executors in",
		},
		{
			pkgs:      []string{module + "/ui"},
			forbidden: []string{module + "/node", module + "/consensus", module + "/rollups", module + "/devnet", module + "/p2p", "github.com/cometbft/"},
			why:       "the network page and weft status render a snapshot the node collects (weftv1.NetworkStatus); they never reach into the node, the chain or the rollup services",
		},
		{
			pkgs:      []string{module + "/node"},
			forbidden: []string{module + "/devnet"},
			why:       "devnet runs networks of nodes on top of node; node composes one node and never reaches back",
		},
	}
	for _, r := range rules {
		for _, p := range list(t, r.pkgs...) {
			for _, f := range r.forbidden {
				if d, ok := firstMatch(append([]string{p.ImportPath}, p.Deps...), f); ok {
					t.Errorf("%s depends on %s: %s", p.ImportPath, d, r.why)
				}
			}
		}
	}
}

// firstMatch returns the first path in deps that prefix names: a prefix
// ending in "/" matches every path below it, any other the path itself and
// the packages below it.
func firstMatch(deps []string, prefix string) (string, bool) {
	for _, d := range deps {
		if strings.HasSuffix(prefix, "/") && strings.HasPrefix(d, prefix) || !strings.HasSuffix(prefix, "/") && under(d, prefix) {
			return d, true
		}
	}
	return "", false
}
