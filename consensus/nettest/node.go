package nettest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	dbm "github.com/cometbft/cometbft-db"
	abci "github.com/cometbft/cometbft/abci/types"
	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	cmtnode "github.com/cometbft/cometbft/node"
	cmtp2p "github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/txcodec"
)

// Node is one validator: a CometBFT node in process over its own
// consensus.App and badger store. The app's store, CometBFT's WAL and the
// validator's sign state are on disk, CometBFT's block and state stores in
// memory (see dbProvider); all outlive Stop, so the node starts again on the
// same stores.
type Node struct {
	Index int
	// Wrap, when set before Start, is the ABCI application the node runs
	// over its app (a HostileProposer, say). It is called at every start.
	Wrap func(*consensus.App) abci.Application

	nw       *Network
	home     string // CometBFT's home: privval, block store, state, WAL
	storeDir string // the app's badger store
	port     int    // CometBFT's real p2p port; peers reach it via the fabric
	nodeKey  *cmtp2p.NodeKey
	valKey   secp256k1eth.PrivKey
	rec      *record

	dbMu sync.Mutex
	dbs  map[string]dbm.DB // CometBFT's stores, kept across restarts

	// mu: Start and Stop hold it exclusively; everything that reaches into
	// the running node or app holds it shared, so nothing touches a store
	// Stop closed.
	mu         sync.RWMutex
	running    bool
	store      *consensus.Store
	a          *consensus.App
	cmt        *cmtnode.Node
	logFile    *os.File
	stopRounds context.CancelFunc
	lastHeight int64
}

// Address is the node's validator (consensus) address.
func (n *Node) Address() common.Address {
	return common.BytesToAddress(n.valKey.PubKey().Address())
}

