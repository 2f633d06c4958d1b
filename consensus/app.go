package consensus

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cryptoenc "github.com/cometbft/cometbft/crypto/encoding"
	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/consensus/staking"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/mempool"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// AppVersion is the application protocol version reported to CometBFT.
const AppVersion = 1

var _ abci.Application = (*App)(nil)

// Config configures an App.
type Config struct {
	Mempool mempool.Config
	// MaxDropped bounds how many dropped-tx reasons are remembered for queries.
	MaxDropped int
}

// DefaultConfig is what a node starts with.
func DefaultConfig() Config {
	return Config{
		Mempool: mempool.Config{
			MaxTxs: 200_000, MaxBytes: 512 << 20,
			TTL: mempool.DefaultTTL, MaxNonceAhead: mempool.DefaultMaxNonceAhead,
			MaxParked: mempool.DefaultMaxParked, PriceBump: mempool.DefaultPriceBump,
		},
		MaxDropped: 100_000,
	}
}

// App is Weft's ABCI application.
type App struct {
	abci.BaseApplication

	store *Store
	log   *slog.Logger
	mp    *mempool.Mempool
	// weights caches the rollups' block weights for the mempool's fair
	// shares; replaced (never mutated) when rollups change.
	weights atomic.Pointer[map[[32]byte]int64]
	// peerTxsOnTopic: peers' txs come on Weft's gossip topic, not InsertTx.
	peerTxsOnTopic atomic.Bool
	// admission, when set, is why the node takes no new txs (SetAdmission).
	admission atomic.Pointer[error]
	cfg       Config

	// mu guards the committed-state summary read by the mempool connection
	// and the APIs while consensus moves on.
	mu      sync.RWMutex
	chainID string
	params  *Params
	height  int64
	appHash []byte
	// clock is the last committed block's time: the mempool's clock (TTL),
	// since consensus code never reads the wall clock. Zero until the first
	// commit of this run.
	clock   time.Time
	commitC chan struct{} // closed and replaced at every commit

	// Consensus-connection state; CometBFT calls these methods one at a time.
	processed *stagedBlock // last accepted proposal, reused by FinalizeBlock
	staged    *stagedBlock // finalized, waiting for Commit

	rmu          sync.Mutex
	recentBlocks []BlockTxs // the last recentBlocks blocks, oldest first

	jmu       sync.Mutex
	journaled map[[32]byte]struct{}
}

type stagedBlock struct {
	// block is every tx of the block in order, as executed (see RecentBlock).
	block   BlockTxs
	hash    []byte
	height  int64
	time    time.Time
	ov      *Overlay
	results []*abci.ExecTxResult
	txs     [][32]byte // user txs included
	appHash []byte
	// registers is set when a tx of the block registered a rollup.
	registers bool
	// staking is set when the block changed staking state in a way that
	// may invalidate pending staking txs.
	staking bool
	events  *staking.Events
	updates []abci.ValidatorUpdate
	decoded []*Tx // the block's valid txs
}

// NewApp builds the application on store. Transactions journaled by an
// earlier run are put back into the mempool.
func NewApp(store *Store, cfg Config, logger *slog.Logger) (*App, error) {
	a := &App{
		store:     store,
		log:       logger,
		cfg:       cfg,
		commitC:   make(chan struct{}),
		journaled: map[[32]byte]struct{}{},
	}
	mcfg := cfg.Mempool
	if mcfg.RollupWeight == nil {
		mcfg.RollupWeight = a.rollupWeight
	}
	a.mp = mempool.New(mcfg)
	h, ah, err := store.Meta()
	if err != nil {
		return nil, err
	}
	a.height, a.appHash = h, ah
	if err := a.refreshWeights(); err != nil {
		return nil, err
	}
	if b, ok, err := store.Get(keyChainID); err != nil {
		return nil, err
	} else if ok {
		a.chainID = string(b)
		a.params = view{NewOverlay(store)}.Params()
		if err := a.loadJournal(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// rollupWeight is the mempool's per-rollup fairness weight: the committed
// rollup's block_weight (1 when unset or unknown).
func (a *App) rollupWeight(id [32]byte) int64 {
	if m := a.weights.Load(); m != nil {
		if w, ok := (*m)[id]; ok {
			return w
		}
	}
	return 1
}

// refreshWeights reloads the rollups' block weights from committed state.
func (a *App) refreshWeights() error {
	rs, err := a.Rollups()
	if err != nil {
		return err
	}
	m := make(map[[32]byte]int64, len(rs))
	for _, r := range rs {
		var id [32]byte
		copy(id[:], r.Id)
		m[id] = int64(max(r.BlockWeight, 1))
	}
	a.weights.Store(&m)
	return nil
}

// Mempool returns the application's mempool.
func (a *App) Mempool() *mempool.Mempool { return a.mp }

func (a *App) limits() (Limits, *Params) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.params == nil {
		return Limits{}, nil
	}
	return Limits{ChainID: a.chainID, MaxTxBytes: a.params.MaxTxBytes, MaxActions: a.params.MaxActions}, a.params
}

// Limits returns the stateless limits txs are decoded with.
func (a *App) Limits() Limits {
	l, _ := a.limits()
	return l
}

// Committed returns the last committed height and app hash.
func (a *App) Committed() (int64, []byte) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.height, a.appHash
}

// ChainID returns the chain id (empty before InitChain).
func (a *App) ChainID() string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.chainID
}

