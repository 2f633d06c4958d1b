package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/format"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the output the tests get")

// heightFacts names the heights of a golden run that differ from run to
// run (blocks come on a timer, so which block takes a tx does not repeat):
// the height each setup tx was committed at, the unbonding's completion,
// and the range the node's height was in while a query ran.
type heightFacts struct {
	labels map[int64]string
	lo, hi int64 // the node's height just before and after the query
}

// name is how a volatile height v is written in a golden file: the name
// of the setup tx committed at v or, for the height an answer was given
// at (current), "<current height>" if v is in the range the node's height
// was in; ok is false for any other height, which stays as it is and so
// fails the comparison.
func (f *heightFacts) name(v int64, current bool) (string, bool) {
	if current && v >= f.lo && v <= f.hi {
		return "<current height>", true
	}
	if l, ok := f.labels[v]; ok && !current {
		return "<" + l + ">", true
	}
	return "", false
}

// The fields whose values are heights that change from run to run; only
// these are normalised, and only to a fact's name (heightFacts.name). A
// top-level "height" is the height the answer was given at.
var (
	jsonHeight    = regexp.MustCompile(`(?m)^( +)"(height|registered_height|creation_height|completion_height)": (\d+)`)
	textHeight    = regexp.MustCompile(`(?m)^(height|registered|validators at)( +)(height )?(\d+)$`)
	textLastCells = regexp.MustCompile(`(?m)^(\d+  .*  |.*  height )(\d+)$`) // unbonding's "completes at height", rollups' "registered"
	appHash       = regexp.MustCompile(`(?m)^(app hash +|  "app_hash": ")(0x[0-9a-f]{64})`)
)

// answer says which of an answer's fields hold the node's state at the
// time of the query.
type answer struct {
	// current: the top-level height is the height the node answered at.
	current bool
	// appHash: the app hash is the one at that height.
	appHash bool
}

// normalise writes the volatile heights of out as their facts' names and,
// for an answer at the current app hash, that hash as <app hash>.
func (f *heightFacts) normalise(out string, a answer) string {
	out = jsonHeight.ReplaceAllStringFunc(out, func(m string) string {
		sm := jsonHeight.FindStringSubmatch(m)
		v, _ := strconv.ParseInt(sm[3], 10, 64)
		top := a.current && sm[1] == "  " && sm[2] == "height"
		if n, ok := f.name(v, top); ok {
			return fmt.Sprintf("%s%q: %q", sm[1], sm[2], n)
		}
		return m
	})
	out = textHeight.ReplaceAllStringFunc(out, func(m string) string {
		sm := textHeight.FindStringSubmatch(m)
		v, _ := strconv.ParseInt(sm[4], 10, 64)
		if n, ok := f.name(v, a.current && sm[1] != "registered"); ok {
			return sm[1] + sm[2] + sm[3] + n
		}
		return m
	})
	out = textLastCells.ReplaceAllStringFunc(out, func(m string) string {
		sm := textLastCells.FindStringSubmatch(m)
		v, _ := strconv.ParseInt(sm[2], 10, 64)
		if n, ok := f.name(v, false); ok {
			return sm[1] + n
		}
		return m
	})
	if a.appHash {
		out = appHash.ReplaceAllString(out, "${1}<app hash>")
	}
	return out
}

// testdata is the golden files' directory, found before a test changes
// the working directory.
var testdata, _ = filepath.Abs("testdata")

// golden compares got with testdata/name.golden (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(testdata, name+".golden")
	if *update {
		if err := os.MkdirAll(testdata, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/weft -run %s -update to write it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (go test ./cmd/weft -run %s -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, t.Name(), got, want)
	}
}

// goldenRun is one golden test's node, keys and facts.
type goldenRun struct {
	t     *testing.T
	tn    *testNode
	facts heightFacts
}

