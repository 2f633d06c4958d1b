package batcher

import (
	"bytes"
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

var testRollup = common.HexToHash("0x7e57000000000000000000000000000000000000000000000000000000000001")

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	rng.Read(b)
	return b
}

func randBatch(rng *rand.Rand) *weftv1.BatchData {
	from := 1 + rng.Int63n(1000)
	to := from + rng.Int63n(50)
	b := &weftv1.BatchData{
		Version: BatchVersion, RollupId: testRollup.Bytes(), FromHeight: from, ToHeight: to,
		PrevStateRoot: randBytes(rng, 32), StateRoot: randBytes(rng, 32),
	}
	for h := from; h <= to; h++ {
		if rng.Intn(3) != 0 {
			continue
		}
		blk := &weftv1.BatchBlock{Height: h, TimeUnixNano: rng.Int63(), BlockHash: randBytes(rng, 32)}
		for i := rng.Intn(4); i >= 0; i-- {
			blk.Items = append(blk.Items, &weftv1.RollupItem{
				TxHash: randBytes(rng, 32), ActionIndex: uint32(rng.Intn(3)),
				Sender: randBytes(rng, 20), Data: randBytes(rng, rng.Intn(300)),
			})
		}
		b.Blocks = append(b.Blocks, blk)
	}
	return b
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	seed := int64(20260601)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	for i := 0; i < 60; i++ {
		want := randBatch(rng)
		for _, algo := range []Algo{AlgoNone, AlgoZstd, AlgoBrotli} {
			p, err := EncodeBatch(want, algo)
			if err != nil {
				t.Fatalf("batch %d %s: encode: %v", i, algo, err)
			}
			if p[0] != PayloadVersion || Algo(p[1]) != algo {
				t.Fatalf("batch %d %s: header % x", i, algo, p[:2])
			}
			got, err := DecodeBatch(p, 0)
			if err != nil {
				t.Fatalf("batch %d %s: decode: %v", i, algo, err)
			}
			if !proto.Equal(got, want) {
				t.Fatalf("batch %d %s: round trip differs", i, algo)
			}
		}
	}
}

