package settlement

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"

	"github.com/weftnet/weft/contracts/bindings"
)

var (
	inboxABI = bindings.NewWeftInbox()
	inboxDef = inboxABI.GetABI()
)

// ErrNoBlobSource is returned (wrapped, naming batch and frame) by Batches
// for blob frames when the Inbox has no BlobSource.
var ErrNoBlobSource = errors.New("blob frame: no blob source configured")

// ErrFrameMismatch is returned (wrapped) when a frame's bytes on L1 do not
// hash to the frame hash the inbox logged.
var ErrFrameMismatch = errors.New("frame data does not match logged frame hash")

// L1Reader is what Inbox needs of an Ethereum JSON-RPC endpoint;
// *ethclient.Client and the embedded L1's client satisfy it.
type L1Reader interface {
	bind.ContractCaller
	FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error)
	TransactionByHash(ctx context.Context, hash common.Hash) (tx *types.Transaction, isPending bool, err error)
}

// BlobRef locates a blob frame on L1.
type BlobRef struct {
	L1Block       uint64
	L1BlockHash   common.Hash
	TxHash        common.Hash
	VersionedHash common.Hash
}

// BlobSource fetches blobs (e.g. from a beacon node's blob sidecars API).
// Batches checks the returned blob against the versioned hash.
type BlobSource interface {
	Blob(ctx context.Context, ref BlobRef) (*kzg4844.Blob, error)
}

// Frame is one frame of a posted batch.
type Frame struct {
	Index       uint32      `json:"index"`
	Hash        common.Hash `json:"hash"` // keccak256(Data), or the blob's versioned hash
	Blob        bool        `json:"blob"`
	TxHash      common.Hash `json:"txHash"`
	L1Block     uint64      `json:"l1Block"`
	L1BlockHash common.Hash `json:"l1BlockHash"`
	// Data is the calldata frame, or the whole 131072-byte blob; nil for a
	// blob frame when no BlobSource is configured.
	Data []byte `json:"-"`
}

// PostedBatch is a batch as the inbox recorded it, with its frames.
type PostedBatch struct {
	Index       uint64      `json:"index"`
	FromHeight  uint64      `json:"fromHeight"`
	ToHeight    uint64      `json:"toHeight"`
	Commitment  common.Hash `json:"commitment"`
	PrevRoot    common.Hash `json:"prevRoot"`
	StateRoot   common.Hash `json:"stateRoot"`
	Frames      []Frame     `json:"frames"`
	TxHash      common.Hash `json:"txHash"` // the postBatch transaction
	L1Block     uint64      `json:"l1Block"`
	L1BlockHash common.Hash `json:"l1BlockHash"`
}

// Deposit is a DepositInitiated event.
type Deposit struct {
	Nonce       uint64
	From, To    common.Address
	Value       *big.Int
	L1Block     uint64
	L1BlockHash common.Hash
	TxHash      common.Hash
}

// Commitment returns the inbox's data commitment over frame hashes: the
// keccak chain c = keccak256(c ‖ h) from c = 0.
func Commitment(frameHashes []common.Hash) common.Hash {
	var c common.Hash
	for _, h := range frameHashes {
		c = NextCommitment(c, h)
	}
	return c
}

// NextCommitment extends a running frame commitment c by the frame whose
// keccak256 is frameHash: the step the inbox performs as each frame lands.
func NextCommitment(c, frameHash common.Hash) common.Hash {
	return crypto.Keccak256Hash(c[:], frameHash[:])
}

// Inbox reads one rollup's WeftInbox.
type Inbox struct {
	addr      common.Address
	r         L1Reader
	c         *bind.BoundContract
	fromBlock uint64
	blobs     BlobSource
}

// InboxOption configures an Inbox.
type InboxOption func(*Inbox)

// WithFromBlock sets the first L1 block log queries scan (the inbox's
// registration block, DeployedRollup.InboxBlock); default 0.
func WithFromBlock(n uint64) InboxOption { return func(i *Inbox) { i.fromBlock = n } }

