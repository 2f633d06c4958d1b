package view

import (
	"fmt"
	"time"

	"github.com/weftnet/weft/format"
)

// Key is a key of `weft keys`.
type Key struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// WriteText implements Viewer.
func (v Key) WriteText(t *TextWriter) {
	t.Field("name", v.Name)
	t.Field("address", v.Address)
}

// Keys is `weft keys list`.
type Keys struct {
	Keys []Key `json:"keys"`
}

// WriteText implements Viewer.
func (v Keys) WriteText(t *TextWriter) {
	var rows [][]string
	for _, k := range v.Keys {
		rows = append(rows, []string{k.Name, k.Address})
	}
	t.Table([]string{"name", "address"}, rows, "no keys")
}

// RollupSettlement is `weft rollup status`: a rollup's inbox on L1 and,
// when its JSON-RPC is known, its block tags.
type RollupSettlement struct {
	Rollup string `json:"rollup"`
	Inbox  string `json:"inbox"`
	// BatchesPosted counts the inbox's batches; the next covers Weft
	// heights from NextFromHeight on.
	BatchesPosted  uint64 `json:"batches_posted"`
	NextFromHeight uint64 `json:"next_from_height"`
	LastStateRoot  string `json:"last_state_root"`
	PendingFrames  uint32 `json:"pending_frames"`
	// ChallengeWindow is human-readable ("1h0m"); ChallengeWindowSeconds
	// the same in seconds.
	ChallengeWindow        string     `json:"challenge_window"`
	ChallengeWindowSeconds uint64     `json:"challenge_window_seconds"`
	LastBatch              *LastBatch `json:"last_batch"`
	L1Deposits             uint64     `json:"l1_deposits"`
	// Blocks are the rollup RPC's latest, safe and finalized blocks; null
	// without a rollup RPC.
	Blocks *RollupBlocks `json:"blocks"`
}

// LastBatch is the inbox's newest batch.
type LastBatch struct {
	Index      uint64 `json:"index"`
	FromHeight uint64 `json:"from_height"`
	ToHeight   uint64 `json:"to_height"`
	Frames     uint32 `json:"frames"`
	L1Block    uint64 `json:"l1_block"`
	PostedAt   string `json:"posted_at"`
	Final      bool   `json:"final"`
}

// RollupBlocks are a rollup's block tags.
type RollupBlocks struct {
	Latest    uint64 `json:"latest"`
	Safe      uint64 `json:"safe"`
	Finalized uint64 `json:"finalized"`
}

// Seconds is a duration given in whole seconds, for a person.
func Seconds(s uint64) string { return format.Duration(time.Duration(s) * time.Second) }

// PostedAt is an L1 block timestamp (Unix seconds) in RFC 3339.
func PostedAt(unix uint64) string { return format.Time(time.Unix(int64(unix), 0)) }

// WriteText implements Viewer.
func (v RollupSettlement) WriteText(t *TextWriter) {
	t.Field("rollup", v.Rollup)
	t.Field("inbox", v.Inbox)
	t.Field("batches posted", fmt.Sprintf("%d (the next covers Weft heights from %d)", v.BatchesPosted, v.NextFromHeight))
	t.Field("last state root", v.LastStateRoot)
	t.Field("pending frames", v.PendingFrames)
	t.Field("challenge window", v.ChallengeWindow)
	if b := v.LastBatch; b != nil {
		final := "not final (in its challenge window)"
		if b.Final {
			final = "final"
		}
		t.Field("last batch", fmt.Sprintf("%d: Weft heights %d..%d, %d frames, L1 block %d at %s, %s", b.Index, b.FromHeight, b.ToHeight, b.Frames, b.L1Block, b.PostedAt, final))
	} else {
		t.Field("last batch", "none yet")
	}
	t.Field("L1 deposits", v.L1Deposits)
	if b := v.Blocks; b != nil {
		t.Field("latest block", b.Latest)
		t.Field("safe block", b.Safe)
		t.Field("finalized block", b.Finalized)
	}
}

// Slice is one rollup slice `weft follow` received.
type Slice struct {
	Height   int64    `json:"height"`
	Items    int      `json:"items"`
	Verified bool     `json:"verified"`
	TxHashes []string `json:"tx_hashes"`
	// Error says why the slice failed verification.
	Error string `json:"error,omitempty"`
}

// WriteText implements Viewer.
func (v Slice) WriteText(t *TextWriter) {
	if !v.Verified {
		t.Line("height %d: REJECTED: %s", v.Height, v.Error)
		return
	}
	t.Line("height %d: %d items, verified", v.Height, v.Items)
}
