package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/node"
	"github.com/weftnet/weft/node/client"
	"github.com/weftnet/weft/node/e2e/nettest"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
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

// Each test owns a port range: node i of a network at base B uses B+10i..B+10i+3.
const (
	portsOrder     = 31000
	portsBundle    = 31100
	portsKill      = 31200
	portsFreshNode = 31300
	portsBadInput  = 31400
)

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
			st, err := n.client(i).API.StreamRollupSlices(ctx, &weftv1.StreamRollupSlicesRequest{RollupId: id[:], FromHeight: from})
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
	n := startNetwork(t, portsOrder, 4)
	const senders, perSender = 16, 63
	accounts := make([]int, senders)
	for k := range accounts {
		accounts[k] = k
	}
	actions := func(k int, nonce uint64) []*weftv1.Action {
		return []*weftv1.Action{client.RollupData(rollupNames[(k+int(nonce))%len(rollupNames)], payload(k, nonce))}
	}
	// Start from a settled network so the figures describe steady state.
	n.waitHeight(time.Minute, 3, n.all()...)
	first := n.maxHeight(n.all()...) + 1
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
	n.waitFor(30*time.Second, "every tx streamed by the node it was sent to", func() (err error) {
		lat, err = w.latencies(acked)
		return err
	})
	w.close()

	// The header of last+1 carries the app hash after last.
	n.waitHeight(time.Minute, last+1, n.all()...)
	c := n.compareChains(last+1, n.all()...)
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
	n := startNetwork(t, portsBundle, 4)
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
	h := n.maxHeight(n.all()...) + 3
	n.waitHeight(time.Minute, h, n.all()...)
	c := n.compareChains(h, n.all()...)
	seen := c.userTxs()
	nope := rollups.IDFromName("nope")
	for _, raw := range [][]byte{apiBad, cliBad} {
		th := txcodec.TxHash(raw)
		if len(seen[th]) > 0 {
			t.Fatalf("refused bundle %x is in block(s) %v", th[:8], seen[th])
		}
		for i := range n.nodes {
			ctx, cancel := nettest.RPCCtx()
			r, err := n.client(i).API.GetTx(ctx, &weftv1.GetTxRequest{Hash: th[:]})
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
		a, err := n.client(i).API.GetAccount(ctx, &weftv1.GetAccountRequest{Address: addr[:]})
		cancel()
		if err != nil || a.Account.Nonce != 0 || a.PendingNonce != 0 {
			t.Fatalf("node%d: refused bundles' sender is %v, %v; want nonce 0", i, a, err)
		}
	}
}

