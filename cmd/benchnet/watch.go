package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/weftnet/weft/client"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// txRef locates a submitted tx in its step.
type txRef struct {
	run *stepRun
	k   int32
}

// blockRec is one committed block as the harness saw it arrive.
type blockRec struct {
	height int64
	at     int64 // unix nanos of arrival
	txs    int
	bytes  int
}

// watcher follows committed blocks on one node and stamps the commit time
// of every submitted tx they hold. Blocks arrive as NewBlock events over the
// websocket; a height the events skipped (a slow consumer is dropped by the
// client) is fetched with /block, stamped with the arrival time of the event
// that revealed the gap. With api set (Weft), only headers come over the
// websocket and the block's tx hashes from the node API's GetBlock, so the
// node does not encode multi-MB blocks as JSON for the harness.
type watcher struct {
	url string
	api *client.Client

	mu     sync.Mutex
	index  map[[32]byte]txRef
	blocks []blockRec
	last   int64
	gaps   int
	seen   atomic.Int64 // unix nanos of the last block
}

func newWatcher(url string) *watcher {
	return &watcher{url: url, index: map[[32]byte]txRef{}}
}

// register makes the watcher stamp run's txs.
func (w *watcher) register(run *stepRun) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, h := range run.ld.hashes {
		w.index[h] = txRef{run: run, k: int32(k)}
	}
}

// blocksBetween returns the blocks that arrived in [from, to) and the
// arrival time of the block before the first of them (0 if none).
func (w *watcher) blocksBetween(from, to int64) (blocks []blockRec, prev int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.blocks {
		switch {
		case b.at < from:
			prev = b.at
		case b.at < to:
			blocks = append(blocks, b)
		}
	}
	return blocks, prev
}

func (w *watcher) record(height int64, at time.Time, txs cmttypes.Txs) {
	ns := at.UnixNano()
	rec := blockRec{height: height, at: ns, txs: len(txs)}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, tx := range txs {
		rec.bytes += len(tx)
		if ref, ok := w.index[sha256.Sum256(tx)]; ok {
			ref.run.commit[ref.k].CompareAndSwap(0, ns)
		}
	}
	w.appendLocked(rec)
}

// recordHashes is record for a block known by its tx hashes; its size
// counts the harness's own txs only.
func (w *watcher) recordHashes(height int64, at time.Time, hashes [][]byte) {
	ns := at.UnixNano()
	rec := blockRec{height: height, at: ns, txs: len(hashes)}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range hashes {
		if len(h) != 32 {
			continue
		}
		if ref, ok := w.index[[32]byte(h)]; ok {
			rec.bytes += ref.run.ld.txBytes
			ref.run.commit[ref.k].CompareAndSwap(0, ns)
		}
	}
	w.appendLocked(rec)
}

func (w *watcher) appendLocked(rec blockRec) {
	w.blocks = append(w.blocks, rec)
	w.last = rec.height
	w.seen.Store(rec.at)
}

// run follows blocks until ctx ends. It returns once the subscription is up.
func (w *watcher) run(ctx context.Context) error {
	cl, err := rpchttp.New(w.url, "/websocket")
	if err != nil {
		return err
	}
	if err := cl.Start(); err != nil {
		return fmt.Errorf("websocket %s: %w", w.url, err)
	}
	st, err := cl.Status(ctx)
	if err != nil {
		_ = cl.Stop()
		return err
	}
	w.mu.Lock()
	w.last = st.SyncInfo.LatestBlockHeight
	w.mu.Unlock()
	w.seen.Store(time.Now().UnixNano())
	query := cmttypes.EventQueryNewBlock
	if w.api != nil {
		query = cmttypes.EventQueryNewBlockHeader
	}
	events, err := cl.Subscribe(ctx, "benchnet", query.String(), 1000)
	if err != nil {
		_ = cl.Stop()
		return fmt.Errorf("subscribe %s on %s: %w", query, w.url, err)
	}
	go func() {
		defer func() { _ = cl.Stop() }()
		// A quiet websocket for 2 s (blocks come every few hundred ms)
		// means events are lost: poll until the node's height is reached.
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-events:
				now := time.Now()
				switch d := ev.Data.(type) {
				case cmttypes.EventDataNewBlock:
					if d.Block == nil {
						continue
					}
					w.fill(ctx, cl, d.Block.Height-1, now)
					if w.height() < d.Block.Height {
						w.record(d.Block.Height, now, d.Block.Txs)
					}
				case cmttypes.EventDataNewBlockHeader:
					w.fill(ctx, cl, d.Header.Height, now)
				}
			case <-tick.C:
				if time.Since(time.Unix(0, w.seen.Load())) < 2*time.Second {
					continue
				}
				st, err := cl.Status(ctx)
				if err != nil {
					continue
				}
				w.fill(ctx, cl, st.SyncInfo.LatestBlockHeight, time.Now())
			}
		}
	}()
	return nil
}

func (w *watcher) height() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// fill fetches the blocks after the last one seen, up to and including to.
func (w *watcher) fill(ctx context.Context, cl *rpchttp.HTTP, to int64, at time.Time) {
	for h := w.height() + 1; h <= to; h++ {
		if w.api != nil {
			// Headers carry no txs: every block is fetched, and is
			// not a gap.
			b, err := w.api.API.GetBlock(ctx, &weftv1.GetBlockRequest{Height: h})
			if err != nil {
				return
			}
			w.recordHashes(h, at, b.TxHashes)
			continue
		}
		b, err := cl.Block(ctx, &h)
		if err != nil {
			return
		}
		w.mu.Lock()
		w.gaps++
		w.mu.Unlock()
		w.record(h, at, b.Block.Txs)
	}
}
