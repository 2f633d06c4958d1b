package p2p

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// fakePool stands in for a node's mempool behind the tx topic: a tx is
// valid when it starts with "ok", invalid (a peer fault) when it starts with
// "bad"; a valid tx is accepted once. insert stands for decoding the tx and
// recovering its signature; known is the check by hash that comes first.
type fakePool struct {
	mu      sync.Mutex
	calls   map[string]int // insert calls per tx
	pending map[[32]byte]bool
	bad     int
	inserts int // insert calls in all: signature recoveries
}

func newFakePool() *fakePool { return &fakePool{calls: map[string]int{}, pending: map[[32]byte]bool{}} }

func (p *fakePool) insert(raw []byte) TxResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inserts++
	if bytes.HasPrefix(raw, []byte("bad")) {
		p.bad++
		return TxInvalid
	}
	p.calls[string(raw)]++
	if p.calls[string(raw)] > 1 {
		return TxKnown
	}
	p.pending[sha256.Sum256(raw)] = true
	return TxAccepted
}

func (p *fakePool) known(h [32]byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending[h]
}

func (p *fakePool) insertCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inserts
}

func (p *fakePool) snapshot() (accepted, dupCalls, bad int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.calls {
		accepted++
		dupCalls += c - 1
	}
	return accepted, dupCalls, p.bad
}

type gossipNode struct {
	f    *Feed
	g    *TxGossip
	pool *fakePool
}

func newGossipNode(t *testing.T, chainID string, sc StandingConfig, peers ...*gossipNode) *gossipNode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var infos []peer.AddrInfo
	for _, p := range peers {
		infos = append(infos, peer.AddrInfo{ID: p.f.ID(), Addrs: p.f.host.Addrs()})
	}
	f, err := NewFeed(ctx, key, []string{"/ip4/127.0.0.1/udp/0/quic-v1"}, infos, WithStanding(sc))
	if err != nil {
		t.Fatal(err)
	}
	n := &gossipNode{f: f, pool: newFakePool()}
	n.g, err = f.GossipTxs(ctx, chainID, n.pool.insert, WithKnownTxs(n.pool.known))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := n.g.Close(); err != nil {
			t.Errorf("close gossip: %v", err)
		}
		f.Close()
	})
	return n
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

func hasPeers(g *TxGossip, want ...*gossipNode) func() bool {
	return func() bool {
		ps := g.Peers()
		for _, w := range want {
			if !slices.Contains(ps, w.f.ID()) {
				return false
			}
		}
		return true
	}
}

func txs(prefix string, from, to int) [][]byte {
	var out [][]byte
	for i := from; i < to; i++ {
		out = append(out, []byte(fmt.Sprintf("%s tx %05d %s", prefix, i, bytes.Repeat([]byte{'x'}, 200))))
	}
	return out
}