// now is the mempool's clock: the last committed block's time.
func (a *App) now() time.Time {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.clock
}

// CommitNotify returns a channel closed at the next commit.
func (a *App) CommitNotify() <-chan struct{} {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.commitC
}

// ---- Info/Query connection ----

// Info reports the last committed height and app hash so CometBFT replays
// exactly the blocks the store lacks.
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	h, ah := a.Committed()
	return &abci.ResponseInfo{Data: "weft", Version: "1", AppVersion: AppVersion, LastBlockHeight: h, LastBlockAppHash: ah}, nil
}

// Query serves "/account/<0xaddr>", "/rollup/<name or 0xid>" and
// "/tx/<0xhash>" from committed state, values as protobuf.
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	h, _ := a.Committed()
	resp := &abci.ResponseQuery{Height: h}
	path, arg, _ := bytes.Cut([]byte(req.Path), []byte("/"))
	if len(path) == 0 {
		path, arg, _ = bytes.Cut(arg, []byte("/"))
	}
	var msg proto.Message
	switch string(path) {
	case "account":
		addr, err := genesis.ParseAddress(string(arg))
		if err != nil {
			resp.Code, resp.Log = txcodec.CodeMalformed, err.Error()
			return resp, nil
		}
		msg = a.Account(addr)
	case "rollup":
		r, err := a.RollupByNameOrID(string(arg))
		if err != nil {
			resp.Code, resp.Log = txcodec.CodeUnknownRollup, err.Error()
			return resp, nil
		}
		msg = r
	case "tx":
		b, err := hex.DecodeString(string(bytes.TrimPrefix(arg, []byte("0x"))))
		if err != nil || len(b) != 32 {
			resp.Code, resp.Log = txcodec.CodeMalformed, "tx hash must be 32 bytes of hex"
			return resp, nil
		}
		r := a.TxResult([32]byte(b))
		if r == nil {
			resp.Code, resp.Log = txcodec.CodeMalformed, "tx not found"
			return resp, nil
		}
		msg = r
	default:
		resp.Code, resp.Log = txcodec.CodeMalformed, fmt.Sprintf("unknown query path %q", req.Path)
		return resp, nil
	}
	resp.Value = mustMarshal(msg)
	return resp, nil
}

// Account returns the committed account at addr.
func (a *App) Account(addr common.Address) *weftv1.Account {
	return view{NewOverlay(a.store)}.Account(addr)
}

// Staking returns the staking module over committed state, for queries
// (anything it writes is discarded).
func (a *App) Staking() *staking.Module {
	_, p := a.limits()
	return view{NewOverlay(a.store)}.staking(p)
}

// Rollup returns the committed rollup with id, or nil.
func (a *App) Rollup(id rollups.ID) *weftv1.Rollup {
	return view{NewOverlay(a.store)}.Rollup(id)
}

// RollupByNameOrID resolves a rollup by name or 0x-prefixed hex id.
func (a *App) RollupByNameOrID(s string) (*weftv1.Rollup, error) {
	id := rollups.IDFromName(s)
	if h, ok := bytes.CutPrefix([]byte(s), []byte("0x")); ok {
		b, err := hex.DecodeString(string(h))
		if err != nil {
			return nil, fmt.Errorf("rollup id %q is not hex", s)
		}
		if id, err = rollups.IDFromBytes(b); err != nil {
			return nil, err
		}
	}
	r := a.Rollup(id)
	if r == nil {
		return nil, fmt.Errorf("rollup %q is not registered", s)
	}
	return r, nil
}