// payloadOf builds a payload around raw bytes without validating them.
func payloadOf(t *testing.T, raw []byte, algo Algo) []byte {
	t.Helper()
	p, err := compress(raw, algo)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecodeRejects(t *testing.T) {
	good := func() *weftv1.BatchData {
		rng := rand.New(rand.NewSource(1))
		item := func() *weftv1.RollupItem {
			return &weftv1.RollupItem{TxHash: randBytes(rng, 32), Sender: randBytes(rng, 20), Data: randBytes(rng, 40)}
		}
		return &weftv1.BatchData{
			Version: BatchVersion, RollupId: testRollup.Bytes(), FromHeight: 10, ToHeight: 20,
			PrevStateRoot: randBytes(rng, 32), StateRoot: randBytes(rng, 32),
			Blocks: []*weftv1.BatchBlock{
				{Height: 12, BlockHash: randBytes(rng, 32), Items: []*weftv1.RollupItem{item()}},
				{Height: 15, BlockHash: randBytes(rng, 32), Items: []*weftv1.RollupItem{item(), item()}},
			},
		}
	}
	invalid := func(mut func(b *weftv1.BatchData)) []byte {
		b := good()
		mut(b)
		raw, err := proto.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return payloadOf(t, raw, AlgoZstd)
	}
	bomb := make([]byte, 1<<20) // a megabyte of zeros
	tests := []struct {
		name    string
		payload []byte
		limit   int
		want    string
		tooBig  bool
	}{
		{name: "empty", payload: nil, want: "shorter than its 2-byte header"},
		{name: "one byte", payload: []byte{1}, want: "shorter than its 2-byte header"},
		{name: "payload version", payload: []byte{2, 0}, want: "payload version 2"},
		{name: "unknown algo", payload: []byte{1, 9, 1, 2}, want: "unknown compression algo 9"},
		{name: "corrupt zstd", payload: []byte{1, byte(AlgoZstd), 1, 2, 3, 4, 5}, want: "zstd"},
		{name: "corrupt brotli", payload: []byte{1, byte(AlgoBrotli), 0xff, 0xff, 0xff}, want: "brotli"},
		{name: "not protobuf", payload: []byte{1, 0, 0xff, 0xff}, want: "not a BatchData message"},
		{name: "zstd bomb", payload: payloadOf(t, bomb, AlgoZstd), limit: 1000, tooBig: true, want: "exceeds limit of 1000 bytes"},
		{name: "brotli bomb", payload: payloadOf(t, bomb, AlgoBrotli), limit: 1000, tooBig: true, want: "exceeds limit of 1000 bytes"},
		{name: "none too big", payload: payloadOf(t, bomb, AlgoNone), limit: 1000, tooBig: true, want: "exceeds limit of 1000 bytes"},
		{name: "batch version", payload: invalid(func(b *weftv1.BatchData) { b.Version = 2 }), want: "batch version 2, want 1"},
		{name: "rollup id", payload: invalid(func(b *weftv1.BatchData) { b.RollupId = b.RollupId[:31] }), want: "rollup id is 31 bytes"},
		{name: "from zero", payload: invalid(func(b *weftv1.BatchData) { b.FromHeight = 0 }), want: "from_height 0 is below 1"},
		{name: "from above to", payload: invalid(func(b *weftv1.BatchData) { b.ToHeight = b.FromHeight - 1 }), want: "is above to_height"},
		{name: "prev root", payload: invalid(func(b *weftv1.BatchData) { b.PrevStateRoot = nil }), want: "prev_state_root is 0 bytes"},
		{name: "root", payload: invalid(func(b *weftv1.BatchData) { b.StateRoot = make([]byte, 33) }), want: "state_root is 33 bytes"},
		{name: "block below from", payload: invalid(func(b *weftv1.BatchData) { b.Blocks[0].Height = b.FromHeight - 1 }), want: "heights must strictly increase"},
		{name: "blocks repeat", payload: invalid(func(b *weftv1.BatchData) { b.Blocks[1].Height = b.Blocks[0].Height }), want: "heights must strictly increase"},
		{name: "block above to", payload: invalid(func(b *weftv1.BatchData) { b.Blocks[len(b.Blocks)-1].Height = b.ToHeight + 1 }), want: "is above to_height"},
		{name: "block hash", payload: invalid(func(b *weftv1.BatchData) { b.Blocks[0].BlockHash = nil }), want: "block hash is 0 bytes"},
		{name: "block without items", payload: invalid(func(b *weftv1.BatchData) { b.Blocks[0].Items = nil }), want: "has no items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeBatch(tt.payload, tt.limit)
			if err == nil {
				t.Fatalf("decoded; want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
			if tt.tooBig != errors.Is(err, ErrTooLarge) {
				t.Fatalf("errors.Is(err, ErrTooLarge) = %v, want %v (%v)", !tt.tooBig, tt.tooBig, err)
			}
		})
	}
}

func TestEncodeRejectsInvalidBatch(t *testing.T) {
	b := randBatch(rand.New(rand.NewSource(2)))
	b.RollupId = nil
	if _, err := EncodeBatch(b, AlgoZstd); err == nil || !strings.Contains(err.Error(), "rollup id") {
		t.Fatalf("EncodeBatch of a batch without rollup id: %v", err)
	}
}

func TestSplitJoinFrames(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, tt := range []struct{ size, max, frames int }{
		{0, 10, 1}, {1, 10, 1}, {10, 10, 1}, {11, 10, 2}, {30, 10, 3}, {31, 10, 4}, {250_000, 120_000, 3},
	} {
		p := randBytes(rng, tt.size)
		frames := SplitFrames(p, tt.max)
		if len(frames) != tt.frames {
			t.Fatalf("%d bytes by %d: %d frames, want %d", tt.size, tt.max, len(frames), tt.frames)
		}
		for i, f := range frames {
			if len(f) > tt.max || len(f) == 0 && tt.size > 0 {
				t.Fatalf("%d bytes by %d: frame %d has %d bytes", tt.size, tt.max, i, len(f))
			}
		}
		if !bytes.Equal(JoinFrames(frames), p) {
			t.Fatalf("%d bytes by %d: join differs", tt.size, tt.max)
		}
	}
}

func TestFrameCommitmentChain(t *testing.T) {
	frames := [][]byte{[]byte("a"), {}, []byte("frame three")}
	var c common.Hash
	if FrameCommitment(nil) != c {
		t.Fatal("commitment of no frames is not zero")
	}
	for _, f := range frames {
		c = crypto.Keccak256Hash(c[:], crypto.Keccak256(f))
	}
	if got := FrameCommitment(frames); got != c {
		t.Fatalf("FrameCommitment = %s, want %s", got, c)
	}
}

func FuzzDecodeBatch(f *testing.F) {
	rng := rand.New(rand.NewSource(4))
	for i := 0; i < 3; i++ {
		for _, algo := range []Algo{AlgoNone, AlgoZstd, AlgoBrotli} {
			p, err := EncodeBatch(randBatch(rng), algo)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(p)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{1, 1})
	f.Add([]byte{1, 2, 0xff})
	f.Fuzz(func(t *testing.T, payload []byte) {
		b, err := DecodeBatch(payload, 64<<10) // a small limit keeps each exec cheap
		if err != nil {
			return
		}
		if err := ValidateBatch(b); err != nil {
			t.Fatalf("decoded an invalid batch: %v", err)
		}
		if _, err := EncodeBatch(b, AlgoZstd); err != nil {
			t.Fatalf("re-encode a decoded batch: %v", err)
		}
	})
}