// txHeight is the first 0x hash in out and the height its tx was
// committed at.
func (g *goldenRun) txHeight(out string) (string, int64) {
	g.t.Helper()
	m := regexp.MustCompile(`0x[0-9a-f]{64}`).FindString(out)
	if m == "" {
		g.t.Fatalf("no tx hash in %q", out)
	}
	h, err := parseTxHash(m)
	if err != nil {
		g.t.Fatal(err)
	}
	c, err := client.Dial(g.tn.api)
	if err != nil {
		g.t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.API.GetTx(ctx, &weftv1.GetTxRequest{Hash: h})
	if err != nil || r.Result == nil {
		g.t.Fatalf("GetTx(%s) = %v, %v; want committed", m, r, err)
	}
	return m, r.Result.Height
}

// tx runs a `weft tx` command from key i, compares its output with the
// golden file and records its height as label; it returns the tx's hash
// and height.
func (g *goldenRun) tx(name, label string, key int, args ...string) (string, int64) {
	g.t.Helper()
	args = append(args, "--node", g.tn.api, "--key-file", g.tn.keys[key])
	out := mustCLI(g.t, args...)
	hash, h := g.txHeight(out)
	g.facts.labels[h] = "height of " + label
	g.t.Run(name, func(t *testing.T) { golden(t, name, g.facts.normalise(out, answer{})) })
	return hash, h
}

// query runs a query in text and JSON and compares both with their golden
// files; a says which of its fields are the node's state at the time.
func (g *goldenRun) query(name string, a answer, args ...string) {
	g.t.Helper()
	for _, f := range []string{"text", "json"} {
		g.t.Run(name+"/"+f, func(t *testing.T) {
			g.facts.lo = g.tn.height(t)
			out := mustCLI(t, append(args, "--node", g.tn.api, "--output", f)...)
			g.facts.hi = g.tn.height(t)
			golden(t, name+"."+f, g.facts.normalise(out, a))
		})
	}
}

// TestGoldenOutput runs every query (and the txs and key commands that
// set up what they show) against a real node and compares each answer, in
// text and in JSON, with testdata/*.golden.
func TestGoldenOutput(t *testing.T) {
	isolate(t)
	g := &goldenRun{t: t, tn: startTestNode(t), facts: heightFacts{labels: map[int64]string{}}}
	keysDir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
	}{
		{"keys-add.text", []string{"keys", "add", "dev0", "--mnemonic", devMnemonic, "--output", "text"}},
		{"keys-add-index.json", []string{"keys", "add", "dev1", "--mnemonic", devMnemonic, "--index", "1", "--output", "json"}},
		{"keys-list.text", []string{"keys", "list", "--output", "text"}},
		{"keys-list.json", []string{"keys", "list", "--output", "json"}},
		{"keys-show.text", []string{"keys", "show", "dev1", "--output", "text"}},
		{"keys-show.json", []string{"keys", "show", "dev1", "--output", "json"}},
	} {
		out := mustCLI(t, append(c.args, "--keys-dir", keysDir)...)
		t.Run(c.name, func(t *testing.T) { golden(t, c.name, out) })
	}

	dev1 := "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
	dev2 := "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
	val := format.Address(testValKey.PubKey().Address())
	transfer, _ := g.tx("tx-transfer.text", "transfer", 0, "tx", "transfer", "--to", dev2, "--amount", "1.5 WEFT", "--output", "text")
	g.tx("tx-register-rollup.json", "register-rollup", 1, "tx", "register-rollup", "--name", "gamma", "--evm-chain-id", "903", "--output", "json")
	g.tx("tx-delegate.text", "delegate", 1, "tx", "stake", "delegate", "--validator", val, "--amount", "2 WEFT", "--output", "text")
	_, h := g.tx("tx-undelegate.json", "undelegate", 1, "tx", "stake", "undelegate", "--validator", val, "--amount", "500000000000000000", "--raw-amounts", "--output", "json")
	g.facts.labels[h+300] = "height of undelegate + 300"

	now := answer{current: true}
	g.query("account", now, "query", "account", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
	g.query("account-raw", now, "query", "account", dev2, "--raw-amounts")
	g.query("rollup", answer{}, "query", "rollup", "alpha")
	g.query("rollup-registered", answer{}, "query", "rollup", "gamma")
	g.query("rollups", answer{}, "query", "rollups")
	g.query("block", answer{}, "query", "block", "1")
	g.query("tx", answer{}, "query", "tx", transfer)
	g.query("status", answer{current: true, appHash: true}, "query", "status")
	g.query("validators", now, "query", "validators")
	g.query("delegations", answer{}, "query", "delegations", dev1)
	g.query("delegations-none", answer{}, "query", "delegations", dev2)
}
