package keys_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weftnet/weft/attest/bls"
	"github.com/weftnet/weft/keys"
)

func TestAttestationKeyFile(t *testing.T) {
	path := keys.AttestationKeyPath(filepath.Join(t.TempDir(), "home"))
	k, err := keys.GenerateAttestationKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v, want 0600", st.Mode(), err)
	}
	if _, err := keys.GenerateAttestationKey(path); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("overwrote a key: %v", err)
	}
	got, err := keys.LoadAttestationKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Public, k.Public) || !bytes.Equal(got.Pop, k.Pop) {
		t.Fatal("loaded key differs")
	}
	pk, _ := bls.PublicKeyFromBytes(got.Public)
	pop, _ := bls.SignatureFromBytes(got.Pop)
	if !bls.PopVerify(pk, pop) {
		t.Fatal("the file's proof of possession does not verify")
	}
	// A file whose public key is not its secret key's is refused.
	var f keys.AttestationFile
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	other, _ := bls.KeyFromSeed(bytes.Repeat([]byte{9}, 32))
	f.PublicKey = "0x" + hex.EncodeToString(other.PublicKey().Bytes())
	bad := filepath.Join(t.TempDir(), "bad.json")
	b, _ = json.Marshal(f)
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.LoadAttestationKey(bad); err == nil {
		t.Fatal("mismatched public key accepted")
	}
}
