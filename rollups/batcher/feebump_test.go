package batcher_test

import (
	"context"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/weftnet/weft/contracts/bindings"
	"github.com/weftnet/weft/rollups/batcher"
	"github.com/weftnet/weft/rollups/settlement"
)

// recordingL1 records every tx the driver sends through a real L1 client.
type recordingL1 struct {
	batcher.L1
	mu   sync.Mutex
	sent []*types.Transaction
}

func (r *recordingL1) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	err := r.L1.SendTransaction(ctx, tx)
	if err == nil {
		r.mu.Lock()
		r.sent = append(r.sent, tx)
		r.mu.Unlock()
	}
	return err
}

func (r *recordingL1) byNonce() map[uint64][]*types.Transaction {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[uint64][]*types.Transaction{}
	for _, tx := range r.sent {
		out[tx.Nonce()] = append(out[tx.Nonce()], tx)
	}
	return out
}

// TestDriverBumpsFeesOfStuckTx: while L1 produces no block, the driver
// re-sends its pending tx at the same nonce with fees raised by at least
// FeeBumpPercent; once blocks resume exactly one version is mined, the
// driver follows it and everything lands once.
func TestDriverBumpsFeesOfStuckTx(t *testing.T) {
	e := newEnv(t, 24, settlement.L1Config{Paused: true})
	rec := &recordingL1{L1: e.l1.Client()}
	dcfg := e.driverConfig(testBuilderConfig())
	dcfg.ResubmitAfter = 200 * time.Millisecond
	dcfg.FeeBumpPercent = 15
	stop := e.startDriver(rec, dcfg, e.src)
	defer stop()

	// No blocks: wait until some nonce was sent in three versions.
	var versions []*types.Transaction
	e.waitFor("two fee bumps of a stuck tx", 30*time.Second, func() bool {
		for _, txs := range rec.byNonce() {
			if len(txs) >= 3 {
				versions = txs
				return true
			}
		}
		return false
	})
	for i := 1; i < len(versions); i++ {
		prev, cur := versions[i-1], versions[i]
		minTip := new(big.Int).Div(new(big.Int).Mul(prev.GasTipCap(), big.NewInt(100+dcfg.FeeBumpPercent)), big.NewInt(100))
		minCap := new(big.Int).Div(new(big.Int).Mul(prev.GasFeeCap(), big.NewInt(100+dcfg.FeeBumpPercent)), big.NewInt(100))
		if cur.GasTipCap().Cmp(minTip) < 0 || cur.GasFeeCap().Cmp(minCap) < 0 {
			t.Fatalf("version %d: tip %s cap %s after tip %s cap %s: bump below %d%%", i, cur.GasTipCap(), cur.GasFeeCap(), prev.GasTipCap(), prev.GasFeeCap(), dcfg.FeeBumpPercent)
		}
		if cur.Nonce() != prev.Nonce() || string(cur.Data()) != string(prev.Data()) {
			t.Fatalf("version %d changed nonce or data", i)
		}
	}

	// Blocks again: one version is mined and the driver moves on.
	e.l1.Resume()
	e.waitFor("every height posted", 2*time.Minute, func() bool { return e.nextHeight() > uint64(e.heights) })
	ctx := context.Background()
	mined := 0
	for _, v := range versions {
		if r, err := e.l1.Client().TransactionReceipt(ctx, v.Hash()); err == nil && r != nil {
			mined++
		}
	}
	if mined != 1 {
		t.Fatalf("%d versions of the stuck tx mined, want 1", mined)
	}
	e.verify()
}

// TestDriverPipelinesFramesOfABatch: with MaxInFlight 3 the driver puts
// three frames of a batch in the L1 pool at consecutive nonces before any
// is mined, and all land in order.
func TestDriverPipelinesFramesOfABatch(t *testing.T) {
	e := newEnv(t, 24, settlement.L1Config{Paused: true})
	rec := &recordingL1{L1: e.l1.Client()}
	bcfg := testBuilderConfig()
	bcfg.MaxInFlight = 3
	stop := e.startDriver(rec, e.driverConfig(bcfg), e.src)
	defer stop()
	e.waitFor("three frames in the pool", 30*time.Second, func() bool { return len(rec.byNonce()) >= 3 })
	byNonce := rec.byNonce()
	var first uint64 = 1 << 63
	for n := range byNonce {
		first = min(first, n)
	}
	for n := first; n < first+3; n++ {
		if len(byNonce[n]) == 0 {
			t.Fatalf("nonces sent: %v, want %d..%d", len(byNonce), first, first+2)
		}
	}
	e.l1.Resume()
	e.waitFor("every height posted", 2*time.Minute, func() bool { return e.nextHeight() > uint64(e.heights) })
	e.verify()
}

// TestDriverResumesHalfPostedBatch: with a state file, a driver killed in
// the middle of a multi-frame batch finishes that batch after a restart
// instead of discarding its frames on L1 and posting them again.
func TestDriverResumesHalfPostedBatch(t *testing.T) {
	e := newEnv(t, 48, settlement.L1Config{})
	dcfg := e.driverConfig(testBuilderConfig())
	dcfg.StateFile = filepath.Join(t.TempDir(), "batcher-state.json")
	for kill := 0; kill < 3; kill++ {
		stop := e.startDriver(e.l1.Client(), dcfg, e.src)
		// Kill it once a half-posted batch is on L1 and in its saved
		// progress (frames that land unseen are discarded, by design).
		e.waitFor("a batch half posted and saved", 60*time.Second, func() bool {
			ctx := context.Background()
			n, err := e.inbox.PendingFrames(ctx)
			if err != nil || n == 0 {
				return false
			}
			idx, err := e.inbox.NextIndex(ctx)
			if err != nil {
				return false
			}
			data, err := os.ReadFile(dcfg.StateFile)
			if err != nil {
				return false
			}
			b, err := batcher.Restore(dcfg.Builder, data)
			if err != nil {
				return false
			}
			infos := b.Batches()
			return len(infos) > 0 && infos[0].Index == idx && infos[0].ConfirmedFrames == int(n)
		})
		stop()
	}
	stop := e.startDriver(e.l1.Client(), dcfg, e.src)
	defer stop()
	e.waitFor("every height posted", 2*time.Minute, func() bool { return e.nextHeight() > uint64(e.heights) })
	e.verify()
	// No frame was thrown away.
	ev := bindings.NewWeftInbox().GetABI().Events["PendingDiscarded"]
	logs, err := e.l1.Client().FilterLogs(context.Background(), ethereum.FilterQuery{FromBlock: big.NewInt(0), Addresses: []common.Address{e.addr}, Topics: [][]common.Hash{{ev.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 0 {
		t.Fatalf("%d PendingDiscarded events: half-posted batches were discarded, not resumed", len(logs))
	}
}
