package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/holiman/uint256"
	"google.golang.org/grpc/status"

	"github.com/weftnet/weft/devnet"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/test/e2e/nettest"
	"github.com/weftnet/weft/txcodec"
)

// rollupNames are registered at genesis in every test network.
var rollupNames = []string{"alpha", "beta", "gamma"}

// feeLimit is what every test tx offers: the CLI's default, far above the fee.
var feeLimit = uint256.NewInt(1_000_000_000_000_000)

// signTx signs a tx of acts the way the CLI does (same fee limit).
func signTx(chainID string, key *ecdsa.PrivateKey, nonce uint64, acts ...*weftv1.Action) ([]byte, error) {
	return txcodec.Sign(key, &weftv1.TxBody{ChainId: chainID, Nonce: nonce, FeeLimit: feeLimit.Bytes(), Actions: acts})
}

func mustSign(t *testing.T, chainID string, key *ecdsa.PrivateKey, nonce uint64, acts ...*weftv1.Action) []byte {
	t.Helper()
	raw, err := signTx(chainID, key, nonce, acts...)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return raw
}

// nodeProc is one validator process and a client of its node API.
type nodeProc struct {
	*nettest.Node
	idx  int
	info devnet.NodeInfo
}

// network is a local testnet whose validators run as `weft start` processes.
type network struct {
	nettest.Cluster
	t       *testing.T
	dir     string
	chainID string
	// base is the network's first port (see writeNetwork).
	base  int
	nodes []*nodeProc
}

// startNetwork writes a network of n validators with `weft testnet` and
// starts them all; it returns once every node has committed height 1.
func startNetwork(t *testing.T, validators int) *network {
	t.Helper()
	n := writeNetwork(t, validators)
	for i := range n.nodes {
		n.Start(i)
	}
	n.WaitHeight(90*time.Second, 1, n.All()...)
	return n
}

// block fetches committed block h from node i.
func (n *network) block(i int, h int64) *weftv1.GetBlockResponse {
	n.t.Helper()
	ctx, cancel := nettest.RPCCtx()
	defer cancel()
	b, err := n.Client(i).API.GetBlock(ctx, &weftv1.GetBlockRequest{Height: h})
	if err != nil {
		n.t.Fatalf("node%d GetBlock(%d): %v", i, h, err)
	}
	return b
}

// chain is blocks 1..H as one node serves them (index 0 is height 1).
type chain []*weftv1.GetBlockResponse

// at returns block h.
func (c chain) at(h int64) *weftv1.GetBlockResponse { return c[h-1] }

// compareChains fetches blocks 1..to from every node in idx and checks they
// are the same blocks (hash, time, proposer, tx list) carrying the same app
// hash, each starting with a well-formed commitment item. It returns the
// first node's chain.
func (n *network) compareChains(to int64, idx ...int) chain {
	n.t.Helper()
	var ref chain
	for h := int64(1); h <= to; h++ {
		want := n.block(idx[0], h)
		if want.Height != h {
			n.t.Fatalf("node%d GetBlock(%d) returned height %d", idx[0], h, want.Height)
		}
		if want.Commitment == nil {
			n.t.Fatalf("node%d block %d does not start with a commitment item", idx[0], h)
		}
		for _, i := range idx[1:] {
			got := n.block(i, h)
			switch {
			case !bytes.Equal(got.Hash, want.Hash):
				n.t.Fatalf("block %d: node%d has hash %X, node%d has %X", h, idx[0], want.Hash, i, got.Hash)
			case !bytes.Equal(got.AppHash, want.AppHash):
				n.t.Fatalf("block %d: node%d has app hash %X, node%d has %X", h, idx[0], want.AppHash, i, got.AppHash)
			case got.TimeUnixNano != want.TimeUnixNano || !bytes.Equal(got.Proposer, want.Proposer):
				n.t.Fatalf("block %d: header differs between node%d and node%d", h, idx[0], i)
			case !slices.EqualFunc(got.TxHashes, want.TxHashes, bytes.Equal):
				n.t.Fatalf("block %d: tx lists differ between node%d (%d txs) and node%d (%d txs)", h, idx[0], len(want.TxHashes), i, len(got.TxHashes))
			}
		}
		ref = append(ref, want)
	}
	return ref
}

// userTxs counts, over blocks 1..len(c), how often each user tx (every tx
// after the commitment item) was included.
func (c chain) userTxs() map[[32]byte][]int64 {
	seen := map[[32]byte][]int64{}
	for _, b := range c {
		for _, h := range b.TxHashes[1:] {
			seen[[32]byte(h)] = append(seen[[32]byte(h)], b.Height)
		}
	}
	return seen
}

// httpGet GETs url; the caller closes the body.
func httpGet(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}