// TestKillNineUnderLoad kills one of four validators with SIGKILL while all
// four APIs take load, checks the other three keep committing, restarts it
// on the same home, and checks it catches up with identical blocks and app
// hashes and that every acknowledged tx, including those the killed node
// acknowledged just before dying, is committed exactly once.
func TestKillNineUnderLoad(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, portsKill, 4)
	const victim = 2
	survivors := []int{0, 1, 3}
	accounts := []int{0, 1, 2, 3, 4, 5, 6, 7}
	l := n.startLoad(loadOptions{
		accounts: accounts, nodeOf: func(k int) int { return k % 4 }, interval: 40 * time.Millisecond,
		actions: func(k int, nonce uint64) []*weftv1.Action {
			return []*weftv1.Action{client.RollupData(rollupNames[(k+int(nonce))%3], payload(k, nonce))}
		},
	})
	viaVictim := func(a ackedTx) bool { return a.node == victim }
	n.waitHeight(time.Minute, 5, n.all()...)
	n.waitFor(time.Minute, "load acknowledged by every node", func() error {
		for i := range n.nodes {
			if c := l.count(func(a ackedTx) bool { return a.node == i }); c < 25 {
				return fmt.Errorf("node%d acknowledged %d txs", i, c)
			}
		}
		return nil
	})

	hKill := n.maxHeight(survivors...)
	killedAt := time.Now()
	n.kill(victim)
	atKill := l.snapshot()
	var victimAcked [][32]byte
	for _, a := range atKill {
		if viaVictim(a) {
			victimAcked = append(victimAcked, a.hash)
		}
	}
	// How many of the dead node's acknowledged txs still need the network:
	// not committed yet, or (only its journal holds them) unknown to all.
	pending, onlyJournal := 0, 0
	for _, h := range victimAcked {
		unknown := 0
		for _, i := range survivors {
			ctx, cancel := nettest.RPCCtx()
			r, err := n.client(i).API.GetTx(ctx, &weftv1.GetTxRequest{Hash: h[:]})
			cancel()
			if err != nil {
				t.Fatalf("node%d GetTx: %v", i, err)
			}
			if i == survivors[0] && r.Status != weftv1.TxStatus_TX_STATUS_COMMITTED {
				pending++
			}
			if r.Status == weftv1.TxStatus_TX_STATUS_UNKNOWN {
				unknown++
			}
		}
		if unknown == len(survivors) {
			onlyJournal++
		}
	}
	t.Logf("killed node%d at height %d; it had acknowledged %d txs: %d not yet committed, %d known to no survivor",
		victim, hKill, len(victimAcked), pending, onlyJournal)

	afterKill := len(atKill)
	n.waitHeight(time.Minute, hKill+5, survivors...)
	n.waitFor(30*time.Second, "survivors acknowledging new txs", func() error {
		if c := l.count(func(a ackedTx) bool { return !viaVictim(a) }); c <= afterKill-len(victimAcked) {
			return fmt.Errorf("no new acknowledgements since the kill")
		}
		return nil
	})
	hRestart := n.maxHeight(survivors...)
	t.Logf("survivors went from height %d to %d in %v with node%d down", hKill, hRestart, time.Since(killedAt).Round(time.Millisecond), victim)

	n.start(victim)
	restartedAt := time.Now()
	n.waitHeight(2*time.Minute, hRestart, victim)
	t.Logf("node%d restarted and reached height %d in %v", victim, hRestart, time.Since(restartedAt).Round(time.Millisecond))
	before := l.count(viaVictim)
	n.waitFor(time.Minute, "restarted node acknowledging txs again", func() error {
		if c := l.count(viaVictim); c < before+10 {
			return fmt.Errorf("%d new acknowledgements", c-before)
		}
		return nil
	})
	l.halt()
	acked := l.snapshot()
	t.Logf("load: %d txs acknowledged (%d by node%d)", len(acked), l.count(viaVictim), victim)
	l.checkNoRejections(t, "load")

	res := n.waitCommitted(0, 2*time.Minute, hashesOf(acked))
	resVictim := n.waitCommitted(victim, 2*time.Minute, hashesOf(acked))
	var last int64
	for h, r := range res {
		last = max(last, r.Height)
		if !proto.Equal(r, resVictim[h]) {
			t.Fatalf("tx %x: node0 result %v, node%d result %v", h[:8], r, victim, resVictim[h])
		}
	}
	n.waitHeight(time.Minute, last+1, n.all()...)
	c := n.compareChains(last+1, n.all()...)
	checkExactlyOnce(t, c, acked)
	t.Logf("blocks 1..%d identical with equal app hashes on all 4 nodes; %d acknowledged txs each committed once", last+1, len(acked))
}

