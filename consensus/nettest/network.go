package nettest

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmtp2p "github.com/cometbft/cometbft/p2p"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/genesis"
)

// Options configure a Network. Zero values take the defaults.
type Options struct {
	// Validators is the number of nodes, every one a validator (default 4).
	Validators int
	// Seed derives every key of the network and the load's choices; 0 takes
	// WEFT_TEST_SEED, else the clock. The seed is logged.
	Seed int64
	// Powers are the validators' voting powers (default 10 each).
	Powers []int64
	// Accounts is the number of funded genesis accounts (default 16).
	Accounts int
	// Params are the genesis parameters (default genesis.DefaultParams with
	// max_tx_bytes 16 KiB, so an oversized tx is cheap to build).
	Params *genesis.Params
	// TimeoutPropose and TimeoutCommit are CometBFT's (defaults 1 s and
	// 100 ms); prevote and precommit timeouts are 200 ms. A proposal that
	// is not complete within timeout_propose is never judged
	// (ProcessProposal): on a loaded machine with the race detector 500 ms
	// lets most rounds fail.
	TimeoutPropose, TimeoutCommit time.Duration
	// GossipSleep is CometBFT's peer_gossip_sleep_duration (default 10 ms,
	// as a real node).
	GossipSleep time.Duration
	// LogDir, or WEFT_NETTEST_LOGS when empty, keeps each node's CometBFT and
	// app log in LogDir/<test>/nodeI.log; by default logs are dropped.
	LogDir string
}

// Account is a funded genesis account.
type Account struct {
	Key  *ecdsa.PrivateKey
	Addr common.Address
}

// Network is N validators in one process, linked through a Fabric.
type Network struct {
	t       testing.TB
	ChainID string
	Seed    int64
	Params  genesis.Params
	Fabric  *Fabric
	Nodes   []*Node
	// Accounts are funded at genesis with AccountBalance each.
	Accounts []Account

	opts    Options
	genesis []byte // CometBFT genesis JSON, parsed afresh for every node start
	logDir  string
}

// AccountBalance is each genesis account's balance (1e24).
var AccountBalance = new(uint256.Int).Exp(uint256.NewInt(10), uint256.NewInt(24))

// New builds a network of stopped nodes: genesis, keys, homes and stores in
// temporary directories, and the fabric. Start starts it; everything is
// stopped and removed when the test ends.
func New(t testing.TB, o Options) *Network {
	t.Helper()
	o.defaults(t)
	t.Logf("nettest seed %d (replay with WEFT_TEST_SEED=%d)", o.Seed, o.Seed)
	params := genesis.DefaultParams()
	params.MaxTxBytes = 16 << 10
	if o.Params != nil {
		params = *o.Params
	}
	nw := &Network{t: t, ChainID: "weft-nettest", Seed: o.Seed, Params: params, opts: o}
	nw.logDir = logDir(t, o.LogDir)

	rng := rand.New(rand.NewSource(o.Seed))
	doc := &genesis.Doc{
		ChainID: nw.ChainID, GenesisTime: time.Now().UTC(), BlockMaxBytes: genesis.DefaultBlockMaxBytes,
		AppState: genesis.AppState{Params: params, Rollups: []genesis.Rollup{
			{Name: "alpha", VM: "evm", EVMChainID: 71001},
			{Name: "beta", VM: "evm", EVMChainID: 71002},
		}},
	}
	for range o.Accounts {
		k := seededECDSA(rng)
		a := Account{Key: k, Addr: crypto.PubkeyToAddress(k.PublicKey)}
		nw.Accounts = append(nw.Accounts, a)
		doc.AppState.Accounts = append(doc.AppState.Accounts, genesis.Account{Address: a.Addr.Hex(), Balance: AccountBalance.Dec()})
	}
	root := tempRoot(t)
	f, err := NewFabric(o.Validators)
	if err != nil {
		t.Fatal(err)
	}
	nw.Fabric = f
	// Registered after the directory's removal so that it runs first.
	t.Cleanup(nw.Close)
	for i := range o.Validators {
		n, err := nw.newNode(i, root, rng)
		if err != nil {
			t.Fatal(err)
		}
		nw.Nodes = append(nw.Nodes, n)
		doc.Validators = append(doc.Validators, genesis.Validator{
			Name: fmt.Sprintf("node%d", i), PubKey: hex.EncodeToString(n.valKey.PubKey().Bytes()), Power: o.Powers[i],
		})
	}
	gd, err := doc.ToCometBFT()
	if err != nil {
		t.Fatal(err)
	}
	if nw.genesis, err = cmtjson.Marshal(gd); err != nil {
		t.Fatal(err)
	}
	for _, n := range nw.Nodes {
		if err := n.initHome(); err != nil {
			t.Fatal(err)
		}
	}
	return nw
}

