package ui

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./ui -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestStatusText(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, NewView(fixture(), "")); err != nil {
		t.Fatal(err)
	}
	golden(t, "status.txt", b.Bytes())
}

func TestStatusJSON(t *testing.T) {
	b, err := json.MarshalIndent(NewView(fixture(), "https://etherscan.io/address/"), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "status.json", append(b, '\n'))
}

func TestViewLinksOnlyToWebExplorers(t *testing.T) {
	for explorer, want := range map[string]string{
		"":                              "",
		"javascript:alert(1)//":         "",
		"https://etherscan.io/address/": "https://etherscan.io/address/0xCfA5c7344859e4cfD7B7bfecB7306242Ff1d2bC8",
	} {
		if got := NewView(fixture(), explorer).Rollups[0].Settlement.InboxURL; got != want {
			t.Errorf("explorer %q: inbox URL %q, want %q", explorer, got, want)
		}
	}
}

func TestViewBoundsValidators(t *testing.T) {
	st := fixture()
	for len(st.Validators) < MaxValidators+5 {
		st.Validators = append(st.Validators, st.Validators[0])
	}
	v := NewView(st, "")
	if len(v.Validators) != MaxValidators || v.MoreValidators != 5 {
		t.Fatalf("%d validators and %d more, want %d and 5", len(v.Validators), v.MoreValidators, MaxValidators)
	}
}

func TestTextHasNoControlCharacters(t *testing.T) {
	st := fixture()
	st.Validators[0].Moniker = "evil\x1b[2J\u202e"
	var b bytes.Buffer
	if err := WriteText(&b, NewView(st, "")); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("\x1b")) || bytes.Contains(b.Bytes(), []byte("\u202e")) {
		t.Fatalf("control characters reached the text:\n%q", b.String())
	}
	if !bytes.Contains(b.Bytes(), []byte("evil?[2J?")) {
		t.Fatalf("the moniker is not shown with its controls replaced:\n%s", b.String())
	}
}
