package batcher

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/andybalholm/brotli"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/settlement"
)

// PayloadVersion is the first byte of every encoded batch payload.
const PayloadVersion byte = 0x01

// BatchVersion is the BatchData.version this package writes and accepts.
const BatchVersion uint32 = 1

// DefaultMaxDecompressed bounds the decoded size of one batch read from L1.
const DefaultMaxDecompressed = 64 << 20

// BrotliQuality is the brotli level used for batches. Measured on a 640 kB
// batch of signed EVM transfers and ERC-20 calls (BenchmarkCompression):
// quality 9 takes 0.1 s, 10 and 11 save under 1% more at 7x and 22x the
// CPU time.
const BrotliQuality = 9

// brotliWindow returns the brotli window (log2) for n input bytes: large
// enough to cover the whole input, up to the 16 MiB standard maximum, and no
// larger, since the encoder allocates in proportion to it.
func brotliWindow(n int) int {
	return min(max(bits.Len(uint(n)), 16), 24)
}

// Algo names the compression of a batch payload (its second byte).
type Algo byte

// Compression algorithms a payload may use.
const (
	AlgoNone   Algo = 0
	AlgoZstd   Algo = 1
	AlgoBrotli Algo = 2
)

// String returns the algorithm's name.
func (a Algo) String() string {
	switch a {
	case AlgoNone:
		return "none"
	case AlgoZstd:
		return "zstd"
	case AlgoBrotli:
		return "brotli"
	default:
		return fmt.Sprintf("algo(%d)", byte(a))
	}
}

func (a Algo) valid() bool { return a <= AlgoBrotli }

// ErrTooLarge is returned (wrapped) when a payload decompresses to more than
// the allowed size: a zip bomb posted to L1 stops here instead of exhausting
// memory.
var ErrTooLarge = errors.New("decompressed batch exceeds limit")

// zstdEncoder is shared: EncodeAll is safe for concurrent use.
var zstdEncoder = func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedBetterCompression),
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(8<<20),
	)
	if err != nil {
		panic("batcher: zstd encoder options: " + err.Error())
	}
	return enc
}()

// EncodeBatch validates b and returns its payload: PayloadVersion, the algo
// byte, then the deterministic protobuf encoding of b compressed with algo.
func EncodeBatch(b *weftv1.BatchData, algo Algo) ([]byte, error) {
	if err := ValidateBatch(b); err != nil {
		return nil, err
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("marshal batch: %w", err)
	}
	return compress(raw, algo)
}

// compress prefixes raw (an encoded BatchData) with the payload header and
// compresses it with algo.
func compress(raw []byte, algo Algo) ([]byte, error) {
	out := []byte{PayloadVersion, byte(algo)}
	switch algo {
	case AlgoNone:
		return append(out, raw...), nil
	case AlgoZstd:
		return zstdEncoder.EncodeAll(raw, out), nil
	case AlgoBrotli:
		buf := bytes.NewBuffer(out)
		w := brotli.NewWriterOptions(buf, brotli.WriterOptions{Quality: BrotliQuality, LGWin: brotliWindow(len(raw))})
		if _, err := w.Write(raw); err != nil {
			return nil, fmt.Errorf("brotli: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("brotli: %w", err)
		}
		return buf.Bytes(), nil
	default:
		return nil, fmt.Errorf("unknown compression algo %d", byte(algo))
	}
}

// DecodeBatch is the inverse of EncodeBatch for untrusted bytes: it never
// decompresses more than maxDecompressed bytes (DefaultMaxDecompressed when
// maxDecompressed <= 0) and returns only batches that pass ValidateBatch.
func DecodeBatch(payload []byte, maxDecompressed int) (*weftv1.BatchData, error) {
	raw, _, err := decompress(payload, maxDecompressed)
	if err != nil {
		return nil, err
	}
	b := new(weftv1.BatchData)
	if err := proto.Unmarshal(raw, b); err != nil {
		return nil, fmt.Errorf("batch is not a BatchData message: %w", err)
	}
	if err := ValidateBatch(b); err != nil {
		return nil, err
	}
	return b, nil
}

// decompress checks the payload header and returns the encoded BatchData.
func decompress(payload []byte, limit int) ([]byte, Algo, error) {
	if limit <= 0 {
		limit = DefaultMaxDecompressed
	}
	if len(payload) < 2 {
		return nil, 0, fmt.Errorf("batch payload of %d bytes is shorter than its 2-byte header", len(payload))
	}
	if payload[0] != PayloadVersion {
		return nil, 0, fmt.Errorf("batch payload version %d, want %d", payload[0], PayloadVersion)
	}
	algo, body := Algo(payload[1]), payload[2:]
	var r io.Reader
	switch algo {
	case AlgoNone:
		if len(body) > limit {
			return nil, algo, fmt.Errorf("%w of %d bytes (%d bytes uncompressed)", ErrTooLarge, limit, len(body))
		}
		return body, algo, nil
	case AlgoZstd:
		// The window and memory caps stop a frame header that declares a
		// huge window from allocating it up front.
		window := uint64(max(limit, 8<<20))
		dec, err := zstd.NewReader(bytes.NewReader(body),
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(min(window, zstd.MaxWindowSize)),
			zstd.WithDecoderMaxMemory(uint64(limit)+1),
		)
		if err != nil {
			return nil, algo, fmt.Errorf("zstd: %w", err)
		}
		defer dec.Close()
		r = dec
	case AlgoBrotli:
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		return nil, algo, fmt.Errorf("unknown compression algo %d", byte(algo))
	}
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(r, int64(limit)+1))
	if n > int64(limit) {
		return nil, algo, fmt.Errorf("%w of %d bytes (%s)", ErrTooLarge, limit, algo)
	}
	if err != nil {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
			return nil, algo, fmt.Errorf("%w of %d bytes (%s): %v", ErrTooLarge, limit, algo, err)
		}
		return nil, algo, fmt.Errorf("%s: %w", algo, err)
	}
	return out.Bytes(), algo, nil
}