// TestFreshNodeSyncsFromGenesis wipes one validator's data (keeping its
// signing state), restarts it while the others keep taking txs, and checks
// that it syncs from genesis and reproduces every block, app hash and the
// state it reaches.
func TestFreshNodeSyncsFromGenesis(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, portsFreshNode, 4)
	const fresh = 3

	// State worth replaying: a rollup registered at runtime and used, rollup
	// data for every rollup, and transfers that create new accounts.
	reg := nettest.DevKey(t, 8)
	h0, err := n.submit(0, mustSign(t, n.chainID, reg, 0, client.RegisterRollup("delta", 4242)))
	if err != nil {
		t.Fatalf("register delta: %v", err)
	}
	n.waitCommitted(0, time.Minute, [][32]byte{h0})
	// Through the node that reported the registration committed: another
	// node may not have committed that block yet.
	h1, err := n.submit(0, mustSign(t, n.chainID, reg, 1, client.RollupData("delta", []byte("hello delta"))))
	if err != nil {
		t.Fatalf("data for delta: %v", err)
	}
	recipient := func(k int, nonce uint64) [20]byte {
		return common.BytesToAddress([]byte(fmt.Sprintf("recipient-%02d-%03d", k, nonce%5)))
	}
	mixed := func(base int) func(k int, nonce uint64) []*weftv1.Action {
		return func(k int, nonce uint64) []*weftv1.Action {
			if nonce%3 == 2 {
				return []*weftv1.Action{client.Transfer(recipient(base+k, nonce), uint256.NewInt(1_000+nonce))}
			}
			return []*weftv1.Action{client.RollupData(rollupNames[(k+int(nonce))%3], payload(base+k, nonce))}
		}
	}
	phase1 := n.startLoad(loadOptions{accounts: []int{0, 1, 2, 3}, nodeOf: func(k int) int { return k }, perSender: 30, interval: 20 * time.Millisecond, actions: mixed(0)})
	phase1.wait(time.Minute)
	n.waitCommitted(0, time.Minute, append(hashesOf(phase1.snapshot()), h1))
	n.waitHeight(time.Minute, 15, n.all()...)

	n.stop(fresh)
	ccfg, _, err := node.LoadConfig(n.nodes[fresh].info.Home)
	if err != nil {
		t.Fatal(err)
	}
	pvState, err := os.ReadFile(ccfg.PrivValidatorStateFile())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(ccfg.DBDir()); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(ccfg.DBDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	// Keeping the last-signed state means the wiped validator can never sign
	// twice at a height it already signed.
	if err := os.WriteFile(ccfg.PrivValidatorStateFile(), pvState, 0o600); err != nil {
		t.Fatal(err)
	}
	wiped := n.maxHeight(0, 1, 2)

	// The others keep taking txs while the wiped node is down and syncs.
	phase2 := n.startLoad(loadOptions{accounts: []int{4, 5, 6}, nodeOf: func(k int) int { return k }, interval: 50 * time.Millisecond, actions: mixed(4)})
	n.waitHeight(time.Minute, wiped+5, 0, 1, 2)
	n.start(fresh)
	restarted := time.Now()
	target := n.maxHeight(0, 1, 2)
	n.waitHeight(2*time.Minute, target, fresh)
	t.Logf("node%d wiped at height %d, synced from genesis to %d in %v", fresh, wiped, target, time.Since(restarted).Round(time.Millisecond))
	phase2.halt()
	phase1.checkNoRejections(t, "load before the wipe")
	phase2.checkNoRejections(t, "load during the sync")

	all := append(hashesOf(phase1.snapshot()), hashesOf(phase2.snapshot())...)
	all = append(all, h0, h1)
	res := n.waitCommitted(fresh, time.Minute, all)
	var last int64
	for _, r := range res {
		last = max(last, r.Height)
	}
	n.waitHeight(time.Minute, last+1, n.all()...)
	c := n.compareChains(last+1, fresh, 0, 1, 2)
	checkExactlyOnce(t, c, append(phase1.snapshot(), phase2.snapshot()...))

	// The rebuilt app state itself: its app hash, accounts and the runtime
	// rollup, compared with node0 at the same height.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := n.client(fresh).API.GetStatus(ctx, &weftv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	n.waitHeight(time.Minute, st.Height+1, 0)
	if want := n.block(0, st.Height+1).AppHash; !bytes.Equal(st.AppHash, want) {
		t.Fatalf("node%d's app hash after %d is %X, node0's header %d says %X", fresh, st.Height, st.AppHash, st.Height+1, want)
	}
	var addrs [][20]byte
	for _, a := range []int{0, 1, 2, 3, 4, 5, 6, 8} {
		addrs = append(addrs, nettest.AddrOf(nettest.DevKey(t, a)))
	}
	for k := 0; k < 4; k++ {
		addrs = append(addrs, recipient(k, 2))
	}
	n.waitFor(time.Minute, "accounts compared at one height", func() error {
		for _, addr := range addrs {
			a0, err := n.client(0).API.GetAccount(ctx, &weftv1.GetAccountRequest{Address: addr[:]})
			if err != nil {
				return err
			}
			a3, err := n.client(fresh).API.GetAccount(ctx, &weftv1.GetAccountRequest{Address: addr[:]})
			if err != nil {
				return err
			}
			if a0.Height != a3.Height {
				return fmt.Errorf("node0 at %d, node%d at %d", a0.Height, fresh, a3.Height)
			}
			if !proto.Equal(a0.Account, a3.Account) {
				t.Fatalf("account %x at height %d: node0 %v, node%d %v", addr, a0.Height, a0.Account, fresh, a3.Account)
			}
		}
		return nil
	})
	for _, i := range []int{0, fresh} {
		r, err := n.client(i).API.GetRollup(ctx, &weftv1.GetRollupRequest{Name: "delta"})
		if err != nil || r.Rollup.RegisteredHeight != res[h0].Height {
			t.Fatalf("node%d GetRollup(delta) = %v, %v; want registered at %d", i, r, err, res[h0].Height)
		}
	}
	// Informational: where CometBFT handed over from block sync to consensus.
	if log, err := os.ReadFile(n.nodes[fresh].Log); err == nil {
		runs := bytes.Split(log, []byte("==== e2e: weft start"))
		for _, line := range bytes.Split(runs[len(runs)-1], []byte("\n")) {
			if bytes.Contains(line, []byte("switch to consensus")) {
				t.Logf("node%d after the wipe: %s", fresh, line)
				break
			}
		}
	}
}

