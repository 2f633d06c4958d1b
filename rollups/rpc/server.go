package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/holiman/uint256"
)

// ClientVersion is web3_clientVersion.
const ClientVersion = "Weft/v0.1.0/evm"

// Config configures a rollup RPC server.
type Config struct {
	Name       string
	ListenAddr string // "host:port", HTTP and WebSocket
	// InflightTTL bounds how long a submitted tx counts as pending.
	InflightTTL time.Duration
	// MaxPendingPerSender bounds one sender's txs in flight (handed to
	// Weft, not yet executed); 0 means DefaultMaxPendingPerSender.
	MaxPendingPerSender int
	// Settlement, when set, says which rollup blocks are settled on L1: the
	// "safe" and "finalized" block tags follow it. Without it both tags
	// name the genesis block.
	Settlement SettlementStatus
	// Progress, when set, reports the last Weft height the rollup executed,
	// the node's committed height, and whether the node itself is still
	// catching up with the network (CometBFT block sync). While either
	// catches up (see syncing), eth_syncing reports the progress and
	// eth_sendRawTransaction refuses txs: nonces and balances would be
	// checked against stale state.
	Progress func() (executed, chain int64, nodeCatchingUp bool)
	// AllowUnprotectedTxs accepts legacy txs without EIP-155 replay
	// protection (signed for any chain), as go-ethereum's
	// --rpc.allow-unprotected-txs does: the published deployment txs of the
	// deterministic deployment proxy and of other keyless deployers are such
	// txs. Off, they are refused with go-ethereum's error.
	AllowUnprotectedTxs bool
}

// errUnprotectedTx is go-ethereum's refusal of a tx without EIP-155 replay
// protection (internal/ethapi.SubmitTransaction).
var errUnprotectedTx = errors.New("only replay-protected (EIP-155) transactions allowed over RPC")

// SyncSlack is how many Weft heights a rollup may trail the chain and still
// count as caught up after a (re)start: following live, it trails by at
// most the block being executed.
const SyncSlack = 2

// SyncRelapse is how far a rollup that has caught up must fall behind again
// to count as syncing: under load the executor may trail by a few blocks
// for a while, and its RPC should keep taking txs meanwhile.
const SyncRelapse = 64

// ErrSyncing refuses a tx while the rollup is catching up.
var ErrSyncing = errors.New("rollup node is syncing")

// syncing returns how far the rollup has executed and the node's committed
// height, and whether it is still catching up: while the node itself is,
// and otherwise while the rollup is more than SyncSlack heights behind the
// node until it first gets that close, more than SyncRelapse after.
func (s *Server) syncing() (executed, chain int64, behind bool) {
	if s.cfg.Progress == nil {
		return 0, 0, false
	}
	executed, chain, nodeCatchingUp := s.cfg.Progress()
	if nodeCatchingUp {
		return executed, chain, true
	}
	lag := chain - executed
	if s.caughtUp.Load() {
		return executed, chain, lag > SyncRelapse
	}
	if lag <= SyncSlack {
		s.caughtUp.Store(true)
		return executed, chain, false
	}
	return executed, chain, true
}

// SettlementStatus reports the rollup's L1 settlement progress as rollup
// block numbers: safe (the batch holding the block is in an L1 block) and
// finalized (that L1 block is final and the batch's challenge window is
// over). Implementations must be safe for concurrent use.
type SettlementStatus interface {
	SafeBlock() uint64
	FinalizedBlock() uint64
}

// TxSubmitter gets validated rollup txs into Weft (see Submitter).
type TxSubmitter interface {
	Submit(ctx context.Context, rawTx []byte) error
}

// Server is one rollup's JSON-RPC endpoint.
type Server struct {
	cfg      Config
	caughtUp atomic.Bool // the rollup has come within SyncSlack of the chain
	backend  Backend
	sub      TxSubmitter
	inflight *inflight
	log      *slog.Logger
	rpc      *rpc.Server
	http     *http.Server
	lis      net.Listener
	quit     chan struct{}
	done     chan struct{}
}