// WithBlobSource lets Batches return blob frames' data.
func WithBlobSource(bs BlobSource) InboxOption { return func(i *Inbox) { i.blobs = bs } }

// NewInbox reads the WeftInbox at addr through r.
func NewInbox(r L1Reader, addr common.Address, opts ...InboxOption) *Inbox {
	in := &Inbox{addr: addr, r: r, c: bind.NewBoundContract(addr, inboxDef, r, nil, nil)}
	for _, o := range opts {
		o(in)
	}
	return in
}

// With returns a copy of in with opts applied (e.g. a BlobSource added).
func (in *Inbox) With(opts ...InboxOption) *Inbox {
	c := *in
	for _, o := range opts {
		o(&c)
	}
	return &c
}

// Address is the inbox contract's address.
func (in *Inbox) Address() common.Address { return in.addr }

func call[T any](ctx context.Context, in *Inbox, data []byte, unpack func([]byte) (T, error)) (T, error) {
	v, err := bind.Call(in.c, &bind.CallOpts{Context: ctx}, data, unpack)
	return v, DecodeRevert(err)
}

// InboxState is an inbox's settlement progress at one L1 block: the next
// batch's index, first Weft height and prior state root, and the frames of
// that batch posted so far with their commitment (zero with none).
type InboxState struct {
	NextIndex         uint64
	NextHeight        uint64
	LastRoot          common.Hash
	PendingFrames     uint32
	PendingCommitment common.Hash
}

// Caller is the one JSON-RPC call ReadInboxState needs (eth_call);
// *ethclient.Client, the embedded L1's client and the batcher's L1 have
// it.
type Caller interface {
	CallContract(ctx context.Context, call ethereum.CallMsg, blockNumber *big.Int) ([]byte, error)
}

// ReadInboxState reads the WeftInbox at addr as of L1 block block (nil:
// the latest): the one reader of the inbox's progress, for the batcher and
// Inbox.State alike.
func ReadInboxState(ctx context.Context, c Caller, addr common.Address, block *big.Int) (InboxState, error) {
	var st InboxState
	get := func(data []byte) ([]byte, error) {
		out, err := c.CallContract(ctx, ethereum.CallMsg{To: &addr, Data: data}, block)
		return out, DecodeRevert(err)
	}
	out, err := get(inboxABI.PackNextIndex())
	if err == nil {
		st.NextIndex, err = inboxABI.UnpackNextIndex(out)
	}
	if err == nil {
		out, err = get(inboxABI.PackNextFromHeight())
	}
	if err == nil {
		st.NextHeight, err = inboxABI.UnpackNextFromHeight(out)
	}
	if err == nil {
		out, err = get(inboxABI.PackLastStateRoot())
	}
	if err == nil {
		st.LastRoot, err = inboxABI.UnpackLastStateRoot(out)
	}
	if err == nil {
		out, err = get(inboxABI.PackPendingFrames())
	}
	if err == nil {
		st.PendingFrames, err = inboxABI.UnpackPendingFrames(out)
	}
	if err == nil && st.PendingFrames > 0 {
		out, err = get(inboxABI.PackPendingCommitment())
		if err == nil {
			st.PendingCommitment, err = inboxABI.UnpackPendingCommitment(out)
		}
	}
	if err != nil {
		return st, fmt.Errorf("read inbox %s: %w", addr, err)
	}
	return st, nil
}

// State is the inbox's progress at the latest L1 block (ReadInboxState).
func (in *Inbox) State(ctx context.Context) (InboxState, error) {
	return ReadInboxState(ctx, in.r, in.addr, nil)
}

// NextIndex is the index of the next batch.
func (in *Inbox) NextIndex(ctx context.Context) (uint64, error) {
	return call(ctx, in, inboxABI.PackNextIndex(), inboxABI.UnpackNextIndex)
}

