package main

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// load is one step's transactions, built and signed before its clock starts.
// Tx k goes to node k%4; its sender is k%senders, with nonce k/senders, so
// every sender's transactions enter through one node, in nonce order, from
// one connection (see generator).
type load struct {
	raw    [][]byte
	hashes [][32]byte
	// bodies are the JSON-RPC request bodies; nil means build them at send
	// time (large txs, where holding both would double the memory).
	bodies [][]byte
	// txBytes is the size of every tx; dataBytes the rollup data it orders
	// (0 for kvstore).
	txBytes, dataBytes int
	// senders is how many accounts sign the txs (0 for kvstore).
	senders int
}

func (l *load) n() int { return len(l.raw) }

// body is tx k's broadcast_tx_async request.
func (l *load) body(k int) []byte {
	if l.bodies != nil {
		return l.bodies[k]
	}
	return rpcBody(l.raw[k])
}

func rpcBody(tx []byte) []byte {
	const pre, post = `{"jsonrpc":"2.0","id":0,"method":"broadcast_tx_async","params":{"tx":"`, `"}}`
	b := make([]byte, 0, len(pre)+base64.StdEncoding.EncodedLen(len(tx))+len(post))
	b = append(b, pre...)
	b = base64.StdEncoding.AppendEncode(b, tx)
	return append(b, post...)
}

// senderKey is the benchmark's i-th Weft sender: derived from i, so a run
// can be replayed and genesis written before any tx is built.
func senderKey(i int) *ecdsa.PrivateKey {
	seed := sha256.Sum256(fmt.Appendf(nil, "weft-benchnet/sender/%d", i))
	k, err := crypto.ToECDSA(seed[:])
	if err != nil {
		panic(fmt.Sprintf("sender key %d: %v", i, err)) // probability ~2^-128
	}
	return k
}

// senderRange is a block of senders owned by one step.
type senderRange struct{ first, count int }

// senderPlan hands out disjoint sender ranges, so that every step starts
// from fresh accounts at nonce 0 and a step that saturated (leaving nonce
// gaps or a backlog behind) cannot disturb the next.
type senderPlan struct{ next int }

func (p *senderPlan) take(count int) senderRange {
	r := senderRange{first: p.next, count: count}
	p.next += count
	return r
}

func (p *senderPlan) addresses() []common.Address {
	out := make([]common.Address, p.next)
	parallel(p.next, func(i int) { out[i] = crypto.PubkeyToAddress(senderKey(i).PublicKey) })
	return out
}

// sendersFor is how many senders a step at rate tx/s uses: enough that each
// sender submits at most every ~125 ms (broadcast_tx_async runs CheckTx on a
// goroutine, so two txs of one sender sent back to back could reach the
// mempool out of nonce order), and a multiple of nodes×workers so that a
// sender always maps to the same node and connection.
func sendersFor(rate float64, workers int) int {
	unit := validators * workers
	need := int(rate*0.125) + 1
	return max(1, (need+unit-1)/unit) * unit
}

// feeLimit is what every Weft tx offers: the CLI's default, far above the fee.
var feeLimit = uint256.NewInt(1_000_000_000_000_000)

// randomPool is payload bytes shared by all txs (content is irrelevant to
// both systems; only sizes and uniqueness of the whole tx matter).
var randomPool = func() []byte {
	b := make([]byte, 1<<20)
	r := rand.New(rand.NewChaCha8([32]byte{'w', 'e', 'f', 't'}))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}()

