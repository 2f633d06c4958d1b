package batcher

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// snapshotVersion is bumped whenever the snapshot layout changes.
const snapshotVersion = 1

// snapshot is the persisted form of a Builder. It holds no blocks and no
// payloads, only what the blocks fed again from ResumeHeight cannot tell:
// batch boundaries, chosen algorithms, commitments and confirmations, the
// open batch's age and the compression ratio estimate. It is a few hundred
// bytes per unfinalized batch.
type snapshot struct {
	Version   int             `json:"version"`
	RollupID  common.Hash     `json:"rollup_id"`
	NextIndex uint64          `json:"next_index"`
	PrevRoot  common.Hash     `json:"prev_root"`
	OpenFrom  int64           `json:"open_from"`
	OpenedAt  int64           `json:"opened_at_unix_nano,omitempty"`
	Ratio     uint32          `json:"ratio_ppm"`
	Batches   []snapshotBatch `json:"batches"`
}

type snapshotBatch struct {
	Index      uint64      `json:"index"`
	From       int64       `json:"from"`
	To         int64       `json:"to"`
	PrevRoot   common.Hash `json:"prev_root"`
	NewRoot    common.Hash `json:"new_root"`
	Algo       Algo        `json:"algo"`
	Frames     int         `json:"frames"`
	Payload    int         `json:"payload_bytes"`
	Commitment common.Hash `json:"commitment"`
	Confirmed  []uint64    `json:"confirmed"`
}

// Snapshot returns the builder's progress for the driver to persist after
// every confirmation. A tx in flight is not part of it: after a restart
// its frame is handed out again unless the driver reports it Confirmed.
func (b *Builder) Snapshot() ([]byte, error) {
	s := snapshot{
		Version: snapshotVersion, RollupID: b.cfg.RollupID, NextIndex: b.nextIndex,
		PrevRoot: b.prevRoot, OpenFrom: b.openFrom, Ratio: b.ratio,
		Batches: make([]snapshotBatch, len(b.batches)),
	}
	if !b.openedAt.IsZero() {
		s.OpenedAt = b.openedAt.UnixNano()
	}
	for i, bt := range b.batches {
		s.Batches[i] = snapshotBatch{
			Index: bt.index, From: bt.from, To: bt.to, PrevRoot: bt.prevRoot, NewRoot: bt.newRoot,
			Algo: bt.algo, Frames: bt.frameCount, Payload: bt.payloadLen, Commitment: bt.commitment,
			Confirmed: append([]uint64(nil), bt.confirmed...),
		}
	}
	return json.Marshal(s)
}

// Restore rebuilds a builder from a Snapshot. The driver must then feed
// blocks from ResumeHeight on: NextTx hands out a restored batch's frames
// once its last height is back in.
func Restore(cfg Config, data []byte) (*Builder, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("batcher: snapshot: %w", err)
	}
	if s.Version != snapshotVersion {
		return nil, fmt.Errorf("batcher: snapshot version %d, want %d", s.Version, snapshotVersion)
	}
	if s.RollupID != cfg.RollupID {
		return nil, fmt.Errorf("batcher: snapshot is for rollup %s, not %s", s.RollupID, cfg.RollupID)
	}
	if s.Ratio == 0 {
		return nil, fmt.Errorf("batcher: snapshot compression ratio is 0")
	}
	b, err := New(cfg, Start{NextIndex: s.NextIndex, NextHeight: s.OpenFrom, PrevRoot: s.PrevRoot})
	if err != nil {
		return nil, err
	}
	b.ratio = s.Ratio
	if s.OpenedAt != 0 {
		b.openedAt = time.Unix(0, s.OpenedAt)
	}
	nextFrom := int64(-1)
	for i, sb := range s.Batches {
		switch {
		case sb.Index != s.NextIndex-uint64(len(s.Batches)-i):
			return nil, fmt.Errorf("batcher: snapshot batch %d out of sequence (next index %d)", sb.Index, s.NextIndex)
		case sb.From < 1 || sb.From > sb.To || nextFrom >= 0 && sb.From != nextFrom:
			return nil, fmt.Errorf("batcher: snapshot batch %d has bad range [%d,%d]", sb.Index, sb.From, sb.To)
		case sb.Frames < 1 || len(sb.Confirmed) != sb.Frames || !sb.Algo.valid():
			return nil, fmt.Errorf("batcher: snapshot batch %d is malformed", sb.Index)
		}
		nextFrom = sb.To + 1
		b.batches = append(b.batches, &batch{
			index: sb.Index, from: sb.From, to: sb.To, prevRoot: sb.PrevRoot, newRoot: sb.NewRoot,
			algo: sb.Algo, frameCount: sb.Frames, payloadLen: sb.Payload, commitment: sb.Commitment,
			confirmed: append([]uint64(nil), sb.Confirmed...),
		})
	}
	if nextFrom >= 0 && nextFrom != s.OpenFrom {
		return nil, fmt.Errorf("batcher: snapshot open batch starts at %d, after the last batch ends at %d", s.OpenFrom, nextFrom-1)
	}
	b.nextHeight = b.ResumeHeight()
	return b, nil
}