// NextFromHeight is the first Weft height the next batch must cover.
func (in *Inbox) NextFromHeight(ctx context.Context) (uint64, error) {
	return call(ctx, in, inboxABI.PackNextFromHeight(), inboxABI.UnpackNextFromHeight)
}

// LastStateRoot is the state root the next batch must start from.
func (in *Inbox) LastStateRoot(ctx context.Context) (common.Hash, error) {
	h, err := call(ctx, in, inboxABI.PackLastStateRoot(), inboxABI.UnpackLastStateRoot)
	return h, err
}

// PendingFrames is the number of frames appended to the next batch so far.
func (in *Inbox) PendingFrames(ctx context.Context) (uint32, error) {
	return call(ctx, in, inboxABI.PackPendingFrames(), inboxABI.UnpackPendingFrames)
}

// PendingCommitment is the commitment over the pending frames.
func (in *Inbox) PendingCommitment(ctx context.Context) (common.Hash, error) {
	h, err := call(ctx, in, inboxABI.PackPendingCommitment(), inboxABI.UnpackPendingCommitment)
	return h, err
}

// Batch is batch i as stored (a *ContractError NoSuchBatch if absent).
func (in *Inbox) Batch(ctx context.Context, i uint64) (bindings.WeftInboxBatch, error) {
	return call(ctx, in, inboxABI.PackBatch(i), inboxABI.UnpackBatch)
}

// IsFinal reports whether batch i is past its challenge window (by the
// latest L1 block's timestamp).
func (in *Inbox) IsFinal(ctx context.Context, i uint64) (bool, error) {
	return call(ctx, in, inboxABI.PackIsFinal(i), inboxABI.UnpackIsFinal)
}

// ChallengeWindow is the challenge window in seconds.
func (in *Inbox) ChallengeWindow(ctx context.Context) (uint64, error) {
	return call(ctx, in, inboxABI.PackChallengeWindow(), inboxABI.UnpackChallengeWindow)
}

// StartHeight is the first Weft height of batch 0.
func (in *Inbox) StartHeight(ctx context.Context) (uint64, error) {
	return call(ctx, in, inboxABI.PackStartHeight(), inboxABI.UnpackStartHeight)
}

// GenesisRoot is the rollup's genesis state root (batch 0's prevRoot).
func (in *Inbox) GenesisRoot(ctx context.Context) (common.Hash, error) {
	h, err := call(ctx, in, inboxABI.PackGenesisRoot(), inboxABI.UnpackGenesisRoot)
	return h, err
}

// DepositCount is the number of deposits made so far (the next nonce).
func (in *Inbox) DepositCount(ctx context.Context) (uint64, error) {
	return call(ctx, in, inboxABI.PackDepositCount(), inboxABI.UnpackDepositCount)
}

// WithdrawalFinalized reports whether the withdrawal with this hash was paid out.
func (in *Inbox) WithdrawalFinalized(ctx context.Context, withdrawalHash common.Hash) (bool, error) {
	return call(ctx, in, inboxABI.PackFinalizedWithdrawals(withdrawalHash), inboxABI.UnpackFinalizedWithdrawals)
}

func (in *Inbox) logs(ctx context.Context, toBlock *big.Int, events ...string) ([]types.Log, error) {
	ids := make([]common.Hash, len(events))
	for i, e := range events {
		ids[i] = inboxDef.Events[e].ID
	}
	if toBlock != nil && toBlock.Sign() >= 0 && toBlock.Uint64() < in.fromBlock {
		return nil, nil // the range ends before the inbox existed
	}
	logs, err := in.r.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(in.fromBlock),
		ToBlock:   toBlock,
		Addresses: []common.Address{in.addr},
		Topics:    [][]common.Hash{ids},
	})
	if err != nil {
		return nil, fmt.Errorf("inbox %s logs: %w", in.addr, err)
	}
	out := logs[:0]
	for _, l := range logs {
		if !l.Removed {
			out = append(out, l)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].BlockNumber != out[j].BlockNumber {
			return out[i].BlockNumber < out[j].BlockNumber
		}
		return out[i].Index < out[j].Index
	})
	return out, nil
}

