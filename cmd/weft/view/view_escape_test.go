package view

import (
	"bytes"
	"strings"
	"testing"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// TestValidatorsTextEscapesControlCharacters: a moniker is anyone's
// on-chain text (create-validator checks only its length). `weft status`
// replaces control characters before they reach a terminal (ui.printable);
// `weft query validators` in text must too, or a validator can send the
// terminal escape sequences (set the title, write the clipboard with OSC
// 52, hide or rewrite earlier lines).
func TestValidatorsTextEscapesControlCharacters(t *testing.T) {
	r := &weftv1.ListValidatorsResponse{Height: 7, Validators: []*weftv1.Validator{
		{Moniker: "evil\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2K\rok", Address: make([]byte, 20), Operator: make([]byte, 20), Power: 1},
	}}
	var b bytes.Buffer
	if err := Print(&b, Text, NewValidators(r, Amounts{})); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(b.String(), "\x1b\x07\r") {
		t.Errorf("text output holds control characters from a moniker: %q", b.String())
	}
}
