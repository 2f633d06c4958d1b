package bls

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	blst "github.com/supranational/blst/bindings/go"
)

// Sizes of the encodings, in bytes.
const (
	SecretKeySize = 32  // big-endian scalar
	PublicKeySize = 48  // compressed G1 point
	SignatureSize = 96  // compressed G2 point
	SeedSize      = 32  // the least input keying material KeyGen accepts
	EIP2537G1Size = 128 // EIP-2537 G1 point: x, y as 64-byte big-endian
	EIP2537G2Size = 256 // EIP-2537 G2 point: x.c0, x.c1, y.c0, y.c1
)

// Ciphersuite ids (draft-irtf-cfrg-bls-signature-05, 4.2.3): the domain
// separation tags of signatures and of proofs of possession. They differ, so
// a proof of possession can never be replayed as a signature or back.
const (
	DSTSignature = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
	DSTPop       = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
)

var (
	dstSig = []byte(DSTSignature)
	dstPop = []byte(DSTPop)
)

// SecretKey is a BLS secret key.
type SecretKey struct{ s *blst.SecretKey }

// PublicKey is a validated G1 point: on the curve, in the subgroup, not infinity.
type PublicKey struct{ p *blst.P1Affine }

// Signature is a validated G2 point: on the curve, in the subgroup, not infinity.
type Signature struct{ p *blst.P2Affine }

// GenerateKey draws SeedSize bytes from r (crypto/rand when r is nil) and
// derives a key from them with KeyGen.
func GenerateKey(r io.Reader) (*SecretKey, error) {
	if r == nil {
		r = rand.Reader
	}
	seed := make([]byte, SeedSize)
	if _, err := io.ReadFull(r, seed); err != nil {
		return nil, fmt.Errorf("bls key generation: %w", err)
	}
	return KeyFromSeed(seed)
}

// KeyFromSeed derives a key deterministically from seed (at least SeedSize
// bytes of input keying material) with the ciphersuite's KeyGen: for tests
// and devnets, where the same seed must give the same key.
func KeyFromSeed(seed []byte) (*SecretKey, error) {
	if len(seed) < SeedSize {
		return nil, fmt.Errorf("bls seed is %d bytes, need at least %d", len(seed), SeedSize)
	}
	sk := blst.KeyGen(seed)
	if sk == nil {
		return nil, errors.New("bls key generation failed")
	}
	return &SecretKey{s: sk}, nil
}

// SecretKeyFromBytes decodes a 32-byte big-endian scalar in [1, r).
func SecretKeyFromBytes(b []byte) (*SecretKey, error) {
	if len(b) != SecretKeySize {
		return nil, fmt.Errorf("bls secret key is %d bytes, want %d", len(b), SecretKeySize)
	}
	s := new(blst.SecretKey).Deserialize(b)
	if s == nil || !s.Valid() {
		return nil, errors.New("bls secret key is zero or not below the group order")
	}
	return &SecretKey{s: s}, nil
}

// Bytes is the 32-byte big-endian encoding of the key.
func (k *SecretKey) Bytes() []byte { return k.s.Serialize() }

// PublicKey is the key's public key.
func (k *SecretKey) PublicKey() *PublicKey { return &PublicKey{p: new(blst.P1Affine).From(k.s)} }

// Sign signs msg under the signature DST.
func (k *SecretKey) Sign(msg []byte) *Signature {
	return &Signature{p: new(blst.P2Affine).Sign(k.s, msg, dstSig)}
}

// PopProve is the key's proof of possession: a signature over its compressed
// public key under the proof-of-possession DST.
func (k *SecretKey) PopProve() *Signature {
	return &Signature{p: new(blst.P2Affine).Sign(k.s, k.PublicKey().Bytes(), dstPop)}
}

