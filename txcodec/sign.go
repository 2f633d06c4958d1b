package txcodec

import (
	"crypto/ecdsa"
	"crypto/sha256"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// SignatureDomain separates Weft tx signatures from any other use of a key.
const SignatureDomain = "weft/tx/v1"

// SigningHash is keccak256(SignatureDomain || body).
func SigningHash(body []byte) []byte {
	return crypto.Keccak256([]byte(SignatureDomain), body)
}

// TxHash is the hash CometBFT and Weft use to name a tx: sha256 of its bytes.
func TxHash(raw []byte) [32]byte { return sha256.Sum256(raw) }

// Sign encodes body and signs it with key.
func Sign(key *ecdsa.PrivateKey, body *weftv1.TxBody) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(body)
	if err != nil {
		return nil, err
	}
	sig, err := crypto.Sign(SigningHash(b), key)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(&weftv1.SignedTx{Body: b, Signature: sig})
}

// AmountBytes encodes an amount as minimal big-endian bytes.
func AmountBytes(v *uint256.Int) []byte { return v.Bytes() }
