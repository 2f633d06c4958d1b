package batcher

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/weftnet/weft/contracts/bindings"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups/settlement"
	"github.com/weftnet/weft/rollups/txmgr"
)

// L1 is the Ethereum JSON-RPC surface the driver uses; *ethclient.Client
// implements it.
type L1 interface {
	ChainID(ctx context.Context) (*big.Int, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	NonceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (uint64, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	EstimateGas(ctx context.Context, call ethereum.CallMsg) (uint64, error)
	SendTransaction(ctx context.Context, tx *types.Transaction) error
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
	CallContract(ctx context.Context, call ethereum.CallMsg, blockNumber *big.Int) ([]byte, error)
}

// BlobBaseFeeReader is what blob mode needs of L1 on top of L1: the
// current blob base fee (eth_blobBaseFee, computed by the node from its
// head's excess blob gas and its own blob schedule); *ethclient.Client
// implements it.
type BlobBaseFeeReader interface {
	BlobBaseFee(ctx context.Context) (*big.Int, error)
}

// Source gives the driver the rollup's Weft slices and its state roots.
type Source interface {
	// Follow calls fn with every slice of the rollup from Weft height
	// from on, in order, until ctx ends or fn fails.
	Follow(ctx context.Context, from int64, fn func(*weftv1.RollupSlice) error) error
	// StateRootAt returns the rollup's state root after Weft height h,
	// waiting until the executor has executed h.
	StateRootAt(ctx context.Context, h int64) (common.Hash, error)
}

// DriverConfig configures a Driver.
type DriverConfig struct {
	Builder Config
	Inbox   common.Address
	Key     *ecdsa.PrivateKey
	// Confirmations is the L1 depth at which a batch counts as posted
	// (the rollup's "safe" tag).
	Confirmations uint64
	// PollInterval paces L1 polling (receipts, inbox state).
	PollInterval time.Duration
	// ResubmitAfter re-sends a tx not mined this long after it was sent,
	// with fees raised by FeeBumpPercent (geth needs at least 10).
	ResubmitAfter  time.Duration
	FeeBumpPercent int64
	// MaxGasFeeCap bounds the fee cap the driver will pay (nil: no bound).
	MaxGasFeeCap *big.Int

	// Blobs posts each frame as the single EIP-4844 blob of a type-3 tx
	// (appendFrame/postBatch with empty data, so the inbox takes the blob)
	// instead of as calldata. The frame is packed with EncodeBlob, so
	// Builder.MaxFrameSize must be at most MaxBlobPayload, and the L1
	// client must implement BlobBaseFeeReader. Sidecars are version 1
	// (cell proofs): the L1 must run Osaka or later. Blob txs are re-sent
	// with every fee cap at least doubled (max(FeeBumpPercent, 100)), the
	// replacement rule of geth's blob pool.
	Blobs bool
	// MaxBlobFeeCap bounds the blob fee cap the driver will pay (nil: no
	// bound).
	MaxBlobFeeCap *big.Int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// StateFile, when set, holds the builder's progress (Builder.Snapshot),
	// saved after every frame that lands, so that a restart finishes a
	// half-posted batch instead of discarding its frames.
	StateFile string
}

func (c *DriverConfig) defaults() {
	if c.PollInterval <= 0 {
		c.PollInterval = 500 * time.Millisecond
	}
	if c.ResubmitAfter <= 0 {
		c.ResubmitAfter = txmgr.DefaultPolicy.ResubmitAfter
	}
	if c.FeeBumpPercent < 10 {
		c.FeeBumpPercent = txmgr.DefaultPolicy.BumpPercent
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Status is the settlement progress the driver last read from L1, in Weft
// heights: Safe is the last height of the last batch at least
// Confirmations deep, Finalized the last height of the last batch whose L1
// block is finalized and whose challenge window is over.
type Status struct {
	Safe, Finalized int64
	NextIndex       uint64
}

// Driver posts a rollup's batches to its L1 inbox: it feeds the pure
// Builder with executed Weft heights and runs the L1 transaction manager
// (nonces, gas, fee bumping, resubmission, receipts, reorgs).
//
// The inbox is the driver's persisted progress. On start, after a failed
// or reverted tx, and whenever L1 shows fewer frames than the driver saw
// confirmed (a reorg, or a challenge deleting batches), it resyncs: waits
// until none of its own txs is pending, drops any frames of an unfinished
// batch (discardPending), and rebuilds from the inbox's next index, next
// Weft height and last state root. The inbox accepts only the next index
// from the next height on top of the last root, so a restart can neither
// skip nor duplicate a batch.
type Driver struct {
	cfg    DriverConfig
	policy txmgr.Policy // from cfg: fee bumps, caps, when a tx is due
	l1     L1
	src    Source
	log    *slog.Logger
	from   common.Address
	inbox  *bindings.WeftInbox
	chain  *big.Int
	signer types.Signer

	lastWarn    time.Time // last "L1 unreachable" log
	unreachable bool
	statusHead  common.Hash // L1 head the status was last read at

	// Blob mode: the sidecar of the last frame sent (KZG proofs take a
	// fifth of a second per blob), keyed by tx id and frame hash.
	sidecarKey common.Hash
	sidecar    *types.BlobTxSidecar

	mu       sync.Mutex
	status   Status
	stats    Stats
	retained int
}

// unreachableLogEvery rate-limits the warning while L1 is down.
const unreachableLogEvery = 10 * time.Second

// NewDriver returns a driver; Run starts it.
func NewDriver(cfg DriverConfig, l1 L1, src Source, log *slog.Logger) (*Driver, error) {
	cfg.defaults()
	if err := cfg.Builder.Check(); err != nil {
		return nil, err
	}
	if cfg.Key == nil {
		return nil, errors.New("batcher: no L1 key")
	}
	if cfg.Blobs {
		if cfg.Builder.MaxFrameSize > MaxBlobPayload {
			return nil, fmt.Errorf("batcher: blob mode: max frame size %d is above the blob payload limit %d", cfg.Builder.MaxFrameSize, MaxBlobPayload)
		}
		if _, ok := l1.(BlobBaseFeeReader); !ok {
			return nil, fmt.Errorf("batcher: blob mode: the L1 client (%T) cannot read the blob base fee (eth_blobBaseFee)", l1)
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	policy := txmgr.Policy{ResubmitAfter: cfg.ResubmitAfter, BumpPercent: cfg.FeeBumpPercent, MaxFeeCap: cfg.MaxGasFeeCap, MaxBlobFeeCap: cfg.MaxBlobFeeCap}
	return &Driver{cfg: cfg, policy: policy, l1: l1, src: src, log: log, from: crypto.PubkeyToAddress(cfg.Key.PublicKey), inbox: bindings.NewWeftInbox()}, nil
}

// Address is the batcher's L1 account.
func (d *Driver) Address() common.Address { return d.from }

// Status returns the last settlement progress read from L1.
func (d *Driver) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

// Retained is how many closed batches the builder holds in memory (those
// not fully landed on L1 yet).
func (d *Driver) Retained() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.retained
}

// Stats returns the builder's compression counters of the current run.
func (d *Driver) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// errResync makes Run rebuild from the inbox.
var errResync = errors.New("resync with the L1 inbox")

// Run posts batches until ctx ends. L1 errors are logged and retried; Run
// returns only ctx's error.
func (d *Driver) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := d.session(ctx)
		if ctx.Err() != nil {
			break
		}
		if errors.Is(err, errResync) {
			d.log.Info("batcher resyncing with the L1 inbox", "reason", err)
		} else {
			d.log.Warn("batcher session ended; retrying", "err", err)
		}
		if !sleepCtx(ctx, d.cfg.PollInterval) {
			break
		}
	}
	return ctx.Err()
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// inboxState is the inbox as of one L1 block.
type inboxState struct {
	nextIndex  uint64
	nextHeight uint64
	lastRoot   common.Hash
	pending    uint32
	pendingC   common.Hash // commitment over the pending frames
}

func (d *Driver) call(ctx context.Context, data []byte, block *big.Int) ([]byte, error) {
	return d.l1.CallContract(ctx, ethereum.CallMsg{To: &d.cfg.Inbox, Data: data}, block)
}

// readInbox reads the inbox's progress as of L1 block block (nil: the
// latest) with settlement's one inbox reader.
func (d *Driver) readInbox(ctx context.Context, block *big.Int) (inboxState, error) {
	st, err := settlement.ReadInboxState(ctx, d.l1, d.cfg.Inbox, block)
	if err != nil {
		return inboxState{}, err
	}
	return inboxState{nextIndex: st.NextIndex, nextHeight: st.NextHeight, lastRoot: st.LastRoot,
		pending: st.PendingFrames, pendingC: st.PendingCommitment}, nil
}

// sent is one L1 tx in flight: what it carries, and every version (fee
// bump) of it (txmgr.Tx).
type sent struct {
	txmgr.Tx
	tx   Tx
	id   string
	data []byte
	gas  uint64
	// Blob txs only: the sidecar (the same in every version).
	sidecar *types.BlobTxSidecar
}

// L1Tx is s's place in the txmgr queue.
func (s *sent) L1Tx() *txmgr.Tx { return &s.Tx }

// session runs from one resync to the next.
func (d *Driver) session(ctx context.Context) error {
	if d.chain == nil {
		id, err := d.l1.ChainID(ctx)
		if err != nil {
			return fmt.Errorf("L1 chain id: %w", err)
		}
		d.chain, d.signer = id, types.LatestSignerForChainID(id)
	}
	ss, resumeFrom, err := d.startSession(ctx)
	if err != nil {
		return err
	}

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks := make(chan Block, 256)
	followErr := make(chan error, 1)
	go func() { followErr <- d.feed(sctx, resumeFrom, blocks) }()

	ticker := time.NewTicker(d.cfg.PollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-followErr:
			return fmt.Errorf("follow Weft: %w", err)
		case blk := <-blocks:
			if err := ss.b.AddBlock(d.cfg.Now(), blk); err != nil {
				return fmt.Errorf("builder: %w", err)
			}
			continue
		case <-ticker.C:
		}
		if err := d.tick(ctx, ss); err != nil {
			return err
		}
	}
}

// sessionState is the loop state of one session.
type sessionState struct {
	b  *Builder
	st inboxState // the inbox as read at the session's start

	queue     txmgr.Queue[*sent] // txs sent and not mined, by nonce
	confirmed uint64             // batches this session saw land
	frames    uint32             // frames of batch `confirmed` this session saw land
	// checkResumed is set while the resumed batch's rebuilt frames have not
	// been checked against the frames already on L1.
	checkResumed bool
}

// startSession settles the driver's own txs, reads the inbox and returns
// the session's initial state, its builder resumed from the saved progress
// or started afresh from the inbox, with the Weft height to follow from.
// An unfinished batch that cannot be resumed has its frames discarded on
// L1, and startSession returns errResync.
func (d *Driver) startSession(ctx context.Context) (*sessionState, int64, error) {
	if err := d.settleOwnTxs(ctx); err != nil {
		return nil, 0, err
	}
	st, err := d.readInbox(ctx, nil)
	if err != nil {
		return nil, 0, err
	}
	b := d.resume(ctx, st)
	if b == nil && st.pending > 0 {
		d.log.Info("discarding frames of an unfinished batch", "index", st.nextIndex, "frames", st.pending)
		if _, err := d.sendAndWait(ctx, "discard pending", d.inbox.PackDiscardPending()); err != nil {
			return nil, 0, err
		}
		return nil, 0, errResync
	}
	resumeFrom := int64(st.nextHeight)
	if b != nil {
		resumeFrom = b.ResumeHeight()
	} else {
		var err error
		if b, err = New(d.cfg.Builder, Start{NextIndex: st.nextIndex, NextHeight: int64(st.nextHeight), PrevRoot: st.lastRoot}); err != nil {
			return nil, 0, err
		}
	}
	ss := &sessionState{
		b:            b,
		st:           st,
		confirmed:    st.nextIndex,
		frames:       st.pending,
		checkResumed: st.pending > 0,
	}
	d.log.Info("batcher started", "next_index", st.nextIndex, "next_height", st.nextHeight, "prev_root", st.lastRoot, "l1_account", d.from)
	return ss, resumeFrom, nil
}

// tick is one poll of a session: it ticks the builder, checks that the
// inbox holds at least what the session saw land, then lands the mined
// txs and sends new ones. An unreachable L1 skips the rest of the tick.
func (d *Driver) tick(ctx context.Context, ss *sessionState) error {
	b := ss.b
	now := d.cfg.Now()
	if err := b.Tick(now); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	d.mu.Lock()
	d.stats = b.Stats()
	d.retained = len(b.Batches())
	d.mu.Unlock()

	// The inbox must hold at least what this session saw land.
	cur, err := d.readInbox(ctx, nil)
	if err != nil {
		if now.Sub(d.lastWarn) >= unreachableLogEvery {
			d.log.Warn("L1 unreachable; retrying", "err", err)
			d.lastWarn = now
		}
		d.unreachable = true
		return nil
	}
	if d.unreachable {
		d.log.Info("L1 reachable again")
		d.unreachable, d.lastWarn = false, time.Time{}
	}
	if cur.nextIndex < ss.confirmed || (cur.nextIndex == ss.confirmed && cur.pending < ss.frames) {
		return fmt.Errorf("%w: inbox at batch %d frame %d, this batcher saw batch %d frame %d land (L1 reorg or challenge)",
			errResync, cur.nextIndex, cur.pending, ss.confirmed, ss.frames)
	}
	d.updateStatus(ctx, cur)

	if err := d.landMined(ctx, ss, now); err != nil {
		return err
	}
	return d.fillQueue(ctx, ss, now)
}

// landMined lands what was mined, in nonce order, and stops at the first
// tx with no receipt yet, fee-bumping every queued tx sent at least
// ResubmitAfter ago, or at a receipt error.
func (d *Driver) landMined(ctx context.Context, ss *sessionState, now time.Time) error {
	b := ss.b
	for ss.queue.Len() > 0 {
		s, _ := ss.queue.Head()
		rcpt, err := d.receipt(ctx, s)
		if errors.Is(err, errResync) {
			return err
		}
		if err != nil {
			d.log.Warn("L1 receipt", "tx", s.id, "err", err)
			return nil
		}
		if rcpt == nil {
			for _, q := range ss.queue.Due(d.policy, now) {
				if err := d.bump(ctx, q); err != nil {
					d.log.Warn("fee bump failed", "tx", q.id, "err", err)
				}
			}
			return nil
		}
		if rcpt.Status != types.ReceiptStatusSuccessful {
			return fmt.Errorf("%w: tx %s (%s) reverted in L1 block %d", errResync, rcpt.TxHash, s.id, rcpt.BlockNumber)
		}
		tx := s.tx
		if err := b.Confirmed(s.id, rcpt.BlockNumber.Uint64()); err != nil {
			return fmt.Errorf("%w: %v", errResync, err)
		}
		ss.queue.Pop()
		if tx.Header == nil {
			ss.frames++
			d.saveState(b)
			continue
		}
		ss.confirmed, ss.frames = tx.BatchIndex+1, 0
		d.log.Info("batch posted", "index", tx.BatchIndex, "weft_heights", fmt.Sprintf("%d..%d", tx.Header.FromHeight, tx.Header.ToHeight),
			"frames", tx.Header.FrameCount, "root", common.Hash(tx.Header.NewRoot), "l1_block", rcpt.BlockNumber, "gas", rcpt.GasUsed, "blob_gas", rcpt.BlobGasUsed)
		// From here on L1 is the record (a reorg or a challenge makes
		// the driver resync from the inbox): the builder lets go of
		// the batch and its heights.
		if err := b.Finalized(tx.BatchIndex); err != nil {
			return fmt.Errorf("builder: %w", err)
		}
		d.saveState(b)
	}
	return nil
}

// fillQueue keeps up to MaxInFlight frames of the batch in the L1 pool, at
// consecutive nonces. A frame that cannot be sent is handed back to the
// builder and goes out again next tick.
func (d *Driver) fillQueue(ctx context.Context, ss *sessionState, now time.Time) error {
	b, st := ss.b, ss.st
	for ss.queue.Len() < max(d.cfg.Builder.MaxInFlight, 1) {
		tx, ok, err := b.NextTx(now)
		if err != nil {
			return fmt.Errorf("builder: %w", err)
		}
		if !ok {
			break
		}
		if ss.checkResumed {
			// The frames on L1 must be the rebuilt batch's first ones.
			if got := b.frameChain(st.nextIndex, int(st.pending)); got != st.pendingC {
				d.dropState()
				return fmt.Errorf("%w: rebuilt batch %d does not match its %d frames on L1 (commitment %s, L1 %s)",
					errResync, st.nextIndex, st.pending, got, st.pendingC)
			}
			ss.checkResumed = false
		}
		var sc *types.BlobTxSidecar
		if d.cfg.Blobs {
			if sc, err = d.frameSidecar(tx); err != nil {
				return fmt.Errorf("blob frame %s: %w", tx.ID, err)
			}
		}
		nonce, ok := ss.queue.NextNonce()
		if !ok {
			nonce, err = d.l1.PendingNonceAt(ctx, d.from)
		}
		if err != nil {
			_ = b.Failed(tx.ID, err)
			d.log.Warn("L1 nonce", "err", err)
			break
		}
		s, err := d.send(ctx, tx.ID, d.pack(tx), sc, nonce)
		if err != nil {
			// Hand the frame back: it goes out again next tick.
			_ = b.Failed(tx.ID, err)
			d.log.Warn("send batch tx", "tx", tx.ID, "err", err)
			break
		}
		s.tx = tx
		ss.queue.Push(s)
	}
	return nil
}
