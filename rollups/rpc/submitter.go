package rpc

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// Sink hands a signed Weft tx to the sequencer (in a node: the app's
// journaled mempool insert). A *txcodec.Rejection error says why it was
// refused; txcodec.Retryable tells whether to try again.
type Sink interface {
	Submit(raw []byte, local bool) ([32]byte, *txcodec.Rejection)
	PendingNonce(addr common.Address) uint64
	ChainID() string
}

// SubmitterConfig tunes batching.
type SubmitterConfig struct {
	Rollup rollups.ID
	Key    *ecdsa.PrivateKey
	// MaxBatchBytes flushes a batch once its txs reach this size.
	MaxBatchBytes int
	// FlushInterval flushes a non-empty batch this long after its first tx.
	FlushInterval time.Duration
	// FeeLimit is the fee limit of each Weft tx.
	FeeLimit *uint256.Int
}

// Submitter packs many rollup txs into one Weft RollupData item (an RLP
// list of their binary encodings) and submits it signed by the rollup node's
// key. Submit returns only once the Weft tx holding the rollup tx was
// accepted (journaled) by the Weft mempool, so an acknowledged rollup tx is
// never lost.
type Submitter struct {
	cfg  SubmitterConfig
	sink Sink
	log  *slog.Logger
	from common.Address

	mu      sync.Mutex
	batch   []*queued
	size    int
	timer   *time.Timer
	flushMu sync.Mutex // one Weft tx at a time keeps the submitter's nonces consecutive
}

type queued struct {
	raw  []byte
	done chan error
}

// NewSubmitter returns a submitter writing to sink.
func NewSubmitter(cfg SubmitterConfig, sink Sink, log *slog.Logger) *Submitter {
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = 128 << 10
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 20 * time.Millisecond
	}
	if cfg.FeeLimit == nil {
		cfg.FeeLimit = uint256.NewInt(1e16)
	}
	return &Submitter{cfg: cfg, sink: sink, log: log, from: crypto.PubkeyToAddress(cfg.Key.PublicKey)}
}

// Address is the Weft account that signs the submitter's txs.
func (s *Submitter) Address() common.Address { return s.from }

// Submit queues one binary-encoded rollup tx and waits until the Weft tx
// carrying it is in the Weft mempool.
func (s *Submitter) Submit(ctx context.Context, rawTx []byte) error {
	q := &queued{raw: rawTx, done: make(chan error, 1)}
	s.mu.Lock()
	s.batch = append(s.batch, q)
	s.size += len(rawTx)
	switch {
	case s.size >= s.cfg.MaxBatchBytes:
		b := s.takeLocked()
		s.mu.Unlock()
		go s.flush(b)
	case s.timer == nil:
		s.timer = time.AfterFunc(s.cfg.FlushInterval, func() {
			s.mu.Lock()
			b := s.takeLocked()
			s.mu.Unlock()
			s.flush(b)
		})
		s.mu.Unlock()
	default:
		s.mu.Unlock()
	}
	select {
	case err := <-q.done:
		return err
	case <-ctx.Done():
		// The tx stays queued and will still be submitted.
		return ctx.Err()
	}
}

func (s *Submitter) takeLocked() []*queued {
	b := s.batch
	s.batch, s.size = nil, 0
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	return b
}

// Item encodes rollup txs as one RollupData payload.
func Item(raws [][]byte) ([]byte, error) { return rlp.EncodeToBytes(raws) }

func (s *Submitter) flush(b []*queued) {
	if len(b) == 0 {
		return
	}
	raws := make([][]byte, len(b))
	for i, q := range b {
		raws[i] = q.raw
	}
	err := s.send(raws)
	for _, q := range b {
		q.done <- err
	}
}

// RollupDataTx signs a Weft tx from key, at its pending nonce in sink,
// carrying data for rollup id in one RollupData action.
func RollupDataTx(sink Sink, key *ecdsa.PrivateKey, id rollups.ID, data []byte, feeLimit *uint256.Int) ([]byte, error) {
	body := &weftv1.TxBody{
		ChainId: sink.ChainID(), Nonce: sink.PendingNonce(crypto.PubkeyToAddress(key.PublicKey)), FeeLimit: feeLimit.Bytes(),
		Actions: []*weftv1.Action{{Kind: &weftv1.Action_RollupData{RollupData: &weftv1.RollupData{RollupId: id[:], Data: data}}}},
	}
	return txcodec.Sign(key, body)
}

// ErrSubmitter wraps a failure to get a batch into Weft.
var ErrSubmitter = errors.New("sequencer submission failed")

func (s *Submitter) send(raws [][]byte) error {
	data, err := Item(raws)
	if err != nil {
		return err
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	backoff := 10 * time.Millisecond
	for attempt := 0; ; attempt++ {
		raw, err := RollupDataTx(s.sink, s.cfg.Key, s.cfg.Rollup, data, s.cfg.FeeLimit)
		if err != nil {
			return err
		}
		_, rej := s.sink.Submit(raw, true)
		if rej == nil {
			return nil
		}
		if !txcodec.Retryable(rej.Code) || attempt == 50 {
			s.log.Error("rollup batch rejected by the sequencer", "txs", len(raws), "code", txcodec.CodeName(rej.Code), "reason", rej.Log)
			return fmt.Errorf("%w: %s", ErrSubmitter, rej.Log)
		}
		time.Sleep(backoff) // a driver, not a test: back off while the mempool is full
		backoff = min(2*backoff, time.Second)
	}
}
