package batcher

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/crypto/kzg4844"
)

func TestBlobRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 26, 27, 28, 30, 31, 32, 61, 62, 1000, MaxBlobPayload - 1, MaxBlobPayload} {
		frame := bytes.Repeat([]byte{0xff, 0x00, 0x7f, 0x80}, n/4+1)[:n]
		b, err := EncodeBlob(frame)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		got, err := DecodeBlob(b)
		if err != nil {
			t.Fatalf("%d bytes: decode: %v", n, err)
		}
		if !bytes.Equal(got, frame) {
			t.Fatalf("%d bytes: round trip differs", n)
		}
		for i := 0; i < len(b); i += 32 {
			if b[i] != 0 {
				t.Fatalf("%d bytes: field element %d has high byte %#x", n, i/32, b[i])
			}
		}
	}
	if MaxBlobPayload != 126_972 {
		t.Fatalf("MaxBlobPayload = %d", MaxBlobPayload)
	}
	if _, err := EncodeBlob(make([]byte, MaxBlobPayload+1)); err == nil {
		t.Fatal("a frame over MaxBlobPayload was encoded")
	}
}

// A full blob of 0xff payload bytes is the largest value every element can
// take; KZG must accept it as canonical.
func TestBlobIsCanonical(t *testing.T) {
	b, err := EncodeBlob(bytes.Repeat([]byte{0xff}, MaxBlobPayload))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kzg4844.BlobToCommitment(b); err != nil {
		t.Fatalf("KZG rejects the encoding: %v", err)
	}
}

func TestDecodeBlobIsStrict(t *testing.T) {
	good, err := EncodeBlob([]byte("weft frame"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		tamper func(b *kzg4844.Blob)
	}{
		{"high byte of element 0", func(b *kzg4844.Blob) { b[0] = 1 }},
		{"high byte of the last element", func(b *kzg4844.Blob) { b[len(b)-32] = 0x73 }},
		{"length above the maximum", func(b *kzg4844.Blob) { b[1], b[2], b[3], b[4] = 0, 1, 0xf0, 0 }},
		{"length of all ones", func(b *kzg4844.Blob) { b[1], b[2], b[3], b[4] = 0xff, 0xff, 0xff, 0xff }},
		{"byte after the frame", func(b *kzg4844.Blob) { b[1+4+10] = 1 }},
		{"byte in the last element", func(b *kzg4844.Blob) { b[len(b)-1] = 1 }},
		{"length shorter than the data", func(b *kzg4844.Blob) { b[4] = 9 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := *good
			tc.tamper(&b)
			if _, err := DecodeBlob(&b); !errors.Is(err, ErrBlobEncoding) {
				t.Fatalf("err %v, want ErrBlobEncoding", err)
			}
		})
	}
	var zero kzg4844.Blob
	if f, err := DecodeBlob(&zero); err != nil || len(f) != 0 {
		t.Fatalf("zero blob: %q, %v (want the empty frame)", f, err)
	}
}

// FuzzDecodeBlob writes arbitrary bytes over an encoded frame's blob: the
// decoder must not panic, and whatever it accepts must re-encode to the
// same blob (one encoding per frame).
func FuzzDecodeBlob(f *testing.F) {
	seed, _ := EncodeBlob([]byte("seed frame"))
	f.Add(seed[:64], uint16(0))
	f.Add([]byte{0, 0, 0, 0, 3, 'a', 'b', 'c'}, uint16(0))
	f.Add([]byte{1}, uint16(4095))
	f.Fuzz(func(t *testing.T, patch []byte, at uint16) {
		var b kzg4844.Blob
		copy(b[:], seed[:])
		off := int(at) * 32 % len(b)
		copy(b[off:], patch)
		frame, err := DecodeBlob(&b)
		if err != nil {
			if !errors.Is(err, ErrBlobEncoding) {
				t.Fatalf("error %v is not ErrBlobEncoding", err)
			}
			return
		}
		again, err := EncodeBlob(frame)
		if err != nil {
			t.Fatalf("decoded frame does not re-encode: %v", err)
		}
		if *again != b {
			t.Fatal("accepted a blob that is not the encoding of its frame")
		}
	})
}

// FuzzBlobRoundTrip checks EncodeBlob/DecodeBlob on arbitrary frames.
func FuzzBlobRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("weft"))
	f.Add(bytes.Repeat([]byte{0xff}, 100))
	f.Fuzz(func(t *testing.T, frame []byte) {
		b, err := EncodeBlob(frame)
		if err != nil {
			if len(frame) <= MaxBlobPayload {
				t.Fatal(err)
			}
			return
		}
		got, err := DecodeBlob(b)
		if err != nil || !bytes.Equal(got, frame) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func BenchmarkBlobSidecar(b *testing.B) {
	blob, _ := EncodeBlob(bytes.Repeat([]byte{0x5a}, 700))
	for b.Loop() {
		if _, err := kzg4844.BlobToCommitment(blob); err != nil {
			b.Fatal(err)
		}
		if _, err := kzg4844.ComputeCellProofs(blob); err != nil {
			b.Fatal(err)
		}
	}
}