// defaults fills in the options left zero, the seed from WEFT_TEST_SEED
// or the clock.
func (o *Options) defaults(t testing.TB) {
	t.Helper()
	if o.Validators == 0 {
		o.Validators = 4
	}
	if o.Accounts == 0 {
		o.Accounts = 16
	}
	if o.TimeoutPropose == 0 {
		o.TimeoutPropose = time.Second
	}
	if o.TimeoutCommit == 0 {
		o.TimeoutCommit = 100 * time.Millisecond
	}
	if o.GossipSleep == 0 {
		o.GossipSleep = 10 * time.Millisecond
	}
	if o.Powers == nil {
		for range o.Validators {
			o.Powers = append(o.Powers, 10)
		}
	}
	if len(o.Powers) != o.Validators {
		t.Fatalf("%d powers for %d validators", len(o.Powers), o.Validators)
	}
	if o.Seed == 0 {
		o.Seed = time.Now().UnixNano()
		if s := os.Getenv("WEFT_TEST_SEED"); s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("WEFT_TEST_SEED: %v", err)
			}
			o.Seed = v
		}
	}
}

// logDir is where node logs go (dir, else WEFT_NETTEST_LOGS, in a
// subdirectory named for the test), or "" to discard them.
func logDir(t testing.TB, dir string) string {
	t.Helper()
	if dir == "" {
		dir = os.Getenv("WEFT_NETTEST_LOGS")
	}
	if dir == "" {
		return ""
	}
	out := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("node logs in %s", out)
	return out
}

// newNode makes validator i's keys (from rng, in a fixed order: the
// network replays from its seed), directories under root and port.
func (nw *Network) newNode(i int, root string, rng *rand.Rand) (*Node, error) {
	var seed [32]byte
	rng.Read(seed[:])
	valKey := secp256k1eth.GenPrivKeySecp256k1Eth(seed[:])
	rng.Read(seed[:])
	n := &Node{
		Index: i, nw: nw,
		home:     filepath.Join(root, fmt.Sprintf("node%d", i), "cometbft"),
		storeDir: filepath.Join(root, fmt.Sprintf("node%d", i), "weft"),
		nodeKey:  &cmtp2p.NodeKey{PrivKey: ed25519.GenPrivKeyFromSecret(seed[:])},
		valKey:   valKey,
		rec:      newRecord(),
	}
	var err error
	if n.port, err = freePort(); err != nil {
		return nil, err
	}
	return n, nil
}

// tempRoot is a directory removed when the test ends: on /dev/shm when
// there is one, since CometBFT fsyncs its WAL and validator state at every
// vote and a busy disk stretches each consensus step (to seconds, on a
// loaded 2-core machine); else the test's temporary directory.
func tempRoot(t testing.TB) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "weft-nettest-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

func seededECDSA(rng *rand.Rand) *ecdsa.PrivateKey {
	for {
		var b [32]byte
		rng.Read(b[:])
		if k, err := crypto.ToECDSA(b[:]); err == nil {
			return k
		}
	}
}

// genesisDoc parses the network's genesis afresh: CometBFT keeps and may
// complete the document it is given.
func (nw *Network) genesisDoc() (*cmttypes.GenesisDoc, error) {
	return cmttypes.GenesisDocFromJSON(nw.genesis)
}

