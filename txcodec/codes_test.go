package txcodec_test

import (
	"crypto/sha256"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/txcodec"
)

func TestCodeNames(t *testing.T) {
	seen := map[string]uint32{}
	for code := txcodec.CodeOK; code <= txcodec.CodeNotAccepting; code++ {
		n := txcodec.CodeName(code)
		if n == "unknown" {
			t.Fatalf("code %d has no name", code)
		}
		if other, dup := seen[n]; dup {
			t.Fatalf("codes %d and %d share the name %q", other, code, n)
		}
		seen[n] = code
		if txcodec.Retryable(code) && txcodec.PeerFault(code) {
			t.Errorf("code %s is both retryable and a peer fault", n)
		}
	}
	if txcodec.CodeName(txcodec.CodeNotAccepting+1) != "unknown" {
		t.Fatal("a code past the last has a name")
	}
}

// TestSignRecoversSender: what Sign writes is a canonical SignedTx whose
// signature over SigningHash(body) recovers the signer's address, and
// whose hash is TxHash of the bytes.
func TestSignRecoversSender(t *testing.T) {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	body := &weftv1.TxBody{ChainId: "weft-test", Nonce: 7, FeeLimit: []byte{1, 0}}
	raw, err := txcodec.Sign(key, body)
	if err != nil {
		t.Fatal(err)
	}
	var stx weftv1.SignedTx
	if err := proto.Unmarshal(raw, &stx); err != nil {
		t.Fatal(err)
	}
	pub, err := crypto.SigToPub(txcodec.SigningHash(stx.Body), stx.Signature)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := crypto.PubkeyToAddress(*pub), crypto.PubkeyToAddress(key.PublicKey); got != want {
		t.Fatalf("signature recovers %s, signer is %s", got, want)
	}
	var got weftv1.TxBody
	if err := proto.Unmarshal(stx.Body, &got); err != nil || !proto.Equal(&got, body) {
		t.Fatalf("signed body %v (%v), want %v", &got, err, body)
	}
	if h := txcodec.TxHash(raw); h != sha256.Sum256(raw) {
		t.Fatalf("TxHash %x is not sha256 of the tx bytes", h)
	}
}
