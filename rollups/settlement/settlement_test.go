package settlement

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/weftnet/weft/contracts"
)

var (
	ownerKey      = testKey("owner")
	batcherKey    = testKey("batcher")
	challengerKey = testKey("challenger")
	userKey       = testKey("user")
	ether         = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
)

func testKey(name string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("weft settlement test " + name)))
	if err != nil {
		panic(err)
	}
	return k
}

func addr(k *ecdsa.PrivateKey) common.Address { return crypto.PubkeyToAddress(k.PublicKey) }

func testAlloc() types.GenesisAlloc {
	bal := new(big.Int).Mul(big.NewInt(1_000_000), ether)
	a := types.GenesisAlloc{}
	for _, k := range []*ecdsa.PrivateKey{ownerKey, batcherKey, challengerKey, userKey} {
		a[addr(k)] = types.Account{Balance: bal}
	}
	return a
}

// newL1 starts a paused embedded L1 (blocks only on Commit) with a fast
// producer that deploy() resumes briefly.
func newL1(t *testing.T, cfg L1Config) *L1 {
	t.Helper()
	cfg.Alloc = testAlloc()
	cfg.Paused = true
	if cfg.BlockTime == 0 {
		cfg.BlockTime = 5 * time.Millisecond
	}
	l1, err := StartL1(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l1.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return l1
}

func testSpec(name string, window uint64) RollupSpec {
	return RollupSpec{
		Name:            name,
		ID:              crypto.Keccak256Hash([]byte(name)),
		ChainID:         424242,
		Batcher:         addr(batcherKey),
		Challenger:      addr(challengerKey),
		ChallengeWindow: window,
		GenesisRoot:     crypto.Keccak256Hash([]byte("genesis " + name)),
		StartHeight:     10,
	}
}

// deploy runs Deploy with the block producer on, then pauses it again.
func deploy(t *testing.T, l1 *L1, specs ...RollupSpec) *Deployment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l1.Resume()
	d, err := Deploy(ctx, l1.Client(), ownerKey, specs)
	l1.Pause()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// send sends a tx calling `to` with data from key and commits a block. An
// error is the (decoded) gas estimation failure.
func send(t *testing.T, l1 *L1, key *ecdsa.PrivateKey, to common.Address, data []byte, value *big.Int) (*types.Receipt, error) {
	t.Helper()
	opts := bind.NewKeyedTransactor(key, l1.ChainID())
	opts.Value = value
	c := bind.NewBoundContract(to, inboxDef, l1.Client(), l1.Client(), l1.Client())
	tx, err := bind.Transact(c, opts, data)
	if err != nil {
		return nil, DecodeRevert(err)
	}
	l1.Commit()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := WaitReceipt(ctx, l1.Client(), tx.Hash())
	if err != nil {
		t.Fatalf("receipt: %v", err)
	}
	return r, nil
}

func mustSend(t *testing.T, l1 *L1, key *ecdsa.PrivateKey, to common.Address, data []byte) *types.Receipt {
	t.Helper()
	r, err := send(t, l1, key, to, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func frameBytes(seed string, n int) []byte {
	out := make([]byte, 0, n+32)
	h := crypto.Keccak256([]byte(seed))
	for len(out) < n {
		out = append(out, h...)
		h = crypto.Keccak256(h)
	}
	return out[:n]
}

// postCalldataBatch posts frames as appendFrame… postBatch and returns the
// postBatch receipt.
func postCalldataBatch(t *testing.T, l1 *L1, in *Inbox, from, to uint64, newRoot common.Hash, frames [][]byte) *types.Receipt {
	t.Helper()
	ctx := context.Background()
	idx, err := in.NextIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prev, err := in.LastStateRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames[:len(frames)-1] {
		mustSend(t, l1, batcherKey, in.Address(), PackAppendFrame(idx, f))
	}
	return mustSend(t, l1, batcherKey, in.Address(), PackPostBatch(idx, from, to, prev, newRoot, frames[len(frames)-1]))
}

func TestDeployAttach(t *testing.T) {
	l1 := newL1(t, L1Config{})
	ctx := context.Background()
	d := deploy(t, l1, testSpec("alpha", 3600), testSpec("beta", 60))
	if len(d.Rollups) != 2 || d.Rollups[0].Inbox == d.Rollups[1].Inbox {
		t.Fatalf("deployment: %+v", d)
	}
	js, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back Deployment
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	got, err := Attach(ctx, l1.Client(), d.Registry)
	if err != nil {
		t.Fatal(err)
	}
	// Names are not on chain.
	for i := range back.Rollups {
		back.Rollups[i].Name = ""
	}
	gotJS, _ := json.Marshal(got)
	wantJS, _ := json.Marshal(back)
	if !bytes.Equal(gotJS, wantJS) {
		t.Fatalf("attach:\n got %s\nwant %s", gotJS, wantJS)
	}
	in := NewInbox(l1.Client(), d.Rollups[0].Inbox, WithFromBlock(d.Rollups[0].InboxBlock))
	if w, _ := in.ChallengeWindow(ctx); w != 3600 {
		t.Fatalf("challenge window %d", w)
	}
	if h, _ := in.StartHeight(ctx); h != 10 {
		t.Fatalf("start height %d", h)
	}
	if r, _ := in.GenesisRoot(ctx); r != d.Rollups[0].GenesisRoot {
		t.Fatalf("genesis root %s", r)
	}
	if h, _ := in.NextFromHeight(ctx); h != 10 {
		t.Fatalf("next from height %d", h)
	}
	t.Logf("deployment: %s", js)
}

func TestPostBatchesAndReconstruct(t *testing.T) {
	l1 := newL1(t, L1Config{})
	ctx := context.Background()
	d := deploy(t, l1, testSpec("alpha", 3600))
	in := NewInbox(l1.Client(), d.Rollups[0].Inbox, WithFromBlock(d.Rollups[0].InboxBlock))

	one := [][]byte{frameBytes("b0f0", 300)}
	three := [][]byte{frameBytes("b1f0", 1000), frameBytes("b1f1", 33), frameBytes("b1f2", 5000)}
	root0, root1 := common.HexToHash("0xa0"), common.HexToHash("0xa1")
	postCalldataBatch(t, l1, in, 10, 19, root0, one)
	mustSend(t, l1, batcherKey, in.Address(), PackAppendFrame(1, three[0]))
	if n, _ := in.PendingFrames(ctx); n != 1 {
		t.Fatalf("pending frames %d", n)
	}
	mustSend(t, l1, batcherKey, in.Address(), PackAppendFrame(1, three[1]))
	mustSend(t, l1, batcherKey, in.Address(), PackPostBatch(1, 20, 25, root0, root1, three[2]))

	if n, _ := in.NextIndex(ctx); n != 2 {
		t.Fatalf("next index %d", n)
	}
	if h, _ := in.NextFromHeight(ctx); h != 26 {
		t.Fatalf("next from height %d", h)
	}
	if r, _ := in.LastStateRoot(ctx); r != root1 {
		t.Fatalf("last root %s", r)
	}
	b1, err := in.Batch(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := Commitment([]common.Hash{crypto.Keccak256Hash(three[0]), crypto.Keccak256Hash(three[1]), crypto.Keccak256Hash(three[2])})
	if b1.Commitment != want || b1.Frames != 3 || b1.PrevRoot != root0 || b1.StateRoot != root1 {
		t.Fatalf("batch 1: %+v, want commitment %s", b1, want)
	}
	// The keccak chain by hand, for the record.
	var c common.Hash
	for _, f := range three {
		c = crypto.Keccak256Hash(append(c.Bytes(), crypto.Keccak256(f)...))
	}
	if c != want {
		t.Fatalf("Commitment %s, hand chain %s", want, c)
	}

	bs, err := in.Batches(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkBatches(t, bs, [][][]byte{one, three})
	if bs[1].FromHeight != 20 || bs[1].ToHeight != 25 || bs[1].PrevRoot != root0 || bs[1].StateRoot != root1 {
		t.Fatalf("batch 1 header %+v", bs[1])
	}
	bs, err = in.Batches(ctx, 1)
	if err != nil || len(bs) != 1 || bs[0].Index != 1 {
		t.Fatalf("from 1: %v %+v", err, bs)
	}
	if bs, err := in.Batches(ctx, 5); err != nil || len(bs) != 0 {
		t.Fatalf("from 5: %v %+v", err, bs)
	}

	// Discarded pending frames do not show up.
	mustSend(t, l1, batcherKey, in.Address(), PackAppendFrame(2, frameBytes("dropped", 10)))
	mustSend(t, l1, batcherKey, in.Address(), PackDiscardPending())
	two := [][]byte{frameBytes("b2f0", 64), frameBytes("b2f1", 65)}
	postCalldataBatch(t, l1, in, 26, 26, common.HexToHash("0xa2"), two)
	bs, err = in.Batches(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkBatches(t, bs, [][][]byte{one, three, two})
}

func checkBatches(t *testing.T, bs []PostedBatch, want [][][]byte) {
	t.Helper()
	if len(bs) != len(want) {
		t.Fatalf("%d batches, want %d", len(bs), len(want))
	}
	for i, b := range bs {
		if len(b.Frames) != len(want[i]) {
			t.Fatalf("batch %d: %d frames, want %d", i, len(b.Frames), len(want[i]))
		}
		hashes := make([]common.Hash, len(b.Frames))
		for j, f := range b.Frames {
			if !bytes.Equal(f.Data, want[i][j]) {
				t.Fatalf("batch %d frame %d: data differs", i, j)
			}
			if f.Index != uint32(j) || f.Blob || f.TxHash == (common.Hash{}) {
				t.Fatalf("batch %d frame %d: %+v", i, j, f)
			}
			hashes[j] = f.Hash
		}
		if Commitment(hashes) != b.Commitment {
			t.Fatalf("batch %d commitment", i)
		}
	}
}

func TestPostBatchRejections(t *testing.T) {
	l1 := newL1(t, L1Config{})
	ctx := context.Background()
	d := deploy(t, l1, testSpec("alpha", 3600))
	in := NewInbox(l1.Client(), d.Rollups[0].Inbox)
	genesis := d.Rollups[0].GenesisRoot
	postCalldataBatch(t, l1, in, 10, 19, common.HexToHash("0xa0"), [][]byte{{1, 2, 3}})
	root0 := common.HexToHash("0xa0")

	cases := []struct {
		name string
		key  *ecdsa.PrivateKey
		data []byte
		want string
		arg  string
	}{
		{"wrong index", batcherKey, PackPostBatch(5, 20, 21, root0, common.HexToHash("0x1"), []byte{1}), "WrongIndex", "expected: 1, got: 5"},
		{"wrong index append", batcherKey, PackAppendFrame(0, []byte{1}), "WrongIndex", "expected: 1, got: 0"},
		{"wrong prev root", batcherKey, PackPostBatch(1, 20, 21, genesis, common.HexToHash("0x1"), []byte{1}), "WrongPrevRoot", ""},
		{"wrong from height", batcherKey, PackPostBatch(1, 21, 22, root0, common.HexToHash("0x1"), []byte{1}), "WrongFromHeight", "expected: 20, got: 21"},
		{"empty range", batcherKey, PackPostBatch(1, 20, 19, root0, common.HexToHash("0x1"), []byte{1}), "EmptyRange", ""},
		{"no frame", batcherKey, PackPostBatch(1, 20, 21, root0, common.HexToHash("0x1"), nil), "NoFrame", ""},
		{"not batcher", userKey, PackPostBatch(1, 20, 21, root0, common.HexToHash("0x1"), []byte{1}), "NotBatcher", ""},
		{"not batcher append", challengerKey, PackAppendFrame(1, []byte{1}), "NotBatcher", ""},
		{"not challenger", batcherKey, PackDeleteBatches(0), "NotChallenger", ""},
		{"no such batch", challengerKey, PackDeleteBatches(1), "NoSuchBatch", ""},
		{"zero deposit", userKey, PackDeposit(addr(userKey)), "ZeroValue", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := send(t, l1, tc.key, in.Address(), tc.data, nil)
			if !IsContractError(err, tc.want) {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.arg) {
				t.Fatalf("error %q lacks %q", err, tc.arg)
			}
			t.Logf("%s: %v", tc.name, err)
		})
	}
	if _, err := in.Batch(ctx, 7); !IsContractError(err, "NoSuchBatch") {
		t.Fatalf("Batch(7): %v", err)
	}
}

func TestChallengeDeleteAndRepost(t *testing.T) {
	l1 := newL1(t, L1Config{})
	ctx := context.Background()
	const window = 600
	d := deploy(t, l1, testSpec("alpha", window))
	in := NewInbox(l1.Client(), d.Rollups[0].Inbox, WithFromBlock(d.Rollups[0].InboxBlock))

	b0 := [][]byte{frameBytes("b0", 100)}
	b1 := [][]byte{frameBytes("b1 bad", 100), frameBytes("b1 bad 2", 10)}
	b2 := [][]byte{frameBytes("b2 bad", 100)}
	postCalldataBatch(t, l1, in, 10, 19, common.HexToHash("0xa0"), b0)
	if err := l1.AdjustTime(window * time.Second); err != nil {
		t.Fatal(err)
	}
	if ok, _ := in.IsFinal(ctx, 0); !ok {
		t.Fatal("batch 0 not final after the window")
	}
	postCalldataBatch(t, l1, in, 20, 29, common.HexToHash("0xbad1"), b1)
	postCalldataBatch(t, l1, in, 30, 39, common.HexToHash("0xbad2"), b2)
	if ok, _ := in.IsFinal(ctx, 1); ok {
		t.Fatal("batch 1 final inside the window")
	}

	// Batch 0 is final: it cannot be deleted.
	if _, err := send(t, l1, challengerKey, in.Address(), PackDeleteBatches(0), nil); !IsContractError(err, "BatchFinal") {
		t.Fatalf("delete final batch: %v", err)
	}
	// A half-posted batch 3 is dropped with the deletion.
	mustSend(t, l1, batcherKey, in.Address(), PackAppendFrame(3, frameBytes("pending", 10)))
	mustSend(t, l1, challengerKey, in.Address(), PackDeleteBatches(1))
	if n, _ := in.NextIndex(ctx); n != 1 {
		t.Fatalf("next index after delete %d", n)
	}
	if n, _ := in.PendingFrames(ctx); n != 0 {
		t.Fatalf("pending after delete %d", n)
	}
	bs, err := in.Batches(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkBatches(t, bs, [][][]byte{b0})

	// The batcher posts the range again, differently split.
	g1 := [][]byte{frameBytes("b1 good", 70)}
	g2 := [][]byte{frameBytes("b2 good", 7), frameBytes("b2 good 2", 8), frameBytes("b2 good 3", 9)}
	postCalldataBatch(t, l1, in, 20, 34, common.HexToHash("0x6001"), g1)
	postCalldataBatch(t, l1, in, 35, 39, common.HexToHash("0x6002"), g2)
	bs, err = in.Batches(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkBatches(t, bs, [][][]byte{g1, g2})
	if bs[0].ToHeight != 34 || bs[1].StateRoot != common.HexToHash("0x6002") {
		t.Fatalf("reposted headers: %+v", bs)
	}

	// After its window, a batch cannot be deleted any more.
	if err := l1.AdjustTime(window * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := send(t, l1, challengerKey, in.Address(), PackDeleteBatches(1), nil); !IsContractError(err, "BatchFinal") {
		t.Fatalf("delete after window: %v", err)
	}
}

func TestDepositsInNonceOrder(t *testing.T) {
	l1 := newL1(t, L1Config{})
	ctx := context.Background()
	d := deploy(t, l1, testSpec("alpha", 60))
	in := NewInbox(l1.Client(), d.Rollups[0].Inbox, WithFromBlock(d.Rollups[0].InboxBlock))

	// Several deposits per block, from two senders.
	var want []Deposit
	for blk := 0; blk < 3; blk++ {
		for i, k := range []*ecdsa.PrivateKey{userKey, ownerKey} {
			to := common.BigToAddress(big.NewInt(int64(100 + blk*10 + i)))
			v := big.NewInt(int64(1000 + blk*10 + i))
			opts := bind.NewKeyedTransactor(k, l1.ChainID())
			opts.Value = v
			c := bind.NewBoundContract(in.Address(), inboxDef, l1.Client(), l1.Client(), l1.Client())
			if _, err := bind.Transact(c, opts, PackDeposit(to)); err != nil {
				t.Fatal(err)
			}
			want = append(want, Deposit{From: addr(k), To: to, Value: v})
		}
		l1.Commit()
	}
	head, err := l1.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, err := in.Deposits(ctx, 0, head.Number.Uint64())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 6 {
		t.Fatalf("%d deposits", len(all))
	}
	// Nonces are assigned in execution order; match by (to, value).
	for i, dep := range all {
		if dep.Nonce != uint64(i) {
			t.Fatalf("deposit %d has nonce %d", i, dep.Nonce)
		}
		found := false
		for _, w := range want {
			if w.To == dep.To && w.From == dep.From && w.Value.Cmp(dep.Value) == 0 {
				found = true
			}
		}
		if !found {
			t.Fatalf("unexpected deposit %+v", dep)
		}
	}
	if n, _ := in.DepositCount(ctx); n != 6 {
		t.Fatalf("deposit count %d", n)
	}
	tail, err := in.Deposits(ctx, 4, head.Number.Uint64())
	if err != nil || len(tail) != 2 || tail[0].Nonce != 4 {
		t.Fatalf("from nonce 4: %v %+v", err, tail)
	}
	// Up to an earlier block: only the first block's deposits.
	early, err := in.Deposits(ctx, 0, all[0].L1Block)
	if err != nil || len(early) != 2 {
		t.Fatalf("up to block %d: %v %+v", all[0].L1Block, err, early)
	}
}

func TestFinalizedTag(t *testing.T) {
	l1 := newL1(t, L1Config{})
	ctx := context.Background()
	c := l1.Client()
	h, byDepth, err := FinalizedHeader(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("at genesis: finalized=%d byDepth=%v", h.Number, byDepth)
	for i := 0; i < 40; i++ {
		l1.Commit()
	}
	head, _ := c.HeaderByNumber(ctx, nil)
	fin, byDepth, err := FinalizedHeader(ctx, c)
	if err != nil || byDepth {
		t.Fatal(err, byDepth)
	}
	safe, err := c.HeaderByNumber(ctx, big.NewInt(int64(rpc.SafeBlockNumber)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("head=%d finalized=%d safe=%d", head.Number, fin.Number, safe.Number)
	if fin.Number.Uint64() != 32 || safe.Number.Cmp(head.Number) != 0 {
		t.Fatalf("head %d finalized %d safe %d", head.Number, fin.Number, safe.Number)
	}
}

func TestHTTPEndpoint(t *testing.T) {
	l1 := newL1(t, L1Config{HTTPHost: "127.0.0.1", WS: true})
	if !strings.HasPrefix(l1.URL(), "http://127.0.0.1:") || strings.HasSuffix(l1.URL(), ":0") {
		t.Fatalf("url %q", l1.URL())
	}
	l1.Commit()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, u := range []string{l1.URL(), l1.WSURL()} {
		c, err := ethclient.DialContext(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		id, err := c.ChainID(ctx)
		if err != nil || id.Uint64() != L1ChainID {
			t.Fatalf("%s: chain id %v %v", u, id, err)
		}
		n, err := c.BlockNumber(ctx)
		if err != nil || n != 1 {
			t.Fatalf("%s: block number %d %v", u, n, err)
		}
		c.Close()
	}
	resp, err := http.Post(l1.URL(), "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Logf("L1 at %s and %s", l1.URL(), l1.WSURL())
}

func TestBlockProducer(t *testing.T) {
	l1 := newL1(t, L1Config{BlockTime: 2 * time.Millisecond})
	ctx := context.Background()
	heads := make(chan *types.Header, 16)
	sub, err := l1.Client().SubscribeNewHead(ctx, heads)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	l1.Resume()
	timeout := time.After(20 * time.Second)
	for seen := 0; seen < 3; {
		select {
		case <-heads:
			seen++
		case err := <-sub.Err():
			t.Fatal(err)
		case <-timeout:
			t.Fatalf("producer made %d blocks", seen)
		}
	}
	l1.Pause()
	n1, _ := l1.Client().BlockNumber(ctx)
	// Once paused, only Commit moves the chain.
	l1.Commit()
	n2, _ := l1.Client().BlockNumber(ctx)
	if n2 != n1+1 {
		t.Fatalf("paused: %d then %d", n1, n2)
	}
}

func TestFork(t *testing.T) {
	l1 := newL1(t, L1Config{})
	ctx := context.Background()
	d := deploy(t, l1, testSpec("alpha", 60))
	in := NewInbox(l1.Client(), d.Rollups[0].Inbox, WithFromBlock(d.Rollups[0].InboxBlock))
	base, _ := l1.Client().HeaderByNumber(ctx, nil)
	postCalldataBatch(t, l1, in, 10, 19, common.HexToHash("0xa0"), [][]byte{{1}})
	if bs, err := in.Batches(ctx, 0); err != nil || len(bs) != 1 {
		t.Fatalf("%v %d", err, len(bs))
	}
	if err := l1.Fork(base.Hash()); err != nil {
		t.Fatal(err)
	}
	// geth puts the reorged-out postBatch back in the pool; drop it so the
	// new branch does not simply include it again.
	l1.Rollback()
	l1.Commit()
	l1.Commit()
	if n, _ := in.NextIndex(ctx); n != 0 {
		t.Fatalf("after reorg next index %d", n)
	}
	if bs, err := in.Batches(ctx, 0); err != nil || len(bs) != 0 {
		t.Fatalf("after reorg: %v %d batches", err, len(bs))
	}
}

func TestFrameMismatchIsReported(t *testing.T) {
	// A log claiming a hash the calldata does not have (as a broken or
	// lying RPC would return) must be rejected naming batch and frame.
	l1 := newL1(t, L1Config{})
	ctx := context.Background()
	d := deploy(t, l1, testSpec("alpha", 60))
	in := NewInbox(lyingReader{L1Reader: l1.Client()}, d.Rollups[0].Inbox)
	postCalldataBatch(t, l1, in, 10, 19, common.HexToHash("0xa0"), [][]byte{{1, 2}, {3, 4}})
	_, err := in.Batches(ctx, 0)
	if !errors.Is(err, ErrFrameMismatch) || !strings.Contains(err.Error(), "batch 0 frame 1") {
		t.Fatalf("got %v", err)
	}
}

// lyingReader returns the second frame's tx with altered calldata.
type lyingReader struct{ L1Reader }

func (r lyingReader) TransactionByHash(ctx context.Context, h common.Hash) (*types.Transaction, bool, error) {
	tx, pending, err := r.L1Reader.TransactionByHash(ctx, h)
	if err != nil || len(tx.Data()) < 4 || !bytes.Equal(tx.Data()[:4], inboxDef.Methods["postBatch"].ID) {
		return tx, pending, err
	}
	data := bytes.Clone(tx.Data())
	data[len(data)-32] ^= 0xff // first byte of the frame's padded content
	return types.NewTx(&types.DynamicFeeTx{To: tx.To(), Data: data, Gas: tx.Gas()}), pending, nil
}

func TestRevertDecodingPassesOtherErrors(t *testing.T) {
	e := errors.New("plain")
	if DecodeRevert(e) != e || DecodeRevert(nil) != nil {
		t.Fatal("non-revert errors must pass through")
	}
	if !strings.Contains(contracts.L2BridgeAddress.Hex(), "5745") {
		t.Fatal("bridge address")
	}
}
