package main

import (
	"context"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/grpc"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// oneLine checks a failed command: exit 1, nothing on stdout, and on
// stderr exactly one line, "Error: " and then a message matching want.
func oneLine(t *testing.T, want string, args ...string) {
	t.Helper()
	out, errs, code := cli(t, args...)
	if code != 1 || out != "" {
		t.Errorf("weft %s: exit %d, stdout %q; want exit 1 and no output", strings.Join(args, " "), code, out)
	}
	re := regexp.MustCompile(`^Error: ` + want + `\n$`)
	if !re.MatchString(errs) {
		t.Errorf("weft %s: stderr %q, want one line matching %q", strings.Join(args, " "), errs, re)
	}
}

// closedAddr is a loopback address nothing listens on: a port the system
// gave this test, closed again.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// stuckAPI is a node API whose every call blocks until the caller gives up
// (or the test ends): a node that does not answer.
type stuckAPI struct {
	weftv1.UnimplementedNodeAPIServer
	release chan struct{}
}

func (s *stuckAPI) GetStatus(ctx context.Context, _ *weftv1.GetStatusRequest) (*weftv1.GetStatusResponse, error) {
	select {
	case <-ctx.Done():
	case <-s.release:
	}
	return nil, ctx.Err()
}

func (s *stuckAPI) GetAccount(ctx context.Context, _ *weftv1.GetAccountRequest) (*weftv1.GetAccountResponse, error) {
	_, err := s.GetStatus(ctx, nil)
	return nil, err
}

// startStuckAPI serves a stuckAPI on 127.0.0.1:0.
func startStuckAPI(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	api := &stuckAPI{release: make(chan struct{})}
	weftv1.RegisterNodeAPIServer(srv, api)
	go srv.Serve(l)
	t.Cleanup(func() { close(api.release); srv.Stop() })
	return l.Addr().String()
}

// TestUnreachableNode: a node API address nobody listens on is one line
// naming it, with what to do.
func TestUnreachableNode(t *testing.T) {
	isolate(t)
	addr := closedAddr(t)
	want := regexp.QuoteMeta("no Weft node API at " + addr + " (is it running? set --node or WEFT_NODE)")
	oneLine(t, want, "query", "status", "--node", addr)
	oneLine(t, want, "query", "account", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "--node", addr)
	t.Setenv("WEFT_NODE", addr)
	oneLine(t, want, "query", "block")
}

// TestSlowNode: a node that does not answer within --timeout is one line
// saying so.
func TestSlowNode(t *testing.T) {
	isolate(t)
	addr := startStuckAPI(t)
	want := regexp.QuoteMeta("node " + addr + " did not answer within 300ms (raise --timeout, or try another --node)")
	oneLine(t, want, "query", "status", "--node", addr, "--timeout", "300ms")
	oneLine(t, want, "query", "account", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "--node", addr, "--timeout", "300ms")
}

// TestMalformedInput: input the CLI can tell is wrong without a node is
// refused with one line saying what is expected.
func TestMalformedInput(t *testing.T) {
	isolate(t)
	addr := closedAddr(t) // never dialled
	for _, c := range []struct {
		want string
		args []string
	}{
		{`tx hash "0xzz" must be 32 bytes of hex: 0x and 64 hex digits`, []string{"query", "tx", "0xzz"}},
		{`tx hash "0x1234" must be 32 bytes of hex: 0x and 64 hex digits`, []string{"query", "tx", "0x1234"}},
		{`account "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb9226" is not an address: want 0x and 40 hex digits`, []string{"query", "account", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb9226"}},
		{`account "f39Fd6e51aad88F6F4ce6aB8827279cffFb92266" is not an address: want 0x and 40 hex digits`, []string{"query", "account", "f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"}},
		{`delegator "0xnope" is not an address: want 0x and 40 hex digits`, []string{"query", "delegations", "0xnope"}},
		{`"No_Such" is not a rollup name or 0x id: rollup name "No_Such": only a-z, 0-9 and '-' are allowed`, []string{"query", "rollup", "No_Such"}},
		{`rollup id "0x12" is not 0x and 64 hex digits`, []string{"query", "rollup", "0x12"}},
		{`height "-3" must be a positive integer`, []string{"query", "block", "--", "-3"}},
		{`--output "yaml": want text or json`, []string{"query", "status", "--output", "yaml"}},
		{`--amount: invalid amount "1.5": want an integer in the smallest unit \(1000\) or a number of WEFT \(1.5 WEFT\)`,
			[]string{"tx", "transfer", "--key-file", "x", "--to", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "--amount", "1.5"}},
	} {
		if !strings.HasPrefix(c.want, "--amount") {
			c.want = regexp.QuoteMeta(c.want)
		}
		args := append([]string{c.args[0], c.args[1], "--node", addr}, c.args[2:]...)
		oneLine(t, c.want, args...)
	}
}

// TestUnknownThings: an address, a tx, a rollup the node does not know
// are each one line, not an empty answer.
func TestUnknownThings(t *testing.T) {
	isolate(t)
	tn := startTestNode(t)
	home := filepath.Join(tn.dir, "node0")
	oneLine(t, `no account 0x000000000000000000000000000000000000dEaD at height \d+: it holds no tokens and has sent no tx`,
		"query", "account", "0x000000000000000000000000000000000000dead", "--node", tn.api)
	oneLine(t, `tx 0x0{64} is unknown to this node: not pending, not committed, not recently dropped`,
		"query", "tx", "0x"+strings.Repeat("0", 64), "--node", tn.api)
	oneLine(t, regexp.QuoteMeta(`no rollup nosuch is registered (weft query rollups lists them)`),
		"query", "rollup", "nosuch", "--node", tn.api)
	oneLine(t, regexp.QuoteMeta(`the node refused the tx: weft code 8 (unknown_rollup): action 0: rollup "nosuch" is not registered`),
		"tx", "rollup-data", "--rollup", "nosuch", "--data", "hi", "--node", tn.api, "--key-file", tn.keys[0])
	oneLine(t, regexp.QuoteMeta(`no rollup "nosuch" in `+home+` (its weft.toml serves no rollups)`),
		"rollup", "status", "--home", home, "--rollup", "nosuch")
	nohome := t.TempDir()
	oneLine(t, regexp.QuoteMeta(`--home `+nohome+` holds no node (no config/config.toml): give the home of a node that serves rollup alpha, e.g. --home .devnet/node0`),
		"rollup", "status", "--home", nohome, "--rollup", "alpha")
	oneLine(t, `height 99999 is not committed \(latest is \d+\)`, "query", "block", "99999", "--node", tn.api)
}
