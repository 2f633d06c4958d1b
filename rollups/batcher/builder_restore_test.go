package batcher

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

func TestCompressionPicksSmaller(t *testing.T) {
	for _, tt := range []struct {
		name       string
		compressed bool
	}{{"random data", false}, {"repetitive data", true}} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Algos = []Algo{AlgoNone, AlgoZstd, AlgoBrotli}
			b := newBuilder(t, cfg)
			c := newChain(8, 500)
			c.compressed = tt.compressed
			for h := int64(1); h <= 5; h++ {
				mustAdd(t, b, t0, c.block(h, 2))
			}
			if err := b.Flush(); err != nil {
				t.Fatal(err)
			}
			s := b.Stats()
			info := b.Batches()[len(b.Batches())-1]
			best := AlgoNone
			for _, a := range cfg.Algos {
				if s.Algos[a].CompressedBytes < s.Algos[best].CompressedBytes {
					best = a
				}
			}
			if len(b.Batches()) == 1 && info.Algo != best {
				t.Fatalf("chose %s, smallest is %s (%+v)", info.Algo, best, s.Algos)
			}
			if tt.compressed && info.Algo == AlgoNone || !tt.compressed && info.Algo != AlgoNone {
				t.Fatalf("%s: chose %s (%+v)", tt.name, info.Algo, s.Algos)
			}
			var chosen uint64
			for _, a := range s.Algos {
				chosen += a.Chosen
			}
			if chosen != s.Batches || s.Algos[info.Algo].Chosen == 0 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// step is one input of a scripted run.
type step struct {
	at     time.Duration
	height int64 // add this height, if non-zero
	items  int
}

// script mixes busy and idle stretches so batches close both by size and by
// age, with multi-frame batches.
func script() []step {
	var s []step
	h := int64(1)
	for i := 0; i < 120; i++ {
		items := 0
		switch {
		case i < 40:
			items = 1 + i%3
		case i < 70:
			items = i % 7 / 6
		default:
			items = i % 2
		}
		s = append(s, step{at: time.Duration(i) * 2 * time.Second, height: h, items: items})
		h++
	}
	return s
}

// landed is a frame as the inbox saw it.
type landed struct {
	id   string
	data []byte
}

// runScript drives a builder through the script. A tx handed out at one step
// lands at the next. When crashAt >= 0 the builder is dropped right after
// the crashAt-th confirmation (and its snapshot) and restored from that
// snapshot; the driver feeds blocks again from ResumeHeight. When
// lostInFlight is set, the crash happens after the next tx was handed out
// and landed but before the driver heard back; the restarted driver finds
// it on L1 and reports it.
func runScript(t *testing.T, crashAt int, lostInFlight bool) []landed {
	t.Helper()
	cfg := testConfig()
	b := newBuilder(t, cfg)
	c := newChain(9, 350)
	var blocks []Block
	var out []landed
	var inFlight *Tx
	var l1 uint64
	confirms := 0
	crashed := false
	for _, st := range script() {
		now := t0.Add(st.at)
		if inFlight != nil {
			l1++
			if err := b.Confirmed(inFlight.ID, l1); err != nil {
				t.Fatal(err)
			}
			out = append(out, landed{inFlight.ID, inFlight.Data})
			inFlight = nil
			confirms++
			snap, err := b.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			if confirms == crashAt && !crashed {
				crashed = true
				if lostInFlight {
					// The next frame goes out and lands, then the process dies.
					if tx, ok, err := b.NextTx(now); err != nil {
						t.Fatal(err)
					} else if ok {
						l1++
						out = append(out, landed{tx.ID, tx.Data})
						inFlight = &tx
					}
				}
				if b, err = Restore(cfg, snap); err != nil {
					t.Fatal(err)
				}
				for _, blk := range blocks[b.ResumeHeight()-1:] {
					mustAdd(t, b, now, blk)
				}
				if inFlight != nil { // found on L1 while reconciling
					if err := b.Confirmed(inFlight.ID, l1); err != nil {
						t.Fatalf("reconcile %s: %v", inFlight.ID, err)
					}
					inFlight = nil
				}
			}
		}
		blk := c.block(st.height, st.items)
		blocks = append(blocks, blk)
		mustAdd(t, b, now, blk)
		tx, ok, err := b.NextTx(now)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			inFlight = &tx
		}
	}
	if crashAt >= 0 && !crashed {
		t.Fatalf("script has fewer than %d confirmations", crashAt)
	}
	return out
}

// isLastFrame tells from a tx id whether it is its batch's last frame.
func isLastFrame(id string) bool {
	var index uint64
	var frame, frames int
	if _, err := fmt.Sscanf(id, "batch %d frame %d/%d", &index, &frame, &frames); err != nil {
		panic(err)
	}
	return frame == frames
}

