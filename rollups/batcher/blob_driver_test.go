package batcher_test

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"

	"github.com/weftnet/weft/rollups/batcher"
	"github.com/weftnet/weft/rollups/derive"
	"github.com/weftnet/weft/rollups/settlement"
)

// blobL1 is the embedded L1's client as blob mode needs it.
type blobL1 interface {
	batcher.L1
	batcher.BlobBaseFeeReader
}

// capturingL1 passes everything to the embedded L1 and keeps the blobs of
// every blob tx sent. The embedded L1 (geth's simulated backend) has no
// beacon API to read blobs back from, so the verifier's BlobSource serves
// the blobs the driver actually sent, captured here; Inbox and derive
// check each against the versioned hash L1 logged.
type capturingL1 struct {
	blobL1
	mu    sync.Mutex
	blobs map[common.Hash]*kzg4844.Blob
}

func (c *capturingL1) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	if sc := tx.BlobTxSidecar(); sc != nil {
		c.mu.Lock()
		for i, h := range sc.BlobHashes() {
			b := sc.Blobs[i]
			c.blobs[h] = &b
		}
		c.mu.Unlock()
	}
	return c.blobL1.SendTransaction(ctx, tx)
}

// Blob makes capturingL1 a settlement.BlobSource.
func (c *capturingL1) Blob(_ context.Context, ref settlement.BlobRef) (*kzg4844.Blob, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.blobs[ref.VersionedHash]; ok {
		return b, nil
	}
	return nil, errors.New("blob never sent")
}

// blobTestConfig makes batches of several blob frames; frames are larger
// than in calldata tests to keep the KZG work (a fifth of a second per
// blob, five times that under -race) within budget.
func blobTestConfig() batcher.Config {
	cfg := testBuilderConfig()
	cfg.MaxFrameSize = 1500
	cfg.TargetBatchBytes = cfg.MaxFrameSize * 3
	return cfg
}

// l1Gas sums the receipts of every tx of each posted batch.
type l1Gas struct {
	batches, frames, txs int
	gas, blobGas         uint64
}

func measureGas(t *testing.T, e *env, bs []settlement.PostedBatch) l1Gas {
	t.Helper()
	ctx := context.Background()
	g := l1Gas{batches: len(bs)}
	for _, b := range bs {
		seen := map[common.Hash]bool{}
		for _, f := range b.Frames {
			g.frames++
			if seen[f.TxHash] {
				continue
			}
			seen[f.TxHash] = true
			r, err := e.l1.Client().TransactionReceipt(ctx, f.TxHash)
			if err != nil {
				t.Fatal(err)
			}
			g.txs++
			g.gas += r.GasUsed
			g.blobGas += r.BlobGasUsed
		}
	}
	return g
}

func (g l1Gas) String(mode string) string {
	return mode + ": " + itoa(g.batches) + " batches, " + itoa(g.frames) + " frames in " + itoa(g.txs) + " L1 txs; per batch " +
		itoa(int(g.gas)/g.batches) + " gas, " + itoa(int(g.blobGas)/g.batches) + " blob gas"
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

func TestDriverPostsBlobs(t *testing.T) {
	const heights = 40
	ctx := context.Background()

	e := newEnv(t, heights, settlement.L1Config{})
	client := &capturingL1{blobL1: e.l1.Client().(blobL1), blobs: map[common.Hash]*kzg4844.Blob{}}
	dcfg := e.driverConfig(blobTestConfig())
	dcfg.Blobs = true
	stop := e.startDriver(client, dcfg, e.src)
	e.waitFor("every height posted in blobs", 2*time.Minute, func() bool { return e.nextHeight() > uint64(e.heights) })
	stop()

	bs, err := e.inbox.Batches(ctx, 0)
	if !errors.Is(err, settlement.ErrNoBlobSource) {
		t.Fatalf("reading blob batches without a blob source: %v", err)
	}
	multi := 0
	for _, b := range bs {
		for _, f := range b.Frames {
			if !f.Blob {
				t.Fatalf("batch %d frame %d is not a blob frame", b.Index, f.Index)
			}
		}
		if len(b.Frames) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Fatal("no batch has several blob frames")
	}
	checked := e.verifyWith(&derive.InboxL1{Inbox: e.inbox, Client: e.l1.Client(), Blobs: client})
	blobGas := measureGas(t, e, bs)

	// The same heights in calldata mode, for the gas comparison.
	c := newEnv(t, heights, settlement.L1Config{})
	stop = c.startWith(c.l1.Client(), blobTestConfig(), c.src)
	c.waitFor("every height posted in calldata", 2*time.Minute, func() bool { return c.nextHeight() > uint64(c.heights) })
	stop()
	cbs, err := c.inbox.Batches(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	c.verify()
	callGas := measureGas(t, c, cbs)

	t.Logf("%d heights, %d batches verified from blobs", heights, len(checked))
	t.Logf("%s", blobGas.String("blob mode"))
	t.Logf("%s", callGas.String("calldata mode"))
}

func TestNewDriverChecksBlobMode(t *testing.T) {
	cfg := blobTestConfig()
	cfg.MaxFrameSize = batcher.MaxBlobPayload + 1
	cfg.TargetBatchBytes = cfg.MaxFrameSize
	dcfg := batcher.DriverConfig{Builder: cfg, Key: batcherKey, Blobs: true}
	if _, err := batcher.NewDriver(dcfg, nil, nil, nil); err == nil {
		t.Fatal("blob mode accepted frames larger than a blob")
	}
	dcfg.Builder = blobTestConfig()
	var noBlobFee batcher.L1 // an L1 client without eth_blobBaseFee
	if _, err := batcher.NewDriver(dcfg, noBlobFee, nil, nil); err == nil {
		t.Fatal("blob mode accepted an L1 client that cannot read the blob base fee")
	}
}