// NewServer builds the server; Start listens.
func NewServer(cfg Config, backend Backend, sub TxSubmitter, log *slog.Logger) (*Server, error) {
	if cfg.InflightTTL <= 0 {
		cfg.InflightTTL = 2 * time.Minute
	}
	s := &Server{
		cfg: cfg, backend: backend, sub: sub, log: log, inflight: newInflight(cfg.InflightTTL, cfg.MaxPendingPerSender),
		rpc: rpc.NewServer(), quit: make(chan struct{}), done: make(chan struct{}),
	}
	for ns, svc := range map[string]any{"eth": &ethAPI{s}, "net": &netAPI{s}, "web3": &web3API{}} {
		if err := s.rpc.RegisterName(ns, svc); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// RegisterName adds another namespace (e.g. the node's weft_ methods).
func (s *Server) RegisterName(ns string, svc any) error { return s.rpc.RegisterName(ns, svc) }

// Start listens and follows executed blocks to retire in-flight txs.
func (s *Server) Start() error {
	lis, err := net.Listen("tcp", s.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("rollup %s RPC listen %s: %w", s.cfg.Name, s.cfg.ListenAddr, err)
	}
	s.lis = lis
	ws := s.rpc.WebsocketHandler([]string{"*"})
	s.http = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
				ws.ServeHTTP(w, r)
				return
			}
			s.rpc.ServeHTTP(w, r)
		}),
	}
	go func() {
		if err := s.http.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("rollup RPC stopped", "rollup", s.cfg.Name, "err", err)
		}
	}()
	go s.retire()
	return nil
}

// Addr is the listening address.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Stop closes the listener and every connection.
func (s *Server) Stop() {
	close(s.quit)
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.http.Shutdown(ctx)
		<-s.done
	}
	s.rpc.Stop()
}

func (s *Server) retire() {
	defer close(s.done)
	ch := make(chan *BlockEvent, 256)
	sub := s.backend.SubscribeBlocks(ch)
	defer sub.Unsubscribe()
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case ev := <-ch:
			now := time.Now()
			for _, tx := range ev.Block.Transactions() {
				s.inflight.executed(tx.Hash(), now)
			}
			for _, h := range ev.Skipped {
				s.inflight.release(h)
			}
		case now := <-t.C:
			s.inflight.expire(now)
		case <-sub.Err():
			return
		case <-s.quit:
			return
		}
	}
}

// CheckRaw decodes a raw rollup tx for the EVM chain chainID and applies
// the checks that need no rollup state (size, type, EIP-155 replay
// protection, chain id, signature), with geth's error texts. Clients that
// hand rollup txs to Weft directly (weft tx bundle --eth-tx) use it to refuse
// a bundle before any part of it is ordered.
func CheckRaw(input []byte, chainID *big.Int) (*types.Transaction, common.Address, error) {
	return checkRaw(input, types.LatestSignerForChainID(chainID), false)
}

