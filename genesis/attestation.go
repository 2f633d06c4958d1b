package genesis

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/weftnet/weft/attest/bls"
)

// ParseAttestationKey decodes a genesis validator's attestation key and
// proof of possession (hex) and checks the proof, as CreateValidator does.
// Both empty means no key (nil, nil).
func ParseAttestationKey(pkHex, popHex string) (pk, pop []byte, err error) {
	if pkHex == "" && popHex == "" {
		return nil, nil, nil
	}
	if pk, err = hex.DecodeString(strings.TrimPrefix(pkHex, "0x")); err != nil {
		return nil, nil, fmt.Errorf("attestation_pub_key is not hex: %w", err)
	}
	if pop, err = hex.DecodeString(strings.TrimPrefix(popHex, "0x")); err != nil {
		return nil, nil, fmt.Errorf("attestation_pop is not hex: %w", err)
	}
	if len(pk) == 0 {
		return nil, nil, fmt.Errorf("attestation_pop without attestation_pub_key")
	}
	key, err := bls.PublicKeyFromBytes(pk)
	if err != nil {
		return nil, nil, fmt.Errorf("attestation_pub_key: %w", err)
	}
	sig, err := bls.SignatureFromBytes(pop)
	if err != nil {
		return nil, nil, fmt.Errorf("attestation_pop: %w", err)
	}
	if !bls.PopVerify(key, sig) {
		return nil, nil, fmt.Errorf("attestation_pop does not prove possession of attestation_pub_key")
	}
	return pk, pop, nil
}

// attestationKeys checks the genesis validators' attestation keys one by
// one: each valid and used once.
type attestationKeys map[string]bool

func (seen attestationKeys) add(field, pkHex, popHex string) error {
	pk, _, err := ParseAttestationKey(pkHex, popHex)
	if err != nil {
		return fieldErr(field+".attestation_pub_key", "%v", err)
	}
	if pk == nil {
		return nil
	}
	if seen[string(pk)] {
		return fieldErr(field+".attestation_pub_key", "duplicate attestation key")
	}
	seen[string(pk)] = true
	return nil
}
