package txmgr

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/params"
)

// recording is the simulated L1's client, recording every tx sent.
type recording struct {
	simulated.Client
	mu    sync.Mutex
	sent  []*types.Transaction
	polls int // receipt queries
}

func (r *recording) TransactionReceipt(ctx context.Context, h common.Hash) (*types.Receipt, error) {
	r.mu.Lock()
	r.polls++
	r.mu.Unlock()
	return r.Client.TransactionReceipt(ctx, h)
}

// polled waits until Send has polled receipts n more times: it has then
// recorded everything it sent before.
func (r *recording) polled(t *testing.T, n int) {
	t.Helper()
	r.mu.Lock()
	want := r.polls + n
	r.mu.Unlock()
	waitUntil(t, "receipt polls", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.polls >= want })
}

// SendTransaction records tx once the pool has it (or refused it), so a
// test that sees it recorded can seal a block holding it.
func (r *recording) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	err := r.Client.SendTransaction(ctx, tx)
	r.mu.Lock()
	r.sent = append(r.sent, tx)
	r.mu.Unlock()
	return err
}

func (r *recording) sentTxs() []*types.Transaction {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*types.Transaction(nil), r.sent...)
}

// clock is a manual clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, with a deadline
	}
}

func newSim(t *testing.T) (*simulated.Backend, *recording, *Sender, *clock) {
	t.Helper()
	key, _ := crypto.GenerateKey()
	from := crypto.PubkeyToAddress(key.PublicKey)
	sim := simulated.NewBackend(types.GenesisAlloc{from: {Balance: new(big.Int).Mul(big.NewInt(100), big.NewInt(params.Ether))}})
	t.Cleanup(func() { sim.Close() })
	rec := &recording{Client: sim.Client()}
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	s := &Sender{L1: rec, Key: key, Policy: Policy{ResubmitAfter: time.Minute, BumpPercent: 10}, Now: clk.Now, Poll: 5 * time.Millisecond}
	return sim, rec, s, clk
}

// TestSendReplacesAStuckTx: a tx not mined within ResubmitAfter (by the
// injected clock) is sent again at the same nonce with every fee raised by
// the policy's bump; the version mined is the one returned.
func TestSendReplacesAStuckTx(t *testing.T) {
	sim, rec, s, clk := newSim(t)
	to := common.HexToAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
	type result struct {
		out *Sent
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := s.Send(context.Background(), Call{To: to, Value: big.NewInt(12345)})
		done <- result{out, err}
	}()
	waitUntil(t, "the first version sent", func() bool { return len(rec.sentTxs()) == 1 })
	rec.polled(t, 1)
	clk.add(59 * time.Second)
	// Not due yet: more polls must not replace it.
	rec.polled(t, 5)
	if n := len(rec.sentTxs()); n != 1 {
		t.Fatalf("%d versions sent before the tx was due", n)
	}
	clk.add(2 * time.Second)
	waitUntil(t, "the replacement sent", func() bool { return len(rec.sentTxs()) == 2 })
	v := rec.sentTxs()
	if v[0].Nonce() != v[1].Nonce() {
		t.Fatalf("replacement at nonce %d, first at %d", v[1].Nonce(), v[0].Nonce())
	}
	for _, c := range []struct {
		name      string
		old, next *big.Int
	}{{"tip", v[0].GasTipCap(), v[1].GasTipCap()}, {"fee cap", v[0].GasFeeCap(), v[1].GasFeeCap()}} {
		least := new(big.Int).Div(new(big.Int).Mul(c.old, big.NewInt(110)), big.NewInt(100))
		if c.next.Cmp(least) < 0 {
			t.Fatalf("replacement %s %s, want at least %s (+10%% of %s)", c.name, c.next, least, c.old)
		}
	}
	sim.Commit()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.out.Tx.Hash() != v[1].Hash() || r.out.Receipt.Status != types.ReceiptStatusSuccessful || len(r.out.Hashes) != 2 {
		t.Fatalf("returned %s (status %d, %d hashes), want the replacement %s mined", r.out.Tx.Hash(), r.out.Receipt.Status, len(r.out.Hashes), v[1].Hash())
	}
	bal, err := sim.Client().BalanceAt(context.Background(), to, nil)
	if err != nil || bal.Cmp(big.NewInt(12345)) != 0 {
		t.Fatalf("recipient balance %v (%v), want 12345: exactly one version executed", bal, err)
	}
}

// TestSendRefusesFeesAboveTheCap: nothing is sent when the suggested fees
// already exceed the policy's cap.
func TestSendRefusesFeesAboveTheCap(t *testing.T) {
	_, rec, s, _ := newSim(t)
	s.Policy.MaxFeeCap = big.NewInt(1)
	_, err := s.Send(context.Background(), Call{To: common.Address{1}, Value: big.NewInt(1)})
	if !errors.Is(err, ErrFeeCap) || len(rec.sentTxs()) != 0 {
		t.Fatalf("err %v with %d txs sent, want ErrFeeCap and none", err, len(rec.sentTxs()))
	}
}

// TestSendNoticesATakenNonce: when another tx from the same key takes the
// nonce, Send stops with an error instead of waiting forever.
func TestSendNoticesATakenNonce(t *testing.T) {
	sim, rec, s, clk := newSim(t)
	done := make(chan error, 1)
	go func() {
		_, err := s.Send(context.Background(), Call{To: common.Address{1}, Value: big.NewInt(1)})
		done <- err
	}()
	waitUntil(t, "the first version sent", func() bool { return len(rec.sentTxs()) == 1 })
	rec.polled(t, 1)
	first := rec.sentTxs()[0]
	// Another program with the same key replaces it (double the fees).
	chainID, _ := sim.Client().ChainID(context.Background())
	other, err := types.SignNewTx(s.Key, types.LatestSignerForChainID(chainID), &types.DynamicFeeTx{
		ChainID: chainID, Nonce: first.Nonce(), GasTipCap: new(big.Int).Mul(first.GasTipCap(), big.NewInt(2)),
		GasFeeCap: new(big.Int).Mul(first.GasFeeCap(), big.NewInt(2)), Gas: 21000, To: &common.Address{2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Client().SendTransaction(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	sim.Commit()
	// Only once the L1 indexed that block can it say our versions were
	// not mined (before, "indexing is in progress" rightly means wait).
	waitUntil(t, "the other tx's receipt", func() bool {
		_, err := sim.Client().TransactionReceipt(context.Background(), other.Hash())
		return err == nil
	})
	// Each due time, Send asks whether the nonce was taken; while the L1
	// still answers "indexing is in progress" for our own hash it rightly
	// waits (and replaces), so move the clock on until it can tell.
	deadline := time.After(20 * time.Second)
	for {
		clk.add(2 * time.Minute)
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("Send returned no error although another tx took its nonce")
			}
			return
		case <-deadline:
			t.Fatal("Send still waits for a nonce another tx took")
		case <-time.After(20 * time.Millisecond): // a few polls (5 ms each)
		}
	}
}
