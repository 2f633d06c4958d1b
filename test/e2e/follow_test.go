package e2e

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/client"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/test/e2e/nettest"
)

// followLine is one slice as `weft follow --json` prints it, with the time
// the test read it.
type followLine struct {
	Height   int64    `json:"height"`
	Items    int      `json:"items"`
	Verified bool     `json:"verified"`
	TxHashes []string `json:"tx_hashes"`
	Error    string   `json:"error"`

	at time.Time
}

// follower is a `weft follow --json` process and the lines it printed.
type follower struct {
	stderr lockedBuffer
	mu     sync.Mutex
	lines  []followLine
}

// startFollower runs `weft follow` for rollup as a rollup node that is not
// a validator: slices over gossipsub from node1's feed, headers from the
// CometBFT RPC at rpc with witness cross-checks. The process is killed in
// t.Cleanup.
func startFollower(t *testing.T, n *network, rollup, rpc, witness string) *follower {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, weftBin, "follow", "--json", "--rollup", rollup, "--chain-id", n.chainID,
		"--peer", n.nodes[1].info.Feed, "--rpc", rpc, "--witness", witness)
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	f := &follower{}
	cmd.Stderr = &f.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			l := followLine{at: time.Now()}
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				f.mu.Lock()
				f.lines = append(f.lines, l)
				f.mu.Unlock()
			}
		}
	}()
	n.WaitFor(90*time.Second, "the follower's first slice", func() error {
		if len(f.snapshot()) == 0 {
			return fmt.Errorf("nothing yet; follower stderr: %s", f.stderr.String())
		}
		return nil
	})
	return f
}

func (f *follower) snapshot() []followLine {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]followLine(nil), f.lines...)
}

// waitHeight waits until the follower printed the slice of height h.
func (f *follower) waitHeight(n *network, timeout time.Duration, h int64) {
	n.t.Helper()
	n.WaitFor(timeout, fmt.Sprintf("follower reaching height %d", h), func() error {
		ls := f.snapshot()
		if got := ls[len(ls)-1].Height; got < h {
			return fmt.Errorf("follower at height %d; stderr: %s", got, f.stderr.String())
		}
		return nil
	})
}

// check fails t unless every slice the follower printed verified, heights
// run on without gap or reorder, every tx of want reached it and no tx of
// other did. It returns the lines.
func (f *follower) check(t *testing.T, want, other [][32]byte) []followLine {
	t.Helper()
	ls := f.snapshot()
	seen := map[string]bool{}
	for i, l := range ls {
		if !l.Verified {
			t.Errorf("height %d not verified: %s", l.Height, l.Error)
		}
		if i > 0 && l.Height != ls[i-1].Height+1 {
			t.Errorf("gap or reorder: height %d after %d", l.Height, ls[i-1].Height)
		}
		for _, h := range l.TxHashes {
			seen[strings.TrimPrefix(h, "0x")] = true // the CLI prints hashes as 0x-hex
		}
	}
	for _, h := range want {
		if !seen[hex.EncodeToString(h[:])] {
			t.Errorf("tx %x never reached the follower", h[:6])
		}
	}
	for _, h := range other {
		if seen[hex.EncodeToString(h[:])] {
			t.Errorf("tx %x of another rollup delivered on the followed topic", h[:6])
		}
	}
	return ls
}

// TestFollowGossip runs `weft follow` as a rollup node that is not a
// validator: it gets alpha's slices over gossipsub from one validator's feed,
// verifies each against headers from a CometBFT light client (primary and
// witness on other nodes), and must see every height from its first one on,
// every alpha tx, and no tx of another rollup.
func TestFollowGossip(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, 4)
	f := startFollower(t, n, "alpha", n.nodes[0].info.RPC, n.nodes[2].info.RPC)

	// Data for alpha and for beta, through different nodes.
	var alpha, beta [][32]byte
	for k := 0; k < 12; k++ {
		key := nettest.DevKey(t, k%4)
		name, dst := "alpha", &alpha
		if k%3 == 2 {
			name, dst = "beta", &beta
		}
		acc, err := n.Client(k%4).API.GetAccount(context.Background(), &weftv1.GetAccountRequest{Address: nettest.AddrOf(key).Bytes()})
		if err != nil {
			t.Fatal(err)
		}
		raw := mustSign(t, n.chainID, key, acc.PendingNonce, client.RollupData(name, []byte(fmt.Sprintf("follow %d", k))))
		h, err := n.submit(k%4, raw)
		if err != nil {
			t.Fatalf("submit %d: %v", k, err)
		}
		*dst = append(*dst, h)
	}
	res := n.waitCommitted(0, time.Minute, append(append([][32]byte(nil), alpha...), beta...))
	var last int64
	for _, r := range res {
		last = max(last, r.Height)
	}

	f.waitHeight(n, 90*time.Second, last)
	ls := f.check(t, alpha, beta)
	t.Logf("follower verified heights %d..%d (%d slices), %d alpha txs", ls[0].Height, ls[len(ls)-1].Height, len(ls), len(alpha))
}

