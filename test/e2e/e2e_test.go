package e2e

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/client"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/test/e2e/nettest"
	"github.com/weftnet/weft/txcodec"
)

// weftBin is the binary TestMain builds once for every test.
var weftBin string

func TestMain(m *testing.M) { nettest.Main(m, "e2e", &weftBin) }

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("multi-process network test; skipped with -short")
	}
}

// payload is sender k's data for its nonce-th tx: it names both, so an item
// can be traced back, and its length varies from 30 to ~240 bytes.
func payload(k int, nonce uint64) []byte {
	head := fmt.Sprintf("s%02d/n%03d/", k, nonce)
	return append([]byte(head), bytes.Repeat([]byte{byte('a' + k%26)}, 20+int(nonce*7+uint64(k)*13)%200)...)
}

// commitWatch follows every rollup's slice stream on every node and notes
// when each tx hash was first seen committed there.
type commitWatch struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	seen []map[[32]byte]time.Time // per node
	err  error
}

func (n *network) watchCommits(from int64) *commitWatch {
	n.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &commitWatch{cancel: cancel, seen: make([]map[[32]byte]time.Time, len(n.nodes))}
	n.t.Cleanup(w.close)
	for i := range n.nodes {
		w.seen[i] = map[[32]byte]time.Time{}
		for _, r := range rollupNames {
			id := rollups.IDFromName(r)
			st, err := n.Client(i).API.StreamRollupSlices(ctx, &weftv1.StreamRollupSlicesRequest{RollupId: id[:], FromHeight: from})
			if err != nil {
				n.t.Fatalf("node%d StreamRollupSlices(%s): %v", i, r, err)
			}
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				for {
					s, err := st.Recv()
					if err != nil {
						w.mu.Lock()
						if ctx.Err() == nil && w.err == nil {
							w.err = fmt.Errorf("node%d stream %s: %v", i, r, err)
						}
						w.mu.Unlock()
						return
					}
					now := time.Now()
					w.mu.Lock()
					for _, it := range s.Items {
						if len(it.TxHash) != 32 {
							continue
						}
						if _, ok := w.seen[i][[32]byte(it.TxHash)]; !ok {
							w.seen[i][[32]byte(it.TxHash)] = now
						}
					}
					w.mu.Unlock()
				}
			}()
		}
	}
	return w
}

func (w *commitWatch) close() { w.cancel(); w.wg.Wait() }

// latencies returns, per acknowledged tx, the time from the start of its
// SubmitTx to the moment the node it was sent to streamed it as committed;
// it errors while some tx is not seen yet.
func (w *commitWatch) latencies(acked []ackedTx) ([]time.Duration, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return nil, w.err
	}
	out := make([]time.Duration, 0, len(acked))
	for _, a := range acked {
		at, ok := w.seen[a.node][a.hash]
		if !ok {
			return nil, fmt.Errorf("tx %x not streamed by node%d yet", a.hash[:6], a.node)
		}
		out = append(out, at.Sub(a.submitted))
	}
	return out, nil
}

