package staking

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"

	"github.com/ethereum/go-ethereum/common"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/weftnet/weft/attest/bls"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// Attestation keys. A validator may register a BLS12-381 key (attest/bls)
// with CreateValidator or EditValidator; the key is stored only when its
// proof of possession verifies, because aggregating keys without proofs
// lets one key cancel others (a rogue-key attack). A key names one validator
// for good: the index s/ak/<key> is never deleted, so a key a validator
// replaced, or one of a validator that left, cannot come back under another
// validator and make its old attestations count for someone else.
var prefixAttestKey = []byte("s/ak/")

func attestKeyIndex(pk []byte) []byte { return key(prefixAttestKey, pk) }

// verifiedKeys remembers keys whose proof of possession verified, by
// keyProofHash: whether a proof verifies never changes, and the mempool
// checks a pending staking tx again after every block that changes
// staking, so without it each such block would cost a pairing per pending
// tx. Only successes are kept (a failure is refused at admission).
var verifiedKeys, _ = lru.New[[32]byte, *bls.PublicKey](4096)

// popVerify is bls.PopVerify (a test counts the calls).
var popVerify = bls.PopVerify

func keyProofHash(pk, pop []byte) [32]byte {
	h := sha256.New()
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(pk))))
	h.Write(pk)
	h.Write(pop)
	return [32]byte(h.Sum(nil))
}

// CheckAttestationKey decodes pk and checks pop proves possession of it: one
// pairing check (about a millisecond), which is why a block bounds how many
// it holds; a pair that verified before is not checked again. Both empty
// means no key.
func CheckAttestationKey(pk, pop []byte) (*bls.PublicKey, error) {
	if len(pk) == 0 && len(pop) == 0 {
		return nil, nil
	}
	if len(pk) == 0 {
		return nil, fail(ErrInvalid, "attestation proof of possession without an attestation key")
	}
	id := keyProofHash(pk, pop)
	if k, ok := verifiedKeys.Get(id); ok {
		return k, nil
	}
	k, err := bls.PublicKeyFromBytes(pk)
	if err != nil {
		return nil, fail(ErrInvalid, "attestation key: %v", err)
	}
	if len(pop) == 0 {
		return nil, fail(ErrInvalid, "attestation key 0x%x has no proof of possession", pk)
	}
	sig, err := bls.SignatureFromBytes(pop)
	if err != nil {
		return nil, fail(ErrInvalid, "attestation proof of possession: %v", err)
	}
	if !popVerify(k, sig) {
		return nil, fail(ErrInvalid, "attestation proof of possession does not verify for key 0x%x", pk)
	}
	verifiedKeys.Add(id, k)
	return k, nil
}

// AttestationKeyOwner is the validator that registered attestation key pk.
func (m *Module) AttestationKeyOwner(pk []byte) (common.Address, bool) {
	b, ok := m.get(attestKeyIndex(pk))
	if !ok {
		return common.Address{}, false
	}
	return common.BytesToAddress(b), true
}

// attestationKeyFree refuses pk when another validator than v registered it.
func (m *Module) attestationKeyFree(pk []byte, v common.Address) *Error {
	if owner, ok := m.AttestationKeyOwner(pk); ok && owner != v {
		return fail(ErrExists, "attestation key 0x%x is already registered by validator %s", pk, owner)
	}
	return nil
}

// setAttestationKey records pk as v's attestation key.
func (m *Module) setAttestationKey(v *weftv1.Validator, pk []byte) {
	if bytes.Equal(v.AttestationPubKey, pk) {
		return
	}
	v.AttestationPubKey = bytes.Clone(pk)
	m.kv.Set(attestKeyIndex(pk), v.Address)
}

// checkAttestation checks the key and proof an action carries and that no
// other validator than addr registered the key; nil when it carries none.
func (m *Module) checkAttestation(pk, pop []byte, addr common.Address) ([]byte, *Error) {
	if len(pk) > 0 { // a state read before the pairing check
		if e := m.attestationKeyFree(pk, addr); e != nil {
			return nil, e
		}
	}
	k, err := CheckAttestationKey(pk, pop)
	if err != nil {
		return nil, err.(*Error)
	}
	if k == nil {
		return nil, nil
	}
	return pk, nil
}
