package view

import (
	"bytes"
	"math/big"
	"testing"
)

func TestPercent(t *testing.T) {
	for bps, want := range map[uint32]string{0: "0%", 5: "0.05%", 50: "0.5%", 500: "5%", 1234: "12.34%", 10000: "100%"} {
		if got := Percent(bps); got != want {
			t.Errorf("Percent(%d) = %q, want %q", bps, got, want)
		}
	}
}

func TestAmounts(t *testing.T) {
	v, _ := new(big.Int).SetString("1500000000000000000", 10)
	if got := (Amounts{}).Big(v); got != "1.5 WEFT" {
		t.Errorf("Amounts{}.Big = %q", got)
	}
	if got := (Amounts{Raw: true}).Of(v.Bytes()); got != "1500000000000000000" {
		t.Errorf("Amounts{Raw}.Of = %q", got)
	}
	if got := (Amounts{}).Of(nil); got != "0 WEFT" {
		t.Errorf("Amounts{}.Of(nil) = %q", got)
	}
}

// TestTextWriter: fields align on the longest key of their run, tables
// on their widest cell, with no trailing spaces.
func TestTextWriter(t *testing.T) {
	var w TextWriter
	w.Field("a", 1)
	w.Field("longer key", "x")
	w.List("list", []string{"one", "two"}, "none")
	w.Line("")
	w.Table([]string{"name", "v"}, [][]string{{"alpha", "1"}, {"b", "22"}}, "empty")
	w.Table([]string{"x"}, nil, "no rows")
	want := "a           1\nlonger key  x\nlist        one\n            two\n\nNAME   V\nalpha  1\nb      22\nno rows\n"
	if got := w.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestPrintLine(t *testing.T) {
	var b bytes.Buffer
	if err := PrintLine(&b, JSON, Slice{Height: 3, Items: 1, Verified: true, TxHashes: []string{"0x01"}}); err != nil {
		t.Fatal(err)
	}
	if want := `{"height":3,"items":1,"verified":true,"tx_hashes":["0x01"]}` + "\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