func (n *Node) initHome() error {
	c := n.nw.cometConfig(n)
	for _, d := range []string{filepath.Dir(c.PrivValidatorKeyFile()), filepath.Dir(c.PrivValidatorStateFile()), n.storeDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	privval.NewFilePV(n.valKey, c.PrivValidatorKeyFile(), c.PrivValidatorStateFile()).Save()
	return nil
}

// Start opens the node's stores, builds its app (wrapped by Wrap) and
// starts CometBFT as a real node does (node.Node.build): one local client
// lock per ABCI connection. A restarted node replays what its app lacks
// from CometBFT's stores and block-syncs the rest from its peers.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.running {
		return nil
	}
	var logOut io.Writer = io.Discard
	var logFile *os.File
	if n.nw.logDir != "" {
		f, err := os.OpenFile(filepath.Join(n.nw.logDir, fmt.Sprintf("node%d.log", n.Index)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		logFile, logOut = f, f
	}
	var store *consensus.Store
	var cmt *cmtnode.Node
	fail := func(err error) error {
		if cmt != nil && cmt.IsRunning() {
			_ = cmt.Stop()
			cmt.Wait()
		}
		n.nw.Fabric.SetTarget(n.Index, "")
		if store != nil {
			store.Close()
		}
		if logFile != nil {
			logFile.Close()
		}
		return err
	}
	slogger := slog.New(&captureHandler{next: slog.NewTextHandler(logOut, nil), rec: n.rec})
	store, err := consensus.OpenStore(n.storeDir, slogger.With("module", "store"))
	if err != nil {
		return fail(err)
	}
	app, err := consensus.NewApp(store, consensus.DefaultConfig(), slogger.With("module", "app"))
	if err != nil {
		return fail(err)
	}
	var inner abci.Application = app
	if n.Wrap != nil {
		inner = n.Wrap(app)
	}
	c := n.nw.cometConfig(n)
	pv := privval.LoadFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	var clog cmtlog.Logger = cmtlog.NewNopLogger()
	if logFile != nil {
		clog = cmtlog.NewFilter(cmtlog.NewTMLogger(cmtlog.NewSyncWriter(logFile)), cmtlog.AllowInfo())
	}
	cmt, err = cmtnode.NewNode(c, pv, n.nodeKey,
		proxy.NewConnSyncLocalClientCreator(&observer{Application: inner, n: n}),
		n.nw.genesisDoc, n.dbProvider, cmtnode.DefaultMetricsProvider(c.Instrumentation),
		&failureLogger{Logger: clog, rec: n.rec, node: n.Index},
	)
	if err != nil {
		return fail(fmt.Errorf("cometbft node: %w", err))
	}
	n.nw.Fabric.SetTarget(n.Index, fmt.Sprintf("127.0.0.1:%d", n.port))
	if err := cmt.Start(); err != nil {
		return fail(fmt.Errorf("start cometbft: %w", err))
	}
	n.rec.setRound(0, 0, "")
	cancel, err := n.followRounds(cmt)
	if err != nil {
		return fail(err)
	}
	n.store, n.a, n.cmt, n.logFile, n.stopRounds, n.running = store, app, cmt, logFile, cancel, true
	return nil
}

// followRounds records cmt's round steps (height, round, step) in the
// node's record until the returned cancel is called.
func (n *Node) followRounds(cmt *cmtnode.Node) (context.CancelFunc, error) {
	ctx, cancel := context.WithCancel(context.Background())
	sub, err := cmt.EventBus().Subscribe(ctx, "nettest", cmttypes.EventQueryNewRoundStep, 4096)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("subscribe to round steps: %w", err)
	}
	go func() {
		for {
			select {
			case m := <-sub.Out():
				if d, ok := m.Data().(cmttypes.EventDataRoundState); ok {
					n.rec.setRound(d.Height, d.Round, d.Step)
				}
			case <-sub.Canceled():
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return cancel, nil
}

// dbProvider gives CometBFT its stores (block store, state, evidence) in
// memory, the same ones at every start: they survive a restart as a disk
// would. Not goleveldb files, because CometBFT v0.40 leaves a consensus
// gossip routine (Reactor.queryMaj23Routine) running after Node.Stop that
// reads the block store up to seconds later, and a read on a closed
// goleveldb panics ("leveldb: closed"), ending the test process; a MemDB
// ignores Close.
func (n *Node) dbProvider(ctx *cfg.DBContext) (dbm.DB, error) {
	n.dbMu.Lock()
	defer n.dbMu.Unlock()
	if n.dbs == nil {
		n.dbs = map[string]dbm.DB{}
	}
	db, ok := n.dbs[ctx.ID]
	if !ok {
		db = dbm.NewMemDB()
		n.dbs[ctx.ID] = db
	}
	return db, nil
}

// Stop stops CometBFT and closes the stores, as a process exit would; the
// node's links refuse connections until it starts again.
func (n *Node) Stop() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.running {
		return nil
	}
	n.nw.Fabric.SetTarget(n.Index, "")
	n.stopRounds()
	var errs []string
	if err := n.cmt.Stop(); err != nil {
		errs = append(errs, err.Error())
	}
	n.cmt.Wait()
	n.lastHeight, _ = n.a.Committed()
	if err := n.store.Close(); err != nil {
		errs = append(errs, err.Error())
	}
	if n.logFile != nil {
		n.logFile.Close()
		n.logFile = nil
	}
	n.store, n.a, n.cmt, n.running = nil, nil, nil, false
	if len(errs) > 0 {
		return fmt.Errorf("stop node%d: %s", n.Index, strings.Join(errs, "; "))
	}
	return nil
}

// Restart stops the node and starts it again on the same stores.
func (n *Node) Restart() error {
	if err := n.Stop(); err != nil {
		return err
	}
	return n.Start()
}

// Running reports whether the node is running.
func (n *Node) Running() bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.running
}

// app returns the running app, or nil. Callers must not use it after the
// node stops; the methods below hold the lock instead.
func (n *Node) app() *consensus.App {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.a
}

// Height is the app's last committed height (as it stopped, when stopped).
func (n *Node) Height() int64 {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if !n.running {
		return n.lastHeight
	}
	h, _ := n.a.Committed()
	return h
}

// Round is the height, round and step CometBFT's consensus last entered
// since the node started (steps as CometBFT names them: "RoundStepPropose",
// "RoundStepPrevote"...); zero while it block-syncs.
func (n *Node) Round() (height int64, round int32, step string) { return n.rec.round() }

// InConsensus reports whether the node's consensus has entered a round
// since it started: it is past block sync.
func (n *Node) InConsensus() bool {
	h, _, _ := n.rec.round()
	return n.Running() && h > 0
}

// Peers is the number of peers CometBFT has (0 when stopped).
func (n *Node) Peers() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if !n.running {
		return 0
	}
	return n.cmt.Switch().Peers().Size()
}

// Send sends msg on channel ch to node to, as this node's CometBFT switch
// sends its own messages; it reports whether to was a connected peer and
// the message was queued. Tests use it to play a peer whose messages
// arrive out of order.
func (n *Node) Send(to *Node, ch byte, msg proto.Message) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if !n.running {
		return false
	}
	p := n.cmt.Switch().Peers().Get(to.nodeKey.ID())
	return p != nil && p.Send(cmtp2p.Envelope{ChannelID: ch, Message: msg})
}

// BlockHeight is the height of CometBFT's block store (0 when stopped).
func (n *Node) BlockHeight() int64 {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if !n.running {
		return 0
	}
	return n.cmt.BlockStore().Height()
}

// BlockMeta is block h's metadata from the block store, or nil.
func (n *Node) BlockMeta(h int64) *cmttypes.BlockMeta {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if !n.running {
		return nil
	}
	return n.cmt.BlockStore().LoadBlockMeta(h)
}

// Block is block h from the block store, or nil.
func (n *Node) Block(h int64) *cmttypes.Block {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if !n.running {
		return nil
	}
	return n.cmt.BlockStore().LoadBlock(h)
}

// Submit hands raw to the app as the node API does (a local submission,
// journaled before it is acknowledged). A stopped node refuses it.
func (n *Node) Submit(raw []byte) ([32]byte, *txcodec.Rejection) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if !n.running {
		return txcodec.TxHash(raw), &txcodec.Rejection{Code: codeNodeDown, Log: "node is stopped"}
	}
	return n.a.Submit(raw, true)
}