// Rollups lists the registered rollups, sorted by id.
func (a *App) Rollups() ([]*weftv1.Rollup, error) {
	var out []*weftv1.Rollup
	err := a.store.Iterate(prefixRollup, func(_, v []byte) error {
		r := &weftv1.Rollup{}
		if err := proto.Unmarshal(v, r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// TxResult returns a committed tx's result, or nil.
func (a *App) TxResult(h [32]byte) *weftv1.TxResult {
	b, ok, err := a.store.Get(txResultKey(h))
	if err != nil || !ok {
		return nil
	}
	r := &weftv1.TxResult{}
	if proto.Unmarshal(b, r) != nil {
		return nil
	}
	return r
}

// PendingNonce is the next nonce for addr counting the mempool's ready txs
// (parked ones wait for a gap to be filled and do not count).
func (a *App) PendingNonce(addr common.Address) uint64 {
	return a.mp.NextNonce(addr, a.Account(addr).Nonce)
}

// ---- Mempool connection ----

// Submit validates raw and adds it to the mempool; when local is true the tx
// is journaled first so that an acknowledged tx survives a crash.
func (a *App) Submit(raw []byte, local bool) ([32]byte, *txcodec.Rejection) {
	if err := a.admission.Load(); err != nil {
		return txcodec.TxHash(raw), txcodec.Reject(txcodec.CodeNotAccepting, "node is not accepting transactions: "+(*err).Error())
	}
	lim, params := a.limits()
	if params == nil {
		return [32]byte{}, txcodec.Reject(txcodec.CodeMalformed, "chain not initialised yet")
	}
	tx, rej := DecodeTx(raw, lim)
	if rej != nil {
		return txcodec.TxHash(raw), rej
	}
	o := fromPeer
	if local {
		o = fromClient
	}
	return tx.Hash, a.insert(tx, params, o)
}

// origin is where a tx entering the mempool comes from.
type origin int

const (
	fromPeer    origin = iota // gossiped by a peer: its origin already broadcast it
	fromClient                // submitted to this node: journal, then gossip
	fromJournal               // restored after a restart: gossip again
)

func (a *App) insert(tx *Tx, params *Params, o origin) *txcodec.Rejection {
	if fee := params.Fee(tx); fee.Gt(tx.FeeLimit) {
		return txcodec.Reject(txcodec.CodeFeeTooLow, fmt.Sprintf("fee limit %s is below the fee %s", tx.FeeLimit, fee))
	}
	// Rollups must exist in committed state or be registered by an earlier
	// action of this tx: actions execute in order (see applyTx), and a tx
	// that can never execute must not sit in the mempool blocking its sender.
	st := view{NewOverlay(a.store)}
	registered, chainIDs := map[rollups.ID]bool{}, map[uint64]bool{}
	for i, act := range tx.Body.Actions {
		switch k := act.Kind.(type) {
		case *weftv1.Action_RegisterRollup:
			if rej := checkRegistration(st, i, k.RegisterRollup, registered, chainIDs); rej != nil {
				return rej
			}
		case *weftv1.Action_RollupData:
			id, _ := rollups.IDFromBytes(k.RollupData.RollupId)
			if !registered[id] && !a.rollupCommitted(st, id) {
				return txcodec.Reject(txcodec.CodeUnknownRollup, fmt.Sprintf("action %d: rollup %s is not registered", i, id))
			}
		}
	}
	if rej := a.checkStaking(tx, params); rej != nil {
		return rej
	}
	// Validators are fully meshed: the node a client submitted to broadcasts
	// the tx to every peer, so txs from peers are not broadcast again.
	mtx := mempoolTx(tx, params)
	// A client's tx is gossiped once journaled (below): a tx the node
	// could not journal is refused, and must not leave the node either.
	mtx.Gossip = o == fromJournal
	res, err := a.mp.Insert(mtx, func() mempool.AccountState {
		acc := a.Account(tx.Sender)
		return mempool.AccountState{Nonce: acc.Nonce, Balance: balanceOf(acc)}
	}, a.now())
	if err != nil {
		return mempoolRejection(err)
	}
	a.forget(res.Dropped)
	if o == fromClient {
		if err := a.journal(tx); err != nil {
			a.mp.Remove(tx.Hash)
			return txcodec.Reject(txcodec.CodeNotAccepting, "cannot journal tx (is the disk full?): "+err.Error())
		}
		a.mp.Gossip(tx.Hash)
	}
	return nil
}

// rollupCommitted reports whether rollup id is registered in committed
// state st. Rollups are never deregistered, so one in the weights cache
// (rebuilt from committed state whenever a block registers one) exists;
// otherwise st is read, in case the cache is behind.
func (a *App) rollupCommitted(st view, id rollups.ID) bool {
	if w := a.weights.Load(); w != nil {
		if _, ok := (*w)[id]; ok {
			return true
		}
	}
	return st.Rollup(id) != nil
}

// mempoolTx is tx as the mempool sees it. Its priority comes from the fee
// the chain actually charges (params.Fee, per action and data byte), not
// from fee_limit, which only caps it: a high fee_limit buys nothing.
func mempoolTx(tx *Tx, params *Params) *mempool.Tx {
	m := &mempool.Tx{Hash: tx.Hash, Raw: tx.Raw, Sender: tx.Sender, Nonce: tx.Body.Nonce, Cost: tx.Cost(), Fee: params.Fee(tx), Payload: tx}
	for _, act := range tx.Body.Actions {
		rd, ok := act.Kind.(*weftv1.Action_RollupData)
		if !ok {
			continue
		}
		id := [32]byte(rd.RollupData.RollupId)
		i := slices.IndexFunc(m.Rollups, func(r mempool.RollupBytes) bool { return r.ID == id })
		if i < 0 {
			i = len(m.Rollups)
			m.Rollups = append(m.Rollups, mempool.RollupBytes{ID: id})
		}
		m.Rollups[i].Bytes += int64(len(rd.RollupData.Data))
	}
	return m
}

func mempoolRejection(err error) *txcodec.Rejection {
	code := txcodec.CodeMalformed
	switch {
	case errors.Is(err, mempool.ErrAlreadyKnown):
		code = txcodec.CodeAlreadyKnown
	case errors.Is(err, mempool.ErrNonceTooLow):
		code = txcodec.CodeNonceTooLow
	case errors.Is(err, mempool.ErrUnderpriced):
		code = txcodec.CodeReplacementUnderpriced
	case errors.Is(err, mempool.ErrNonceTooFarAhead):
		code = txcodec.CodeNonceTooFarAhead
	case errors.Is(err, mempool.ErrTooManyParked):
		code = txcodec.CodeTooManyParked
	case errors.Is(err, mempool.ErrInsufficientFunds):
		code = txcodec.CodeInsufficientFunds
	case errors.Is(err, mempool.ErrFull):
		code = txcodec.CodeMempoolFull
	}
	return txcodec.Reject(code, err.Error())
}

// hasStaking reports whether tx has a staking action.
func hasStaking(tx *Tx) bool {
	for _, act := range tx.Body.Actions {
		switch act.Kind.(type) {
		case *weftv1.Action_CreateValidator, *weftv1.Action_Delegate, *weftv1.Action_Undelegate,
			*weftv1.Action_EditValidator, *weftv1.Action_Unjail:
			return true
		}
	}
	return false
}

// checkStaking runs a tx with staking actions on committed state as if it
// were its sender's next tx and the balance covered its cost (the mempool
// checks nonces and balances). A staking action that cannot execute (bad
// key, stake below the minimum, unjail when not jailed, undelegating more
// than delegated...) would otherwise be accepted, never proposed, and block
// its sender's later txs for good.
func (a *App) checkStaking(tx *Tx, params *Params) *txcodec.Rejection {
	if !hasStaking(tx) {
		return nil
	}
	cost, overflow := new(uint256.Int).AddOverflow(tx.FeeLimit, tx.Transferred)
	if _, o2 := cost.AddOverflow(cost, tx.Bonded); overflow || o2 {
		return txcodec.Reject(txcodec.CodeInsufficientFunds, "fee limit + transfers + stake overflow")
	}
	st := view{NewOverlay(a.store)}
	acc := st.Account(tx.Sender)
	acc.Nonce, acc.Balance = tx.Body.Nonce, cost.Bytes()
	st.SetAccount(tx.Sender, acc)
	h, _ := a.Committed()
	_, rej := applyTx(st.ov, params, tx, h+1)
	return rej
}

// dropFailedStaking removes pending staking txs that are next in their
// sender's queue but can no longer execute after a block (say the sender's
// earlier tx undelegated everything), with the sender's later txs.
func (a *App) dropFailedStaking() []mempool.Dropped {
	_, params := a.limits()
	var out []mempool.Dropped
	for _, m := range a.mp.Pending(maxCandidates) {
		tx := m.Payload.(*Tx)
		if !hasStaking(tx) || tx.Body.Nonce != a.Account(tx.Sender).Nonce {
			continue
		}
		if rej := a.checkStaking(tx, params); rej != nil {
			for _, gone := range a.mp.Remove(m.Hash) {
				out = append(out, mempool.Dropped{Tx: gone, Reason: rej.Log})
			}
		}
	}
	return out
}

// recentBlocks is how many committed blocks keep their txs, decoded and
// hashed (RecentBlock), so the rollup feed and executors that follow the
// chain live split a block by rollup without recovering every signature
// again.
const recentBlocks = 32

func (a *App) rememberDecoded(sb *stagedBlock) {
	a.rmu.Lock()
	defer a.rmu.Unlock()
	a.recentBlocks = append(a.recentBlocks, sb.block)
	if len(a.recentBlocks) > recentBlocks {
		a.recentBlocks = a.recentBlocks[1:]
	}
}

// BlockTxs is a committed block's txs as this node executed it.
type BlockTxs struct {
	Height int64
	// Raw is every tx in block order, the commitment item and txs that
	// failed included; Hashes their txcodec.TxHash (CometBFT's tx hash).
	Raw    [][]byte
	Hashes [][32]byte
	// Decoded is each tx decoded (nil for the commitment item and for txs
	// that do not decode), whether or not it executed.
	Decoded []*Tx
}

// RecentBlock returns the txs of committed block height if it is one of the
// last recentBlocks this node executed since it started, so the node can
// serve and split a fresh block without reading it back from CometBFT's
// block store and hashing it again.
func (a *App) RecentBlock(height int64) (BlockTxs, bool) {
	a.rmu.Lock()
	defer a.rmu.Unlock()
	for i := len(a.recentBlocks) - 1; i >= 0; i-- {
		if b := a.recentBlocks[i]; b.Height == height {
			return b, true
		}
	}
	return BlockTxs{}, false
}

// Items is BlockItems for a block RecentBlock returned: no hashing, no
// decoding.
func (b BlockTxs) Items(fn func(id rollups.ID, it *rollups.Item)) (commitment []byte) {
	for i, raw := range b.Raw {
		if i == 0 && rollups.IsCommitment(raw) {
			commitment = raw
			continue
		}
		if tx := b.Decoded[i]; tx != nil {
			rollupItems(tx, fn)
		}
	}
	return commitment
}

// CheckTx serves CometBFT's broadcast_tx RPCs: the tx is validated and, if
// valid, inserted into the mempool as a local submission.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	_, rej := a.Submit(req.Tx, true)
	if rej != nil {
		return &abci.ResponseCheckTx{Code: rej.Code, Log: rej.Log, Codespace: "weft"}, nil
	}
	return &abci.ResponseCheckTx{Code: txcodec.CodeOK}, nil
}

// InsertTx takes a tx gossiped by a peer over CometBFT's mempool channel
// (refused when SetPeerTxsOnTopic is on).
func (a *App) InsertTx(_ context.Context, req *abci.RequestInsertTx) (*abci.ResponseInsertTx, error) {
	if a.peerTxsOnTopic.Load() {
		return &abci.ResponseInsertTx{Code: txcodec.CodeGossipTopicOnly}, nil
	}
	_, rej := a.Submit(req.Tx, false)
	if rej != nil {
		code := rej.Code
		if txcodec.Retryable(code) {
			// CometBFT forgets retryable txs sooner so a peer may resend them.
			code = abci.CodeTypeRetry + code
		}
		return &abci.ResponseInsertTx{Code: code}, nil
	}
	return &abci.ResponseInsertTx{Code: txcodec.CodeOK}, nil
}

// SetAdmission makes Submit refuse every tx with err (txcodec.CodeNotAccepting)
// until it is called with nil: a node that can no longer journal what it
// acknowledges (its disk is full) must stop acknowledging first.
func (a *App) SetAdmission(err error) {
	if err == nil {
		a.admission.Store(nil)
		return
	}
	a.admission.Store(&err)
}

// SetPeerTxsOnTopic makes InsertTx refuse every tx: the node takes peers'
// txs on Weft's own gossip topic instead (node and p2p.TxGossip), which
// judges each peer, while CometBFT's mempool channel cannot tell the app
// which peer sent a tx.
func (a *App) SetPeerTxsOnTopic(on bool) { a.peerTxsOnTopic.Store(on) }

// TakeGossip returns up to maxBytes of the txs accepted from clients since
// the last call, to broadcast to the other validators.
func (a *App) TakeGossip(maxBytes int64) [][]byte {
	txs := a.mp.TakeGossip(maxBytes)
	out := make([][]byte, len(txs))
	for i, t := range txs {
		out[i] = t.Raw
	}
	return out
}

// ReapTxs hands CometBFT the txs accepted since the last call, to gossip.
func (a *App) ReapTxs(_ context.Context, req *abci.RequestReapTxs) (*abci.ResponseReapTxs, error) {
	return &abci.ResponseReapTxs{Txs: a.TakeGossip(int64(min(req.MaxBytes, 1<<40)))}, nil
}

// ---- Consensus connection ----

// InitChain loads the genesis app state.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	// A node killed after InitChain wrote the genesis state but before
	// CometBFT recorded it is asked again on restart: the state is there,
	// whole (Commit is atomic), and is not written twice.
	if h, ah := a.Committed(); h == req.InitialHeight-1 && ah != nil && a.ChainID() == req.ChainId {
		a.log.Info("genesis state already written", "chain_id", req.ChainId, "height", h)
		return &abci.ResponseInitChain{AppHash: ah}, nil
	}
	gs, err := genesis.ParseAppState(req.AppStateBytes)
	if err != nil {
		return nil, err
	}
	params, err := paramsFrom(gs.Params)
	if err != nil {
		return nil, err
	}
	// Stake must stay slashable for as long as evidence against it can be
	// submitted: CometBFT's evidence must expire before unbonding does.
	if cp := req.ConsensusParams; cp != nil && cp.Evidence != nil {
		if err := gs.Params.Staking.CheckEvidence(cmttypes.EvidenceParams{MaxAgeNumBlocks: cp.Evidence.MaxAgeNumBlocks, MaxAgeDuration: cp.Evidence.MaxAgeDuration}); err != nil {
			return nil, err
		}
	}
	ov := NewOverlay(a.store)
	st := view{ov}
	pj, _ := json.Marshal(gs.Params)
	ov.Set(keyParams, pj)
	ov.Set(keyChainID, []byte(req.ChainId))
	for _, acc := range gs.Accounts {
		addr, _ := genesis.ParseAddress(acc.Address)
		bal, _ := genesis.ParseAmount(acc.Balance)
		st.SetAccount(addr, &weftv1.Account{Balance: bal.Bytes()})
	}
	for _, r := range gs.Rollups {
		id := rollups.IDFromName(r.Name)
		if _, taken := st.evmChainOwner(r.EVMChainID); taken && r.EVMChainID != 0 {
			return nil, fmt.Errorf("genesis: rollup %q: evm chain id %d is already used by another rollup", r.Name, r.EVMChainID)
		}
		st.registerRollup(&weftv1.Rollup{Id: id[:], Name: r.Name, Vm: r.VM, EvmChainId: r.EVMChainID, BlockWeight: r.Weight})
	}
	if err := initStaking(st, params, gs, req.Validators); err != nil {
		return nil, err
	}
	appHash := NextAppHash(nil, req.InitialHeight-1, ov.Hash())
	if err := a.store.Commit(ov, req.InitialHeight-1, appHash, nil); err != nil {
		return nil, fmt.Errorf("write genesis state: %w", err)
	}
	a.mu.Lock()
	a.chainID, a.params, a.height, a.appHash = req.ChainId, params, req.InitialHeight-1, appHash
	a.mu.Unlock()
	if err := a.refreshWeights(); err != nil {
		return nil, err
	}
	a.log.Info("initialised chain", "chain_id", req.ChainId, "accounts", len(gs.Accounts), "rollups", len(gs.Rollups))
	return &abci.ResponseInitChain{AppHash: appHash}, nil
}

// initStaking bonds the genesis validators' stakes, records the supply and
// checks that CometBFT's genesis validator set is exactly the staked one.
func initStaking(st view, params *Params, gs *genesis.AppState, cmtVals []abci.ValidatorUpdate) error {
	sm := st.staking(params)
	supply := new(uint256.Int)
	for _, acc := range gs.Accounts {
		bal, _ := genesis.ParseAmount(acc.Balance)
		supply.Add(supply, bal)
	}
	if len(gs.Validators) == 0 {
		return errors.New("genesis: app_state.validators is empty: the staking module needs the genesis validators' stakes")
	}
	set := map[common.Address]int64{}
	for i, v := range gs.Validators {
		pk, _ := genesis.ParseValidatorKey(v.PubKey)
		op, _ := genesis.ParseAddress(v.Operator)
		stake, _ := genesis.ParseAmount(v.Stake)
		power, err := sm.Genesis(pk, op, stake, v.CommissionBps, v.Name)
		if err != nil {
			return fmt.Errorf("genesis: app_state.validators[%d]: %w", i, err)
		}
		supply.Add(supply, stake)
		set[common.BytesToAddress(pk.Address())] = power
	}
	if len(cmtVals) != len(set) {
		return fmt.Errorf("genesis: %d CometBFT validators but %d staked validators in app_state", len(cmtVals), len(set))
	}
	for _, u := range cmtVals {
		pk, err := cryptoenc.PubKeyFromProto(u.PubKey)
		if err != nil {
			return fmt.Errorf("genesis validator key: %w", err)
		}
		a := common.BytesToAddress(pk.Address())
		if p, ok := set[a]; !ok || p != u.Power {
			return fmt.Errorf("genesis: validator %s has power %d in CometBFT's genesis but stake for power %d in app_state", a, u.Power, p)
		}
		sm.SetPower(a, u.Power)
	}
	sm.SetLastSet(set)
	sm.SetSupply(supply)
	return nil
}

// protoTxSize is a tx's share of CometBFT's Data proto size.
func protoTxSize(n int) int64 { return int64(1 + protowire.SizeVarint(uint64(n)) + n) }

// commitmentReserve bounds the commitment item's size for k rollups.
func commitmentReserve(k int) int64 { return protoTxSize(rollups.CommitmentSizeBound(k)) }

// maxCandidates bounds how many mempool txs a scan after a block looks at.
const maxCandidates = 200_000

// minTxBytes is less than any valid tx's size: a signature field alone is
// 67 bytes. With less room than that left, a block is full.
const minTxBytes = 67

// PrepareProposal builds a block from the mempool: the commitment item
// first, then txs valid on top of each other, in the mempool's block order
// (fee per byte, per-rollup fair shares, each sender's in nonce order). It
// is total: it never fails and never exceeds MaxTxBytes.
func (a *App) PrepareProposal(_ context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	_, params := a.limits()
	snap := a.store.snapshot()
	defer snap.discard()
	ov := NewOverlay(snap)
	votes := make([]staking.Vote, len(req.LocalLastCommit.Votes))
	for i, v := range req.LocalLastCommit.Votes {
		votes[i] = staking.Vote{Address: common.BytesToAddress(v.Validator.Address), Power: v.Validator.Power, Signed: v.BlockIdFlag == cmtproto.BlockIDFlagCommit}
	}
	beginBlock(view{ov}, params, req.Height, req.Time, votes, req.Misbehavior)
	n, size := a.mp.Size()
	b := newProposal(ov, params, req.Height, req.MaxTxBytes, n, size)
	defer b.leaves.stop()
	a.mp.BuildPayloads(req.MaxTxBytes, b.take)
	return &abci.ResponsePrepareProposal{Txs: b.finish()}, nil
}

// decodeAll returns the hash of each of a block's txs and, for those the
// mempool holds, the tx it decoded and checked on insert (nil for the rest),
// looked up under one mempool lock.
func (a *App) decodeAll(txs [][]byte) ([][32]byte, []*Tx) {
	hs := make([][32]byte, len(txs))
	for i, raw := range txs {
		hs[i] = txcodec.TxHash(raw)
	}
	known := make([]*Tx, len(txs))
	a.mp.Payloads(hs, func(i int, payload any) { known[i] = payload.(*Tx) })
	return hs, known
}

// execute runs a proposed block on a fresh overlay. With strict set it stops
// at the first invalid tx (ProcessProposal); otherwise it records the
// rejection and goes on (FinalizeBlock, which must be total).
func (a *App) execute(txs [][]byte, height int64, blockTime time.Time, lastCommit abci.CommitInfo, evidence []abci.Misbehavior, blockHash []byte, strict bool) (*stagedBlock, error) {
	lim, params := a.limits()
	// The block reads committed state through one badger read transaction
	// (a transaction per read costs more than the read); once it has run,
	// its overlay reads the store again, which nothing changes before Commit.
	snap := a.store.snapshot()
	sb := &stagedBlock{hash: blockHash, height: height, ov: NewOverlay(snap), results: make([]*abci.ExecTxResult, len(txs))}
	defer func() {
		sb.ov.base = a.store
		snap.discard()
	}()
	votes := make([]staking.Vote, len(lastCommit.Votes))
	for i, v := range lastCommit.Votes {
		votes[i] = staking.Vote{Address: common.BytesToAddress(v.Validator.Address), Power: v.Validator.Power, Signed: v.BlockIdFlag == cmtproto.BlockIDFlagCommit}
	}
	sb.events = beginBlock(view{sb.ov}, params, height, blockTime, votes, evidence)
	sb.staking = len(sb.events.Jailed) > 0 || len(sb.events.Tombstoned) > 0
	if len(txs) == 0 || !rollups.IsCommitment(txs[0]) {
		if strict {
			return nil, errors.New("block does not start with a commitment item")
		}
	}
	var valid []*Tx
	var budget blockBudget
	led := newLedger(view{sb.ov}, params, len(txs))
	hashes, known := a.decodeAll(txs)
	sb.block = BlockTxs{Height: height, Raw: make([][]byte, len(txs)), Hashes: hashes, Decoded: make([]*Tx, len(txs))}
	for i, raw := range txs {
		sb.block.Raw[i] = raw
		if i == 0 && rollups.IsCommitment(raw) {
			sb.results[i] = &abci.ExecTxResult{Code: txcodec.CodeOK, Log: "commitment item"}
			continue
		}
		tx, rej := known[i], (*txcodec.Rejection)(nil)
		if tx == nil {
			tx, rej = DecodeTx(raw, lim)
		}
		var fee uint256.Int
		if rej == nil && strict && !budget.fits(tx) {
			// Only a proposal can be refused for its size; a decided block
			// is executed whatever it holds (FinalizeBlock is total).
			return nil, fmt.Errorf("block exceeds its bounds at tx %d: more than %d txs or %d state writes", i, MaxBlockTxs, MaxBlockWrites)
		}
		if rej == nil {
			// The decoded tx's bytes (the mempool's copy, when it had the
			// tx) stand for the block's: equal, and kept anyway.
			sb.block.Raw[i], sb.block.Decoded[i] = tx.Raw, tx
			rej = led.applyTx(sb.ov, tx, height, &fee)
		}
		h := hashes[i]
		if rej != nil {
			if strict {
				return nil, fmt.Errorf("tx %d (%x): %v", i, h[:8], rej)
			}
			sb.results[i] = &abci.ExecTxResult{Code: rej.Code, Log: rej.Log, Codespace: "weft"}
			continue
		}
		budget.add(tx)
		valid = append(valid, tx)
		sb.txs = append(sb.txs, h)
		sb.decoded = append(sb.decoded, tx)
		for _, act := range tx.Body.Actions {
			if _, ok := act.Kind.(*weftv1.Action_RegisterRollup); ok {
				sb.registers = true
			}
		}
		sb.staking = sb.staking || hasStaking(tx)
		res := &weftv1.TxResult{Hash: h[:], Height: height, Index: uint32(i), Fee: fee.Bytes(), Sender: tx.Sender.Bytes()}
		sb.ov.Set(txResultKey(h), mustMarshal(res))
		sb.results[i] = &abci.ExecTxResult{Code: txcodec.CodeOK}
	}
	led.flush()
	if strict {
		if want := commitmentFor(valid, height); !bytes.Equal(want, txs[0]) {
			return nil, errors.New("commitment item does not match the block's rollup data")
		}
	}
	ups := view{sb.ov}.staking(params).EndBlock()
	for _, u := range ups {
		pkp, err := cryptoenc.PubKeyToProto(secp256k1eth.PubKey(u.PubKey))
		if err != nil {
			panic(fmt.Sprintf("invariant: stored consensus key does not encode: %v", err))
		}
		sb.updates = append(sb.updates, abci.ValidatorUpdate{PubKey: pkp, Power: u.Power})
	}
	return sb, nil
}

// beginBlock runs staking's start-of-block work: rewards for the previous
// block's signers, downtime tracking, evidence slashing, matured unbonding.
func beginBlock(st view, params *Params, height int64, blockTime time.Time, votes []staking.Vote, misbehavior []abci.Misbehavior) *staking.Events {
	ev := make([]staking.Evidence, 0, len(misbehavior))
	for _, m := range misbehavior {
		ev = append(ev, staking.Evidence{Address: common.BytesToAddress(m.Validator.Address), Height: m.Height})
	}
	return st.staking(params).BeginBlockAt(height, blockTime, votes, ev)
}

// ProcessProposal accepts a block only if it starts with the right
// commitment item and every tx is valid in order. Because a bundle is one tx
// and the commitment is recomputed from the txs, a block that splits,
// reorders or drops part of a bundle is rejected.
func (a *App) ProcessProposal(_ context.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	sb, err := a.execute(req.Txs, req.Height, req.Time, req.ProposedLastCommit, req.Misbehavior, req.Hash, true)
	if err != nil {
		a.log.Warn("rejecting proposal", "height", req.Height, "reason", err.Error())
		return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
	}
	a.processed = sb
	return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
}

// FinalizeBlock applies a decided block and returns its app hash; the state
// is written in Commit.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	sb := a.processed
	a.processed = nil
	if sb == nil || sb.height != req.Height || !bytes.Equal(sb.hash, req.Hash) {
		var err error
		if sb, err = a.execute(req.Txs, req.Height, req.Time, req.DecidedLastCommit, req.Misbehavior, req.Hash, false); err != nil {
			return nil, err
		}
	}
	sb.time = req.Time
	_, prev := a.Committed()
	sb.appHash = NextAppHash(prev, req.Height, sb.ov.Hash())
	a.staged = sb
	if ev := sb.events; ev != nil {
		for _, v := range ev.Jailed {
			a.log.Warn("validator jailed for downtime", "height", req.Height, "validator", v, "slashed", ev.Slashed[v])
		}
		for _, v := range ev.Tombstoned {
			a.log.Warn("validator slashed and tombstoned for double signing", "height", req.Height, "validator", v, "slashed", ev.Slashed[v])
		}
	}
	for _, u := range sb.updates {
		a.log.Info("validator set change", "height", req.Height, "effective_height", req.Height+2, "power", u.Power)
	}
	return &abci.ResponseFinalizeBlock{TxResults: sb.results, AppHash: sb.appHash, ValidatorUpdates: sb.updates}, nil
}

// Commit writes the finalized block in one badger transaction, then prunes
// the mempool against the new state.
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	sb := a.staged
	if sb == nil {
		panic("invariant: Commit without FinalizeBlock")
	}
	a.staged = nil
	a.jmu.Lock()
	var jdel [][32]byte
	for _, h := range sb.txs {
		if _, ok := a.journaled[h]; ok {
			jdel = append(jdel, h)
			delete(a.journaled, h)
		}
	}
	a.jmu.Unlock()
	if err := a.store.Commit(sb.ov, sb.height, sb.appHash, jdel); err != nil {
		return nil, fmt.Errorf("commit height %d: %w", sb.height, err)
	}
	a.rememberDecoded(sb)
	a.mu.Lock()
	a.height, a.appHash = sb.height, sb.appHash
	if sb.time.After(a.clock) {
		a.clock = sb.time
	}
	now := a.clock
	close(a.commitC)
	a.commitC = make(chan struct{})
	a.mu.Unlock()

	// Only a block's senders can have a higher nonce or a lower balance
	// now: transfers and rewards only add to other accounts.
	senders := make([][20]byte, len(sb.decoded))
	for i, tx := range sb.decoded {
		senders[i] = tx.Sender
	}
	// The block's overlay holds exactly the accounts it changed (the rest
	// it reads from the store just committed): no store read per sender.
	post := view{sb.ov}
	dropped := a.mp.Update(now, sb.txs, senders, func(sender [20]byte) mempool.AccountState {
		acc := post.Account(sender)
		return mempool.AccountState{Nonce: acc.Nonce, Balance: balanceOf(acc)}
	})
	if sb.registers {
		dropped = append(dropped, a.dropTakenRegistrations()...)
		if err := a.refreshWeights(); err != nil {
			return nil, err
		}
	}
	if sb.staking {
		dropped = append(dropped, a.dropFailedStaking()...)
	}
	if len(dropped) > 0 {
		a.forget(dropped)
		a.log.Info("dropped invalidated or expired mempool txs", "height", sb.height, "count", len(dropped))
	}
	return &abci.ResponseCommit{}, nil
}

// dropTakenRegistrations removes pending txs that register a rollup that now
// exists, with their sender's later txs. The mempool re-checks only nonces
// and balances; without this such a tx could never execute yet would block
// its sender's queue for good.
func (a *App) dropTakenRegistrations() []mempool.Dropped {
	st := view{NewOverlay(a.store)}
	var out []mempool.Dropped
	for _, m := range a.mp.Pending(maxCandidates) {
		for _, act := range m.Payload.(*Tx).Body.Actions {
			r, ok := act.Kind.(*weftv1.Action_RegisterRollup)
			if !ok || st.Rollup(rollups.IDFromName(r.RegisterRollup.Name)) == nil {
				continue
			}
			reason := fmt.Sprintf("rollup %q already exists", r.RegisterRollup.Name)
			for _, gone := range a.mp.Remove(m.Hash) {
				out = append(out, mempool.Dropped{Tx: gone, Reason: reason})
			}
			break
		}
	}
	return out
}
