package genesis_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/weftnet/weft/attest/bls"
	"github.com/weftnet/weft/genesis"
)

func attestationKey(t *testing.T, i byte) (pk, pop string) {
	t.Helper()
	sk, err := bls.KeyFromSeed(bytes.Repeat([]byte{i}, bls.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return "0x" + hex.EncodeToString(sk.PublicKey().Bytes()), hex.EncodeToString(sk.PopProve().Bytes())
}

// TestGenesisAttestationKeys: a genesis validator's attestation key needs a
// proof of possession that verifies and must be unique; it reaches
// app_state through ToCometBFT.
func TestGenesisAttestationKeys(t *testing.T) {
	pk0, pop0 := attestationKey(t, 1)
	pk1, pop1 := attestationKey(t, 2)
	d := validDoc(t)
	d.Validators[0].AttestationPubKey, d.Validators[0].AttestationPop = pk0, pop0
	d.Validators[1].AttestationPubKey, d.Validators[1].AttestationPop = pk1, pop1
	g, err := d.ToCometBFT()
	if err != nil {
		t.Fatal(err)
	}
	as, err := genesis.ParseAppState(g.AppState)
	if err != nil {
		t.Fatal(err)
	}
	if as.Validators[0].AttestationPubKey != pk0 || as.Validators[1].AttestationPop != pop1 {
		t.Fatalf("app_state validators %+v", as.Validators)
	}
	for _, tc := range []struct {
		name, pk, pop, want, at string
	}{
		{"wrong proof", pk0, pop1, "does not prove possession", "validators[0]"},
		{"no proof", pk0, "", "attestation_pop", "validators[0]"},
		{"proof without key", "", pop0, "without attestation_pub_key", "validators[0]"},
		{"not hex", "0xzz", pop0, "not hex", "validators[0]"},
		{"not a point", "0x" + strings.Repeat("00", 48), pop0, "attestation_pub_key", "validators[0]"},
		{"duplicate", pk1, pop1, "duplicate attestation key", "validators[1]"}, // the second use
	} {
		d := validDoc(t)
		d.Validators[1].AttestationPubKey, d.Validators[1].AttestationPop = pk1, pop1
		d.Validators[0].AttestationPubKey, d.Validators[0].AttestationPop = tc.pk, tc.pop
		err := d.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.at+".attestation_pub_key") {
			t.Errorf("%s: %v, want an error naming %s.attestation_pub_key with %q", tc.name, err, tc.at, tc.want)
		}
		// The same rules hold for app_state read from a CometBFT genesis.
		as := *as
		as.Validators = append([]genesis.StakedValidator(nil), as.Validators...)
		as.Validators[0].AttestationPubKey, as.Validators[0].AttestationPop = tc.pk, tc.pop
		raw, _ := json.Marshal(as)
		if _, err := genesis.ParseAppState(raw); err == nil || !strings.Contains(err.Error(), "app_state."+tc.at+".attestation_pub_key") {
			t.Errorf("%s: app_state: %v", tc.name, err)
		}
	}
}
