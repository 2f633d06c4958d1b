package devnet

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/keys"
)

// TestTestnetAttestationKeys: every generated validator has an attestation
// key file (0600) in its home whose public key and proof of possession are
// the genesis validator's, and the genesis validates them.
func TestTestnetAttestationKeys(t *testing.T) {
	var out bytes.Buffer
	o := devnetTestOptions(t.TempDir(), &out)
	m, err := GenerateTestnet(o.Testnet)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, n := range m.Nodes {
		path := keys.AttestationKeyPath(n.Home)
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("node %d: attestation key file %v %v, want mode 0600", i, st, err)
		}
		k, err := keys.LoadAttestationKey(path)
		if err != nil {
			t.Fatal(err)
		}
		_, as, err := genesis.LoadCometBFT(filepath.Join(n.Home, "config", "genesis.json"))
		if err != nil {
			t.Fatal(err)
		}
		v := as.Validators[i]
		if v.AttestationPubKey != "0x"+hex.EncodeToString(k.Public) || v.AttestationPop != "0x"+hex.EncodeToString(k.Pop) {
			t.Fatalf("node %d: genesis has %s, the key file %x", i, v.AttestationPubKey, k.Public)
		}
		if seen[v.AttestationPubKey] {
			t.Fatal("two validators share an attestation key")
		}
		seen[v.AttestationPubKey] = true
	}
}