// ValidateBatch checks the structural rules every posted batch must follow.
func ValidateBatch(b *weftv1.BatchData) error {
	switch {
	case b == nil:
		return errors.New("batch is nil")
	case b.Version != BatchVersion:
		return fmt.Errorf("batch version %d, want %d", b.Version, BatchVersion)
	case len(b.RollupId) != 32:
		return fmt.Errorf("batch rollup id is %d bytes, want 32", len(b.RollupId))
	case b.FromHeight < 1:
		return fmt.Errorf("batch from_height %d is below 1", b.FromHeight)
	case b.FromHeight > b.ToHeight:
		return fmt.Errorf("batch from_height %d is above to_height %d", b.FromHeight, b.ToHeight)
	case len(b.PrevStateRoot) != 32:
		return fmt.Errorf("batch prev_state_root is %d bytes, want 32", len(b.PrevStateRoot))
	case len(b.StateRoot) != 32:
		return fmt.Errorf("batch state_root is %d bytes, want 32", len(b.StateRoot))
	}
	prev := b.FromHeight - 1
	for i, blk := range b.Blocks {
		switch {
		case blk == nil:
			return fmt.Errorf("batch block %d is nil", i)
		case blk.Height <= prev:
			return fmt.Errorf("batch block %d: height %d does not follow %d (heights must strictly increase from from_height %d)", i, blk.Height, prev, b.FromHeight)
		case blk.Height > b.ToHeight:
			return fmt.Errorf("batch block %d: height %d is above to_height %d", i, blk.Height, b.ToHeight)
		case len(blk.BlockHash) != 32:
			return fmt.Errorf("batch block %d (height %d): block hash is %d bytes, want 32", i, blk.Height, len(blk.BlockHash))
		case len(blk.Items) == 0:
			return fmt.Errorf("batch block %d (height %d) has no items (empty heights are left out)", i, blk.Height)
		}
		for j, it := range blk.Items {
			if err := rollups.CheckItem(it); err != nil {
				return fmt.Errorf("batch block %d (height %d): item %d: %w", i, blk.Height, j, err)
			}
		}
		prev = blk.Height
	}
	return nil
}

// SplitFrames cuts payload into frames of at most max bytes, in order. The
// frames alias payload. An empty payload gives one empty frame.
func SplitFrames(payload []byte, max int) [][]byte {
	if max <= 0 {
		panic(fmt.Sprintf("batcher: SplitFrames with max frame size %d", max))
	}
	if len(payload) == 0 {
		return [][]byte{{}}
	}
	frames := make([][]byte, 0, (len(payload)+max-1)/max)
	for len(payload) > max {
		frames = append(frames, payload[:max:max])
		payload = payload[max:]
	}
	return append(frames, payload)
}

// JoinFrames concatenates frames back into the payload.
func JoinFrames(frames [][]byte) []byte {
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	out := make([]byte, 0, n)
	for _, f := range frames {
		out = append(out, f...)
	}
	return out
}

// FrameCommitment is the data commitment the L1 inbox records for a batch:
// c0 = 0, c(i+1) = keccak256(c(i) ‖ keccak256(frame i)).
func FrameCommitment(frames [][]byte) common.Hash {
	var c common.Hash
	for _, f := range frames {
		c = NextCommitment(c, f)
	}
	return c
}

// NextCommitment extends a running frame commitment by one frame, the step
// the inbox performs as each frame lands.
func NextCommitment(c common.Hash, frame []byte) common.Hash {
	return settlement.NextCommitment(c, crypto.Keccak256Hash(frame))
}
