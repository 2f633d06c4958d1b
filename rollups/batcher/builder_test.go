package batcher

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

var t0 = time.Unix(1_700_000_000, 0)

// chain makes Weft heights deterministically: every height with items gets
// a new state root, empty ones keep the previous one.
type chain struct {
	rng  *rand.Rand
	root common.Hash
	// itemSize is the data size of each item; random data does not compress,
	// zero data compresses to almost nothing.
	itemSize   int
	compressed bool
}

func newChain(seed int64, itemSize int) *chain {
	return &chain{rng: rand.New(rand.NewSource(seed)), root: crypto.Keccak256Hash([]byte("genesis")), itemSize: itemSize}
}

func (c *chain) block(h int64, items int) Block {
	b := Block{Height: h, TimeUnixNano: t0.UnixNano() + h*int64(time.Second), BlockHash: crypto.Keccak256([]byte(fmt.Sprint("block", h)))}
	for i := 0; i < items; i++ {
		data := make([]byte, c.itemSize)
		if !c.compressed {
			c.rng.Read(data)
		}
		b.Items = append(b.Items, &weftv1.RollupItem{TxHash: randBytes(c.rng, 32), Sender: randBytes(c.rng, 20), Data: data})
	}
	if items > 0 {
		c.root = crypto.Keccak256Hash(c.root[:], b.BlockHash)
	}
	b.StateRoot = c.root
	return b
}

func testConfig() Config {
	cfg := DefaultConfig(testRollup)
	cfg.MaxFrameSize = 1000
	cfg.MaxFramesPerBatch = 4
	cfg.TargetBatchBytes = 3000
	cfg.MaxBatchAge = 10 * time.Second
	cfg.MaxInFlight = 1 // one frame at a time unless a test says otherwise
	return cfg
}