// TestTxGossipRelaysValidOnceAndBansInvalidSenders runs four hosts on
// loopback: three honest validators, fully connected, and a flooder
// connected to one of them.
func TestTxGossipRelaysValidOnceAndBansInvalidSenders(t *testing.T) {
	const chain = "weft-test"
	sc := StandingConfig{}
	a := newGossipNode(t, chain, sc)
	b := newGossipNode(t, chain, sc, a)
	c := newGossipNode(t, chain, sc, a, b)
	waitUntil(t, 20*time.Second, "topic peers", func() bool {
		return hasPeers(a.g, b, c)() && hasPeers(b.g, a, c)() && hasPeers(c.g, a, b)()
	})

	// Valid txs published by a reach b and c, and each tx is handed to
	// their mempools exactly once although b and c also relay to each other.
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		if err := a.g.Publish(ctx, txs("ok a", i*50, i*50+50)); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []*gossipNode{b, c} {
		waitUntil(t, 20*time.Second, "500 txs delivered", func() bool { acc, _, _ := n.pool.snapshot(); return acc == 500 })
	}
	// Relays still in flight stop at gossipsub's seen cache: no tx is
	// handed to a mempool twice, at any instant.
	for name, n := range map[string]*gossipNode{"b": b, "c": c} {
		if acc, dup, bad := n.pool.snapshot(); acc != 500 || dup != 0 || bad != 0 {
			t.Fatalf("%s: accepted %d, duplicate inserts %d, bad %d", name, acc, dup, bad)
		}
	}
	if acc, _, _ := a.pool.snapshot(); acc != 0 {
		t.Fatalf("the publisher re-inserted its own txs: %d", acc)
	}
	// The counters say the same: each of the 10 messages validated once by
	// b and c; a relayed copy (at most one each, from the other) is counted
	// as a duplicate.
	for name, n := range map[string]*gossipNode{"b": b, "c": c} {
		if st := n.f.Stats(); st.Received != 10 || st.ReceivedBytes == 0 || st.Duplicates > 10 {
			t.Fatalf("%s: received %d messages (%d bytes), %d duplicates; want 10 and at most 10", name, st.Received, st.ReceivedBytes, st.Duplicates)
		}
	}
	// The publisher's own messages are not counted as received.
	if st := a.f.Stats(); st.Received != 0 {
		t.Fatalf("a counted %d of its own messages as received", st.Received)
	}

	// A flooder joins through a and sends batches holding an invalid tx.
	fl := newGossipNode(t, chain, sc, a)
	waitUntil(t, 20*time.Second, "flooder in the topic", hasPeers(fl.g, a))
	sent := 0
	for i := 0; !a.f.IsBanned(fl.f.ID()); i++ {
		if i > 10_000 {
			t.Fatal("flooder not banned after 10,000 messages")
		}
		batch := append(txs("ok flood", i*2, i*2+1), []byte(fmt.Sprintf("bad %d", i)))
		if err := fl.g.Publish(ctx, batch); err != nil {
			t.Fatal(err)
		}
		sent++
		// Pace the flooder only by a's verdicts: no sleeping.
		waitUntil(t, 10*time.Second, "a judges the message", func() bool {
			_, _, bad := a.pool.snapshot()
			return bad >= sent || a.f.IsBanned(fl.f.ID())
		})
	}
	_, _, badA := a.pool.snapshot()
	// The 10th invalid message (BanAt/InvalidPenalty) bans; the loop may
	// have sent an 11th between a's insert and its verdict.
	if badA < 10 || badA > 11 {
		t.Fatalf("a judged %d invalid messages before the ban, want 10", badA)
	}
	// a dropped the flooder's connection and refuses new ones.
	waitUntil(t, 10*time.Second, "flooder disconnected", func() bool {
		return len(a.f.host.Network().ConnsToPeer(fl.f.ID())) == 0
	})
	// The flooder may not have seen its connection close yet (Connect is
	// then a no-op): it keeps trying until a refuses it.
	waitUntil(t, 10*time.Second, "a refuses the flooder's reconnection", func() bool {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_ = fl.f.Connect(cctx, peer.AddrInfo{ID: a.f.ID(), Addrs: a.f.host.Addrs()})
		return a.f.Stats().RefusedConnect > 0
	})
	waitUntil(t, 10*time.Second, "reconnection closed", func() bool {
		return len(a.f.host.Network().ConnsToPeer(fl.f.ID())) == 0
	})
	if st := a.f.Stats(); st.Bans != 1 || st.RefusedConnect == 0 {
		t.Fatalf("stats after the ban: %+v", st)
	}
	// Nothing the flooder sent went further than a: the batches with an
	// invalid tx were rejected, not relayed.
	for name, n := range map[string]*gossipNode{"b": b, "c": c} {
		if acc, _, bad := n.pool.snapshot(); acc != 500 || bad != 0 {
			t.Fatalf("%s saw flood traffic: accepted %d, bad %d", name, acc, bad)
		}
	}
	// Honest gossip still flows.
	if err := b.g.Publish(ctx, txs("ok b", 0, 20)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "b's txs at a and c", func() bool {
		accA, _, _ := a.pool.snapshot()
		accC, _, _ := c.pool.snapshot()
		return accA >= 20 && accC == 520
	})
}

// TestTxGossipRateLimit: a peer over its message budget has its messages
// dropped before validation, and keeps being dropped until it slows down.
func TestTxGossipRateLimit(t *testing.T) {
	const chain = "weft-test"
	a := newGossipNode(t, chain, StandingConfig{RateMsgs: 20, Burst: time.Second, RatePenalty: 0.001})
	b := newGossipNode(t, chain, StandingConfig{}, a)
	waitUntil(t, 20*time.Second, "topic peers", func() bool { return hasPeers(b.g, a)() && hasPeers(a.g, b)() })
	ctx := context.Background()
	const msgs = 200
	for i := 0; i < msgs; i++ {
		if err := b.g.Publish(ctx, txs("ok b", i, i+1)); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, 20*time.Second, "a drops over-budget RPCs", func() bool { return a.f.Stats().DroppedOver > 0 })
	acc, _, _ := a.pool.snapshot()
	if acc >= msgs {
		t.Fatalf("a took all %d messages from a peer with a 20 msg/s budget", acc)
	}
	if a.f.IsBanned(b.f.ID()) {
		t.Fatal("a tiny rate penalty banned the peer")
	}
	t.Logf("a took %d of %d messages sent at once; stats %+v", acc, msgs, a.f.Stats())
}

// penalty is p's penalty at n, and whether n has banned it.
func penalty(n *gossipNode, p peer.ID) (float64, bool) {
	n.f.smu.Lock()
	defer n.f.smu.Unlock()
	now := n.f.now()
	return n.f.standing.Penalty(p, now), n.f.standing.IsBanned(p, now)
}