// cometConfig is node n's CometBFT config: what node.CometConfig gives a
// real node (app-side mempool, 25 ms reap interval, 10 ms gossip sleep,
// empty blocks, no tx index) with the classic transport, test timeouts, and
// peers only through the fabric: persistent peers (the higher nodes) at
// the proxies, the advertised address a trap, no PEX, no RPC.
func (nw *Network) cometConfig(n *Node) *cfg.Config {
	c := cfg.DefaultConfig()
	c.SetRoot(n.home)
	c.Moniker = fmt.Sprintf("node%d", n.Index)
	c.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", n.port)
	c.P2P.ExternalAddress = nw.Fabric.TrapAddr(n.Index)
	// Each pair has one dialer, the lower index: the listener of an inbound
	// connection knows its peer only by the trap address and never redials
	// it, and two nodes dialling each other at once can each keep the
	// connection the other drops.
	var peers []string
	for _, p := range nw.Nodes[n.Index+1:] {
		peers = append(peers, string(p.nodeKey.ID())+"@"+nw.Fabric.PeerAddr(n.Index, p.Index))
	}
	c.P2P.PersistentPeers = strings.Join(peers, ",")
	c.P2P.PexReactor = false
	c.P2P.AllowDuplicateIP = true
	c.P2P.AddrBookStrict = false
	c.P2P.LibP2PConfig.Enabled = false
	c.P2P.DialTimeout = time.Second
	c.P2P.HandshakeTimeout = 3 * time.Second
	c.RPC.ListenAddress = ""
	c.RPC.GRPCListenAddress = ""
	c.RPC.PprofListenAddress = ""
	c.Instrumentation.Prometheus = false
	c.Mempool.Type = cfg.MempoolTypeApp
	c.Mempool.MaxTxBytes = 1 << 20
	c.Mempool.ReapInterval = 25 * time.Millisecond
	c.Consensus.TimeoutPropose = nw.opts.TimeoutPropose
	c.Consensus.TimeoutProposeDelta = 100 * time.Millisecond
	c.Consensus.TimeoutPrevote = 200 * time.Millisecond
	c.Consensus.TimeoutPrevoteDelta = 100 * time.Millisecond
	c.Consensus.TimeoutPrecommit = 200 * time.Millisecond
	c.Consensus.TimeoutPrecommitDelta = 100 * time.Millisecond
	c.Consensus.TimeoutCommit = nw.opts.TimeoutCommit
	c.Consensus.PeerGossipSleepDuration = nw.opts.GossipSleep
	c.Consensus.CreateEmptyBlocks = true
	c.TxIndex.Indexer = "null"
	return c
}

// Start starts every node that is not running, the highest index first
// (a node dials only higher ones, which then already listen), and waits
// until every running node is connected to every other: CometBFT dials its
// persistent peers after a random pause of up to 3 s, and a fault injected
// before a link exists would miss it.
func (nw *Network) Start() {
	nw.t.Helper()
	for i := len(nw.Nodes) - 1; i >= 0; i-- {
		if n := nw.Nodes[i]; !n.Running() {
			if err := n.Start(); err != nil {
				nw.t.Fatalf("start node%d: %v", n.Index, err)
			}
		}
	}
	nw.WaitConnected(time.Minute)
}

// WaitConnected waits until every running node has every other running
// node as a peer.
func (nw *Network) WaitConnected(timeout time.Duration) {
	nw.t.Helper()
	nw.Eventually(timeout, "every running node connected to every other", func() bool {
		running := nw.Running()
		for _, i := range running {
			if nw.Nodes[i].Peers() != len(running)-1 {
				return false
			}
		}
		return true
	})
}

// Close stops every node and the fabric.
func (nw *Network) Close() {
	for _, n := range nw.Nodes {
		if err := n.Stop(); err != nil {
			nw.t.Errorf("stop node%d: %v", n.Index, err)
		}
	}
	nw.Fabric.Close()
	if hits := nw.Fabric.TrapHits(); hits > 0 {
		nw.t.Logf("fabric: %d dials went to an advertised (trap) address and were refused", hits)
	}
}

// Running lists the indexes of the running nodes.
func (nw *Network) Running() []int {
	var out []int
	for _, n := range nw.Nodes {
		if n.Running() {
			out = append(out, n.Index)
		}
	}
	return out
}

// Heights returns each node's last committed height (a stopped node's as
// it stopped).
func (nw *Network) Heights() []int64 {
	out := make([]int64, len(nw.Nodes))
	for i, n := range nw.Nodes {
		out[i] = n.Height()
	}
	return out
}

// MaxHeight is the highest committed height of any node.
func (nw *Network) MaxHeight() int64 {
	var m int64
	for _, h := range nw.Heights() {
		m = max(m, h)
	}
	return m
}

// pollEvery is how often Eventually looks at its condition.
const pollEvery = 20 * time.Millisecond

// WaitFor waits until cond holds, for at most timeout.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
}

// Eventually fails the test, with the network's state, unless cond holds
// within timeout.
func (nw *Network) Eventually(timeout time.Duration, what string, cond func() bool) {
	nw.t.Helper()
	if !WaitFor(timeout, cond) {
		nw.t.Fatalf("not within %v: %s\n%s", timeout, what, nw.Status())
	}
}

// Never fails the test if cond holds at any time within d: for properties
// that say nothing happens (no commit during a split), which can only be
// watched for a while.
func (nw *Network) Never(d time.Duration, what string, cond func() bool) {
	nw.t.Helper()
	if WaitFor(d, cond) {
		nw.t.Fatalf("within %v: %s\n%s", d, what, nw.Status())
	}
}

