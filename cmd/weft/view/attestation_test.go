package view

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// TestValidatorsShowAttestationKey: a registered attestation key is shown
// as 0x-hex in JSON and text; a validator without one shows none.
func TestValidatorsShowAttestationKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, 48)
	r := &weftv1.ListValidatorsResponse{Height: 3, Validators: []*weftv1.Validator{
		{Moniker: "with", Address: make([]byte, 20), Operator: make([]byte, 20), AttestationPubKey: key},
		{Moniker: "without", Address: make([]byte, 20), Operator: make([]byte, 20)},
	}}
	v := NewValidators(r, Amounts{})
	want := "0x" + strings.Repeat("ab", 48)
	if v.Validators[0].AttestationPubKey != want || v.Validators[1].AttestationPubKey != "" {
		t.Fatalf("view %+v", v.Validators)
	}
	j, err := json.Marshal(v.Validators[1])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(j), "attestation") {
		t.Fatalf("a validator without a key has one in JSON: %s", j)
	}
	var b bytes.Buffer
	if err := Print(&b, Text, v); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "with attestation key "+want) || strings.Contains(b.String(), "without attestation key") {
		t.Fatalf("text:\n%s", b.String())
	}
}