// Batches returns the current batches with index ≥ fromIndex, in order,
// reconstructed from the inbox's logs up to the latest L1 block.
func (in *Inbox) Batches(ctx context.Context, fromIndex uint64) ([]PostedBatch, error) {
	return in.BatchesUpTo(ctx, fromIndex, nil)
}

// BatchesUpTo is Batches as of L1 block toBlock (nil: latest); a verifier
// passes the finalized block.
//
// The whole log history is replayed, so batches deleted by a challenge and
// posted again come out as their last posting, and discarded pending frames
// are dropped. Calldata frames carry their bytes (checked against the logged
// hash: a mismatch is an ErrFrameMismatch naming batch and frame); blob
// frames carry their versioned hash, and their blob only with a BlobSource.
// Without one, the batches are still returned, together with an error
// wrapping ErrNoBlobSource for the first blob frame.
func (in *Inbox) BatchesUpTo(ctx context.Context, fromIndex uint64, toBlock *big.Int) ([]PostedBatch, error) {
	logs, err := in.logs(ctx, toBlock, "FrameAppended", "BatchPosted", "PendingDiscarded", "BatchesDeleted")
	if err != nil {
		return nil, err
	}
	batches, err := replay(logs)
	if err != nil {
		return nil, fmt.Errorf("inbox %s: %w", in.addr, err)
	}
	if fromIndex >= uint64(len(batches)) {
		return nil, nil
	}
	batches = batches[fromIndex:]
	txs := map[common.Hash]*types.Transaction{}
	var blobErr error
	for bi := range batches {
		b := &batches[bi]
		for fi := range b.Frames {
			f := &b.Frames[fi]
			if f.Blob {
				if in.blobs == nil {
					if blobErr == nil {
						blobErr = fmt.Errorf("batch %d frame %d (tx %s): %w", b.Index, f.Index, f.TxHash, ErrNoBlobSource)
					}
					continue
				}
				if err := in.fetchBlob(ctx, f); err != nil {
					return nil, fmt.Errorf("batch %d frame %d (tx %s): %w", b.Index, f.Index, f.TxHash, err)
				}
				continue
			}
			tx := txs[f.TxHash]
			if tx == nil {
				tx, _, err = in.r.TransactionByHash(ctx, f.TxHash)
				if err != nil {
					return nil, fmt.Errorf("batch %d frame %d: fetch tx %s: %w", b.Index, f.Index, f.TxHash, err)
				}
				txs[f.TxHash] = tx
			}
			data, err := in.frameData(tx, b.Index)
			if err != nil {
				return nil, fmt.Errorf("batch %d frame %d (tx %s): %w", b.Index, f.Index, f.TxHash, err)
			}
			if h := crypto.Keccak256Hash(data); h != f.Hash {
				return nil, fmt.Errorf("batch %d frame %d (tx %s): keccak %s, logged %s: %w", b.Index, f.Index, f.TxHash, h, f.Hash, ErrFrameMismatch)
			}
			f.Data = data
		}
	}
	return batches, blobErr
}