// WaitHeight waits until every node in idx (every running node when idx is
// empty) has committed height h.
func (nw *Network) WaitHeight(h int64, timeout time.Duration, idx ...int) {
	nw.t.Helper()
	if len(idx) == 0 {
		idx = nw.Running()
	}
	nw.Eventually(timeout, fmt.Sprintf("nodes %v at height %d", idx, h), func() bool {
		for _, i := range idx {
			if nw.Nodes[i].Height() < h {
				return false
			}
		}
		return true
	})
}

// Status describes every node and link, for failure messages.
func (nw *Network) Status() string {
	var b strings.Builder
	for _, n := range nw.Nodes {
		h, r, step := n.Round()
		fmt.Fprintf(&b, "node%d running=%v height=%d consensus=%d/%d/%s peers=%d\n", n.Index, n.Running(), n.Height(), h, r, step, n.Peers())
	}
	for i := range nw.Nodes {
		for j := range nw.Nodes {
			if i != j {
				fmt.Fprintf(&b, "  link %d→%d: %s\n", i, j, nw.Fabric.Stats(i, j))
			}
		}
	}
	fmt.Fprintf(&b, "  trap hits: %d", nw.Fabric.TrapHits())
	return b.String()
}

// Failures returns every node's consensus failures (Node.Failures).
func (nw *Network) Failures() []string {
	var out []string
	for _, n := range nw.Nodes {
		out = append(out, n.Failures()...)
	}
	return out
}

// CheckAgreement compares every node's chain up to the lowest committed
// height of the nodes in idx (every running node when empty): the same
// block hash at every height, the same app hash computed by every app that
// executed the height (FinalizeBlock, replays after restarts included), and
// that app hash in the next block's header. It returns the height checked.
func (nw *Network) CheckAgreement(idx ...int) int64 {
	nw.t.Helper()
	if len(idx) == 0 {
		idx = nw.Running()
	}
	top := int64(-1)
	for _, i := range idx {
		n := nw.Nodes[i]
		if !n.Running() {
			nw.t.Fatalf("CheckAgreement: node%d is not running", i)
		}
		if h := n.BlockHeight(); top < 0 || h < top {
			top = h
		}
		if errs := n.rec.conflicts(); len(errs) > 0 {
			nw.t.Errorf("node%d executed a height twice with different results:\n%s", i, strings.Join(errs, "\n"))
		}
	}
	for h := int64(1); h <= top; h++ {
		var ref []byte
		var refAt int
		var appHash []byte
		var appAt string
		for _, i := range idx {
			n := nw.Nodes[i]
			meta := n.BlockMeta(h)
			if meta == nil {
				nw.t.Fatalf("node%d has no block %d (its base is above it)", i, h)
			}
			if ref == nil {
				ref, refAt = meta.BlockID.Hash, i
			} else if string(ref) != string(meta.BlockID.Hash) {
				nw.t.Fatalf("height %d: node%d has block %X, node%d has %X", h, refAt, ref, i, meta.BlockID.Hash)
			}
			if ah, ok := n.rec.appHash(h); ok {
				if appHash == nil {
					appHash, appAt = ah, fmt.Sprintf("node%d", i)
				} else if string(appHash) != string(ah) {
					nw.t.Fatalf("height %d: %s computed app hash %X, node%d computed %X", h, appAt, appHash, i, ah)
				}
			}
			if next := n.BlockMeta(h + 1); next != nil {
				if appHash == nil {
					appHash, appAt = next.Header.AppHash, fmt.Sprintf("block %d's header", h+1)
				} else if string(appHash) != string(next.Header.AppHash) {
					nw.t.Fatalf("height %d: %s has app hash %X, block %d's header on node%d has %X", h, appAt, appHash, h+1, i, next.Header.AppHash)
				}
			}
		}
	}
	// The apps' latest state agrees too (the nodes at the same height).
	byHeight := map[int64]string{}
	for _, i := range idx {
		h, ah := nw.Nodes[i].app().Committed()
		if prev, ok := byHeight[h]; ok && prev != string(ah) {
			nw.t.Fatalf("app state at height %d differs between nodes: %X vs %X (node%d)", h, prev, ah, i)
		}
		byHeight[h] = string(ah)
	}
	return top
}

// TxsDigest names a block's txs at a height: sha256 over the height and
// each tx's sha256 (Verdict.Digest, Hostile.Digest).
func TxsDigest(height int64, txs [][]byte) [32]byte {
	h := sha256.New()
	_ = binary.Write(h, binary.BigEndian, height)
	for _, tx := range txs {
		s := sha256.Sum256(tx)
		h.Write(s[:])
	}
	return [32]byte(h.Sum(nil))
}
