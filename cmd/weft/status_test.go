package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/ui"
)

// TestStatus: `weft status` against a real node, as JSON and as text.
func TestStatus(t *testing.T) {
	isolate(t)
	tn := startTestNode(t)
	if err := tn.waitHeight(3); err != nil {
		t.Fatal(err)
	}
	var v ui.View
	if err := json.Unmarshal([]byte(mustCLI(t, "status", "--node", tn.api, "-o", "json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.ChainID != testChainID || v.Moniker != "node0" || v.Height < 3 || v.IntervalBlocks < 1 || v.SigningWindow != 1000 {
		t.Errorf("chain: %+v", v)
	}
	if len(v.Validators) != 1 || v.Validators[0].Moniker != "node0" || v.Validators[0].Stake != "10 WEFT" ||
		v.Validators[0].Power != 10 || v.Validators[0].State != "active" || v.Validators[0].RecentMissed != 0 {
		t.Errorf("validators: %+v", v.Validators)
	}
	if len(v.Rollups) != 0 || len(v.Warnings) != 0 {
		t.Errorf("rollups %+v, warnings %+v: the test node serves none and is healthy", v.Rollups, v.Warnings)
	}
	text := mustCLI(t, "status", "--node", tn.api, "-o", "text")
	for _, want := range []string{testChainID + "  height ", "Validators (1;", "node0  ", "10 WEFT", "Rollups: this node serves none", "No warnings"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

// lines is a writer that cancels once it has n lines.
type lines struct {
	mu     sync.Mutex
	b      bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	if bytes.Count(l.b.Bytes(), []byte("\n")) >= l.n {
		l.cancel()
	}
	return len(p), nil
}

// TestStatusWatch: --watch prints a snapshot every --interval (one JSON
// line each) until interrupted, and the height goes on. (A node collects
// at most one snapshot a second.)
func TestStatusWatch(t *testing.T) {
	isolate(t)
	tn := startTestNode(t)
	if err := tn.waitHeight(2); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := &lines{n: 3, cancel: cancel}
	var errb bytes.Buffer
	if code := run(ctx, []string{"status", "--node", tn.api, "-o", "json", "--watch", "--interval", "1100ms"}, out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	out.mu.Lock()
	got := strings.Split(strings.TrimSpace(out.b.String()), "\n")
	out.mu.Unlock()
	if len(got) < 3 {
		t.Fatalf("%d snapshots, want 3:\n%s", len(got), strings.Join(got, "\n"))
	}
	var first, last ui.View
	if json.Unmarshal([]byte(got[0]), &first) != nil || json.Unmarshal([]byte(got[len(got)-1]), &last) != nil || last.Height <= first.Height {
		t.Fatalf("heights did not advance over the snapshots:\n%s", strings.Join(got, "\n"))
	}
}

// stuckStatus is a node API whose GetNetworkStatus never answers.
type stuckStatus struct {
	weftv1.UnimplementedNodeAPIServer
}

func (stuckStatus) GetNetworkStatus(ctx context.Context, _ *weftv1.GetNetworkStatusRequest) (*weftv1.GetNetworkStatusResponse, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestStatusBadNode: no node, or a node too slow, is one line.
func TestStatusBadNode(t *testing.T) {
	isolate(t)
	addr := closedAddr(t)
	oneLine(t, regexp.QuoteMeta("no Weft node API at "+addr+" (is it running? set --node or WEFT_NODE)"), "status", "--node", addr)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	weftv1.RegisterNodeAPIServer(srv, stuckStatus{})
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	slow := l.Addr().String()
	oneLine(t, regexp.QuoteMeta("node "+slow+" did not answer within 300ms (raise --timeout, or try another --node)"),
		"status", "--node", slow, "--timeout", "300ms")
	oneLine(t, regexp.QuoteMeta("--interval 0s must be positive"), "status", "--node", slow, "--watch", "--interval", "0")
}
