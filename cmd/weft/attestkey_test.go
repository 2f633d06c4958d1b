package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/secp256k1eth"

	"github.com/weftnet/weft/format"
	"github.com/weftnet/weft/keys"
)

// TestCreateValidatorWithAttestationKey: create-validator generates an
// attestation key file (0600) with --new-attestation-key and registers it;
// query validators shows it; edit registers another from a file; a file
// that exists is never overwritten.
func TestCreateValidatorWithAttestationKey(t *testing.T) {
	isolate(t)
	tn := startTestNode(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "attest.json")
	cons := secp256k1eth.GenPrivKeySecp256k1Eth([]byte("cli-attestation")).PubKey()
	common := []string{"--node", tn.api, "--key-file", tn.keys[1]}
	_, errs, code := cli(t, append([]string{"tx", "stake", "create-validator", "--consensus-pubkey", format.Hex(cons.Bytes()),
		"--self-stake", "2 WEFT", "--moniker", "attester", "--attestation-key", path, "--new-attestation-key"}, common...)...)
	if code != 0 {
		t.Fatalf("create-validator: exit %d: %s", code, errs)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v (stderr %s), want mode 0600", st, err, errs)
	}
	k, err := keys.LoadAttestationKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errs, "wrote attestation key "+path) {
		t.Errorf("stderr %q does not name the new key file", errs)
	}
	attestKeyOf := func(moniker string) string {
		var v struct {
			Validators []struct {
				Moniker           string `json:"moniker"`
				AttestationPubKey string `json:"attestation_pub_key"`
			} `json:"validators"`
		}
		out := mustCLI(t, "query", "validators", "--node", tn.api, "--output", "json")
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		for _, x := range v.Validators {
			if x.Moniker == moniker {
				return x.AttestationPubKey
			}
		}
		t.Fatalf("no validator %q in %s", moniker, out)
		return ""
	}
	if got := attestKeyOf("attester"); got != format.Hex(k.Public) {
		t.Fatalf("validators show attestation key %q, want %s", got, format.Hex(k.Public))
	}
	if _, _, code := cli(t, append([]string{"tx", "stake", "edit", "--validator", format.Address(cons.Address()),
		"--attestation-key", path, "--new-attestation-key"}, common...)...); code == 0 {
		t.Fatal("--new-attestation-key overwrote an existing key file")
	}
	path2 := filepath.Join(dir, "attest2.json")
	k2, err := keys.GenerateAttestationKey(path2)
	if err != nil {
		t.Fatal(err)
	}
	mustCLI(t, append([]string{"tx", "stake", "edit", "--validator", format.Address(cons.Address()), "--attestation-key", path2}, common...)...)
	if got := attestKeyOf("attester"); got != format.Hex(k2.Public) {
		t.Fatalf("after edit: attestation key %q, want %s", got, format.Hex(k2.Public))
	}
}