func newBuilder(t *testing.T, cfg Config) *Builder {
	t.Helper()
	b, err := New(cfg, Start{NextIndex: 0, NextHeight: 1, PrevRoot: crypto.Keccak256Hash([]byte("genesis"))})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustAdd(t *testing.T, b *Builder, now time.Time, blk Block) {
	t.Helper()
	if err := b.AddBlock(now, blk); err != nil {
		t.Fatalf("AddBlock(%d): %v", blk.Height, err)
	}
}

func mustNext(t *testing.T, b *Builder, now time.Time) Tx {
	t.Helper()
	tx, ok, err := b.NextTx(now)
	if err != nil || !ok {
		t.Fatalf("NextTx: ok=%v err=%v", ok, err)
	}
	return tx
}

func noNext(t *testing.T, b *Builder, now time.Time) {
	t.Helper()
	if tx, ok, err := b.NextTx(now); ok || err != nil {
		t.Fatalf("NextTx returned %q (err %v), want nothing", tx.ID, err)
	}
}

// sendAll sends and confirms every available frame, one per L1 block from
// *l1, and returns them.
func sendAll(t *testing.T, b *Builder, now time.Time, l1 *uint64) []Tx {
	t.Helper()
	var out []Tx
	for {
		tx, ok, err := b.NextTx(now)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		*l1++
		if err := b.Confirmed(tx.ID, *l1); err != nil {
			t.Fatal(err)
		}
		out = append(out, tx)
	}
}

// decodeSent joins the frames of each batch sent and decodes it, checking
// the header against the frames.
func decodeSent(t *testing.T, txs []Tx) []*weftv1.BatchData {
	t.Helper()
	var out []*weftv1.BatchData
	var frames [][]byte
	for _, tx := range txs {
		if tx.Frame != len(frames) {
			t.Fatalf("%s: frame %d out of order", tx.ID, tx.Frame)
		}
		frames = append(frames, tx.Data)
		if tx.Header == nil {
			continue
		}
		if tx.Frame != tx.Frames-1 || tx.Header.FrameCount != tx.Frames {
			t.Fatalf("%s: header on frame %d of %d (header says %d)", tx.ID, tx.Frame, tx.Frames, tx.Header.FrameCount)
		}
		if c := FrameCommitment(frames); c != tx.Header.Commitment {
			t.Fatalf("%s: header commitment %s, frames give %s", tx.ID, tx.Header.Commitment, c)
		}
		bd, err := DecodeBatch(JoinFrames(frames), 0)
		if err != nil {
			t.Fatalf("%s: %v", tx.ID, err)
		}
		h := tx.Header
		if bd.FromHeight != h.FromHeight || bd.ToHeight != h.ToHeight ||
			!bytes.Equal(bd.PrevStateRoot, h.PrevRoot[:]) || !bytes.Equal(bd.StateRoot, h.NewRoot[:]) {
			t.Fatalf("%s: header %+v does not match batch [%d,%d]", tx.ID, h, bd.FromHeight, bd.ToHeight)
		}
		out = append(out, bd)
		frames = nil
	}
	return out
}

// checkContiguous checks that batches cover heights 1..to exactly once and
// chain their roots.
func checkContiguous(t *testing.T, batches []*weftv1.BatchData, to int64) {
	t.Helper()
	next := int64(1)
	prev := crypto.Keccak256Hash([]byte("genesis"))
	for i, bd := range batches {
		if bd.FromHeight != next || !bytes.Equal(bd.PrevStateRoot, prev[:]) {
			t.Fatalf("batch %d: [%d,%d] prev root %x, want from %d prev %s", i, bd.FromHeight, bd.ToHeight, bd.PrevStateRoot, next, prev)
		}
		next = bd.ToHeight + 1
		prev = common.BytesToHash(bd.StateRoot)
	}
	if next != to+1 {
		t.Fatalf("batches end at height %d, want %d", next-1, to)
	}
}

func TestConfigCheck(t *testing.T) {
	for _, tt := range []struct {
		name string
		mut  func(*Config)
		want string
	}{
		{"default", func(*Config) {}, ""},
		{"no rollup", func(c *Config) { c.RollupID = common.Hash{} }, "rollup id is zero"},
		{"frame size", func(c *Config) { c.MaxFrameSize = 0 }, "max frame size"},
		{"frames", func(c *Config) { c.MaxFramesPerBatch = 0 }, "max frames per batch"},
		{"target too big", func(c *Config) { c.TargetBatchBytes = c.MaxFrameSize*c.MaxFramesPerBatch + 1 }, "target batch size"},
		{"age", func(c *Config) { c.MaxBatchAge = 0 }, "max batch age"},
		{"no algo", func(c *Config) { c.Algos = nil }, "no compression"},
		{"bad algo", func(c *Config) { c.Algos = []Algo{7} }, "unknown compression algo(7)"},
	} {
		cfg := DefaultConfig(testRollup)
		tt.mut(&cfg)
		err := cfg.Check()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Check() = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestAddBlockRejects(t *testing.T) {
	b := newBuilder(t, testConfig())
	c := newChain(1, 10)
	mustAdd(t, b, t0, c.block(1, 1))
	for _, tt := range []struct {
		name string
		blk  Block
		want string
	}{
		{"gap", c.block(3, 0), "got height 3, want 2"},
		{"repeat", c.block(1, 0), "got height 1, want 2"},
		{"hash", Block{Height: 2, BlockHash: []byte{1}}, "block hash is 1 bytes"},
		{"nil item", Block{Height: 2, BlockHash: make([]byte, 32), Items: []*weftv1.RollupItem{nil}}, "item 0 is nil"},
	} {
		if err := b.AddBlock(t0, tt.blk); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: AddBlock = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestBatchClosesAtTargetSize(t *testing.T) {
	cfg := testConfig()
	cfg.Algos = []Algo{AlgoNone} // ratio 1: the estimate is the payload size
	b := newBuilder(t, cfg)
	c := newChain(2, 200)
	raw := 0
	for h := int64(1); ; h++ {
		blk := c.block(h, 1)
		size := proto.Size(&weftv1.BatchBlock{Height: h, TimeUnixNano: blk.TimeUnixNano, BlockHash: blk.BlockHash, Items: blk.Items}) + 5
		mustAdd(t, b, t0, blk)
		raw += size
		got := len(b.Batches())
		if raw < cfg.TargetBatchBytes {
			if got != 0 {
				t.Fatalf("height %d: batch closed at %d estimated bytes, below target %d", h, raw, cfg.TargetBatchBytes)
			}
			continue
		}
		if got != 1 {
			t.Fatalf("height %d: %d batches at %d estimated bytes, want 1", h, got, raw)
		}
		info := b.Batches()[0]
		if info.FromHeight != 1 || info.ToHeight != h || info.PayloadBytes < cfg.TargetBatchBytes || info.Frames > cfg.MaxFramesPerBatch {
			t.Fatalf("batch %+v", info)
		}
		break
	}
	// Nothing is open now: ticking much later closes nothing.
	if err := b.Tick(t0.Add(time.Hour)); err != nil || len(b.Batches()) != 1 {
		t.Fatalf("tick closed an empty open batch: %v", err)
	}
}

func TestBatchClosesAtMaxAge(t *testing.T) {
	for _, items := range []int{0, 1} {
		t.Run(fmt.Sprintf("items=%d", items), func(t *testing.T) {
			cfg := testConfig()
			b := newBuilder(t, cfg)
			c := newChain(3, 10)
			mustAdd(t, b, t0, c.block(1, items))
			mustAdd(t, b, t0.Add(4*time.Second), c.block(2, 0))
			mustAdd(t, b, t0.Add(8*time.Second), c.block(3, 0))
			noNext(t, b, t0.Add(cfg.MaxBatchAge-1))
			if len(b.Batches()) != 0 {
				t.Fatal("batch closed before max age")
			}
			tx := mustNext(t, b, t0.Add(cfg.MaxBatchAge))
			if tx.Header == nil || tx.Header.FromHeight != 1 || tx.Header.ToHeight != 3 || tx.Header.NewRoot != c.root {
				t.Fatalf("tx %+v", tx)
			}
			bd := decodeSent(t, []Tx{tx})[0]
			if len(bd.Blocks) != items {
				t.Fatalf("batch has %d blocks, want %d", len(bd.Blocks), items)
			}
			// The next batch's age starts with its own first height.
			mustAdd(t, b, t0.Add(20*time.Second), c.block(4, 0))
			if err := b.Tick(t0.Add(29 * time.Second)); err != nil || len(b.Batches()) != 1 {
				t.Fatalf("second batch closed early: %v", err)
			}
			if err := b.Tick(t0.Add(30 * time.Second)); err != nil || len(b.Batches()) != 2 {
				t.Fatalf("second batch not closed at its age: %v", err)
			}
		})
	}
}

func TestOversizeBatchSplits(t *testing.T) {
	cfg := testConfig()
	b := newBuilder(t, cfg)
	c := newChain(4, 300)
	// Zero data first teaches the builder a tiny ratio, so incompressible
	// data then overshoots the frame budget and the batch must be cut.
	c.compressed = true
	h := int64(1)
	for ; len(b.Batches()) == 0; h++ {
		mustAdd(t, b, t0, c.block(h, 4))
	}
	c.compressed = false
	for ; h <= 200; h++ {
		mustAdd(t, b, t0, c.block(h, 1))
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	cut := false
	for _, info := range b.Batches() {
		if info.Frames > cfg.MaxFramesPerBatch {
			t.Fatalf("batch %+v has more than %d frames", info, cfg.MaxFramesPerBatch)
		}
		cut = cut || info.Index == 1 && info.PayloadBytes > cfg.TargetBatchBytes
	}
	if !cut {
		t.Fatalf("expected the second batch to be cut near the frame budget: %+v", b.Batches()[1])
	}
	var l1 uint64
	checkContiguous(t, decodeSent(t, sendAll(t, b, t0, &l1)), 200)
}

func TestSingleHugeHeightExceedsFrameBudget(t *testing.T) {
	cfg := testConfig()
	b := newBuilder(t, cfg)
	c := newChain(5, 3000)
	mustAdd(t, b, t0, c.block(1, 3)) // ~9 kB of random data in one height
	info := b.Batches()[0]
	if info.Frames <= cfg.MaxFramesPerBatch {
		t.Fatalf("batch %+v", info)
	}
	var l1 uint64
	checkContiguous(t, decodeSent(t, sendAll(t, b, t0, &l1)), 1)
}

// multiFrame returns a builder holding one closed batch of several frames.
func multiFrame(t *testing.T) (*Builder, *chain) {
	t.Helper()
	b := newBuilder(t, testConfig())
	c := newChain(6, 600)
	for h := int64(1); h <= 4; h++ {
		mustAdd(t, b, t0, c.block(h, 1))
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := b.Batches()[0].Frames; n < 3 {
		t.Fatalf("want a batch of 3+ frames, got %d", n)
	}
	return b, c
}

func TestNextFrameOnlyAfterConfirmation(t *testing.T) {
	b, _ := multiFrame(t)
	info := b.Batches()[0]
	var sent []Tx
	for f := 0; f < info.Frames; f++ {
		tx := mustNext(t, b, t0)
		if want := fmt.Sprintf("batch 0 frame %d/%d", f+1, info.Frames); tx.ID != want || tx.Frame != f {
			t.Fatalf("got %q, want %q", tx.ID, want)
		}
		if (tx.Header != nil) != (f == info.Frames-1) {
			t.Fatalf("%s: header %v", tx.ID, tx.Header)
		}
		noNext(t, b, t0)
		if err := b.Confirmed(tx.ID, uint64(100+f)); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, tx)
	}
	noNext(t, b, t0)
	decodeSent(t, sent) // checks the header commitment against FrameCommitment
	if err := b.Confirmed(sent[0].ID, 200); !errors.Is(err, ErrUnknownTx) {
		t.Fatalf("second confirmation of a frame: %v", err)
	}
}

func TestFailedResendsSameFrame(t *testing.T) {
	b, _ := multiFrame(t)
	tx := mustNext(t, b, t0)
	if err := b.Failed("batch 9 frame 1/1", errors.New("x")); !errors.Is(err, ErrUnknownTx) {
		t.Fatalf("Failed with a foreign id: %v", err)
	}
	if err := b.Failed(tx.ID, errors.New("underpriced")); err != nil {
		t.Fatal(err)
	}
	again := mustNext(t, b, t0)
	if again.ID != tx.ID || !bytes.Equal(again.Data, tx.Data) {
		t.Fatalf("resent %q, want %q with the same data", again.ID, tx.ID)
	}
	if err := b.Failed(tx.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Failed(tx.ID, nil); !errors.Is(err, ErrUnknownTx) {
		t.Fatalf("second Failed: %v", err)
	}
}

func TestReorgRequeuesInOrder(t *testing.T) {
	b, _ := multiFrame(t)
	var l1 uint64 = 10
	first := sendAll(t, b, t0, &l1) // frames land in L1 blocks 11, 12, 13, ...
	b.Reorged(13)                   // blocks 13 and later are gone
	if got := b.Batches()[0].ConfirmedFrames; got != 2 {
		t.Fatalf("%d frames still confirmed, want 2", got)
	}
	l1 = 12
	again := sendAll(t, b, t0, &l1)
	if len(again) != len(first)-2 {
		t.Fatalf("resent %d frames, want %d", len(again), len(first)-2)
	}
	for i, tx := range again {
		if tx.ID != first[i+2].ID || !bytes.Equal(tx.Data, first[i+2].Data) {
			t.Fatalf("resent %q, want %q", tx.ID, first[i+2].ID)
		}
	}

	// A tx in flight during a reorg that reverts frames is forgotten.
	b.Reorged(13)
	tx := mustNext(t, b, t0)
	if tx.ID != first[2].ID {
		t.Fatalf("after reorg got %q, want %q", tx.ID, first[2].ID)
	}
	b.Reorged(12)
	if err := b.Confirmed(tx.ID, 20); !errors.Is(err, ErrUnknownTx) {
		t.Fatalf("confirmation of a tx in flight across a reorg: %v", err)
	}
	if next := mustNext(t, b, t0); next.ID != first[1].ID {
		t.Fatalf("after reorg got %q, want %q", next.ID, first[1].ID)
	}
	// A reorg above every confirmation changes nothing and keeps the tx in flight.
	b.Reorged(1000)
	noNext(t, b, t0)
}

func TestRewindResendsIdenticalBatches(t *testing.T) {
	b := newBuilder(t, testConfig())
	c := newChain(7, 400)
	var l1 uint64
	var first []Tx
	for h := int64(1); h <= 40; h++ {
		mustAdd(t, b, t0, c.block(h, int(h%3)))
		first = append(first, sendAll(t, b, t0, &l1)...)
	}
	n := len(b.Batches())
	if n < 3 {
		t.Fatalf("want 3+ batches, got %d", n)
	}
	if err := b.Rewind(uint64(n + 1)); err == nil {
		t.Fatal("rewind past the last batch accepted")
	}
	if err := b.Rewind(1); err != nil {
		t.Fatal(err)
	}
	again := sendAll(t, b, t0, &l1)
	var want []Tx
	for _, tx := range first {
		if tx.BatchIndex >= 1 {
			want = append(want, tx)
		}
	}
	if len(again) != len(want) {
		t.Fatalf("resent %d frames, want %d", len(again), len(want))
	}
	for i := range want {
		if again[i].ID != want[i].ID || !bytes.Equal(again[i].Data, want[i].Data) ||
			(again[i].Header == nil) != (want[i].Header == nil) || want[i].Header != nil && *again[i].Header != *want[i].Header {
			t.Fatalf("frame %d: resent %q, want %q", i, again[i].ID, want[i].ID)
		}
	}
	if err := b.Finalized(1); err != nil {
		t.Fatal(err)
	}
	if err := b.Rewind(1); err == nil || !strings.Contains(err.Error(), "finalized") {
		t.Fatalf("rewind into finalized batches: %v", err)
	}
	if got := b.ResumeHeight(); got != b.Batches()[0].FromHeight {
		t.Fatalf("ResumeHeight %d, want %d", got, b.Batches()[0].FromHeight)
	}
}

func TestFinalizedNeedsConfirmedBatches(t *testing.T) {
	b, _ := multiFrame(t)
	if err := b.Finalized(0); err == nil {
		t.Fatal("finalized an unsent batch")
	}
	var l1 uint64
	sendAll(t, b, t0, &l1)
	if err := b.Finalized(0); err != nil {
		t.Fatal(err)
	}
	if len(b.Batches()) != 0 || b.ResumeHeight() != 5 {
		t.Fatalf("after finalize: %d batches, resume at %d", len(b.Batches()), b.ResumeHeight())
	}
}