// frameData decodes the frame bytes from an appendFrame or postBatch call.
func (in *Inbox) frameData(tx *types.Transaction, index uint64) ([]byte, error) {
	if tx.To() == nil || *tx.To() != in.addr {
		return nil, fmt.Errorf("tx does not call the inbox directly (to %v): frames must be posted by direct calls", tx.To())
	}
	input := tx.Data()
	if len(input) < 4 {
		return nil, errors.New("tx input too short")
	}
	m, err := inboxDef.MethodById(input[:4])
	if err != nil || (m.Name != "appendFrame" && m.Name != "postBatch") {
		return nil, fmt.Errorf("tx input is not appendFrame/postBatch (selector %x)", input[:4])
	}
	args, err := m.Inputs.Unpack(input[4:])
	if err != nil {
		return nil, fmt.Errorf("decode %s input: %w", m.Name, err)
	}
	if got, _ := args[0].(uint64); got != index {
		return nil, fmt.Errorf("%s for batch %d, expected %d", m.Name, got, index)
	}
	data, ok := args[len(args)-1].([]byte)
	if !ok {
		return nil, fmt.Errorf("decode %s input: data is %T", m.Name, args[len(args)-1])
	}
	return data, nil
}

func (in *Inbox) fetchBlob(ctx context.Context, f *Frame) error {
	blob, err := in.blobs.Blob(ctx, BlobRef{L1Block: f.L1Block, L1BlockHash: f.L1BlockHash, TxHash: f.TxHash, VersionedHash: f.Hash})
	if err != nil {
		return fmt.Errorf("blob source: %w", err)
	}
	c, err := kzg4844.BlobToCommitment(blob)
	if err != nil {
		return fmt.Errorf("blob commitment: %w", err)
	}
	if h := common.Hash(kzg4844.CalcBlobHashV1(sha256.New(), &c)); h != f.Hash {
		return fmt.Errorf("blob versioned hash %s, logged %s: %w", h, f.Hash, ErrFrameMismatch)
	}
	f.Data = bytes.Clone(blob[:])
	return nil
}

// replay rebuilds the current batch list from the inbox's logs in order.
// The logs come from the contract, so any inconsistency means logs are
// missing (a truncated range or a reorg between queries): it is an error.
func replay(logs []types.Log) ([]PostedBatch, error) {
	var (
		batches []PostedBatch
		pending []Frame
	)
	for i := range logs {
		lg := &logs[i]
		next := uint64(len(batches))
		switch lg.Topics[0] {
		case inboxDef.Events["FrameAppended"].ID:
			ev, err := inboxABI.UnpackFrameAppendedEvent(lg)
			if err != nil {
				return nil, fmt.Errorf("FrameAppended in block %d: %w", lg.BlockNumber, err)
			}
			if ev.Index != next || ev.Frame != uint32(len(pending)) {
				return nil, fmt.Errorf("log replay: frame %d of batch %d in block %d, expected frame %d of batch %d", ev.Frame, ev.Index, lg.BlockNumber, len(pending), next)
			}
			pending = append(pending, Frame{
				Index: ev.Frame, Hash: ev.FrameHash, Blob: ev.Blob,
				TxHash: lg.TxHash, L1Block: lg.BlockNumber, L1BlockHash: lg.BlockHash,
			})
		case inboxDef.Events["BatchPosted"].ID:
			ev, err := inboxABI.UnpackBatchPostedEvent(lg)
			if err != nil {
				return nil, fmt.Errorf("BatchPosted in block %d: %w", lg.BlockNumber, err)
			}
			if ev.Index != next || ev.Frames != uint32(len(pending)) {
				return nil, fmt.Errorf("log replay: batch %d with %d frames in block %d, expected batch %d with %d frames", ev.Index, ev.Frames, lg.BlockNumber, next, len(pending))
			}
			hashes := make([]common.Hash, len(pending))
			for j, f := range pending {
				hashes[j] = f.Hash
			}
			if c := Commitment(hashes); c != ev.Commitment {
				return nil, fmt.Errorf("log replay: batch %d commitment %s, frames give %s", ev.Index, common.Hash(ev.Commitment), c)
			}
			batches = append(batches, PostedBatch{
				Index: ev.Index, FromHeight: ev.FromHeight, ToHeight: ev.ToHeight,
				Commitment: ev.Commitment, PrevRoot: ev.PrevRoot, StateRoot: ev.StateRoot,
				Frames: pending, TxHash: lg.TxHash, L1Block: lg.BlockNumber, L1BlockHash: lg.BlockHash,
			})
			pending = nil
		case inboxDef.Events["PendingDiscarded"].ID:
			ev, err := inboxABI.UnpackPendingDiscardedEvent(lg)
			if err != nil {
				return nil, fmt.Errorf("PendingDiscarded in block %d: %w", lg.BlockNumber, err)
			}
			if ev.Index != next || ev.Frames != uint32(len(pending)) {
				return nil, fmt.Errorf("log replay: discard of %d frames of batch %d in block %d, have %d of batch %d", ev.Frames, ev.Index, lg.BlockNumber, len(pending), next)
			}
			pending = nil
		case inboxDef.Events["BatchesDeleted"].ID:
			ev, err := inboxABI.UnpackBatchesDeletedEvent(lg)
			if err != nil {
				return nil, fmt.Errorf("BatchesDeleted in block %d: %w", lg.BlockNumber, err)
			}
			if ev.FromIndex > next || ev.Count != next-ev.FromIndex {
				return nil, fmt.Errorf("log replay: delete of %d batches from %d in block %d, have %d", ev.Count, ev.FromIndex, lg.BlockNumber, next)
			}
			batches = batches[:ev.FromIndex]
			pending = nil
		}
	}
	return batches, nil
}

