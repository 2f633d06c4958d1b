package nettest

import (
	"crypto/sha256"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/consensus"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// LoadOptions configure a Load.
type LoadOptions struct {
	// Accounts are the indexes in Network.Accounts the load signs with, one
	// sender goroutine each (default: every account). An account must not
	// be used by anything else while the load runs.
	Accounts []int
	// Interval is each sender's pause between txs (default 500 ms).
	Interval time.Duration
	// DuplicateEvery: every k-th tx of a sender is also submitted to every
	// other running node (default 4; negative never).
	DuplicateEvery int
	// Nodes returns the nodes a sender may submit to (default: running
	// nodes). A sender keeps to one node, (account index) mod N among them,
	// and moves to the next only when that node refuses a tx.
	Nodes func() []int
}

// Acked is a tx a node acknowledged.
type Acked struct {
	Hash   [32]byte
	Raw    []byte
	Sender common.Address
	Nonce  uint64
	Node   int // the first node that acknowledged it
}

// Load submits signed txs (transfers and rollup data) from funded accounts
// to the nodes, each sender in nonce order moving on only once a node
// acknowledged its tx, and keeps every acknowledged tx: each must commit
// exactly once (CheckExactlyOnce).
type Load struct {
	nw   *Network
	o    LoadOptions
	stop chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	acked    map[[32]byte]*Acked
	rejected map[string]int
	extra    int // acks of duplicate submissions
	stopped  bool
}

// StartLoad starts a load; the test's cleanup stops it.
func (nw *Network) StartLoad(o LoadOptions) *Load {
	if o.Accounts == nil {
		for i := range nw.Accounts {
			o.Accounts = append(o.Accounts, i)
		}
	}
	if o.Interval == 0 {
		o.Interval = 500 * time.Millisecond
	}
	if o.DuplicateEvery == 0 {
		o.DuplicateEvery = 4
	}
	if o.Nodes == nil {
		o.Nodes = nw.Running
	}
	l := &Load{nw: nw, o: o, stop: make(chan struct{}), acked: map[[32]byte]*Acked{}, rejected: map[string]int{}}
	for _, k := range o.Accounts {
		nonce := uint64(0)
		for _, i := range nw.Running() {
			if nw.Nodes[i].WithApp(func(a *consensus.App) { nonce = a.Reader().Account(nw.Accounts[k].Addr).Nonce }) {
				break
			}
		}
		l.wg.Add(1)
		go l.send(k, nonce)
	}
	nw.t.Cleanup(l.Stop)
	return l
}

// Stop stops submitting and waits for the senders.
func (l *Load) Stop() {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	l.stopped = true
	l.mu.Unlock()
	close(l.stop)
	l.wg.Wait()
}

func (l *Load) send(k int, nonce uint64) {
	defer l.wg.Done()
	nw := l.nw
	acct := nw.Accounts[k]
	rng := rand.New(rand.NewSource(nw.Seed + int64(k+1)*1_000_003))
	tick := time.NewTicker(l.o.Interval)
	defer tick.Stop()
	var raw []byte
	var sent, attempt int
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		if raw == nil {
			raw = nw.SignTx(acct.Key, nonce, l.actions(rng)...)
			sent++
			attempt = 0
		}
		nodes := l.o.Nodes()
		if len(nodes) == 0 {
			continue
		}
		target := nodes[(k+attempt)%len(nodes)]
		h, rej := nw.Nodes[target].Submit(raw)
		if rej != nil {
			l.reject(rej.Code)
			attempt++
			continue
		}
		l.mu.Lock()
		l.acked[h] = &Acked{Hash: h, Raw: raw, Sender: acct.Addr, Nonce: nonce, Node: target}
		l.mu.Unlock()
		if l.o.DuplicateEvery > 0 && sent%l.o.DuplicateEvery == 0 {
			for _, other := range nodes {
				if other == target {
					continue
				}
				if _, rej := nw.Nodes[other].Submit(raw); rej == nil {
					l.mu.Lock()
					l.extra++
					l.mu.Unlock()
				} else {
					l.reject(rej.Code)
				}
			}
		}
		nonce++
		raw = nil
	}
}

// actions are a transfer to one of the load's accounts, rollup data, or
// both.
func (l *Load) actions(rng *rand.Rand) []*weftv1.Action {
	to := l.nw.Accounts[l.o.Accounts[rng.Intn(len(l.o.Accounts))]].Addr
	data := make([]byte, 16+rng.Intn(240))
	rng.Read(data)
	rollup := []string{"alpha", "beta"}[rng.Intn(2)]
	switch rng.Intn(3) {
	case 0:
		return []*weftv1.Action{Transfer(to, uint64(1+rng.Intn(1000)))}
	case 1:
		return []*weftv1.Action{RollupData(rollup, data)}
	default:
		return []*weftv1.Action{RollupData(rollup, data), Transfer(to, 1)}
	}
}

