package batcher

import (
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// DefaultMaxFrameSize keeps a frame's L1 tx under geth's 128 KiB txpool cap
// for non-blob transactions, with room for the header and ABI encoding.
const DefaultMaxFrameSize = 120_000

// ErrUnknownTx is returned by Confirmed and Failed for an id that is neither
// the tx in flight nor the next frame to send (for instance an answer for a
// tx that a reorg or rewind made stale). The driver logs it and moves on.
var ErrUnknownTx = errors.New("unknown or stale batcher tx")

// Config configures a Builder. Check it before use.
type Config struct {
	RollupID common.Hash
	// MaxFrameSize bounds the payload bytes carried by one L1 tx.
	MaxFrameSize int
	// MaxFramesPerBatch bounds a batch's frames, so a batch is at most
	// MaxFrameSize*MaxFramesPerBatch bytes. Only a batch of a single Weft
	// height with items may exceed it: a height cannot be split.
	MaxFramesPerBatch int
	// TargetBatchBytes is the estimated payload size at which the open batch
	// closes. The estimate is the open batch's encoded size times the
	// compression ratio of the last closed batch.
	TargetBatchBytes int
	// MaxBatchAge closes the open batch this long after its first height
	// arrived, items or not, so state roots reach L1 under low load too.
	MaxBatchAge time.Duration
	// Algos are the compressions tried when a batch closes; the smallest
	// payload wins, ties going to the earlier entry.
	Algos []Algo
	// MaxInFlight is how many frames of one batch NextTx hands out before
	// the first of them is confirmed (0 or 1: one at a time). Frames of the
	// next batch wait until the current batch has landed.
	MaxInFlight int
}

// DefaultConfig returns the defaults for rollupID: 120 kB frames, 8 per
// batch, batches closed at 90% of that or after a minute, zstd and brotli,
// up to 4 frames of a batch in flight at once.
func DefaultConfig(rollupID common.Hash) Config {
	return Config{
		RollupID:          rollupID,
		MaxFrameSize:      DefaultMaxFrameSize,
		MaxFramesPerBatch: 8,
		TargetBatchBytes:  DefaultMaxFrameSize * 8 * 9 / 10,
		MaxBatchAge:       time.Minute,
		Algos:             []Algo{AlgoZstd, AlgoBrotli},
		MaxInFlight:       4,
	}
}

// Check reports the first invalid setting.
func (c Config) Check() error {
	switch {
	case c.RollupID == (common.Hash{}):
		return errors.New("batcher: rollup id is zero")
	case c.MaxFrameSize < 1:
		return fmt.Errorf("batcher: max frame size %d is below 1", c.MaxFrameSize)
	case c.MaxFramesPerBatch < 1:
		return fmt.Errorf("batcher: max frames per batch %d is below 1", c.MaxFramesPerBatch)
	case c.TargetBatchBytes < 1 || c.TargetBatchBytes > c.maxBatchBytes():
		return fmt.Errorf("batcher: target batch size %d is outside [1, %d] (max frame size × max frames)", c.TargetBatchBytes, c.maxBatchBytes())
	case c.MaxInFlight < 0:
		return fmt.Errorf("batcher: max in flight %d is negative", c.MaxInFlight)
	case c.MaxBatchAge <= 0:
		return fmt.Errorf("batcher: max batch age %v is not positive", c.MaxBatchAge)
	case len(c.Algos) == 0:
		return errors.New("batcher: no compression algorithm")
	}
	for _, a := range c.Algos {
		if !a.valid() {
			return fmt.Errorf("batcher: unknown compression %s", a)
		}
	}
	return nil
}

func (c Config) maxBatchBytes() int { return c.MaxFrameSize * c.MaxFramesPerBatch }

// Start is where batching begins, as read from the L1 inbox: the index the
// next batch gets, the first Weft height it covers and the state root
// before that height (the last posted root).
type Start struct {
	NextIndex  uint64
	NextHeight int64
	PrevRoot   common.Hash
}

// Block is one Weft height as the executor saw it. Items may be empty.
// The builder keeps Items by reference: callers must not modify them.
type Block struct {
	Height       int64
	TimeUnixNano int64
	BlockHash    []byte
	Items        []*weftv1.RollupItem
	// StateRoot is the rollup state root after executing this height (the
	// previous root for a height without items).
	StateRoot common.Hash
}

// Header is what the inbox records for a batch, sent with its last frame.
type Header struct {
	Index      uint64
	FromHeight int64
	ToHeight   int64
	Commitment common.Hash
	PrevRoot   common.Hash
	NewRoot    common.Hash
	FrameCount int
}

// Tx is one L1 transaction for the driver to send.
type Tx struct {
	// ID names the frame ("batch 7 frame 2/3", frame numbers from 1); it is
	// the same every time this frame is handed out.
	ID         string
	BatchIndex uint64
	Frame      int // 0-based
	Frames     int
	// Data is the frame. It aliases the builder's copy: do not modify it.
	Data []byte
	// Header is set on the last frame only.
	Header *Header
}

// AlgoStats counts, for one algorithm, the bytes it was given and produced
// over all closed batches, and how often it was the one posted.
type AlgoStats struct {
	RawBytes        uint64
	CompressedBytes uint64
	Chosen          uint64
}

// Stats are counters for metrics. They start at zero on Restore.
type Stats struct {
	Batches uint64
	// RawBytes and PayloadBytes are the encoded and posted sizes of closed
	// batches.
	RawBytes     uint64
	PayloadBytes uint64
	Algos        map[Algo]AlgoStats
}

// BatchInfo describes a retained (not finalized) batch.
type BatchInfo struct {
	Index           uint64
	FromHeight      int64
	ToHeight        int64
	Algo            Algo
	RawBytes        int // encoded BatchData; 0 until replayed after Restore
	PayloadBytes    int
	Frames          int
	ConfirmedFrames int
	// Ready is false while a restored batch waits for its blocks.
	Ready bool
}

// height is one Weft height of the open batch.
type height struct {
	blk  *weftv1.BatchBlock // nil when the height has no items
	root common.Hash
	size int // bytes blk adds to the encoded batch
}

// batch is a closed batch kept until finalized.
type batch struct {
	index      uint64
	from, to   int64
	prevRoot   common.Hash
	newRoot    common.Hash
	algo       Algo
	blocks     []*weftv1.BatchBlock // heights with items
	rawLen     int
	payloadLen int
	frames     [][]byte // nil while a restored batch waits for its blocks
	frameCount int
	commitment common.Hash
	// confirmed holds the L1 block that included each frame, 0 if none.
	confirmed []uint64
}

func (bt *batch) ready() bool { return bt.frames != nil }

func (bt *batch) confirmedFrames() int {
	n := 0
	for n < len(bt.confirmed) && bt.confirmed[n] != 0 {
		n++
	}
	return n
}

func (bt *batch) header() *Header {
	return &Header{
		Index: bt.index, FromHeight: bt.from, ToHeight: bt.to, Commitment: bt.commitment,
		PrevRoot: bt.prevRoot, NewRoot: bt.newRoot, FrameCount: bt.frameCount,
	}
}

func txID(index uint64, frame, frames int) string {
	return fmt.Sprintf("batch %d frame %d/%d", index, frame+1, frames)
}

// ratioOne is a compression ratio of 1 in parts per million.
const ratioOne = 1_000_000

// minRatioSample is the smallest encoded batch whose compression ratio is
// used for the next estimate: tiny batches compress badly and would make
// the next batch close far too early.
const minRatioSample = 4096

// Builder is the pure core of the batcher: it cuts the rollup's Weft heights
// into batches, compresses and frames them, and hands out L1 txs one at a
// time, in order. It does no I/O and reads no clock; it is not safe for
// concurrent use.
//
// Persistence: Snapshot holds counters and per-batch metadata, not blocks
// or payloads. After Restore the driver feeds blocks again from
// ResumeHeight; batches closed before the snapshot are rebuilt from them
// (compression is deterministic, and the rebuilt commitment is checked
// against the recorded one) and blocks past them refill the open batch.
type Builder struct {
	cfg Config

	nextIndex  uint64      // index of the next batch to close
	prevRoot   common.Hash // state root after the last closed batch
	nextHeight int64       // height AddBlock expects

	openFrom int64 // first height of the open batch
	open     []height
	openRaw  int       // encoded size of open's items
	openedAt time.Time // arrival of open's first height; zero if none

	batches  []*batch // closed, not finalized, by index
	inFlight []string // ids of the txs handed out and not answered, in order

	ratio uint32 // payload/raw of the last sizeable batch, in ppm
	stats Stats
}

// New returns a builder that starts at start.
func New(cfg Config, start Start) (*Builder, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if start.NextHeight < 1 {
		return nil, fmt.Errorf("batcher: start height %d is below 1", start.NextHeight)
	}
	return &Builder{
		cfg: cfg, nextIndex: start.NextIndex, prevRoot: start.PrevRoot,
		nextHeight: start.NextHeight, openFrom: start.NextHeight,
		ratio: ratioOne, stats: Stats{Algos: map[Algo]AlgoStats{}},
	}, nil
}

// NextHeight is the height the next AddBlock must carry.
func (b *Builder) NextHeight() int64 { return b.nextHeight }

// AddBlock appends the next Weft height. Heights must be consecutive. The
// open batch closes when its estimated payload reaches TargetBatchBytes.
// now is the block's arrival time (it starts the open batch's age).
func (b *Builder) AddBlock(now time.Time, blk Block) error {
	if blk.Height != b.nextHeight {
		return fmt.Errorf("batcher: got height %d, want %d", blk.Height, b.nextHeight)
	}
	if len(blk.BlockHash) != 32 {
		return fmt.Errorf("batcher: height %d: block hash is %d bytes, want 32", blk.Height, len(blk.BlockHash))
	}
	for i, it := range blk.Items {
		if it == nil {
			return fmt.Errorf("batcher: height %d: item %d is nil", blk.Height, i)
		}
	}
	var bb *weftv1.BatchBlock
	size := 0
	if len(blk.Items) > 0 {
		bb = &weftv1.BatchBlock{Height: blk.Height, TimeUnixNano: blk.TimeUnixNano, BlockHash: blk.BlockHash, Items: blk.Items}
		size = proto.Size(bb) + 5 // field tag and length prefix in BatchData
	}
	if bt := b.replaying(); bt != nil {
		if err := b.replay(bt, blk, bb); err != nil {
			return err
		}
		b.nextHeight++
		return nil
	}
	if len(b.open) == 0 && b.openedAt.IsZero() {
		b.openedAt = now
	}
	b.open = append(b.open, height{blk: bb, root: blk.StateRoot, size: size})
	b.openRaw += size
	b.nextHeight++
	for len(b.open) > 0 && b.estimate() >= b.cfg.TargetBatchBytes {
		if err := b.closeOpen(); err != nil {
			return err
		}
	}
	return nil
}

// estimate is the expected payload size of the open batch.
func (b *Builder) estimate() int {
	return int(int64(b.openRaw) * int64(b.ratio) / ratioOne)
}

// Tick closes the open batch if its first height arrived MaxBatchAge or
// more before now.
func (b *Builder) Tick(now time.Time) error {
	// A batch cut for size leaves heights as old as it was: close them too.
	for len(b.open) > 0 && now.Sub(b.openedAt) >= b.cfg.MaxBatchAge {
		if err := b.closeOpen(); err != nil {
			return err
		}
	}
	return nil
}

// Flush closes the open batch now, whatever its size and age.
func (b *Builder) Flush() error {
	for len(b.open) > 0 {
		if err := b.closeOpen(); err != nil {
			return err
		}
	}
	return nil
}

// closeOpen closes a prefix of the open batch: all of it, or less when its
// payload would exceed MaxFrameSize*MaxFramesPerBatch.
func (b *Builder) closeOpen() error {
	n := len(b.open)
	for {
		bt, err := b.build(n)
		if err != nil {
			return err
		}
		items := 0
		lastItem := -1
		for i, h := range b.open[:n] {
			if h.blk != nil {
				items++
				lastItem = i
			}
		}
		if bt.payloadLen <= b.cfg.maxBatchBytes() || items <= 1 {
			b.commit(bt, n)
			return nil
		}
		// Too big: keep the share of heights that should fit, with 5% slack,
		// and always at least one item block fewer.
		want := int64(bt.rawLen) * int64(b.cfg.maxBatchBytes()) * 95 / 100 / int64(bt.payloadLen)
		m, raw := 0, 0
		for m < lastItem && int64(raw+b.open[m].size) <= want {
			raw += b.open[m].size
			m++
		}
		if raw == 0 { // no item block in the prefix: take the first one alone
			for b.open[m].blk == nil {
				m++
			}
			m++
		}
		n = m
	}
}

// build encodes the first n open heights as the next batch.
func (b *Builder) build(n int) (*batch, error) {
	bt := &batch{
		index: b.nextIndex, from: b.openFrom, to: b.openFrom + int64(n) - 1,
		prevRoot: b.prevRoot, newRoot: b.open[n-1].root,
	}
	for _, h := range b.open[:n] {
		if h.blk != nil {
			bt.blocks = append(bt.blocks, h.blk)
		}
	}
	raw, err := b.marshal(bt)
	if err != nil {
		return nil, err
	}
	bt.rawLen = len(raw)
	var best []byte
	for _, a := range b.cfg.Algos {
		p, err := compress(raw, a)
		if err != nil {
			return nil, fmt.Errorf("batcher: batch %d: %w", bt.index, err)
		}
		s := b.stats.Algos[a]
		s.RawBytes += uint64(len(raw))
		s.CompressedBytes += uint64(len(p))
		b.stats.Algos[a] = s
		if best == nil || len(p) < len(best) {
			best, bt.algo = p, a
		}
	}
	bt.setPayload(best, b.cfg.MaxFrameSize)
	return bt, nil
}

func (b *Builder) marshal(bt *batch) ([]byte, error) {
	bd := &weftv1.BatchData{
		Version: BatchVersion, RollupId: b.cfg.RollupID.Bytes(),
		FromHeight: bt.from, ToHeight: bt.to, Blocks: bt.blocks,
		PrevStateRoot: bt.prevRoot.Bytes(), StateRoot: bt.newRoot.Bytes(),
	}
	if err := ValidateBatch(bd); err != nil {
		panic(fmt.Sprintf("batcher: built an invalid batch %d: %v", bt.index, err))
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(bd)
	if err != nil {
		return nil, fmt.Errorf("batcher: marshal batch %d: %w", bt.index, err)
	}
	return raw, nil
}

func (bt *batch) setPayload(p []byte, maxFrame int) {
	bt.payloadLen = len(p)
	bt.frames = SplitFrames(p, maxFrame)
	bt.frameCount = len(bt.frames)
	bt.commitment = FrameCommitment(bt.frames)
	if bt.confirmed == nil {
		bt.confirmed = make([]uint64, bt.frameCount)
	}
}

// commit records bt as closed and drops its n heights from the open batch.
func (b *Builder) commit(bt *batch, n int) {
	b.batches = append(b.batches, bt)
	b.nextIndex++
	b.prevRoot = bt.newRoot
	b.openFrom = bt.to + 1
	b.open = append([]height(nil), b.open[n:]...)
	b.openRaw = 0
	for _, h := range b.open {
		b.openRaw += h.size
	}
	if len(b.open) == 0 {
		b.openedAt = time.Time{}
	}
	if bt.rawLen >= minRatioSample {
		b.ratio = uint32(int64(bt.payloadLen) * ratioOne / int64(bt.rawLen))
	}
	b.stats.Batches++
	b.stats.RawBytes += uint64(bt.rawLen)
	b.stats.PayloadBytes += uint64(bt.payloadLen)
	s := b.stats.Algos[bt.algo]
	s.Chosen++
	b.stats.Algos[bt.algo] = s
}

// NextTx ticks and returns the next frame to send: the first unconfirmed
// frame, once no other tx is in flight. It returns false when there is
// nothing to send, a tx is in flight, or that frame's batch still waits for
// its blocks after Restore.
func (b *Builder) NextTx(now time.Time) (Tx, bool, error) {
	if err := b.Tick(now); err != nil {
		return Tx{}, false, err
	}
	if len(b.inFlight) >= max(b.cfg.MaxInFlight, 1) {
		return Tx{}, false, nil
	}
	bt, f := b.firstUnconfirmed()
	if bt == nil || !bt.ready() {
		return Tx{}, false, nil
	}
	// The frames in flight are the batch's next ones; hand out the one
	// after them, within the same batch.
	f += len(b.inFlight)
	if f >= bt.frameCount {
		return Tx{}, false, nil
	}
	tx := Tx{ID: txID(bt.index, f, bt.frameCount), BatchIndex: bt.index, Frame: f, Frames: bt.frameCount, Data: bt.frames[f]}
	if f == bt.frameCount-1 {
		tx.Header = bt.header()
	}
	b.inFlight = append(b.inFlight, tx.ID)
	return tx, true, nil
}

// frameChain is the inbox commitment over the first n frames of closed
// batch index (zero when the batch is unknown or not rebuilt yet).
func (b *Builder) frameChain(index uint64, n int) common.Hash {
	for _, bt := range b.batches {
		if bt.index == index && bt.ready() && n <= len(bt.frames) {
			return FrameCommitment(bt.frames[:n])
		}
	}
	return common.Hash{}
}

// firstUnconfirmed returns the next frame to land on L1, or nil.
func (b *Builder) firstUnconfirmed() (*batch, int) {
	for _, bt := range b.batches {
		if f := bt.confirmedFrames(); f < bt.frameCount {
			return bt, f
		}
	}
	return nil, 0
}

// Confirmed records that the tx id landed in l1Block. id must be the next
// frame to land: the tx in flight, or, when the driver finds on L1 a frame
// it had not heard back about (after a restart), that frame.
func (b *Builder) Confirmed(id string, l1Block uint64) error {
	if l1Block == 0 {
		return errors.New("batcher: confirmation in L1 block 0")
	}
	bt, f := b.firstUnconfirmed()
	if bt == nil || id != txID(bt.index, f, bt.frameCount) {
		return fmt.Errorf("%w: %q confirmed", ErrUnknownTx, id)
	}
	bt.confirmed[f] = l1Block
	if len(b.inFlight) > 0 && b.inFlight[0] == id {
		b.inFlight = b.inFlight[1:]
	}
	return nil
}

// Failed records that the tx id was not sent or not included; the same
// frame is handed out again, and so are the frames handed out after it.
func (b *Builder) Failed(id string, _ error) error {
	for i, f := range b.inFlight {
		if f == id {
			// Frames handed out after it cannot land before it either.
			b.inFlight = b.inFlight[:i]
			return nil
		}
	}
	return fmt.Errorf("%w: %q failed", ErrUnknownTx, id)
}

// Reorged marks every frame confirmed in l1Block or later as unconfirmed:
// they are sent again, in order. A tx in flight is forgotten (its answer
// will be ErrUnknownTx), since it would land after a frame now missing.
func (b *Builder) Reorged(l1Block uint64) {
	reverted := false
	for _, bt := range b.batches {
		for i, c := range bt.confirmed {
			if c != 0 && c >= l1Block {
				bt.confirmed[i] = 0
				reverted = true
			}
		}
	}
	if reverted {
		b.inFlight = nil
	}
}

// Rewind is for when the inbox no longer holds batches nextIndex and later
// (deleted after a challenge, or an L1 reset): those batches are sent again
// from their first frame, with the same content. Batches already finalized
// here cannot be rewound.
func (b *Builder) Rewind(nextIndex uint64) error {
	if nextIndex > b.nextIndex {
		return fmt.Errorf("batcher: rewind to batch %d, but only batches below %d exist", nextIndex, b.nextIndex)
	}
	if len(b.batches) > 0 && nextIndex < b.batches[0].index || len(b.batches) == 0 && nextIndex < b.nextIndex {
		return fmt.Errorf("batcher: rewind to batch %d, but batches below %d are finalized and pruned", nextIndex, b.nextIndex-uint64(len(b.batches)))
	}
	for _, bt := range b.batches {
		if bt.index < nextIndex {
			continue
		}
		if len(b.inFlight) > 0 {
			b.inFlight = nil // they were frames of a rewound batch or after one
		}
		clear(bt.confirmed)
	}
	return nil
}

// Finalized drops batches up to and including batchIndex, whose L1 blocks
// are final. They must all be fully confirmed.
func (b *Builder) Finalized(batchIndex uint64) error {
	n := 0
	for n < len(b.batches) && b.batches[n].index <= batchIndex {
		if bt := b.batches[n]; bt.confirmedFrames() < bt.frameCount {
			return fmt.Errorf("batcher: batch %d finalized with %d of %d frames confirmed", bt.index, bt.confirmedFrames(), bt.frameCount)
		}
		n++
	}
	b.batches = append([]*batch(nil), b.batches[n:]...)
	return nil
}

// ResumeHeight is the first height the builder still needs: the first
// height of the oldest unfinalized batch, or of the open batch. A driver
// restoring a snapshot feeds blocks again from here.
func (b *Builder) ResumeHeight() int64 {
	if len(b.batches) > 0 {
		return b.batches[0].from
	}
	return b.openFrom
}

// Stats returns a copy of the counters.
func (b *Builder) Stats() Stats {
	s := b.stats
	s.Algos = make(map[Algo]AlgoStats, len(b.stats.Algos))
	for k, v := range b.stats.Algos {
		s.Algos[k] = v
	}
	return s
}

// Batches describes the retained batches, oldest first.
func (b *Builder) Batches() []BatchInfo {
	out := make([]BatchInfo, len(b.batches))
	for i, bt := range b.batches {
		out[i] = BatchInfo{
			Index: bt.index, FromHeight: bt.from, ToHeight: bt.to, Algo: bt.algo,
			RawBytes: bt.rawLen, PayloadBytes: bt.payloadLen, Frames: bt.frameCount,
			ConfirmedFrames: bt.confirmedFrames(), Ready: bt.ready(),
		}
	}
	return out
}

// replaying returns the restored batch waiting for the next height, if any.
func (b *Builder) replaying() *batch {
	for _, bt := range b.batches {
		if !bt.ready() && b.nextHeight >= bt.from && b.nextHeight <= bt.to {
			return bt
		}
	}
	return nil
}

// replay feeds a height back into a restored batch and rebuilds the batch
// once its last height is in.
func (b *Builder) replay(bt *batch, blk Block, bb *weftv1.BatchBlock) error {
	if bb != nil {
		bt.blocks = append(bt.blocks, bb)
	}
	if blk.Height < bt.to {
		return nil
	}
	if blk.StateRoot != bt.newRoot {
		return fmt.Errorf("batcher: replaying batch %d: state root after height %d is %s, the snapshot recorded %s", bt.index, blk.Height, blk.StateRoot, bt.newRoot)
	}
	raw, err := b.marshal(bt)
	if err != nil {
		return err
	}
	p, err := compress(raw, bt.algo)
	if err != nil {
		return fmt.Errorf("batcher: replaying batch %d: %w", bt.index, err)
	}
	wantCommit, wantFrames := bt.commitment, bt.frameCount
	bt.rawLen = len(raw)
	bt.setPayload(p, b.cfg.MaxFrameSize)
	if bt.commitment == wantCommit && bt.frameCount == wantFrames {
		return nil
	}
	// A different encoding (a changed compression library) is harmless
	// unless part of the batch is already on L1.
	if c := bt.confirmedFrames(); c > 0 && c < wantFrames {
		return fmt.Errorf("batcher: replaying batch %d: rebuilt payload (commitment %s, %d frames) differs from the one partly posted (commitment %s, %d frames, %d confirmed)",
			bt.index, bt.commitment, bt.frameCount, wantCommit, wantFrames, c)
	}
	var landed uint64 // L1 block of the last frame if the batch is posted
	if wantFrames > 0 && bt.confirmedFrames() == wantFrames {
		landed = bt.confirmed[wantFrames-1]
	}
	bt.confirmed = make([]uint64, bt.frameCount)
	if landed != 0 {
		// Keep it posted: its frames only matter again after a Rewind or a
		// reorg, which send the rebuilt ones.
		for i := range bt.confirmed {
			bt.confirmed[i] = landed
		}
	}
	return nil
}
