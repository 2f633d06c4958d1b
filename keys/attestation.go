package keys

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/weftnet/weft/attest/bls"
)

// AttestationKeyFile is the name of a validator's BLS attestation key file
// in its node home's config directory, next to CometBFT's
// priv_validator_key.json.
const AttestationKeyFile = "attestation_key.json"

// AttestationKeyPath is the attestation key file of the node home.
func AttestationKeyPath(home string) string {
	return filepath.Join(home, "config", AttestationKeyFile)
}

// AttestationFile is the on-disk form of an attestation key. The public key
// and proof of possession are derived from the secret key and written for
// reading only (what CreateValidator and genesis carry); loading checks them.
type AttestationFile struct {
	PublicKey         string `json:"public_key"`
	ProofOfPossession string `json:"proof_of_possession"`
	SecretKey         string `json:"secret_key"`
}

// AttestationKey is a loaded attestation key.
type AttestationKey struct {
	Secret *bls.SecretKey
	// Public and Pop are the compressed public key and its proof of
	// possession.
	Public, Pop []byte
}

func newAttestationKey(sk *bls.SecretKey) *AttestationKey {
	return &AttestationKey{Secret: sk, Public: sk.PublicKey().Bytes(), Pop: sk.PopProve().Bytes()}
}

// GenerateAttestationKey writes a new random attestation key to path (0600,
// its directory 0700 when made) and refuses to overwrite a file.
func GenerateAttestationKey(path string) (*AttestationKey, error) {
	sk, err := bls.GenerateKey(nil)
	if err != nil {
		return nil, err
	}
	return WriteAttestationKey(path, sk)
}

// WriteAttestationKey writes sk to path (0600) and refuses to overwrite.
func WriteAttestationKey(path string, sk *bls.SecretKey) (*AttestationKey, error) {
	k := newAttestationKey(sk)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(AttestationFile{
		PublicKey: "0x" + hex.EncodeToString(k.Public), ProofOfPossession: "0x" + hex.EncodeToString(k.Pop),
		SecretKey: "0x" + hex.EncodeToString(sk.Bytes()),
	}, "", "  ")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("attestation key %s already exists", path)
		}
		return nil, err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, err
	}
	return k, f.Close()
}

// LoadAttestationKey reads an attestation key file and checks that its
// public key and proof of possession are the secret key's.
func LoadAttestationKey(path string) (*AttestationKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f AttestationFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("attestation key %s: %w", path, err)
	}
	raw, err := hex.DecodeString(strings.TrimPrefix(f.SecretKey, "0x"))
	if err != nil {
		return nil, fmt.Errorf("attestation key %s: secret_key is not hex: %w", path, err)
	}
	sk, err := bls.SecretKeyFromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("attestation key %s: secret_key: %w", path, err)
	}
	k := newAttestationKey(sk)
	if f.PublicKey != "" && !strings.EqualFold(strings.TrimPrefix(f.PublicKey, "0x"), hex.EncodeToString(k.Public)) {
		return nil, fmt.Errorf("attestation key %s: public_key is not the secret key's", path)
	}
	return k, nil
}