// Submit hands raw to node i outside the senders and, if the node
// acknowledges it, keeps it with the load's txs (its sender must be an
// account no sender uses).
func (l *Load) Submit(i int, raw []byte) *txcodec.Rejection {
	h, rej := l.nw.Nodes[i].Submit(raw)
	if rej != nil {
		l.reject(rej.Code)
		return rej
	}
	tx, derr := consensus.DecodeTx(raw, consensus.Limits{ChainID: l.nw.ChainID, MaxTxBytes: l.nw.Params.MaxTxBytes, MaxActions: l.nw.Params.MaxActions})
	a := &Acked{Hash: h, Raw: raw, Node: i}
	if derr == nil {
		a.Sender, a.Nonce = tx.Sender, tx.Body.Nonce
	}
	l.mu.Lock()
	l.acked[h] = a
	l.mu.Unlock()
	return nil
}

// AckedBy counts the txs node i acknowledged first.
func (l *Load) AckedBy(i int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, a := range l.acked {
		if a.Node == i {
			n++
		}
	}
	return n
}

func (l *Load) reject(code uint32) {
	name := txcodec.CodeName(code)
	if code == codeNodeDown {
		name = "node_down"
	}
	l.mu.Lock()
	l.rejected[name]++
	l.mu.Unlock()
}

// Acked returns the acknowledged txs.
func (l *Load) Acked() []*Acked {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*Acked, 0, len(l.acked))
	for _, a := range l.acked {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Sender != out[j].Sender {
			return out[i].Sender.Cmp(out[j].Sender) < 0
		}
		return out[i].Nonce < out[j].Nonce
	})
	return out
}

// Summary counts acknowledged txs, duplicate acks and rejections by code.
func (l *Load) Summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var rej []string
	for c, n := range l.rejected {
		rej = append(rej, fmt.Sprintf("%s=%d", c, n))
	}
	sort.Strings(rej)
	return fmt.Sprintf("acked %d (plus %d duplicate acks), rejected {%s}", len(l.acked), l.extra, strings.Join(rej, " "))
}

// WaitCommitted waits until node n's app has a result for every
// acknowledged tx.
func (l *Load) WaitCommitted(n *Node, timeout time.Duration) {
	l.nw.t.Helper()
	acked := l.Acked()
	var missing []*Acked
	ok := WaitFor(timeout, func() bool {
		missing = missing[:0]
		n.WithApp(func(a *consensus.App) {
			for _, t := range acked {
				if a.Reader().TxResult(t.Hash) == nil {
					missing = append(missing, t)
				}
			}
		})
		return n.Running() && len(missing) == 0
	})
	if ok {
		return
	}
	var b strings.Builder
	for i, t := range missing {
		if i == 10 {
			fmt.Fprintf(&b, "  ... and %d more\n", len(missing)-10)
			break
		}
		fmt.Fprintf(&b, "  %x sender %s nonce %d acked by node%d;", t.Hash[:8], t.Sender, t.Nonce, t.Node)
		for _, m := range l.nw.Nodes {
			m.WithApp(func(a *consensus.App) {
				if why, ok := a.DroppedReason(t.Hash); ok {
					fmt.Fprintf(&b, " node%d dropped it: %s;", m.Index, why)
				}
				fmt.Fprintf(&b, " node%d account nonce %d;", m.Index, a.Reader().Account(t.Sender).Nonce)
			})
		}
		b.WriteString("\n")
	}
	l.nw.t.Fatalf("%d of %d acknowledged txs not committed on node%d within %v (%s):\n%s%s", len(missing), len(acked), n.Index, timeout, l.Summary(), b.String(), l.nw.Status())
}

// CheckExactlyOnce scans node n's block store: no tx is in two places, every
// acknowledged tx is in exactly one, and the app's result for it names that
// place. It returns the number of acknowledged txs checked.
func (l *Load) CheckExactlyOnce(n *Node) int {
	l.nw.t.Helper()
	type place struct {
		height int64
		index  int
	}
	seen := map[[32]byte][]place{}
	top := n.BlockHeight()
	for h := int64(1); h <= top; h++ {
		b := n.Block(h)
		if b == nil {
			l.nw.t.Fatalf("node%d: no block %d", n.Index, h)
		}
		for i, tx := range b.Data.Txs {
			if i == 0 && rollups.IsCommitment(tx) {
				continue
			}
			hash := sha256.Sum256(tx)
			seen[hash] = append(seen[hash], place{h, i})
		}
	}
	for h, ps := range seen {
		if len(ps) > 1 {
			l.nw.t.Errorf("node%d: tx %x is in the chain %d times: %v", n.Index, h[:8], len(ps), ps)
		}
	}
	acked := l.Acked()
	n.WithApp(func(a *consensus.App) {
		for _, t := range acked {
			ps := seen[t.Hash]
			if len(ps) != 1 {
				l.nw.t.Errorf("node%d: acknowledged tx %x (sender %s nonce %d) is in the chain %d times up to height %d", n.Index, t.Hash[:8], t.Sender, t.Nonce, len(ps), top)
				continue
			}
			r := a.Reader().TxResult(t.Hash)
			if r == nil || r.Height != ps[0].height || int(r.Index) != ps[0].index {
				l.nw.t.Errorf("node%d: acknowledged tx %x is at %d/%d in the chain but its result says %v", n.Index, t.Hash[:8], ps[0].height, ps[0].index, r)
			}
		}
	})
	return len(acked)
}
