// Package bls holds validators' attestation keys: BLS12-381 signatures in the
// IETF BLS signature ciphersuite with proof of possession, minimal-pubkey-size
// variant (draft-irtf-cfrg-bls-signature-05, section 4.2.3): public keys in G1
// (48 bytes compressed), signatures in G2 (96 bytes compressed), messages
// hashed to G2 with hash_to_curve's SSWU random-oracle suite. It is the
// ciphersuite Ethereum's consensus layer uses, so an L1 contract can check
// its signatures with the EIP-2537 precompiles; EIP2537 encodes points for
// them.
//
// Proof of possession is what makes aggregation safe: FastAggregateVerify
// (one message, many keys) is only sound over keys whose PopVerify passed,
// which is why staking checks a key's proof before storing it.
//
// Every decoder checks length, encoding, that the point is on the curve, in
// the prime-order subgroup and not the point at infinity, and returns an
// error for bad input, never panics. The crypto is blst's
// (github.com/supranational/blst); this package only fixes the ciphersuite
// and the encodings. It is a leaf: it must not import consensus, node or any
// other Weft package.
package bls
