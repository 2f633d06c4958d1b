package p2p

import (
	"context"
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

// MaxTxBatchTxs bounds how many transactions one TxBatch carries.
const MaxTxBatchTxs = 16384

// TxResult is what the mempool made of one gossiped transaction.
type TxResult int

// TxResults.
const (
	TxAccepted TxResult = iota // new and valid: now pending here
	TxUseless                  // valid in form but not taken (known, stale nonce, pool full...)
	TxInvalid                  // can never be valid (malformed, bad signature, wrong chain): the sender misbehaves
)

// TxGossip is the validators' transaction topic on a Feed host. Every
// message is a TxBatch the publisher accepted into its own mempool. A
// receiver hands each transaction to insert; a batch with an invalid
// transaction is rejected (not relayed, and its sender loses standing), a
// batch with at least one new transaction is accepted and relayed to the
// receiver's mesh peers, anything else is dropped (a small penalty: a peer
// sending only stale or duplicate txs wastes signature checks). Duplicates stop
// at gossipsub's seen-message cache and, for the same transaction in
// different batches, at the mempool.
type TxGossip struct {
	f     *Feed
	topic *pubsub.Topic
	sub   *pubsub.Subscription
	done  chan struct{}
}

// GossipTxs joins chain chainID's transaction topic. insert is called from
// gossipsub's validation workers, concurrently.
func (f *Feed) GossipTxs(ctx context.Context, chainID string, insert func(raw []byte) TxResult) (*TxGossip, error) {
	name := TxTopic(chainID)
	err := f.ps.RegisterTopicValidator(name, func(_ context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		if from == f.host.ID() {
			return pubsub.ValidationAccept // our own publication: already in our mempool
		}
		var b weftv1.TxBatch
		if err := proto.Unmarshal(m.Data, &b); err != nil || len(b.Txs) == 0 || len(b.Txs) > MaxTxBatchTxs {
			f.invalid(from)
			return pubsub.ValidationReject
		}
		accepted := 0
		for _, raw := range b.Txs {
			switch insert(raw) {
			case TxAccepted:
				accepted++
			case TxInvalid:
				f.invalid(from)
				return pubsub.ValidationReject
			}
		}
		if accepted == 0 {
			f.useless(from)
			return pubsub.ValidationIgnore
		}
		return pubsub.ValidationAccept
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