// TestFourValidatorsOrderRollupData sends 1,008 rollup-data txs for three
// rollups from 16 concurrent senders spread over all four validators' APIs
// and checks that one order comes out: every tx committed exactly once, each
// sender's in nonce order, the same blocks and app hashes on every node, and
// each rollup's slices complete and provable against headers fetched from a
// different node.
func TestFourValidatorsOrderRollupData(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, 4)
	const senders, perSender = 16, 63
	accounts := make([]int, senders)
	for k := range accounts {
		accounts[k] = k
	}
	actions := func(k int, nonce uint64) []*weftv1.Action {
		return []*weftv1.Action{client.RollupData(rollupNames[(k+int(nonce))%len(rollupNames)], payload(k, nonce))}
	}
	// Start from a settled network so the figures describe steady state.
	n.WaitHeight(time.Minute, 3, n.All()...)
	first := n.MaxHeight(n.All()...) + 1
	w := n.watchCommits(first)

	began := time.Now()
	// About 400 tx/s in all: a sustained stream over several blocks rather
	// than one burst, so the latency figures describe a loaded network.
	l := n.startLoad(loadOptions{accounts: accounts, nodeOf: func(k int) int { return k % 4 }, perSender: perSender, interval: 40 * time.Millisecond, actions: actions})
	l.wait(2 * time.Minute)
	sendTime := time.Since(began)
	acked := l.snapshot()
	l.checkNoRejections(t, "load")
	if len(acked) != senders*perSender {
		t.Fatalf("acknowledged %d txs, want %d", len(acked), senders*perSender)
	}

	// Every node reports every tx committed, with the same result.
	var results []map[[32]byte]*weftv1.TxResult
	for i := range n.nodes {
		results = append(results, n.waitCommitted(i, 2*time.Minute, hashesOf(acked)))
	}
	t.Logf("submitted %d txs in %v; all committed %v after the first submit", len(acked), sendTime.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	var last int64
	for _, a := range acked {
		r := results[0][a.hash]
		last = max(last, r.Height)
		for i := 1; i < len(results); i++ {
			if !proto.Equal(r, results[i][a.hash]) {
				t.Fatalf("tx %x: node0 result %v, node%d result %v", a.hash[:8], r, i, results[i][a.hash])
			}
		}
	}

	var lat []time.Duration
	n.WaitFor(30*time.Second, "every tx streamed by the node it was sent to", func() (err error) {
		lat, err = w.latencies(acked)
		return err
	})
	w.close()

	// The header of last+1 carries the app hash after last.
	n.WaitHeight(time.Minute, last+1, n.All()...)
	c := n.compareChains(last+1, n.All()...)
	checkExactlyOnce(t, c, acked)
	seen := c.userTxs()
	if len(seen) != len(acked) {
		t.Errorf("blocks 1..%d hold %d user txs, %d were sent", last+1, len(seen), len(acked))
	}
	type pos struct{ height, index int64 }
	lastPos := map[int]pos{}
	for _, a := range acked { // in each sender's nonce order
		r := results[0][a.hash]
		if b := c.at(r.Height); int(r.Index) >= len(b.TxHashes) || !bytes.Equal(b.TxHashes[r.Index], a.hash[:]) {
			t.Errorf("tx %x: result says height %d index %d, the block does not hold it there", a.hash[:8], r.Height, r.Index)
		}
		p := pos{r.Height, int64(r.Index)}
		if prev, ok := lastPos[a.sender]; ok && (p.height < prev.height || p.height == prev.height && p.index <= prev.index) {
			t.Errorf("sender %d nonce %d is ordered at %v, before its previous nonce at %v", a.sender, a.nonce, p, prev)
		}
		lastPos[a.sender] = p
	}
	for _, b := range c {
		var items uint32
		for _, rr := range b.Commitment.Rollups {
			items += rr.ItemCount
		}
		if int(items) != len(b.TxHashes)-1 {
			t.Errorf("block %d: commitment counts %d items for %d single-item txs", b.Height, items, len(b.TxHashes)-1)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Each rollup's slices, streamed from one node from height 1, prove
	// against data hashes from another node's CometBFT RPC and hold exactly
	// what was sent to that rollup, each sender's items in nonce order.
	type sentItem struct {
		sender int
		nonce  uint64
		data   []byte
	}
	want := map[string]map[[32]byte]sentItem{}
	for _, a := range acked {
		rd := a.acts[0].GetRollupData()
		name := rollupNames[(a.sender+int(a.nonce))%len(rollupNames)]
		if want[name] == nil {
			want[name] = map[[32]byte]sentItem{}
		}
		want[name][a.hash] = sentItem{sender: a.sender, nonce: a.nonce, data: rd.Data}
	}
	for ri, name := range rollupNames {
		src, rpc := ri%4, (ri+1)%4
		ss := n.slices(src, name, 1, last+1)
		n.verifySlices(ss, rpc, c)
		got := map[[32]byte]bool{}
		lastNonce := map[int]int64{}
		for _, s := range ss {
			for _, it := range s.Items {
				if len(it.TxHash) != 32 {
					t.Fatalf("%s slice at %d: item tx hash of %d bytes", name, s.Height, len(it.TxHash))
				}
				h := [32]byte(it.TxHash)
				si, ok := want[name][h]
				switch {
				case !ok:
					t.Fatalf("%s slice at %d holds tx %x that was not sent to %s", name, s.Height, h[:8], name)
				case got[h]:
					t.Fatalf("%s: tx %x appears twice in the slices", name, h[:8])
				case !bytes.Equal(it.Data, si.data) || it.ActionIndex != 0:
					t.Fatalf("%s: tx %x item is %q (action %d), sent %q", name, h[:8], it.Data, it.ActionIndex, si.data)
				case !bytes.Equal(it.Sender, nettest.AddrOf(nettest.DevKey(t, si.sender)).Bytes()):
					t.Fatalf("%s: tx %x names sender %x", name, h[:8], it.Sender)
				}
				if prev, ok := lastNonce[si.sender]; ok && int64(si.nonce) <= prev {
					t.Fatalf("%s: sender %d nonce %d ordered after nonce %d", name, si.sender, si.nonce, prev)
				}
				lastNonce[si.sender] = int64(si.nonce)
				got[h] = true
			}
		}
		if len(got) != len(want[name]) {
			t.Fatalf("%s: slices from node%d hold %d items, %d were sent", name, src, len(got), len(want[name]))
		}
		t.Logf("%s: %d slices from node%d verified against node%d's headers, %d items as sent", name, len(ss), src, rpc, len(got))
	}

	firstTx := last
	for h := range seen {
		firstTx = min(firstTx, seen[h][0])
	}
	t.Logf("block interval: %v on average over blocks 1..%d, %v over the %d blocks carrying the load (%d..%d)",
		c.blockInterval(1, last+1).Round(time.Millisecond), last+1,
		c.blockInterval(firstTx, last).Round(time.Millisecond), last-firstTx+1, firstTx, last)
	t.Logf("submit→commit latency at the client over %d txs: p50 %v, p99 %v, max %v",
		len(lat), quantile(lat, 0.50).Round(time.Millisecond), quantile(lat, 0.99).Round(time.Millisecond), quantile(lat, 1).Round(time.Millisecond))
}

// TestBundleAtomic checks that a bundle (one tx with data for alpha, beta and
// gamma) lands whole in one block while other traffic flows, provably in
// each rollup's slice, and that a bundle with a part for an unknown rollup is
// refused by the API and by the CLI and never reaches a block.
func TestBundleAtomic(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, 4)
	bg := n.startLoad(loadOptions{
		accounts: []int{0, 1, 2, 3}, nodeOf: func(k int) int { return k }, perSender: 40, interval: 40 * time.Millisecond,
		actions: func(k int, nonce uint64) []*weftv1.Action {
			return []*weftv1.Action{client.RollupData(rollupNames[(k+int(nonce))%3], payload(k, nonce))}
		},
	})

	const bundles = 8
	bundler := nettest.DevKey(t, 4)
	parts := func(j int) [][]byte {
		var out [][]byte
		for _, r := range rollupNames {
			out = append(out, []byte(fmt.Sprintf("bundle %d part %s", j, r)))
		}
		return out
	}
	var hashes [][32]byte
	for j := 0; j < bundles; j++ {
		var acts []*weftv1.Action
		for ri, d := range parts(j) {
			acts = append(acts, client.RollupData(rollupNames[ri], d))
		}
		h, err := n.submit(1, mustSign(t, n.chainID, bundler, uint64(j), acts...))
		if err != nil {
			t.Fatalf("submit bundle %d: %v", j, err)
		}
		hashes = append(hashes, h)
		// Spread the bundles over several blocks of background traffic.
		<-time.After(150 * time.Millisecond)
	}
	results := n.waitCommitted(2, time.Minute, hashes)
	bg.wait(time.Minute)
	bg.checkNoRejections(t, "background load")
	others := n.waitCommitted(0, time.Minute, hashesOf(bg.snapshot()))

	withOthers := 0
	for j, h := range hashes {
		r := results[h]
		b := n.block(3, r.Height)
		if int(r.Index) >= len(b.TxHashes) || !bytes.Equal(b.TxHashes[r.Index], h[:]) {
			t.Fatalf("bundle %d: block %d does not hold it at index %d", j, r.Height, r.Index)
		}
		for _, name := range rollupNames {
			if rollups.RootFor(b.Commitment, rollups.IDFromName(name)) == nil {
				t.Fatalf("bundle %d: block %d's commitment does not list %s", j, r.Height, name)
			}
		}
		for _, o := range others {
			if o.Height == r.Height {
				withOthers++
				break
			}
		}
		for ri, name := range rollupNames {
			ss := n.slices(3, name, r.Height, r.Height)
			n.verifySlices(ss, 0, nil)
			if !bytes.Equal(ss[0].BlockHash, b.Hash) {
				t.Fatalf("bundle %d: %s slice names block %X, node3 has %X", j, name, ss[0].BlockHash, b.Hash)
			}
			found := 0
			for _, it := range ss[0].Items {
				if bytes.Equal(it.TxHash, h[:]) {
					found++
					if it.ActionIndex != uint32(ri) || !bytes.Equal(it.Data, parts(j)[ri]) {
						t.Fatalf("bundle %d: %s item is action %d %q", j, name, it.ActionIndex, it.Data)
					}
				}
			}
			if found != 1 {
				t.Fatalf("bundle %d: %s slice at height %d holds its item %d times", j, name, r.Height, found)
			}
		}
	}
	t.Logf("%d bundles each whole in one block (%d of those blocks shared with other traffic)", bundles, withOthers)

	// A bundle with a part for an unknown rollup: refused by every node.
	bad := nettest.DevKey(t, 5)
	apiBad := mustSign(t, n.chainID, bad, 0, client.RollupData("alpha", []byte("x")), client.RollupData("nope", []byte("y")))
	for i := range n.nodes {
		_, err := n.submit(i, apiBad)
		st := status.Convert(err)
		if err == nil || st.Code() != codes.NotFound || !strings.Contains(st.Message(), "unknown_rollup") {
			t.Fatalf("node%d SubmitTx(bundle with unknown rollup) = %v, want NotFound mentioning unknown_rollup", i, err)
		}
	}
	// ... and by the CLI, which would sign exactly these bytes (pending
	// nonce 0, default fee limit).
	keyFile := nettest.WriteKeyFile(t, "bad", bad)
	stdout, stderr, code := runCLI(t, "tx", "bundle", "--node", n.nodes[0].info.API, "--key-file", keyFile,
		"--part", "alpha=cli-x", "--part", "nope=cli-y")
	if code == 0 || !strings.Contains(stderr, "unknown_rollup") || !strings.Contains(stderr, "not registered") || strings.Contains(stdout, "submitted") {
		t.Fatalf("weft tx bundle with unknown rollup: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	t.Logf("CLI refused the bundle: %s", strings.TrimSpace(stderr))
	cliBad := mustSign(t, n.chainID, bad, 0, client.RollupData("alpha", []byte("cli-x")), client.RollupData("nope", []byte("cli-y")))

	// Let a few blocks pass, then look for the refused bundles everywhere.
	h := n.MaxHeight(n.All()...) + 3
	n.WaitHeight(time.Minute, h, n.All()...)
	c := n.compareChains(h, n.All()...)
	seen := c.userTxs()
	nope := rollups.IDFromName("nope")
	for _, raw := range [][]byte{apiBad, cliBad} {
		th := txcodec.TxHash(raw)
		if len(seen[th]) > 0 {
			t.Fatalf("refused bundle %x is in block(s) %v", th[:8], seen[th])
		}
		for i := range n.nodes {
			ctx, cancel := nettest.RPCCtx()
			r, err := n.Client(i).API.GetTx(ctx, &weftv1.GetTxRequest{Hash: th[:]})
			cancel()
			if err != nil || r.Status != weftv1.TxStatus_TX_STATUS_UNKNOWN {
				t.Fatalf("node%d GetTx(refused bundle) = %v, %v; want UNKNOWN", i, r, err)
			}
		}
	}
	for _, b := range c {
		if rollups.RootFor(b.Commitment, nope) != nil {
			t.Fatalf("block %d commits to items of the unknown rollup", b.Height)
		}
	}
	for i := range n.nodes {
		ctx, cancel := nettest.RPCCtx()
		addr := nettest.AddrOf(bad)
		a, err := n.Client(i).API.GetAccount(ctx, &weftv1.GetAccountRequest{Address: addr[:]})
		cancel()
		if err != nil || a.Account.Nonce != 0 || a.PendingNonce != 0 {
			t.Fatalf("node%d: refused bundles' sender is %v, %v; want nonce 0", i, a, err)
		}
	}
}