// weftLoad signs n Weft txs from senders sr, each with one RollupData action
// for rollup (k/4)%8. With txSize > 0 the payload is sized so that the whole
// signed tx is exactly txSize bytes; otherwise it is payload bytes.
func weftLoad(n int, sr senderRange, txSize, payload int) (*load, error) {
	keys := make([]*ecdsa.PrivateKey, sr.count)
	parallel(sr.count, func(i int) { keys[i] = senderKey(sr.first + i) })
	ids := make([]rollups.ID, len(rollupNames))
	for i, name := range rollupNames {
		ids[i] = rollups.IDFromName(name)
	}
	l := &load{raw: make([][]byte, n), hashes: make([][32]byte, n), dataBytes: payload, senders: sr.count}
	errs := make([]error, n)
	parallel(n, func(k int) {
		nonce := uint64(k / sr.count)
		id := ids[(k/validators)%len(ids)]
		dl := payload
		if txSize > 0 {
			var err error
			if dl, err = fitPayload(nonce, id, txSize); err != nil {
				errs[k] = err
				return
			}
		}
		off := (k * 4099) % (len(randomPool) - dl)
		body := &weftv1.TxBody{ChainId: weftChainID, Nonce: nonce, FeeLimit: feeLimit.Bytes(), Actions: []*weftv1.Action{
			{Kind: &weftv1.Action_RollupData{RollupData: &weftv1.RollupData{RollupId: id[:], Data: randomPool[off : off+dl]}}},
		}}
		raw, err := txcodec.Sign(keys[k%sr.count], body)
		if err != nil {
			errs[k] = err
			return
		}
		if txSize > 0 && len(raw) != txSize {
			errs[k] = fmt.Errorf("tx %d is %d bytes, want %d", k, len(raw), txSize)
			return
		}
		l.raw[k] = raw
		l.hashes[k] = txcodec.TxHash(raw)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	l.txBytes = len(l.raw[0])
	if txSize > 0 {
		l.dataBytes = 0
		l.bodies = make([][]byte, n)
		parallel(n, func(k int) { l.bodies[k] = rpcBody(l.raw[k]) })
	}
	return l, nil
}

// fitPayload is the RollupData length that makes a signed tx with this
// nonce exactly txSize bytes (signatures are always 65 bytes).
func fitPayload(nonce uint64, id rollups.ID, txSize int) (int, error) {
	dl := txSize / 2
	for range 16 {
		body := &weftv1.TxBody{ChainId: weftChainID, Nonce: nonce, FeeLimit: feeLimit.Bytes(), Actions: []*weftv1.Action{
			{Kind: &weftv1.Action_RollupData{RollupData: &weftv1.RollupData{RollupId: id[:], Data: make([]byte, dl)}}},
		}}
		size := proto.Size(&weftv1.SignedTx{Body: make([]byte, proto.Size(body)), Signature: make([]byte, crypto.SignatureLength)})
		if size == txSize {
			return dl, nil
		}
		dl += txSize - size
		if dl < 1 {
			break
		}
	}
	return 0, fmt.Errorf("no rollup payload makes a %d-byte tx with nonce %d", txSize, nonce)
}

// kvLoad builds n kvstore txs of exactly txSize bytes: "key=value" with a
// key unique to (step, k) and no other '=' or ':'.
func kvLoad(step, n, txSize int) (*load, error) {
	l := &load{raw: make([][]byte, n), hashes: make([][32]byte, n), bodies: make([][]byte, n), txBytes: txSize}
	errs := make([]error, n)
	parallel(n, func(k int) {
		tx := fmt.Appendf(make([]byte, 0, txSize), "bench-s%d-k%d=", step, k)
		if len(tx) >= txSize {
			errs[k] = fmt.Errorf("kvstore key too long for %d-byte txs", txSize)
			return
		}
		off := (k * 131) % 4096
		for i := len(tx); i < txSize; i++ {
			tx = append(tx, 'a'+randomPool[off+i]%26)
		}
		l.raw[k] = tx
		l.hashes[k] = sha256.Sum256(tx)
		l.bodies[k] = rpcBody(tx)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return l, nil
}

// parallel runs f(0..n-1) on every CPU.
func parallel(n int, f func(i int)) {
	w := min(runtime.NumCPU(), n)
	var wg sync.WaitGroup
	for g := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += w {
				f(i)
			}
		}()
	}
	wg.Wait()
}
