package p2p

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// TxTopic is the gossipsub topic on which validators of chain chainID
// exchange the transactions their clients submitted.
func TxTopic(chainID string) string { return "/weft/" + chainID + "/txs/v1" }

// MaxTxBatchBytes bounds the transactions of one gossiped TxBatch; a batch
// that holds more is invalid.
const MaxTxBatchBytes = 4 << 20

// MaxTxBatchTxs bounds how many transactions one TxBatch carries; a batch
// that holds more is invalid. A node publishes what its clients submitted
// every 20 ms (node's feed.tx_batch_interval): 4096 txs a batch is 200,000
// client txs a second at one node, far above what a block takes, while a
// batch of txs all useless to the receiver costs their sender a bounded,
// visible share of its standing (StandingConfig).
const MaxTxBatchTxs = 4096

// TxResult is what the mempool made of one gossiped transaction.
type TxResult int

// TxResults.
const (
	TxAccepted TxResult = iota // new and valid: now pending here
	TxUseless                  // decoded but not taken: stale nonce, unaffordable on top of the sender's pending txs, underpriced replacement, nonce gap
	TxInvalid                  // can never be valid (malformed, bad signature, wrong chain, a fee its sender cannot pay): the sender misbehaves
	TxKnown                    // already pending or committed here, found before decoding
	TxIgnored                  // not taken for a reason of the receiver's (mempool full, not accepting txs): costs the sender nothing
)

// TxGossipOption configures GossipTxs.
type TxGossipOption func(*txGossipOptions)

type txGossipOptions struct {
	known func(hash [32]byte) bool
}

// WithKnownTxs gives the topic a cheap check, by hash (sha256 of the tx's
// bytes, txcodec.TxHash), of whether a tx is already pending or
// committed here: such txs are counted as known without being handed to
// insert, so that a peer replaying known txs costs a hash and a lookup
// each, not a decoding and a signature recovery.
func WithKnownTxs(known func(hash [32]byte) bool) TxGossipOption {
	return func(o *txGossipOptions) { o.known = known }
}

// TxGossip is the validators' transaction topic on a Feed host. Every
// message is a TxBatch the publisher accepted into its own mempool.
//
// A receiver first checks the batch's form: it decodes, holds 1 to
// MaxTxBatchTxs txs, and no tx twice (an honest publisher never repeats
// one); otherwise the batch is invalid. Then each tx, in order, is
// recognised as known by its hash (WithKnownTxs) or handed to insert. A
// batch with an invalid tx is rejected (not relayed, and its sender loses
// standing as for any invalid message). Otherwise its sender is charged per
// tx for those that brought nothing (StandingConfig.KnownPenalty and
// UselessPenalty), and the batch is relayed to the receiver's mesh peers if
// at least one tx was new, dropped otherwise. Duplicate messages stop at
// gossipsub's seen-message cache, and the same tx in different batches at
// the known check.
type TxGossip struct {
	f     *Feed
	topic *pubsub.Topic
	sub   *pubsub.Subscription
	done  chan struct{}
}

// GossipTxs joins chain chainID's transaction topic. insert, and the known
// check of WithKnownTxs, are called from gossipsub's validation workers,
// concurrently.
func (f *Feed) GossipTxs(ctx context.Context, chainID string, insert func(raw []byte) TxResult, opts ...TxGossipOption) (*TxGossip, error) {
	var o txGossipOptions
	for _, opt := range opts {
		opt(&o)
	}
	name := TxTopic(chainID)
	err := f.ps.RegisterTopicValidator(name, func(_ context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		if from == f.host.ID() {
			return pubsub.ValidationAccept // our own publication: already in our mempool
		}
		return f.validateTxBatch(from, m.Data, insert, o.known)
	})
	if err != nil {
		return nil, fmt.Errorf("tx topic validator: %w", err)
	}
	t, err := f.topic(name)
	if err != nil {
		return nil, err
	}
	sub, err := t.Subscribe(pubsub.WithBufferSize(256))
	if err != nil {
		return nil, err
	}
	g := &TxGossip{f: f, topic: t, sub: sub, done: make(chan struct{})}
	// Validation already inserted every delivered batch; the subscription
	// keeps this host in the topic's mesh and is drained.
	go func() {
		defer close(g.done)
		for {
			if _, err := sub.Next(ctx); err != nil {
				return
			}
		}
	}()
	return g, nil
}

// validateTxBatch judges a TxBatch from peer from (see TxGossip).
func (f *Feed) validateTxBatch(from peer.ID, data []byte, insert func([]byte) TxResult, known func([32]byte) bool) pubsub.ValidationResult {
	var b weftv1.TxBatch
	if err := proto.Unmarshal(data, &b); err != nil || len(b.Txs) == 0 || len(b.Txs) > MaxTxBatchTxs {
		f.invalid(from)
		return pubsub.ValidationReject
	}
	hashes := make([][32]byte, len(b.Txs))
	seen := make(map[[32]byte]struct{}, len(b.Txs))
	for i, raw := range b.Txs {
		hashes[i] = sha256.Sum256(raw)
		if _, dup := seen[hashes[i]]; dup {
			f.invalid(from)
			return pubsub.ValidationReject
		}
		seen[hashes[i]] = struct{}{}
	}
	var accepted, nknown, useless int
	for i, raw := range b.Txs {
		if known != nil && known(hashes[i]) {
			nknown++
			continue
		}
		switch insert(raw) {
		case TxAccepted:
			accepted++
		case TxKnown:
			nknown++
		case TxUseless:
			useless++
		case TxInvalid:
			f.useless(from, nknown, useless)
			f.invalid(from)
			return pubsub.ValidationReject
		}
	}
	f.useless(from, nknown, useless)
	if accepted == 0 {
		return pubsub.ValidationIgnore
	}
	return pubsub.ValidationAccept
}

// Publish gossips txs (SignedTx bytes this node accepted) in batches of at
// most MaxTxBatchBytes.
func (g *TxGossip) Publish(ctx context.Context, txs [][]byte) error {
	for len(txs) > 0 {
		n, size := 0, 0
		for n < len(txs) && n < MaxTxBatchTxs && (n == 0 || size+len(txs[n]) <= MaxTxBatchBytes) {
			size += len(txs[n])
			n++
		}
		if size > MaxTxBatchBytes {
			return fmt.Errorf("tx of %d bytes exceeds the gossip batch limit", size)
		}
		b, err := proto.Marshal(&weftv1.TxBatch{Txs: txs[:n]})
		if err != nil {
			return err
		}
		if err := g.topic.Publish(ctx, b); err != nil {
			return err
		}
		txs = txs[n:]
	}
	return nil
}

// Peers lists the peers of the transaction topic.
func (g *TxGossip) Peers() []peer.ID { return g.topic.ListPeers() }

// Close leaves the topic (the host stays up).
func (g *TxGossip) Close() error {
	g.sub.Cancel()
	<-g.done
	if err := g.f.ps.UnregisterTopicValidator(g.topic.String()); err != nil && !errors.Is(err, context.Canceled) {
		return err // context.Canceled: the host is shutting down anyway
	}
	return nil
}
