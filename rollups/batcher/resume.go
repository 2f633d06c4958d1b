package batcher

import (
	"context"
	"fmt"
	"math/big"
	"os"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/rpc"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// Resuming after a restart (the builder's snapshot checked against the L1
// inbox), packing frames into L1 txs, feeding blocks to the builder and the
// status the node reports.

// resume restores the builder from the state file when the inbox holds
// frames of an unfinished batch that the saved progress knows: the batch is
// then finished instead of discarded and posted again. It returns nil when
// there is nothing to resume.
func (d *Driver) resume(ctx context.Context, st inboxState) *Builder {
	if d.cfg.StateFile == "" || st.pending == 0 || d.cfg.Blobs {
		return nil // blob frames are hashed by KZG commitment: not resumed
	}
	data, err := os.ReadFile(d.cfg.StateFile)
	if err != nil {
		return nil
	}
	b, err := Restore(d.cfg.Builder, data)
	if err != nil {
		d.log.Warn("saved batcher progress unusable", "file", d.cfg.StateFile, "err", err)
		return nil
	}
	infos := b.Batches()
	if len(infos) == 0 || infos[0].Index != st.nextIndex || infos[0].ConfirmedFrames > int(st.pending) || int(st.pending) >= infos[0].Frames {
		return nil
	}
	// Frames that landed after the last save.
	head, err := d.l1.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil
	}
	for f := infos[0].ConfirmedFrames; f < int(st.pending); f++ {
		if err := b.Confirmed(txID(st.nextIndex, f, infos[0].Frames), head.Number.Uint64()); err != nil {
			return nil
		}
	}
	d.log.Info("resuming an unfinished batch", "index", st.nextIndex, "frames_on_l1", st.pending, "frames", infos[0].Frames, "from_height", b.ResumeHeight())
	return b
}

// saveState writes the builder's progress (atomically, 0600) when a
// StateFile is configured. A failure is logged: the inbox stays the record.
func (d *Driver) saveState(b *Builder) {
	if d.cfg.StateFile == "" {
		return
	}
	data, err := b.Snapshot()
	if err == nil {
		tmp := d.cfg.StateFile + ".tmp"
		if err = os.WriteFile(tmp, data, 0o600); err == nil {
			err = os.Rename(tmp, d.cfg.StateFile)
		}
	}
	if err != nil {
		d.log.Warn("save batcher progress", "file", d.cfg.StateFile, "err", err)
	}
}

func (d *Driver) dropState() {
	if d.cfg.StateFile != "" {
		_ = os.Remove(d.cfg.StateFile)
	}
}

// pack is the inbox call of tx: the frame as calldata, or, in blob mode,
// empty data so that the inbox takes the tx's blob as the frame.
func (d *Driver) pack(tx Tx) []byte {
	data := tx.Data
	if d.cfg.Blobs {
		data = []byte{}
	}
	if tx.Header == nil {
		return d.inbox.PackAppendFrame(tx.BatchIndex, data)
	}
	h := tx.Header
	return d.inbox.PackPostBatch(h.Index, uint64(h.FromHeight), uint64(h.ToHeight), h.PrevRoot, h.NewRoot, data)
}

// frameSidecar returns the sidecar carrying tx's frame as one blob.
func (d *Driver) frameSidecar(tx Tx) (*types.BlobTxSidecar, error) {
	key := crypto.Keccak256Hash([]byte(tx.ID), tx.Data)
	if d.sidecar != nil && d.sidecarKey == key {
		return d.sidecar, nil
	}
	sc, err := blobSidecar(tx.Data)
	if err != nil {
		return nil, err
	}
	d.sidecarKey, d.sidecar = key, sc
	return sc, nil
}

// blobSidecar encodes frame into one blob with its KZG commitment and cell
// proofs (a version-1 sidecar, as L1 requires from Osaka on).
func blobSidecar(frame []byte) (*types.BlobTxSidecar, error) {
	blob, err := EncodeBlob(frame)
	if err != nil {
		return nil, err
	}
	commit, err := kzg4844.BlobToCommitment(blob)
	if err != nil {
		return nil, fmt.Errorf("blob commitment: %w", err)
	}
	proofs, err := kzg4844.ComputeCellProofs(blob)
	if err != nil {
		return nil, fmt.Errorf("blob cell proofs: %w", err)
	}
	return types.NewBlobTxSidecar(types.BlobSidecarVersion1, []kzg4844.Blob{*blob}, []kzg4844.Commitment{commit}, proofs), nil
}

// feed follows Weft from height `from` and sends each height with its
// state root.
func (d *Driver) feed(ctx context.Context, from int64, out chan<- Block) error {
	return d.src.Follow(ctx, from, func(s *weftv1.RollupSlice) error {
		root, err := d.src.StateRootAt(ctx, s.Height)
		if err != nil {
			return err
		}
		select {
		case out <- Block{Height: s.Height, TimeUnixNano: s.TimeUnixNano, BlockHash: s.BlockHash, Items: s.Items, StateRoot: root}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// updateStatus reads the safe and finalized progress from the inbox.
func (d *Driver) updateStatus(ctx context.Context, cur inboxState) {
	head, err := d.l1.HeaderByNumber(ctx, nil)
	if err != nil || head.Hash() == d.statusHead {
		return // nothing new on L1 since the last poll
	}
	d.statusHead = head.Hash()
	st := Status{NextIndex: cur.nextIndex}
	if n := head.Number.Uint64(); n+1 >= d.cfg.Confirmations {
		safeBlock := new(big.Int).SetUint64(n + 1 - max(d.cfg.Confirmations, 1))
		if s, err := d.readInbox(ctx, safeBlock); err == nil {
			st.Safe = int64(s.nextHeight) - 1
		}
	}
	if fin, err := d.l1.HeaderByNumber(ctx, big.NewInt(int64(rpc.FinalizedBlockNumber))); err == nil && fin != nil {
		if s, err := d.readInbox(ctx, fin.Number); err == nil && s.nextIndex > 0 {
			// The newest batch known at the finalized block whose window is
			// over. Windows close in index order (posting times rise), so
			// binary search: O(log n) calls however long the window.
			isFinal := func(i uint64) (bool, error) {
				out, err := d.call(ctx, d.inbox.PackIsFinal(i), nil)
				if err != nil {
					return false, err
				}
				return d.inbox.UnpackIsFinal(out)
			}
			lo, hi, failed := uint64(0), s.nextIndex, false // final: [0, lo); not final: [hi, …)
			for lo < hi && !failed {
				mid := lo + (hi-lo)/2
				ok, err := isFinal(mid)
				switch {
				case err != nil:
					failed = true
				case ok:
					lo = mid + 1
				default:
					hi = mid
				}
			}
			if !failed && lo > 0 {
				if out, err := d.call(ctx, d.inbox.PackBatch(lo-1), nil); err == nil {
					if bt, err := d.inbox.UnpackBatch(out); err == nil {
						st.Finalized = int64(bt.ToHeight)
					}
				}
			}
		}
	}
	d.mu.Lock()
	prev := d.status
	if st.Safe < prev.Safe && st.NextIndex >= prev.NextIndex {
		st.Safe = prev.Safe // a lagging node behind a load balancer
	}
	st.Finalized = max(st.Finalized, prev.Finalized) // final is final
	d.status = st
	d.mu.Unlock()
}
