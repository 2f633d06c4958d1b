package bls

// EIP-2537 encodes a base field element as 64 bytes: 16 zero bytes, then its
// 48-byte big-endian value. blst's uncompressed serialization is the ZCash
// one: x, y as 48-byte big-endian values, an Fp2 element as c1 then c0, and
// the point at infinity flagged in the first byte's 0x40 bit, where EIP-2537
// writes all zeros.

const (
	fpSize       = 48
	fpPaddedSize = 64
	infinityFlag = 0x40
)

// EIP2537 is pk in the EIP-2537 precompiles' G1 input format (128 bytes).
func (k *PublicKey) EIP2537() []byte { return encodeG1(k.p.Serialize()) }

// EIP2537 is s in the EIP-2537 precompiles' G2 input format (256 bytes).
func (s *Signature) EIP2537() []byte { return encodeG2(s.p.Serialize()) }

// encodeG1 converts a 96-byte serialized G1 point (x, y).
func encodeG1(ser []byte) []byte {
	out := make([]byte, EIP2537G1Size)
	if ser[0]&infinityFlag != 0 {
		return out
	}
	for i := 0; i < 2; i++ {
		copy(out[i*fpPaddedSize+fpPaddedSize-fpSize:(i+1)*fpPaddedSize], ser[i*fpSize:(i+1)*fpSize])
	}
	return out
}

// encodeG2 converts a 192-byte serialized G2 point (x.c1, x.c0, y.c1, y.c0)
// to EIP-2537's order (x.c0, x.c1, y.c0, y.c1).
func encodeG2(ser []byte) []byte {
	out := make([]byte, EIP2537G2Size)
	if ser[0]&infinityFlag != 0 {
		return out
	}
	order := [4]int{1, 0, 3, 2} // serialized index of each output element
	for i, j := range order {
		copy(out[i*fpPaddedSize+fpPaddedSize-fpSize:(i+1)*fpPaddedSize], ser[j*fpSize:(j+1)*fpSize])
	}
	return out
}
