package batcher_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/weftnet/weft/contracts/bindings"
	"github.com/weftnet/weft/rollups/batcher"
	"github.com/weftnet/weft/rollups/derive"
	"github.com/weftnet/weft/rollups/settlement"
)

// rootAt executes the rollup up to Weft height h (heights already executed
// are skipped) and returns its state root there.
func (e *env) rootAt(h int64) common.Hash {
	e.t.Helper()
	e.src.mu.Lock()
	defer e.src.mu.Unlock()
	for i := e.src.exec.LastWeftHeight() + 1; i <= h; i++ {
		if err := e.src.exec.Execute(e.src.slices[i-1]); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.src.exec.HeaderAtWeftHeight(h).Root
}

// send calls the inbox from k's account and waits for a successful receipt.
func (e *env) send(k *ecdsa.PrivateKey, data []byte) *types.Receipt {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := e.l1.Client()
	opts := bind.NewKeyedTransactor(k, e.l1.ChainID())
	opts.Context = ctx
	c := bind.NewBoundContract(e.addr, bindings.NewWeftInbox().GetABI(), client, client, client)
	tx, err := bind.Transact(c, opts, data)
	if err != nil {
		e.t.Fatal(settlement.DecodeRevert(err))
	}
	r, err := settlement.WaitReceipt(ctx, client, tx.Hash())
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// settleBatcher waits until no tx of the batcher's account is pending (a
// stopped driver may leave one in flight) and drops the frames of an
// unfinished batch, so the inbox takes a new batch at its next index.
func (e *env) settleBatcher() {
	e.t.Helper()
	ctx := context.Background()
	client, from := e.l1.Client(), addr(batcherKey)
	e.waitFor("the batcher's txs mined", 30*time.Second, func() bool {
		latest, err := client.NonceAt(ctx, from, nil)
		if err != nil {
			return false
		}
		pending, err := client.PendingNonceAt(ctx, from)
		return err == nil && pending <= latest
	})
	n, err := e.inbox.PendingFrames(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if n > 0 {
		e.send(batcherKey, settlement.PackDiscardPending())
	}
}

// postBatch acts as a compromised batcher: it builds the next batch, up to
// Weft height to, with the production Builder over the right data, but with
// root as the state root after to, and posts its frames. It returns the
// header posted.
func (e *env) postBatch(to int64, root common.Hash) batcher.Header {
	e.t.Helper()
	ctx := context.Background()
	idx, err := e.inbox.NextIndex(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	prev, err := e.inbox.LastStateRoot(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	from := int64(e.nextHeight())
	cfg := testBuilderConfig()
	cfg.TargetBatchBytes = cfg.MaxFrameSize * cfg.MaxFramesPerBatch // close on Flush only
	b, err := batcher.New(cfg, batcher.Start{NextIndex: idx, NextHeight: from, PrevRoot: prev})
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0) // a fixed clock: the batch closes on Flush
	for h := from; h <= to; h++ {
		s := e.src.slices[h-1]
		blk := batcher.Block{Height: h, TimeUnixNano: s.TimeUnixNano, BlockHash: s.BlockHash, Items: s.Items, StateRoot: e.rootAt(h)}
		if h == to {
			blk.StateRoot = root
		}
		if err := b.AddBlock(now, blk); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := b.Flush(); err != nil {
		e.t.Fatal(err)
	}
	var hdr *batcher.Header
	for {
		tx, ok, err := b.NextTx(now)
		if err != nil {
			e.t.Fatal(err)
		}
		if !ok {
			break
		}
		data := settlement.PackAppendFrame(tx.BatchIndex, tx.Data)
		if h := tx.Header; h != nil {
			data = settlement.PackPostBatch(h.Index, uint64(h.FromHeight), uint64(h.ToHeight), h.PrevRoot, h.NewRoot, tx.Data)
			hdr = h
		}
		r := e.send(batcherKey, data)
		if err := b.Confirmed(tx.ID, r.BlockNumber.Uint64()); err != nil {
			e.t.Fatal(err)
		}
	}
	if hdr == nil || hdr.Index != idx || hdr.FromHeight != from || hdr.ToHeight != to || hdr.NewRoot != root {
		e.t.Fatalf("posted %+v, want batch %d of heights %d..%d with root %s", hdr, idx, from, to, root)
	}
	return *hdr
}

// checkFault checks that rep reports a state root mismatch at batch index,
// after index good batches.
func checkFault(t *testing.T, rep *derive.Report, index uint64, posted, derived common.Hash) {
	t.Helper()
	if rep == nil || rep.Fault == nil {
		t.Fatalf("verifier found no fault (report %+v), want one at batch %d", rep, index)
	}
	f := rep.Fault
	if f.Index != index || f.Reason != "state root mismatch" || f.Posted != posted || f.Derived != derived {
		t.Fatalf("fault %+v, want batch %d: state root mismatch: posted %s, derived %s", f, index, posted, derived)
	}
	if got := uint64(len(rep.Checked)); got != index {
		t.Fatalf("%d batches checked before the fault, want %d", got, index)
	}
}

func (e *env) nextIndex() uint64 {
	e.t.Helper()
	n, err := e.inbox.NextIndex(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestVerifierCatchesTamperedRootAndChallenges(t *testing.T) {
	const honest, tamperedTo = 12, 16
	e := newEnv(t, 32, settlement.L1Config{})
	client := e.l1.Client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The honest driver posts heights 1..12 (it sees no more), then stops.
	stop := e.startWith(client, testBuilderConfig(), &source{exec: e.src.exec, slices: e.src.slices[:honest]})
	e.waitFor("heights 1..12 posted", 60*time.Second, func() bool { return e.nextHeight() > honest })
	stop()
	e.settleBatcher()
	idx := e.nextIndex()
	if idx < 2 {
		t.Fatalf("the driver posted %d batches for %d heights, want several", idx, honest)
	}
	prevRoot, err := e.inbox.LastStateRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// The batcher's key is compromised: heights 13..16 with a false root.
	good := e.rootAt(tamperedTo)
	bad := crypto.Keccak256Hash([]byte("not the state root"), good[:])
	e.postBatch(tamperedTo, bad)
	if n := e.nextIndex(); n != idx+1 {
		t.Fatalf("inbox next index %d after posting batch %d", n, idx)
	}

	// A verifier without the challenger key finds the fault but cannot act.
	watcher := &derive.InboxL1{Inbox: e.inbox, Client: client}
	rep, err := derive.Verify(ctx, e.rollup, watcher, derive.Options{})
	if err != nil {
		t.Fatalf("report-only verify: %v", err)
	}
	checkFault(t, rep, idx, bad, good)
	rep, err = derive.Verify(ctx, e.rollup, watcher, derive.Options{Challenge: true})
	if !errors.Is(err, derive.ErrNoChallengerKey) {
		t.Fatalf("challenging without a key: err %v, want %v", err, derive.ErrNoChallengerKey)
	}
	if want := fmt.Sprintf("challenge batch %d", idx); !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name the batch (%q)", err, want)
	}
	checkFault(t, rep, idx, bad, good)
	if rep.ChallengeTx != (common.Hash{}) {
		t.Fatalf("challenge tx %s without a key", rep.ChallengeTx)
	}
	if n := e.nextIndex(); n != idx+1 {
		t.Fatalf("inbox next index %d after a failed challenge, want %d", n, idx+1)
	}

	// The challenger deletes the batch.
	var out bytes.Buffer
	challenger := &derive.InboxL1{Inbox: e.inbox, Client: client, Key: challengerKey}
	rep, err = derive.Verify(ctx, e.rollup, challenger, derive.Options{Challenge: true, Out: &out})
	if err != nil {
		t.Fatalf("challenge: %v", err)
	}
	checkFault(t, rep, idx, bad, good)
	if rep.ChallengeTx == (common.Hash{}) {
		t.Fatal("no challenge tx")
	}
	if r, err := client.TransactionReceipt(ctx, rep.ChallengeTx); err != nil || r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("challenge tx %s: receipt %+v, err %v", rep.ChallengeTx, r, err)
	}
	if want := fmt.Sprintf("challenged batch %d in L1 tx %s", idx, rep.ChallengeTx); !strings.Contains(out.String(), want) {
		t.Fatalf("verifier output lacks %q:\n%s", want, out.String())
	}
	if n := e.nextIndex(); n != idx {
		t.Fatalf("inbox next index %d after the challenge, want %d", n, idx)
	}
	if h := e.nextHeight(); h != honest+1 {
		t.Fatalf("inbox next height %d after the challenge, want %d", h, honest+1)
	}
	if r, err := e.inbox.LastStateRoot(ctx); err != nil || r != prevRoot {
		t.Fatalf("inbox last root %s (err %v) after the challenge, want %s", r, err, prevRoot)
	}

	// The honest driver posts the range again, and everything derives.
	stop = e.start(client)
	defer stop()
	e.waitFor("every height posted", 2*time.Minute, func() bool { return e.nextHeight() > uint64(e.heights) })
	checked := e.verify()
	if len(checked) <= int(idx) {
		t.Fatalf("%d batches after the repost, want more than %d", len(checked), idx)
	}
}

func TestChallengeAfterWindowFails(t *testing.T) {
	const window = 600 // seconds
	e := newEnvWith(t, envOptions{heights: 8, window: window})
	client := e.l1.Client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	good := e.rootAt(4)
	bad := crypto.Keccak256Hash([]byte("not the state root"), good[:])
	e.postBatch(4, bad)
	if final, err := e.inbox.IsFinal(ctx, 0); err != nil || final {
		t.Fatalf("batch 0 final %v (err %v) right after posting", final, err)
	}
	// Nobody challenged in time.
	if err := e.l1.AdjustTime(window * time.Second); err != nil {
		t.Fatal(err)
	}
	if final, err := e.inbox.IsFinal(ctx, 0); err != nil || !final {
		t.Fatalf("batch 0 final %v (err %v) after the window", final, err)
	}
	challenger := &derive.InboxL1{Inbox: e.inbox, Client: client, Key: challengerKey}
	rep, err := derive.Verify(ctx, e.rollup, challenger, derive.Options{Challenge: true})
	if !settlement.IsContractError(err, "BatchFinal") {
		t.Fatalf("late challenge: err %v, want the inbox's BatchFinal", err)
	}
	t.Logf("late challenge refused: %v", err)
	checkFault(t, rep, 0, bad, good)
	if rep.ChallengeTx != (common.Hash{}) {
		t.Fatalf("challenge tx %s for a final batch", rep.ChallengeTx)
	}
	if n := e.nextIndex(); n != 1 {
		t.Fatalf("inbox next index %d after the late challenge, want 1", n)
	}
}