// codeNodeDown is the rejection code Submit gives when the node is stopped
// (not an app code).
const codeNodeDown = 1000

// WithApp runs fn on the running app while the node cannot stop; it
// reports false when the node is stopped.
func (n *Node) WithApp(fn func(*consensus.App)) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if !n.running {
		return false
	}
	fn(n.a)
	return true
}

// Verdicts returns every ProcessProposal answer of this node's app.
func (n *Node) Verdicts() []Verdict { return n.rec.allVerdicts() }

// Failures returns the consensus failures CometBFT logged on this node (a
// panic in the app during consensus stops CometBFT's consensus routine
// without ending the process).
func (n *Node) Failures() []string { return n.rec.allFailures() }

// Verdict is one ProcessProposal answer.
type Verdict struct {
	Height   int64
	Proposer int // node index; -1 if unknown
	Digest   [32]byte
	Txs      int
	Accept   bool
	// Reason is why the app rejected it, from its log.
	Reason string
}

// observer is the ABCI application CometBFT runs: the node's app (or its
// Wrap), with ProcessProposal verdicts and FinalizeBlock app hashes
// recorded. It changes nothing.
type observer struct {
	abci.Application
	n *Node
}

func (o *observer) ProcessProposal(ctx context.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	o.n.rec.takeReason()
	resp, err := o.Application.ProcessProposal(ctx, req)
	if err != nil {
		return resp, err
	}
	o.n.rec.addVerdict(Verdict{
		Height: req.Height, Proposer: o.n.nw.nodeOf(req.ProposerAddress), Digest: TxsDigest(req.Height, req.Txs),
		Txs: len(req.Txs), Accept: resp.Status == abci.ResponseProcessProposal_ACCEPT, Reason: o.n.rec.takeReason(),
	})
	return resp, nil
}

func (o *observer) FinalizeBlock(ctx context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	resp, err := o.Application.FinalizeBlock(ctx, req)
	if err == nil {
		o.n.rec.setAppHash(req.Height, resp.AppHash)
	}
	return resp, err
}

// nodeOf is the index of the node with validator address addr, or -1.
func (nw *Network) nodeOf(addr []byte) int {
	for _, n := range nw.Nodes {
		if string(n.valKey.PubKey().Address()) == string(addr) {
			return n.Index
		}
	}
	return -1
}

// record is what a node's observers saw, kept across restarts.
type record struct {
	mu       sync.Mutex
	verdicts []Verdict
	hashes   map[int64][]byte
	conflict []string
	failures []string
	reason   string
	height   int64
	roundNo  int32
	step     string
}

func newRecord() *record { return &record{hashes: map[int64][]byte{}} }

func (r *record) addVerdict(v Verdict) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.verdicts = append(r.verdicts, v)
}

func (r *record) allVerdicts() []Verdict {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Verdict(nil), r.verdicts...)
}

func (r *record) setAppHash(h int64, ah []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.hashes[h]; ok && string(prev) != string(ah) {
		r.conflict = append(r.conflict, fmt.Sprintf("height %d: app hash %X, then %X", h, prev, ah))
	}
	r.hashes[h] = append([]byte(nil), ah...)
}

func (r *record) appHash(h int64) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ah, ok := r.hashes[h]
	return ah, ok
}

func (r *record) conflicts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.conflict...)
}

func (r *record) setReason(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reason = s
}

func (r *record) takeReason() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.reason
	r.reason = ""
	return s
}

func (r *record) addFailure(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, s)
}

func (r *record) allFailures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.failures...)
}

func (r *record) setRound(h int64, round int32, step string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.height, r.roundNo, r.step = h, round, step
}

func (r *record) round() (int64, int32, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.height, r.roundNo, r.step
}

// captureHandler passes the app's log on and keeps the reason of the last
// rejected proposal for the observer: the app says why only in its log.
type captureHandler struct {
	next slog.Handler
	rec  *record
}

func (h *captureHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *captureHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "rejecting proposal" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "reason" {
				h.rec.setReason(a.Value.String())
				return false
			}
			return true
		})
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &captureHandler{next: h.next.WithAttrs(as), rec: h.rec}
}

func (h *captureHandler) WithGroup(g string) slog.Handler {
	return &captureHandler{next: h.next.WithGroup(g), rec: h.rec}
}

// failureLogger passes CometBFT's log on and records consensus failures:
// CometBFT recovers a panic in its consensus routine (an app panic in
// FinalizeBlock or Commit, say), logs it and stops that node's consensus
// while the process goes on.
type failureLogger struct {
	cmtlog.Logger
	rec  *record
	node int
}

func (l *failureLogger) Error(msg string, keyvals ...any) {
	if strings.Contains(msg, "CONSENSUS FAILURE") {
		l.rec.addFailure(fmt.Sprintf("node%d: %s %v", l.node, msg, keyvals))
	}
	l.Logger.Error(msg, keyvals...)
}

func (l *failureLogger) With(keyvals ...any) cmtlog.Logger {
	return &failureLogger{Logger: l.Logger.With(keyvals...), rec: l.rec, node: l.node}
}
