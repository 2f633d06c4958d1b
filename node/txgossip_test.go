package node

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"math"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cryptoenc "github.com/cometbft/cometbft/crypto/encoding"
	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/p2p"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/txcodec"
)

const gossipChain = "weft-gossip-test"

// gossipApp is an initialised App with funded accounts, behind a Node that
// has only it (all the tx topic's callbacks use).
func gossipApp(t testing.TB, funded ...*ecdsa.PrivateKey) *Node {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := consensus.OpenStore("", logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	app, err := consensus.NewApp(store, consensus.DefaultConfig(), logger)
	if err != nil {
		t.Fatal(err)
	}
	doc := &genesis.Doc{
		ChainID:       gossipChain,
		GenesisTime:   time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		Validators:    []genesis.Validator{{Name: "v0", PubKey: hex.EncodeToString(secp256k1eth.GenPrivKey().PubKey().Bytes()), Power: 10}},
		AppState:      genesis.AppState{Params: genesis.DefaultParams()},
		BlockMaxBytes: genesis.DefaultBlockMaxBytes,
	}
	for _, k := range funded {
		doc.AppState.Accounts = append(doc.AppState.Accounts, genesis.Account{Address: ethcrypto.PubkeyToAddress(k.PublicKey).Hex(), Balance: "1000000000000000000"})
	}
	g, err := doc.ToCometBFT()
	if err != nil {
		t.Fatal(err)
	}
	var vals []abci.ValidatorUpdate
	for _, v := range g.Validators {
		pk, err := cryptoenc.PubKeyToProto(v.PubKey)
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, abci.ValidatorUpdate{PubKey: pk, Power: v.Power})
	}
	if _, err := app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: g.ChainID, InitialHeight: 1, AppStateBytes: g.AppState, Validators: vals}); err != nil {
		t.Fatal(err)
	}
	return &Node{app: app}
}

func newTestKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ethcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signedTransfers signs n transfers from k, nonces from first on.
func signedTransfers(t testing.TB, k *ecdsa.PrivateKey, first uint64, n int) [][]byte {
	t.Helper()
	to := ethcrypto.PubkeyToAddress(newTestKey(t).PublicKey)
	out := make([][]byte, n)
	for i := range out {
		raw, err := txcodec.Sign(k, &weftv1.TxBody{
			ChainId: gossipChain, Nonce: first + uint64(i), FeeLimit: uint256.NewInt(1_000_000_000).Bytes(),
			Actions: []*weftv1.Action{{Kind: &weftv1.Action_Transfer{Transfer: &weftv1.Transfer{To: to.Bytes(), Amount: uint256.NewInt(1).Bytes()}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = raw
	}
	return out
}

// gossipHost is a feed host on loopback joined to the tx topic.
func gossipHost(t *testing.T, insert func([]byte) p2p.TxResult, peers []peer.AddrInfo, opts ...p2p.TxGossipOption) (*p2p.Feed, *p2p.TxGossip) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f, err := p2p.NewFeed(ctx, key, []string{"/ip4/127.0.0.1/udp/0/quic-v1"}, peers)
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.GossipTxs(ctx, gossipChain, insert, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = g.Close()
		_ = f.Close()
	})
	return f, g
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// TestTxGossipKnownAndUnfundedFloods runs the node's tx topic callbacks on
// a real App behind a feed host on loopback. A peer replaying txs the
// mempool already holds is banned within a few batches without one of them
// being decoded (no signature recovered); a peer sending txs from unfunded
// senders is banned after ten batches, each costing one decoding.
func TestTxGossipKnownAndUnfundedFloods(t *testing.T) {
	alice := newTestKey(t)
	n := gossipApp(t, alice)
	var decoded atomic.Int64
	insert := func(raw []byte) p2p.TxResult { decoded.Add(1); return n.insertGossiped(raw) }
	a, _ := gossipHost(t, insert, nil, p2p.WithKnownTxs(n.knownTx))
	aInfo := peer.AddrInfo{ID: a.ID(), Addrs: nil}
	for _, ma := range a.Addrs() {
		pi, err := peer.AddrInfoFromP2pAddr(ma)
		if err != nil {
			t.Fatal(err)
		}
		aInfo.Addrs = append(aInfo.Addrs, pi.Addrs...)
	}
	// The mempool holds 1,000 of alice's txs (from a client of this node).
	known := signedTransfers(t, alice, 0, 1000)
	for _, raw := range known {
		if _, rej := n.app.Submit(raw, true); rej != nil {
			t.Fatal(rej)
		}
	}
	ctx := context.Background()
	flood := func(name string, limit int, batch func(i int) [][]byte) int {
		f, g := gossipHost(t, func([]byte) p2p.TxResult { return p2p.TxAccepted }, []peer.AddrInfo{aInfo})
		waitFor(t, name+" in the topic", func() bool { return len(g.Peers()) > 0 })
		for i := 0; i < limit; i++ {
			before := a.Penalty(f.ID())
			if err := g.Publish(ctx, batch(i)); err != nil {
				t.Fatal(err)
			}
			// Pace the flooder by a's verdicts: the next batch once this
			// one was charged (or the flooder banned).
			waitFor(t, name+"'s batch charged", func() bool { return a.IsBanned(f.ID()) || a.Penalty(f.ID()) > before })
			if a.IsBanned(f.ID()) {
				return i + 1
			}
		}
		t.Fatalf("%s not banned after %d batches", name, limit)
		return 0
	}

	// Batches of the 1,000 known txs, each in another order so that
	// gossipsub's seen cache does not stop them: 5 points each.
	batches := flood("replayer", 40, func(i int) [][]byte {
		b := slices.Clone(known)
		b[0], b[1+i] = b[1+i], b[0]
		return b
	})
	if batches > 22 || decoded.Load() != 0 {
		t.Fatalf("replayer of known txs banned after %d batches of 1,000; %d decoded", batches, decoded.Load())
	}
	t.Logf("replayer of known txs banned after %d batches of 1,000, none decoded", batches)

	// Batches of 100 txs from an unfunded sender: invalid at the first tx.
	before := decoded.Load()
	batches = flood("unfunded flooder", 40, func(i int) [][]byte { return signedTransfers(t, newTestKey(t), 0, 100) })
	if got := decoded.Load() - before; batches > 11 || got != int64(batches) {
		t.Fatalf("unfunded flooder banned after %d batches of 100; %d decoded", batches, got)
	}
	t.Logf("unfunded flooder banned after %d batches of 100, one tx decoded each", batches)
}

// TestGossipVerdict: what a tx a peer relayed and the app rejected says of
// the peer.
func TestGossipVerdict(t *testing.T) {
	alice, bob := newTestKey(t), newTestKey(t)
	n := gossipApp(t, alice)
	ok := signedTransfers(t, alice, 0, 1)[0]
	if got := n.insertGossiped(ok); got != p2p.TxAccepted {
		t.Fatalf("new valid tx: %v", got)
	}
	if !n.knownTx(sha256.Sum256(ok)) || n.knownTx(sha256.Sum256(signedTransfers(t, alice, 1, 1)[0])) {
		t.Fatal("knownTx")
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want p2p.TxResult
	}{
		{"known", ok, p2p.TxKnown},
		{"malformed", []byte("junk"), p2p.TxInvalid},
		{"unfunded sender", signedTransfers(t, bob, 0, 1)[0], p2p.TxInvalid},
		{"nonce too far ahead", signedTransfers(t, alice, 1000, 1)[0], p2p.TxUseless},
		{"underpriced replacement", signedTransfers(t, alice, 0, 1)[0], p2p.TxUseless},
	} {
		if got := n.insertGossiped(tc.raw); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	for code, want := range map[uint32]p2p.TxResult{
		txcodec.CodeMempoolFull:            p2p.TxIgnored,
		txcodec.CodeNotAccepting:           p2p.TxIgnored,
		txcodec.CodeNonceTooLow:            p2p.TxUseless,
		txcodec.CodeInsufficientFunds:      p2p.TxUseless,
		txcodec.CodeTooManyParked:          p2p.TxUseless,
		txcodec.CodeBadSignature:           p2p.TxInvalid,
		txcodec.CodeReplacementUnderpriced: p2p.TxUseless,
	} {
		if got := gossipVerdict(&txcodec.Rejection{Code: code, Log: "x"}); got != want {
			t.Errorf("%s: %v, want %v", txcodec.CodeName(code), got, want)
		}
	}
}

// BenchmarkGossipKnownTx is the receiver's cost of one tx of a batch that
// replays txs already pending: handed to the app (decoded, signature
// recovered, found known by the mempool) against recognised by hash.
func BenchmarkGossipKnownTx(b *testing.B) {
	alice := newTestKey(b)
	n := gossipApp(b, alice)
	known := signedTransfers(b, alice, 0, 1024)
	for _, raw := range known {
		if _, rej := n.app.Submit(raw, true); rej != nil {
			b.Fatal(rej)
		}
	}
	b.Run("decoded", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if n.insertGossiped(known[i%len(known)]) != p2p.TxKnown {
				b.Fatal("not known")
			}
		}
	})
	b.Run("by hash", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if !n.knownTx(sha256.Sum256(known[i%len(known)])) {
				b.Fatal("not known")
			}
		}
	})
	b.Run("by hash, not pending", func(b *testing.B) {
		fresh := signedTransfers(b, alice, 2000, 1)[0]
		for b.Loop() {
			if n.knownTx(sha256.Sum256(fresh)) {
				b.Fatal("known")
			}
		}
	})
}

// TestRestoredGossipCannotBan: republishing a restored journal, all known
// to the peers, at restoredGossipRate stays under the penalty rate at which
// a peer is ever banned (points halve every HalfLife: the steady penalty
// of r points a second is r × HalfLife / ln 2).
func TestRestoredGossipCannotBan(t *testing.T) {
	c := p2p.NewStanding(p2p.StandingConfig{}).Config()
	steady := restoredGossipRate * c.KnownPenalty * c.HalfLife.Seconds() / math.Ln2
	if steady >= c.BanAt/2 {
		t.Fatalf("a restored journal republished at %d txs/s, all known, holds a peer's penalty at %.0f of %.0f", restoredGossipRate, steady, c.BanAt)
	}
	// At the default batch interval the rate is spread over the batches.
	if perTick := int(restoredGossipRate * DefaultTxBatchInterval / time.Second); perTick < 1 {
		t.Fatalf("%d restored txs per batch", perTick)
	}
}
