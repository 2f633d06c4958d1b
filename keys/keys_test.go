package keys

import (
	"os"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

// The first Hardhat/Anvil accounts, as every such tool prints them.
func TestDevAccountsMatchHardhat(t *testing.T) {
	want := []string{
		"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
		"0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
		"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
	}
	ks, err := DevAccounts(len(want))
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range ks {
		if got := crypto.PubkeyToAddress(k.PublicKey).Hex(); got != want[i] {
			t.Errorf("dev account %d: got %s, want %s", i, got, want[i])
		}
	}
}

func TestDirAddLoadList(t *testing.T) {
	d := Dir(t.TempDir() + "/keys")
	pk, _ := crypto.GenerateKey()
	k, err := d.Add("alice", pk)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(d.path("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := d.Add("alice", pk); err == nil {
		t.Fatal("overwrote an existing key")
	}
	if _, err := d.Add("bad/name", pk); err == nil {
		t.Fatal("accepted a key name with a slash")
	}
	got, err := d.Load("alice")
	if err != nil || got.Address != k.Address {
		t.Fatalf("load: %v %v", got, err)
	}
	if _, err := d.Load("bob"); err == nil {
		t.Fatal("loaded a missing key")
	}
	l, err := d.List()
	if err != nil || len(l) != 1 || l[0].Name != "alice" {
		t.Fatalf("list: %v %v", l, err)
	}
}