// dataHash fetches block h's header data hash from node i's CometBFT RPC,
// independently of the node API that serves slices.
func (n *network) dataHash(i int, h int64) ([]byte, error) {
	ctx, cancel := nettest.RPCCtx()
	defer cancel()
	url := fmt.Sprintf("%s/header?height=%d", n.nodes[i].info.RPC, h)
	resp, err := httpGet(ctx, url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Result struct {
			Header struct {
				Height   string `json:"height"`
				DataHash string `json:"data_hash"`
			} `json:"header"`
		} `json:"result"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if len(r.Error) > 0 {
		return nil, fmt.Errorf("GET %s: %s", url, r.Error)
	}
	if r.Result.Header.Height != strconv.FormatInt(h, 10) {
		return nil, fmt.Errorf("GET %s: header of height %q", url, r.Result.Header.Height)
	}
	return hex.DecodeString(r.Result.Header.DataHash)
}

// slices streams rollup's slices of heights from..to from node i.
func (n *network) slices(i int, rollup string, from, to int64) []*weftv1.RollupSlice {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	id := rollups.IDFromName(rollup)
	st, err := n.Client(i).API.StreamRollupSlices(ctx, &weftv1.StreamRollupSlicesRequest{RollupId: id[:], FromHeight: from})
	if err != nil {
		n.t.Fatalf("node%d StreamRollupSlices(%s): %v", i, rollup, err)
	}
	var out []*weftv1.RollupSlice
	for h := from; h <= to; h++ {
		s, err := st.Recv()
		if err != nil {
			n.t.Fatalf("node%d stream %s at height %d: %v", i, rollup, h, err)
		}
		if s.Height != h {
			n.t.Fatalf("node%d stream %s: got height %d, want %d", i, rollup, s.Height, h)
		}
		out = append(out, s)
	}
	return out
}

// verifySlices checks every slice against the data hash that node rpcNode's
// CometBFT RPC reports for its height, and against the block hash in c.
func (n *network) verifySlices(ss []*weftv1.RollupSlice, rpcNode int, c chain) {
	n.t.Helper()
	for _, s := range ss {
		dh, err := n.dataHash(rpcNode, s.Height)
		if err != nil {
			n.t.Fatalf("data hash of %d from node%d: %v", s.Height, rpcNode, err)
		}
		if err := rollups.VerifySlice(s, dh); err != nil {
			n.t.Fatalf("slice at height %d does not verify against node%d's header: %v", s.Height, rpcNode, err)
		}
		if c != nil && !bytes.Equal(s.BlockHash, c.at(s.Height).Hash) {
			n.t.Fatalf("slice at height %d names block %X, chain has %X", s.Height, s.BlockHash, c.at(s.Height).Hash)
		}
	}
}

// submit sends raw to node i.
func (n *network) submit(i int, raw []byte) ([32]byte, error) {
	ctx, cancel := nettest.RPCCtx()
	defer cancel()
	return n.Client(i).Submit(ctx, raw)
}

// waitCommitted waits until node i reports every hash COMMITTED and returns
// the results.
func (n *network) waitCommitted(i int, timeout time.Duration, hashes [][32]byte) map[[32]byte]*weftv1.TxResult {
	n.t.Helper()
	res := map[[32]byte]*weftv1.TxResult{}
	n.WaitFor(timeout, fmt.Sprintf("%d txs committed on node%d", len(hashes), i), func() error {
		statuses := map[string]int{}
		var example string
		for _, h := range hashes {
			if res[h] != nil {
				continue
			}
			ctx, cancel := nettest.RPCCtx()
			r, err := n.Client(i).API.GetTx(ctx, &weftv1.GetTxRequest{Hash: h[:]})
			cancel()
			if err != nil {
				return fmt.Errorf("GetTx: %v", err)
			}
			if r.Status == weftv1.TxStatus_TX_STATUS_COMMITTED {
				res[h] = r.Result
				continue
			}
			statuses[r.Status.String()]++
			if example == "" {
				example = fmt.Sprintf("%x %s %s", h[:6], r.Status, r.Log)
			}
		}
		if len(res) == len(hashes) {
			return nil
		}
		return fmt.Errorf("%d of %d committed; others %v (e.g. %s)", len(res), len(hashes), statuses, example)
	})
	return res
}

// ackedTx is a tx some node's SubmitTx acknowledged.
type ackedTx struct {
	hash      [32]byte
	sender    int // index in loadOptions.accounts
	node      int
	nonce     uint64
	acts      []*weftv1.Action
	submitted time.Time // when the first SubmitTx of these bytes began
}

// loadOptions describe a load: accounts[k] sends through node nodeOf(k).
type loadOptions struct {
	accounts  []int // dev account indexes, each starting at nonce 0
	nodeOf    func(k int) int
	perSender int           // txs per sender; 0 sends until stopped
	interval  time.Duration // pause between one sender's txs
	actions   func(k int, nonce uint64) []*weftv1.Action
}

// load drives txs into the network, one goroutine per sender. A sender
// resubmits the same bytes until a node acknowledges them (resubmitting is
// idempotent), so its nonces stay consecutive across node failures.
type load struct {
	n    *network
	stop chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	acked []ackedTx
	errs  map[string]int
	fatal error
}

func (n *network) startLoad(o loadOptions) *load {
	l := &load{n: n, stop: make(chan struct{}), errs: map[string]int{}}
	keys := make([]*ecdsa.PrivateKey, len(o.accounts))
	for k, a := range o.accounts {
		keys[k] = nettest.DevKey(n.t, a)
	}
	for k := range o.accounts {
		l.wg.Add(1)
		go l.send(k, keys[k], o)
	}
	n.t.Cleanup(l.halt)
	return l
}

func (l *load) send(k int, key *ecdsa.PrivateKey, o loadOptions) {
	defer l.wg.Done()
	node := o.nodeOf(k)
	for nonce := uint64(0); o.perSender == 0 || nonce < uint64(o.perSender); nonce++ {
		acts := o.actions(k, nonce)
		raw, err := signTx(l.n.chainID, key, nonce, acts...)
		if err != nil {
			l.mu.Lock()
			l.fatal = err
			l.mu.Unlock()
			return
		}
		start := time.Now()
		for {
			h, err := l.n.submit(node, raw)
			if err == nil {
				l.mu.Lock()
				l.acked = append(l.acked, ackedTx{hash: h, sender: k, node: node, nonce: nonce, acts: acts, submitted: start})
				l.mu.Unlock()
				break
			}
			st := status.Convert(err)
			msg := st.Message()
			if len(msg) > 90 {
				msg = msg[:90]
			}
			l.mu.Lock()
			l.errs[fmt.Sprintf("node%d %s: %s", node, st.Code(), msg)]++
			l.mu.Unlock()
			select {
			case <-l.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		var pause <-chan time.Time
		if o.interval > 0 {
			pause = time.After(o.interval)
		} else {
			c := make(chan time.Time)
			close(c)
			pause = c
		}
		select {
		case <-l.stop:
			return
		case <-pause:
		}
	}
}

// halt stops every sender and waits for them; safe to call twice.
func (l *load) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// wait waits for a bounded load to finish sending.
func (l *load) wait(timeout time.Duration) {
	l.n.t.Helper()
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		l.halt()
		l.n.t.Fatalf("load did not finish sending within %v (%d acknowledged; errors %v)", timeout, len(l.snapshot()), l.errors())
	}
	if err := l.fatalErr(); err != nil {
		l.n.t.Fatal(err)
	}
}

func (l *load) snapshot() []ackedTx {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.acked)
}

func (l *load) errors() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for k, v := range l.errs {
		out[k] = v
	}
	return out
}

// checkNoRejections fails t if a node refused one of the load's txs: the
// load only sends valid txs with consecutive nonces, so a rejection is a bug.
// Transport errors (a slow or restarting node) were retried and are logged.
func (l *load) checkNoRejections(t *testing.T, what string) {
	t.Helper()
	var transport []string
	for e, c := range l.errors() {
		if strings.Contains(e, "weft code") {
			t.Errorf("%s: a node rejected a valid tx %d times: %s", what, c, e)
		} else {
			transport = append(transport, fmt.Sprintf("%dx %s", c, e))
		}
	}
	if len(transport) > 0 {
		sort.Strings(transport)
		t.Logf("%s: retried after transport errors: %s", what, strings.Join(transport, "; "))
	}
}

func (l *load) fatalErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}

// count is how many acknowledged txs match f.
func (l *load) count(f func(a ackedTx) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := 0
	for _, a := range l.acked {
		if f(a) {
			c++
		}
	}
	return c
}

func hashesOf(as []ackedTx) [][32]byte {
	out := make([][32]byte, len(as))
	for i, a := range as {
		out[i] = a.hash
	}
	return out
}

// checkExactlyOnce checks that every acknowledged tx is in c exactly once
// and that no user tx appears twice.
func checkExactlyOnce(t *testing.T, c chain, acked []ackedTx) {
	t.Helper()
	seen := c.userTxs()
	for h, hs := range seen {
		if len(hs) != 1 {
			t.Errorf("tx %x included %d times, at heights %v", h[:8], len(hs), hs)
		}
	}
	for _, a := range acked {
		if len(seen[a.hash]) == 0 {
			t.Errorf("acknowledged tx %x (sender %d nonce %d via node%d) is in no block", a.hash[:8], a.sender, a.nonce, a.node)
		}
	}
}

// quantile returns the q-quantile (nearest rank) of ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// blockInterval is the mean time between blocks from..to of c.
func (c chain) blockInterval(from, to int64) time.Duration {
	if to <= from {
		return 0
	}
	d := c.at(to).TimeUnixNano - c.at(from).TimeUnixNano
	return time.Duration(d / (to - from))
}

// runCLI runs the weft binary and returns its stdout, stderr and exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return nettest.RunCLI(t, 60*time.Second, weftBin, args...)
}
