package p2p

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// FuzzTxBatch: any bytes a peer publishes on the tx topic are judged
// without a panic; a batch that does not decode, is empty, too long or
// repeats a tx is rejected before any tx reaches the pool (no signature
// recovery), no tx is offered to the pool twice in one batch, and a batch
// is accepted (relayed) only if the pool took one of its txs.
func FuzzTxBatch(f *testing.F) {
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	feed, err := NewFeed(ctx, key, []string{"/ip4/127.0.0.1/udp/0/quic-v1"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { feed.Close() })
	pkey, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	from, err := peer.IDFromPrivateKey(pkey)
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range []*weftv1.TxBatch{
		{Txs: [][]byte{[]byte("tx1"), []byte("tx2")}},
		{Txs: [][]byte{[]byte("tx1"), []byte("tx1")}},
		{Txs: [][]byte{[]byte("bad1"), []byte("tx3")}},
		{},
	} {
		raw, err := proto.Marshal(b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte{0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		pool := newFakePool()
		offered := map[[32]byte]int{}
		insert := func(raw []byte) TxResult {
			offered[sha256.Sum256(raw)]++
			return pool.insert(raw)
		}
		res := feed.validateTxBatch(from, data, insert, pool.known)
		var b weftv1.TxBatch
		decodes := proto.Unmarshal(data, &b) == nil
		dup := map[[32]byte]bool{}
		hasDup := false
		for _, raw := range b.Txs {
			h := sha256.Sum256(raw)
			hasDup = hasDup || dup[h]
			dup[h] = true
		}
		if !decodes || len(b.Txs) == 0 || len(b.Txs) > MaxTxBatchTxs || hasDup {
			if res != pubsub.ValidationReject {
				t.Fatalf("batch (decodes %v, %d txs, repeats %v) judged %v, want reject", decodes, len(b.Txs), hasDup, res)
			}
			if len(offered) > 0 {
				t.Fatalf("%d txs of a rejected batch reached the pool", len(offered))
			}
			return
		}
		for h, n := range offered {
			if n > 1 {
				t.Fatalf("tx %x offered to the pool %d times", h, n)
			}
		}
		accepted, _, _ := pool.snapshot()
		if res == pubsub.ValidationAccept && accepted == 0 {
			t.Fatal("a batch the pool took nothing from is relayed")
		}
	})
}