// floodUntilBanned publishes batch(i) from fl, i = 0, 1, ..., each once a
// has charged the previous one, until a bans fl; it returns how many
// batches that took.
func floodUntilBanned(t *testing.T, a, fl *gossipNode, limit int, batch func(i int) [][]byte) int {
	t.Helper()
	ctx := context.Background()
	for i := 0; ; i++ {
		if i >= limit {
			pen, _ := penalty(a, fl.f.ID())
			t.Fatalf("not banned after %d batches (penalty %.1f)", limit, pen)
		}
		before, _ := penalty(a, fl.f.ID())
		if err := fl.g.Publish(ctx, batch(i)); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 10*time.Second, "a charges the batch", func() bool {
			pen, banned := penalty(a, fl.f.ID())
			return banned || pen > before
		})
		if _, banned := penalty(a, fl.f.ID()); banned {
			return i + 1
		}
	}
}

// TestTxGossipMetersPerTx: gossip is charged per tx. A peer replaying
// known txs is banned within a few batches, and its txs are recognised by
// hash, never decoded; a batch repeating a tx is invalid; a peer sending
// txs that can never be valid is banned after ten batches, each costing
// one decoding. An honest peer relaying now and then a tx the receiver
// already has keeps its standing.
func TestTxGossipMetersPerTx(t *testing.T) {
	const chain = "weft-test"
	sc := StandingConfig{}
	a := newGossipNode(t, chain, sc)
	b := newGossipNode(t, chain, sc, a)
	ctx := context.Background()
	waitUntil(t, 20*time.Second, "topic peers", func() bool { return hasPeers(a.g, b)() && hasPeers(b.g, a)() })
	// b relays 2,000 txs to a; a decodes each once.
	honest := txs("ok b", 0, 2000)
	if err := b.g.Publish(ctx, honest); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "2,000 txs at a", func() bool { acc, _, _ := a.pool.snapshot(); return acc == 2000 })
	if n := a.pool.insertCalls(); n != 2000 {
		t.Fatalf("a decoded %d txs for 2,000 new ones", n)
	}

	// A peer replays them, in batches of 2,000 known txs (10 points
	// each), each batch in another order so that gossipsub's seen cache
	// does not stop it.
	replayer := newGossipNode(t, chain, sc, a)
	waitUntil(t, 20*time.Second, "replayer in the topic", hasPeers(replayer.g, a))
	batches := floodUntilBanned(t, a, replayer, 50, func(i int) [][]byte {
		out := slices.Clone(honest)
		out[0], out[1+i] = out[1+i], out[0]
		return out
	})
	if batches > 11 {
		t.Fatalf("replayer banned after %d batches of 2,000 known txs, want 10", batches)
	}
	if n := a.pool.insertCalls(); n != 2000 {
		t.Fatalf("a decoded %d known txs from the replayer", n-2000)
	}
	t.Logf("replayer of known txs banned after %d batches of 2,000", batches)

	// A batch holding the same tx twice is invalid: rejected before any
	// tx is looked at.
	repeater := newGossipNode(t, chain, sc, a)
	waitUntil(t, 20*time.Second, "repeater in the topic", hasPeers(repeater.g, a))
	batches = floodUntilBanned(t, a, repeater, 50, func(i int) [][]byte {
		tx := txs("ok repeat", i, i+1)[0]
		return [][]byte{tx, tx}
	})
	if batches > 11 || a.pool.insertCalls() != 2000 {
		t.Fatalf("repeater banned after %d batches, %d txs decoded", batches, a.pool.insertCalls()-2000)
	}

	// A peer sending txs that can never be valid (unfunded senders, in a
	// node) is banned after ten batches; each batch stops at its first tx.
	nopay := newGossipNode(t, chain, sc, a)
	waitUntil(t, 20*time.Second, "unfunded flooder in the topic", hasPeers(nopay.g, a))
	batches = floodUntilBanned(t, a, nopay, 50, func(i int) [][]byte { return txs(fmt.Sprintf("bad %d", i), 0, 1000) })
	if decoded := a.pool.insertCalls() - 2000; batches > 11 || decoded != batches {
		t.Fatalf("unfunded flooder banned after %d batches of 1,000, %d txs decoded", batches, decoded)
	}

	// b, honest, keeps relaying new txs with a few a already has (another
	// validator relayed them first): its standing barely moves.
	for i := 0; i < 20; i++ {
		batch := append(txs("ok b more", i*50, i*50+50), honest[i*5:i*5+5]...)
		if err := b.g.Publish(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, 20*time.Second, "b's new txs at a", func() bool { acc, _, _ := a.pool.snapshot(); return acc == 3000 })
	if pen, banned := penalty(a, b.f.ID()); banned || pen > 1 {
		t.Fatalf("honest relayer: penalty %.2f, banned %v", pen, banned)
	}
	if st := a.f.Stats(); st.Bans != 3 {
		t.Fatalf("bans %d, want 3", st.Bans)
	}
}