// checkRaw is CheckRaw for signer's chain; allowUnprotected accepts a
// legacy tx without replay protection (which names no chain).
func checkRaw(input []byte, signer types.Signer, allowUnprotected bool) (*types.Transaction, common.Address, error) {
	var zero common.Address
	if len(input) > maxTxSize {
		return nil, zero, fmt.Errorf("%w: transaction size %d, limit %d", txpool.ErrOversizedData, len(input), maxTxSize)
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(input); err != nil {
		return nil, zero, err
	}
	switch tx.Type() {
	case types.LegacyTxType, types.AccessListTxType, types.DynamicFeeTxType:
	default:
		return nil, zero, fmt.Errorf("%w: tx type %d", core.ErrTxTypeNotSupported, tx.Type())
	}
	if !tx.Protected() && !allowUnprotected {
		return nil, zero, errUnprotectedTx
	}
	if tx.Protected() && tx.ChainId().Cmp(signer.ChainID()) != 0 {
		return nil, zero, fmt.Errorf("%w: have %d want %d", types.ErrInvalidChainId, tx.ChainId(), signer.ChainID())
	}
	from, err := types.Sender(signer, tx)
	if err != nil {
		return nil, zero, fmt.Errorf("%w: %v", txpool.ErrInvalidSender, err)
	}
	return tx, from, nil
}

// validateRaw decodes and checks a raw tx like geth's txpool, with its
// error texts, and returns its sender's state at the head, against which
// reserve checks the balance once more after the sender's txs in flight.
func (s *Server) validateRaw(input []byte) (*types.Transaction, common.Address, account, error) {
	var zero common.Address
	var none account
	if executed, chain, behind := s.syncing(); behind {
		return nil, zero, none, fmt.Errorf("%w: executed Weft height %d of %d; retry once eth_syncing is false", ErrSyncing, executed, chain)
	}
	cfg := s.backend.ChainConfig()
	head := s.backend.Head()
	tx, from, err := checkRaw(input, types.LatestSigner(cfg), s.cfg.AllowUnprotectedTxs)
	if err != nil {
		return nil, zero, none, err
	}
	if tx.Gas() > head.GasLimit {
		return nil, zero, none, txpool.ErrGasLimit
	}
	if tx.GasFeeCapIntCmp(tx.GasTipCap()) < 0 {
		return nil, zero, none, core.ErrTipAboveFeeCap
	}
	rules := cfg.Rules(head.Number, true, head.Time)
	value, _ := uint256.FromBig(tx.Value())
	intr, err := core.IntrinsicGas(tx.Data(), tx.AccessList(), tx.SetCodeAuthorizations(), from, tx.To(), value, rules)
	if err != nil {
		return nil, zero, none, err
	}
	if tx.Gas() < intr {
		return nil, zero, none, fmt.Errorf("%w: gas %v, minimum needed %v", core.ErrIntrinsicGas, tx.Gas(), intr)
	}
	if next := nextBaseFee(cfg, head); tx.GasFeeCapIntCmp(next) < 0 {
		return nil, zero, none, fmt.Errorf("%w: address %v, maxFeePerGas: %s, baseFee: %s", core.ErrFeeCapTooLow, from, tx.GasFeeCap(), next)
	}
	st, err := s.backend.StateAt(head.Root)
	if err != nil {
		return nil, zero, none, err
	}
	acct := account{nonce: st.GetNonce(from), balance: st.GetBalance(from)}
	if tx.Nonce() < acct.nonce {
		return nil, zero, none, fmt.Errorf("%w: address %v, tx: %d state: %d", core.ErrNonceTooLow, from, tx.Nonce(), acct.nonce)
	}
	if pending := s.inflight.pendingNonce(from, acct.nonce); tx.Nonce() > pending {
		return nil, zero, none, fmt.Errorf("%w: address %v, tx: %d state: %d", core.ErrNonceTooHigh, from, tx.Nonce(), pending)
	}
	cost, ok := txCost(tx)
	if !ok {
		return nil, zero, none, core.ErrInsufficientFunds
	}
	if acct.balance.Lt(cost) {
		return nil, zero, none, fmt.Errorf("%w: address %v have %v want %v", core.ErrInsufficientFunds, from, acct.balance, cost)
	}
	return tx, from, acct, nil
}

// submit reserves the sender's nonce (and the tx's cost out of its
// balance, acct's) and hands the tx to Weft.
func (s *Server) submit(ctx context.Context, tx *types.Transaction, from common.Address, acct account, raw []byte) error {
	if _, ok := s.inflight.get(tx.Hash()); ok {
		return txpool.ErrAlreadyKnown
	}
	if err := s.inflight.reserve(tx, from, acct, time.Now()); err != nil {
		return err
	}
	if err := s.sub.Submit(ctx, raw); err != nil {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			s.inflight.release(tx.Hash())
		}
		return err
	}
	return nil
}

func nextBaseFee(cfg *params.ChainConfig, h *types.Header) *big.Int {
	if h.BaseFee == nil {
		return new(big.Int)
	}
	return eip1559.CalcBaseFee(cfg, h)
}

func abiUnpackRevert(ret []byte) (string, error) { return abi.UnpackRevert(ret) }

type netAPI struct{ s *Server }

// Version is net_version.
func (n *netAPI) Version() string { return n.s.backend.ChainConfig().ChainID.String() }

// Listening is net_listening.
func (n *netAPI) Listening() bool { return true }

// PeerCount is net_peerCount.
func (n *netAPI) PeerCount() string { return "0x0" }

type web3API struct{}

// ClientVersion is web3_clientVersion.
func (web3API) ClientVersion() string { return ClientVersion }
