package devnete2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/weftnet/weft/devnet"
	"github.com/weftnet/weft/genesis"
)

// readmeBlock is a fenced block of README.md the test runs: a "run" block
// of commands, or an "output" block of `$ command` lines each followed by
// what it prints.
type readmeBlock struct {
	kind  string // "run" or "output"
	line  int    // of the opening fence, for errors
	lines []string
}

// readmeBlocks reads the blocks of README.md marked `<!-- readme-test: KIND -->`
// on the line before their fence.
func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	marker := regexp.MustCompile(`^<!-- readme-test: (run|output) -->$`)
	var blocks []readmeBlock
	var cur *readmeBlock
	kind := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case cur != nil && l == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		case kind != "" && strings.HasPrefix(l, "```"):
			cur = &readmeBlock{kind: kind, line: n}
			kind = ""
		default:
			kind = ""
			if m := marker.FindStringSubmatch(l); m != nil {
				kind = m[1]
			}
		}
	}
	if len(blocks) == 0 {
		t.Fatal("README.md has no block marked <!-- readme-test: run|output -->")
	}
	return blocks
}

// commands are a run block's commands: continuation lines joined, comment
// and blank lines dropped.
func (b readmeBlock) commands() []string {
	var cmds []string
	cur := ""
	for _, l := range b.lines {
		if cur == "" && (strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(l, `\`); ok {
			cur += s
			continue
		}
		cmds = append(cmds, cur+l)
		cur = ""
	}
	return cmds
}

// readmeShell runs README commands as a person would after `make devnet`:
// with bash, in a directory holding the devnet in .devnet and the weft
// binary as bin/weft, with a home of its own, no WEFT_* settings, and
// output as on a terminal (WEFT_OUTPUT=text; stdout here is a pipe).
type readmeShell struct {
	t   *testing.T
	dir string
	env []string
}

func (s *readmeShell) run(cmd string) (string, string, error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", "-c", cmd)
	c.Dir, c.Env = s.dir, s.env
	var out, errb strings.Builder
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	return out.String(), errb.String(), err
}

// What a README command's output must show: hex addresses and hashes,
// decimal amounts, committed txs.
var readmeChecks = []struct {
	prefix string
	want   []*regexp.Regexp
}{
	{"bin/weft keys add", []*regexp.Regexp{regexp.MustCompile(`(?m)^address +0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266$`)}},
	{"bin/weft tx ", []*regexp.Regexp{regexp.MustCompile(`(?m)^hash +0x[0-9a-f]{64}$`), regexp.MustCompile(`(?m)^status +committed$`),
		regexp.MustCompile(`(?m)^fee +\d+(\.\d+)? WEFT$`), regexp.MustCompile(`(?m)^sender +0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266$`)}},
	// (text, or JSON with --output json)
	{"bin/weft query account", []*regexp.Regexp{regexp.MustCompile(`(?m)^(address +|  "address": ")0x[0-9a-fA-F]{40}"?,?$`),
		regexp.MustCompile(`(?m)^(balance +|  "balance": ")\d+(\.\d+)? WEFT"?,?$`)}},
	{"bin/weft query block", []*regexp.Regexp{regexp.MustCompile(`(?m)^hash +0x[0-9a-f]{64}$`), regexp.MustCompile(`(?m)^time +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`),
		regexp.MustCompile(`(?m)^proposer +0x[0-9a-fA-F]{40}$`)}},
	{"bin/weft query rollups", []*regexp.Regexp{regexp.MustCompile(`(?m)^gamma +evm +903 +0x[0-9a-f]{64} +0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 +height \d+$`)}},
	{"bin/weft query validators", []*regexp.Regexp{regexp.MustCompile(`(?m)^node0 +0x[0-9a-fA-F]{40} +\d+(\.\d+)? WEFT +\d+ `)}},
	{"bin/weft query delegations", []*regexp.Regexp{regexp.MustCompile(`(?m)^delegations of 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266$`)}},
	{"bin/weft query status", []*regexp.Regexp{regexp.MustCompile(`(?m)^chain id +weft-devnet$`), regexp.MustCompile(`(?m)^app hash +0x[0-9a-f]{64}$`)}},
	{"bin/weft rollup deposit", []*regexp.Regexp{regexp.MustCompile(`deposited 1 ETH \(1000000000000000000 wei\) to 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 on alpha`)}},
	{"bin/weft rollup verify", []*regexp.Regexp{regexp.MustCompile(`(?m)^(all \d+ batches verified|no batches posted yet)`)}},
	{"bin/weft rollup status", []*regexp.Regexp{regexp.MustCompile(`(?m)^inbox +0x[0-9a-fA-F]{40}$`), regexp.MustCompile(`(?m)^last state root +0x[0-9a-f]{64}$`),
		regexp.MustCompile(`(?m)^finalized block +\d+$`)}},
}

// check runs cmd and checks its output against readmeChecks.
func (s *readmeShell) check(cmd string) string {
	s.t.Helper()
	out, errs, err := s.run(cmd)
	if err != nil {
		s.t.Fatalf("README command %q: %v\nstdout:\n%s\nstderr:\n%s", cmd, err, out, errs)
	}
	checked := false
	for _, c := range readmeChecks {
		if !strings.HasPrefix(cmd, c.prefix) {
			continue
		}
		checked = true
		for _, re := range c.want {
			if !re.MatchString(out) {
				s.t.Errorf("README command %q: output lacks %s:\n%s", cmd, re, out)
			}
		}
	}
	if !checked {
		s.t.Errorf("README command %q has no check in readmeChecks: add one", cmd)
	}
	return out
}

// shape is a line of output with its values replaced by their kinds, so
// that the README's example output can be compared with a real run's.
func shape(l string) string {
	for _, r := range []struct {
		re   *regexp.Regexp
		kind string
	}{
		{regexp.MustCompile(`0x[0-9a-f]{64}\b`), "HASH"},
		{regexp.MustCompile(`0x[0-9a-fA-F]{40}\b`), "ADDRESS"},
		{regexp.MustCompile(`\b\d+(\.\d+)? WEFT\b`), "AMOUNT"},
		{regexp.MustCompile(`\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b`), "TIME"},
		{regexp.MustCompile(`\b\d+\b`), "N"},
		{regexp.MustCompile(` +`), " "},
	} {
		l = r.re.ReplaceAllString(l, r.kind)
	}
	return l
}

// compareOutput runs each `$ command` of an output block and compares its
// output with the README's, line by line, by shape.
func (s *readmeShell) compareOutput(b readmeBlock) {
	s.t.Helper()
	var cmd string
	var want []string
	flush := func() {
		if cmd == "" {
			return
		}
		got := strings.Split(strings.TrimSuffix(s.check(cmd), "\n"), "\n")
		if len(got) != len(want) {
			s.t.Errorf("README.md:%d: %q prints %d lines, the README shows %d:\n%s", b.line, cmd, len(got), len(want), strings.Join(got, "\n"))
			return
		}
		for i := range got {
			if shape(got[i]) != shape(want[i]) {
				s.t.Errorf("README.md:%d: %q line %d is %q, the README shows %q", b.line, cmd, i+1, got[i], want[i])
			}
		}
	}
	for _, l := range b.lines {
		if c, ok := strings.CutPrefix(l, "$ "); ok {
			flush()
			cmd, want = c, nil
			continue
		}
		want = append(want, l)
	}
	flush()
}

// TestREADMECommands runs the README's marked command blocks, as written,
// against a devnet (one validator, rollups alpha and beta, the embedded
// L1) and checks what they print: hex addresses and hashes, decimal WEFT
// amounts, committed txs; and that the README's example output has the
// fields and kinds of values a real run prints.
func TestREADMECommands(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	blocks := readmeBlocks(t)
	root := t.TempDir()
	base, rollupRPC := freePorts(t)
	startDevnet(t, filepath.Join(root, ".devnet"), base, rollupRPC, false, func(o *devnet.Options) {
		o.Testnet.Rollups = []genesis.Rollup{{Name: "alpha", VM: "evm", EVMChainID: 901}, {Name: "beta", VM: "evm", EVMChainID: 902}}
	})
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(weftBin, filepath.Join(root, "bin", "weft")); err != nil {
		t.Fatal(err)
	}
	sh := &readmeShell{t: t, dir: root, env: []string{"HOME=" + filepath.Join(root, "home"), "WEFT_OUTPUT=text"}}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "WEFT_") && k != "HOME" {
			sh.env = append(sh.env, kv)
		}
	}
	for _, b := range blocks {
		if b.kind == "output" {
			sh.compareOutput(b)
			continue
		}
		for _, c := range b.commands() {
			out := sh.check(c)
			t.Logf("$ %s\n%s", c, out)
		}
	}
}
