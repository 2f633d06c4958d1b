package txmgr

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Faults around a Sender that must not make it report a failure for a tx
// that may still be mined (found by an adversarial review).

// flaky wraps the recording simulated client: receipts can answer geth's
// "transaction indexing is in progress", and the nth SendTransaction can
// fail with a transient transport error before reaching the pool.
type flaky struct {
	*recording
	indexing atomic.Bool
	mu       sync.Mutex
	sends    int
	failSend int // 1-based send to fail (0: none)
}

func (f *flaky) TransactionReceipt(ctx context.Context, h common.Hash) (*types.Receipt, error) {
	if f.indexing.Load() {
		f.recording.mu.Lock()
		f.recording.polls++
		f.recording.mu.Unlock()
		return nil, errors.New("transaction indexing is in progress")
	}
	return f.recording.TransactionReceipt(ctx, h)
}

func (f *flaky) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	f.mu.Lock()
	f.sends++
	n := f.sends
	f.mu.Unlock()
	if n == f.failSend {
		return errors.New("Post \"http://l1:8545\": read tcp 10.0.0.2:53412->10.0.0.1:8545: read: connection reset by peer")
	}
	return f.recording.SendTransaction(ctx, tx)
}

// TestSendWaitsWhileTheL1Indexes: geth answers "transaction indexing is
// in progress" for a while after it starts. Our tx is mined meanwhile, so
// the account's nonce passes it; when the tx is due for a replacement,
// Send must not read the unanswered receipt as "another tx took the
// nonce": it keeps waiting and returns the mined tx (a CLI reporting a
// failed deposit that happened invites a second one).
func TestSendWaitsWhileTheL1Indexes(t *testing.T) {
	sim, rec, s, clk := newSim(t)
	f := &flaky{recording: rec}
	s.L1 = f
	f.indexing.Store(true)
	done := make(chan error, 1)
	var out *Sent
	go func() {
		var err error
		out, err = s.Send(context.Background(), Call{To: common.Address{1}, Value: big.NewInt(1)})
		done <- err
	}()
	waitUntil(t, "the first version sent", func() bool { return len(rec.sentTxs()) == 1 })
	rec.polled(t, 1) // the first version is in the pool
	sim.Commit()     // our tx is mined; the receipt index lags
	rec.polled(t, 1)
	clk.add(2 * time.Minute) // due for a replacement: taken() runs
	var err error
	select {
	case err = <-done: // gave up while the indexer lagged
	case <-time.After(2 * time.Second):
		f.indexing.Store(false) // the indexer catches up
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("Send did not return")
		}
	}
	if err != nil {
		t.Fatalf("Send failed although the tx it sent (%s) was mined: %v", rec.sentTxs()[0].Hash(), err)
	}
	if out.Tx.Hash() != rec.sentTxs()[0].Hash() {
		t.Fatalf("returned %s, want %s", out.Tx.Hash(), rec.sentTxs()[0].Hash())
	}
}

// TestSendKeepsWaitingAfterAFailedReplacement: the first version is in
// the pool and sending its replacement fails with a transient transport
// error. Send keeps waiting and returns the first version once it is
// mined, rather than reporting a failure for a tx that executes.
func TestSendKeepsWaitingAfterAFailedReplacement(t *testing.T) {
	sim, rec, s, clk := newSim(t)
	f := &flaky{recording: rec, failSend: 2}
	s.L1 = f
	to := common.HexToAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
	done := make(chan error, 1)
	go func() {
		_, err := s.Send(context.Background(), Call{To: to, Value: big.NewInt(777)})
		done <- err
	}()
	waitUntil(t, "the first version sent", func() bool { return len(rec.sentTxs()) == 1 })
	rec.polled(t, 1)
	clk.add(2 * time.Minute) // due: the replacement's send fails
	var err error
	select {
	case err = <-done:
	case <-time.After(3 * time.Second):
		// Still waiting: what we want. Mine the first version; Send must
		// return it.
		sim.Commit()
		if err := <-done; err != nil {
			t.Fatalf("Send: %v", err)
		}
		return
	}
	sim.Commit() // the first version, still in the pool, is mined
	bal, _ := sim.Client().BalanceAt(context.Background(), to, nil)
	t.Fatalf("Send gave up with %q while its first version %s was in flight; that version then executed (recipient balance %s)",
		err, rec.sentTxs()[0].Hash(), bal)
}

// TestSendZeroPolicyUsesDefaults: a Sender whose Policy is left zero uses
// DefaultPolicy's timing and bump; it must not replace at every poll by
// 1 wei (refused as underpriced) and fail while its first version is
// pending.
func TestSendZeroPolicyUsesDefaults(t *testing.T) {
	sim, rec, s, _ := newSim(t)
	s.Policy = Policy{}
	s.Now = nil
	done := make(chan error, 1)
	go func() {
		_, err := s.Send(context.Background(), Call{To: common.Address{1}, Value: big.NewInt(1)})
		done <- err
	}()
	waitUntil(t, "the first version sent", func() bool { return len(rec.sentTxs()) >= 1 })
	select {
	case err := <-done:
		t.Fatalf("zero Policy: Send failed with the first version pending: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	sim.Commit()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