// Deposits returns the DepositInitiated events with nonce ≥ fromNonce in
// L1 blocks up to toBlock (pass the finalized block), in nonce order. The
// nonces must be contiguous from fromNonce; a gap is an error.
func (in *Inbox) Deposits(ctx context.Context, fromNonce, toBlock uint64) ([]Deposit, error) {
	logs, err := in.logs(ctx, new(big.Int).SetUint64(toBlock), "DepositInitiated")
	if err != nil {
		return nil, err
	}
	var out []Deposit
	for i := range logs {
		ev, err := inboxABI.UnpackDepositInitiatedEvent(&logs[i])
		if err != nil {
			return nil, fmt.Errorf("DepositInitiated in block %d: %w", logs[i].BlockNumber, err)
		}
		if ev.Nonce < fromNonce {
			continue
		}
		out = append(out, Deposit{
			Nonce: ev.Nonce, From: ev.From, To: ev.To, Value: ev.Value,
			L1Block: logs[i].BlockNumber, L1BlockHash: logs[i].BlockHash, TxHash: logs[i].TxHash,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Nonce < out[j].Nonce })
	for i, d := range out {
		if d.Nonce != fromNonce+uint64(i) {
			return nil, fmt.Errorf("inbox %s deposits: nonce %d where %d expected", in.addr, d.Nonce, fromNonce+uint64(i))
		}
	}
	return out, nil
}

// PackAppendFrame is the calldata of appendFrame(index, data) (a tx to the inbox).
func PackAppendFrame(index uint64, data []byte) []byte {
	return inboxABI.PackAppendFrame(index, data)
}

// PackPostBatch is the calldata of postBatch(index, from, to, prevRoot, newRoot, data).
// Empty data makes the inbox take the tx's blobs as the frames.
func PackPostBatch(index, fromHeight, toHeight uint64, prevRoot, newRoot common.Hash, data []byte) []byte {
	if data == nil {
		data = []byte{}
	}
	return inboxABI.PackPostBatch(index, fromHeight, toHeight, prevRoot, newRoot, data)
}

// PackDeleteBatches is the calldata of deleteBatches(fromIndex) (challenger only).
func PackDeleteBatches(fromIndex uint64) []byte { return inboxABI.PackDeleteBatches(fromIndex) }

// PackDiscardPending is the calldata of discardPending() (batcher only).
func PackDiscardPending() []byte { return inboxABI.PackDiscardPending() }

// PackDeposit is the calldata of deposit(to) (send the value with the tx).
func PackDeposit(to common.Address) []byte { return inboxABI.PackDeposit(to) }