// wanDelay is the latency a remote follower sees on each request to a
// CometBFT RPC: a rollup node rarely sits next to the sequencer.
const wanDelay = 100 * time.Millisecond

// delayedRPC serves target (a CometBFT RPC URL) on a local port, holding
// each request for delay first, as a link with that much latency would.
func delayedRPC(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(delay):
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestFollowGossipUnderLoad follows alpha while eight senders keep the
// network busy with rollup data for several seconds, reading headers over
// links with wanDelay of latency: the follower must keep up with a block
// every few hundred milliseconds, so every committed slice of alpha from
// its first on is received and verified, with every alpha tx and no beta
// tx. It logs how fast the follower went and how far behind the chain it
// was.
func TestFollowGossipUnderLoad(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, 4)
	f := startFollower(t, n, "alpha", delayedRPC(t, n.nodes[0].info.RPC, wanDelay), delayedRPC(t, n.nodes[2].info.RPC, wanDelay))

	const senders, perSender = 8, 250
	name := func(k int, nonce uint64) string { return []string{"alpha", "alpha", "beta"}[(k+int(nonce))%3] }
	began := time.Now()
	startHeight := n.MaxHeight(0)
	// A fresh block is served from what the app executed (the node's recent blocks); the
	// same block once it is old, from the block store: both must agree.
	n.WaitHeight(time.Minute, startHeight, 1)
	fresh := n.block(1, startHeight)
	l := n.startLoad(loadOptions{
		accounts: []int{0, 1, 2, 3, 4, 5, 6, 7}, nodeOf: func(k int) int { return k % 4 }, perSender: perSender, interval: 40 * time.Millisecond,
		actions: func(k int, nonce uint64) []*weftv1.Action {
			return []*weftv1.Action{client.RollupData(name(k, nonce), payload(k, nonce))}
		},
	})
	l.wait(time.Minute)
	acked := l.snapshot()
	l.checkNoRejections(t, "load")
	if len(acked) != senders*perSender {
		t.Fatalf("acknowledged %d txs, want %d", len(acked), senders*perSender)
	}
	res := n.waitCommitted(0, time.Minute, hashesOf(acked))
	loadTime := time.Since(began)
	var last int64
	var alpha, beta [][32]byte
	for _, a := range acked {
		last = max(last, res[a.hash].Height)
		if name(a.sender, a.nonce) == "alpha" {
			alpha = append(alpha, a.hash)
		} else {
			beta = append(beta, a.hash)
		}
	}
	atLast := time.Now()
	var during int
	var at int64
	for _, fl := range f.snapshot() {
		if fl.Height >= startHeight {
			during++
		}
		at = fl.Height
	}
	t.Logf("load: %d txs (%d alpha) over heights %d..%d in %v (%.1f blocks/s); the follower verified %d of their slices meanwhile (%.1f slices/s) and was at height %d, %d behind",
		len(acked), len(alpha), startHeight, last, loadTime.Round(time.Millisecond), float64(last-startHeight+1)/loadTime.Seconds(),
		during, float64(during)/loadTime.Seconds(), at, last-at)

	f.waitHeight(n, 45*time.Second, last)
	caughtUp := time.Since(atLast)
	ls := f.check(t, alpha, beta)
	if ls[0].Height > startHeight {
		t.Errorf("follower's first slice is of height %d, after the load began at %d", ls[0].Height, startHeight)
	}
	n.WaitHeight(time.Minute, max(last+1, startHeight+40), 0)
	if stored := n.block(1, startHeight); !proto.Equal(stored, fresh) {
		t.Fatalf("block %d served fresh and from the block store differ:\n%v\n%v", startHeight, fresh, stored)
	}

	// How far behind the chain the follower was: from each block's commit
	// to the follower printing its slice, over the blocks of the load.
	// Block h+1's time is the (BFT) time its validators committed block h.
	var lags []time.Duration
	for _, fl := range ls {
		if fl.Height < startHeight || fl.Height > last {
			continue
		}
		b := n.block(0, fl.Height+1)
		lags = append(lags, fl.at.Sub(time.Unix(0, b.TimeUnixNano)))
	}
	t.Logf("follower lag behind commit over the load: p50 %v p90 %v max %v; it printed height %d %v after the test saw that block committed",
		quantile(lags, 0.5).Round(time.Millisecond), quantile(lags, 0.9).Round(time.Millisecond), quantile(lags, 1).Round(time.Millisecond), last, caughtUp.Round(time.Millisecond))
}

// lockedBuffer is an io.Writer safe for a process's output and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