// TestBadInput checks that bad input is refused with its own error: through
// the CLI (insufficient balance, unknown rollup, malformed hash) and through
// SubmitTx (malformed bytes, bad signature, wrong chain id, replayed nonce,
// oversized tx), each a gRPC error naming its weft code.
func TestBadInput(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, portsBadInput, 1)
	api := n.nodes[0].info.API
	dev0 := nettest.DevKey(t, 0)
	keyFile := nettest.WriteKeyFile(t, "dev0", dev0)

	cli := []struct {
		name string
		args []string
		want []string
	}{
		{"transfer beyond balance", []string{"tx", "transfer", "--node", api, "--key-file", keyFile,
			"--to", "0x0000000000000000000000000000000000000001", "--amount", "20000000000000000000000"},
			[]string{"insufficient_funds", "balance"}},
		{"rollup-data for unknown rollup", []string{"tx", "rollup-data", "--node", api, "--key-file", keyFile, "--rollup", "nope", "--data", "hi"},
			[]string{"unknown_rollup", "not registered"}},
		{"query malformed tx hash", []string{"query", "tx", "0xzz", "--node", api},
			[]string{`tx hash "0xzz" must be 32 bytes of hex`}},
	}
	var stderrs []string
	for _, tc := range cli {
		stdout, stderr, code := runCLI(t, tc.args...)
		if code == 0 {
			t.Errorf("%s: weft %s exited 0\nstdout: %s", tc.name, strings.Join(tc.args, " "), stdout)
		}
		if !strings.HasPrefix(stderr, "Error: ") || strings.Contains(stderr, "Usage:") {
			t.Errorf("%s: stderr is not one clear error line: %q", tc.name, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q lacks %q", tc.name, stderr, w)
			}
		}
		stderrs = append(stderrs, strings.TrimSpace(stderr))
	}
	for i := range stderrs {
		for j := i + 1; j < len(stderrs); j++ {
			if stderrs[i] == stderrs[j] {
				t.Errorf("%s and %s print the same error", cli[i].name, cli[j].name)
			}
		}
	}
	t.Logf("CLI errors:\n  %s", strings.Join(stderrs, "\n  "))

	// A committed tx whose nonce is then replayed with different content.
	dev1 := nettest.DevKey(t, 1)
	first, err := n.submit(0, mustSign(t, n.chainID, dev1, 0, client.RollupData("alpha", []byte("first"))))
	if err != nil {
		t.Fatal(err)
	}
	n.waitCommitted(0, time.Minute, [][32]byte{first})

	valid := mustSign(t, n.chainID, dev1, 1, client.RollupData("beta", []byte("valid")))
	var stx weftv1.SignedTx
	if err := proto.Unmarshal(valid, &stx); err != nil {
		t.Fatal(err)
	}
	stx.Signature = append([]byte(nil), stx.Signature...)
	stx.Signature[64] += 27 // Ethereum-style v: not what Weft signs
	badSig, _ := proto.Marshal(&stx)

	api0 := []struct {
		name string
		raw  []byte
		code codes.Code
	}{
		{"malformed", []byte("definitely not a protobuf tx"), codes.InvalidArgument},
		{"malformed", nil, codes.InvalidArgument},
		{"bad_signature", badSig, codes.InvalidArgument},
		{"wrong_chain_id", mustSign(t, "not-"+n.chainID, dev1, 1, client.RollupData("beta", []byte("x"))), codes.InvalidArgument},
		{"nonce_too_low", mustSign(t, n.chainID, dev1, 0, client.RollupData("alpha", []byte("replayed"))), codes.FailedPrecondition},
		{"tx_too_large", mustSign(t, n.chainID, dev1, 1, client.RollupData("gamma", make([]byte, 1<<20))), codes.InvalidArgument},
	}
	for _, tc := range api0 {
		_, err := n.submit(0, tc.raw)
		st := status.Convert(err)
		if err == nil || st.Code() != tc.code || !strings.Contains(st.Message(), "("+tc.name+")") {
			t.Errorf("SubmitTx(%s, %d bytes) = %v; want %s naming (%s)", tc.name, len(tc.raw), err, tc.code, tc.name)
			continue
		}
		h := txcodec.TxHash(tc.raw)
		ctx, cancel := nettest.RPCCtx()
		r, err := n.client(0).API.GetTx(ctx, &weftv1.GetTxRequest{Hash: h[:]})
		cancel()
		if err != nil || r.Status != weftv1.TxStatus_TX_STATUS_UNKNOWN {
			t.Errorf("%s tx: GetTx = %v, %v; want UNKNOWN", tc.name, r, err)
		}
		t.Logf("%-15s %s", tc.name, st.Message())
	}

	// None of it moved dev0, and dev1's valid nonce-1 tx still goes through.
	ctx, cancel := nettest.RPCCtx()
	defer cancel()
	a0 := nettest.AddrOf(dev0)
	acc, err := n.client(0).API.GetAccount(ctx, &weftv1.GetAccountRequest{Address: a0[:]})
	if err != nil || acc.Account.Nonce != 0 || acc.PendingNonce != 0 {
		t.Errorf("dev0 after refused CLI txs: %v, %v; want nonce 0", acc, err)
	}
	ok, err := n.submit(0, valid)
	if err != nil {
		t.Fatalf("valid tx after the refusals: %v", err)
	}
	n.waitCommitted(0, time.Minute, [][32]byte{ok})
}