// PublicKeyFromBytes decodes a compressed G1 point, refusing a point off the
// curve, outside the subgroup or at infinity.
func PublicKeyFromBytes(b []byte) (*PublicKey, error) {
	if len(b) != PublicKeySize {
		return nil, fmt.Errorf("bls public key is %d bytes, want %d", len(b), PublicKeySize)
	}
	p := new(blst.P1Affine).Uncompress(b)
	if p == nil {
		return nil, errors.New("bls public key is not a compressed point on the curve")
	}
	if !p.KeyValidate() { // subgroup and infinity
		return nil, errors.New("bls public key is the point at infinity or not in the G1 subgroup")
	}
	return &PublicKey{p: p}, nil
}

// Bytes is the 48-byte compressed encoding.
func (k *PublicKey) Bytes() []byte { return k.p.Compress() }

// Equal reports whether k and o are the same point.
func (k *PublicKey) Equal(o *PublicKey) bool { return k.p.Equals(o.p) }

// SignatureFromBytes decodes a compressed G2 point, refusing a point off the
// curve, outside the subgroup or at infinity.
func SignatureFromBytes(b []byte) (*Signature, error) {
	if len(b) != SignatureSize {
		return nil, fmt.Errorf("bls signature is %d bytes, want %d", len(b), SignatureSize)
	}
	p := new(blst.P2Affine).Uncompress(b)
	if p == nil {
		return nil, errors.New("bls signature is not a compressed point on the curve")
	}
	if !p.SigValidate(true) { // subgroup and infinity
		return nil, errors.New("bls signature is the point at infinity or not in the G2 subgroup")
	}
	return &Signature{p: p}, nil
}

// Bytes is the 96-byte compressed encoding.
func (s *Signature) Bytes() []byte { return s.p.Compress() }

// Equal reports whether s and o are the same point.
func (s *Signature) Equal(o *Signature) bool { return s.p.Equals(o.p) }

// Verify checks sig over msg by pk under the signature DST. Points come from
// the decoders or from signing, so they are already validated.
func Verify(pk *PublicKey, msg []byte, sig *Signature) bool {
	if pk == nil || sig == nil || pk.p == nil || sig.p == nil {
		return false
	}
	return sig.p.Verify(false, pk.p, false, msg, dstSig)
}

// PopVerify checks that pop proves possession of pk's secret key.
func PopVerify(pk *PublicKey, pop *Signature) bool {
	if pk == nil || pop == nil || pk.p == nil || pop.p == nil {
		return false
	}
	return pop.p.Verify(false, pk.p, false, pk.Bytes(), dstPop)
}

// Aggregate adds signatures into one. It refuses an empty list.
func Aggregate(sigs []*Signature) (*Signature, error) {
	if len(sigs) == 0 {
		return nil, errors.New("bls: no signatures to aggregate")
	}
	var agg blst.P2Aggregate
	for i, s := range sigs {
		if s == nil || s.p == nil {
			return nil, fmt.Errorf("bls: signature %d is nil", i)
		}
		agg.Add(s.p, false)
	}
	return &Signature{p: agg.ToAffine()}, nil
}

// AggregatePublicKeys adds public keys into one. It refuses an empty list.
// Only keys with a verified proof of possession may be aggregated.
func AggregatePublicKeys(pks []*PublicKey) (*PublicKey, error) {
	if len(pks) == 0 {
		return nil, errors.New("bls: no public keys to aggregate")
	}
	var agg blst.P1Aggregate
	for i, k := range pks {
		if k == nil || k.p == nil {
			return nil, fmt.Errorf("bls: public key %d is nil", i)
		}
		agg.Add(k.p, false)
	}
	return &PublicKey{p: agg.ToAffine()}, nil
}

// FastAggregateVerify checks an aggregate signature over one msg by all of
// pks, each of which must have passed PopVerify. It is false for no keys.
func FastAggregateVerify(pks []*PublicKey, msg []byte, sig *Signature) bool {
	if len(pks) == 0 || sig == nil || sig.p == nil {
		return false
	}
	agg, err := AggregatePublicKeys(pks)
	if err != nil {
		return false
	}
	return Verify(agg, msg, sig)
}
