package batcher

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/crypto/kzg4844"
)

// The blob encoding of a frame: the stream
//
//	4-byte big-endian length n ‖ n frame bytes ‖ zero padding
//
// is cut into 31-byte pieces, piece i going to bytes 1..31 of the blob's
// 32-byte field element i, whose byte 0 stays zero. A field element is
// read as a big-endian number, so every element is below 2^248, well under
// the BLS12-381 scalar modulus that EIP-4844 requires elements to be below.
// DecodeBlob accepts exactly the blobs EncodeBlob produces, so a frame has
// one encoding and a blob one meaning.
const (
	blobElements    = len(kzg4844.Blob{}) / 32 // 4096 field elements
	blobElementData = 31                       // usable bytes per element
	blobLenPrefix   = 4

	// MaxBlobPayload is the largest frame EncodeBlob fits in one blob:
	// 4096 × 31 bytes less the length prefix.
	MaxBlobPayload = blobElements*blobElementData - blobLenPrefix // 126,972
)

// ErrBlobEncoding is returned (wrapped) by DecodeBlob for a blob that
// EncodeBlob cannot have produced.
var ErrBlobEncoding = errors.New("batcher: malformed frame blob")

// EncodeBlob packs frame into one blob (see MaxBlobPayload for the limit).
func EncodeBlob(frame []byte) (*kzg4844.Blob, error) {
	if len(frame) > MaxBlobPayload {
		return nil, fmt.Errorf("batcher: frame of %d bytes does not fit in a blob (max %d)", len(frame), MaxBlobPayload)
	}
	stream := make([]byte, blobLenPrefix+len(frame))
	binary.BigEndian.PutUint32(stream, uint32(len(frame)))
	copy(stream[blobLenPrefix:], frame)
	var b kzg4844.Blob
	for i := 0; len(stream) > 0; i++ {
		n := copy(b[i*32+1:i*32+32], stream)
		stream = stream[n:]
	}
	return &b, nil
}

// DecodeBlob returns the frame EncodeBlob packed into b. It is strict: a
// non-zero high byte, a length above MaxBlobPayload or a non-zero byte in
// the padding is an ErrBlobEncoding.
func DecodeBlob(b *kzg4844.Blob) ([]byte, error) {
	stream := make([]byte, 0, blobElements*blobElementData)
	for i := range blobElements {
		el := b[i*32 : i*32+32]
		if el[0] != 0 {
			return nil, fmt.Errorf("%w: field element %d has high byte %#x", ErrBlobEncoding, i, el[0])
		}
		stream = append(stream, el[1:]...)
	}
	n := binary.BigEndian.Uint32(stream)
	if n > uint32(MaxBlobPayload) {
		return nil, fmt.Errorf("%w: length %d above %d", ErrBlobEncoding, n, MaxBlobPayload)
	}
	end := blobLenPrefix + int(n)
	for i, c := range stream[end:] {
		if c != 0 {
			return nil, fmt.Errorf("%w: non-zero padding byte at stream offset %d", ErrBlobEncoding, end+i)
		}
	}
	return stream[blobLenPrefix:end:end], nil
}