func TestSnapshotRestoreNeitherSkipsNorDuplicates(t *testing.T) {
	want := runScript(t, -1, false)
	multi := false
	for _, l := range want {
		multi = multi || !strings.HasSuffix(l.id, "/1")
	}
	if len(want) < 10 || !multi {
		t.Fatalf("script too small: %d frames, multi-frame batches: %v", len(want), multi)
	}
	// Crash after every 3rd confirmation inside a multi-frame batch and after
	// every 10th one.
	var points []int
	for crash := 1; crash < len(want)-1; crash++ {
		if crash%10 == 0 || crash%3 == 0 && !isLastFrame(want[crash-1].id) {
			points = append(points, crash)
		}
	}
	t.Logf("%d frames, crash points %v", len(want), points)
	for _, lost := range []bool{false, true} {
		for _, crash := range points {
			got := runScript(t, crash, lost)
			if len(got) != len(want) {
				t.Fatalf("crash after confirmation %d (lost in flight %v): %d frames landed, want %d", crash, lost, len(got), len(want))
			}
			for i := range want {
				if got[i].id != want[i].id || !bytes.Equal(got[i].data, want[i].data) {
					t.Fatalf("crash after confirmation %d (lost in flight %v): frame %d is %q, want %q", crash, lost, i, got[i].id, want[i].id)
				}
			}
		}
	}
}

func TestRestoreChecksSnapshot(t *testing.T) {
	cfg := testConfig()
	b, _ := multiFrame(t)
	snap, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	other := cfg
	other.RollupID = common.HexToHash("0x02")
	if _, err := Restore(other, snap); err == nil || !strings.Contains(err.Error(), "snapshot is for rollup") {
		t.Fatalf("restore for another rollup: %v", err)
	}
	if _, err := Restore(cfg, []byte("{")); err == nil {
		t.Fatal("restored garbage")
	}
	// Replayed blocks with a different state root are refused.
	r, err := Restore(cfg, snap)
	if err != nil {
		t.Fatal(err)
	}
	noNext(t, r, t0) // batch 0 waits for its blocks
	c := newChain(6, 600)
	for h := int64(1); h <= 3; h++ {
		mustAdd(t, r, t0, c.block(h, 1))
	}
	bad := c.block(4, 1)
	bad.StateRoot = common.Hash{1}
	if err := r.AddBlock(t0, bad); err == nil || !strings.Contains(err.Error(), "snapshot recorded") {
		t.Fatalf("replay with a wrong root: %v", err)
	}
}

// TestPipelinedFrames: with MaxInFlight 2 the builder hands out two frames
// of a batch before the first is confirmed, never a frame of the next
// batch before the current one has landed, and Failed takes back the
// failed frame and the ones after it.
func TestPipelinedFrames(t *testing.T) {
	cfg := testConfig()
	cfg.MaxInFlight = 2
	b := newBuilder(t, cfg)
	c := newChain(12, 600)
	for h := int64(1); h <= 4; h++ {
		mustAdd(t, b, t0, c.block(h, 1))
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	for h := int64(5); h <= 8; h++ {
		mustAdd(t, b, t0, c.block(h, 1))
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	infos := b.Batches()
	if len(infos) != 2 || infos[0].Frames < 3 {
		t.Fatalf("batches %+v", infos)
	}
	n := infos[0].Frames
	f1, f2 := mustNext(t, b, t0), mustNext(t, b, t0)
	if f1.Frame != 0 || f2.Frame != 1 || f2.BatchIndex != 0 {
		t.Fatalf("handed out %s, %s", f1.ID, f2.ID)
	}
	noNext(t, b, t0) // two in flight
	// The second failing takes back only itself; the first is still out.
	if err := b.Failed(f2.ID, nil); err != nil {
		t.Fatal(err)
	}
	if again := mustNext(t, b, t0); again.ID != f2.ID {
		t.Fatalf("after Failed got %s, want %s", again.ID, f2.ID)
	}
	// The first failing takes back both.
	if err := b.Failed(f1.ID, nil); err != nil {
		t.Fatal(err)
	}
	var sent []Tx
	for len(sent) < n {
		tx := mustNext(t, b, t0)
		if tx.ID != txID(0, len(sent), n) {
			t.Fatalf("got %s, want frame %d of batch 0", tx.ID, len(sent)+1)
		}
		if len(sent) < n-1 {
			// Room for one more, which is the next frame of the same batch.
			next := mustNext(t, b, t0)
			if err := b.Confirmed(tx.ID, 100); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, tx, next)
			if err := b.Confirmed(next.ID, 101); err != nil {
				t.Fatal(err)
			}
			continue
		}
		// The batch's last frame is out: batch 1 waits until it lands.
		noNext(t, b, t0)
		if err := b.Confirmed(tx.ID, 102); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, tx)
	}
	decodeSent(t, sent[:n])
	if tx := mustNext(t, b, t0); tx.BatchIndex != 1 || tx.Frame != 0 {
		t.Fatalf("after batch 0 landed got %s", tx.ID)
	}
}
