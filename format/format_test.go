package format

import (
	"math/big"
	"testing"
	"time"
)

func TestAmount(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0", "0 WEFT"},
		{"1", "0.000000000000000001 WEFT"},
		{"1000", "0.000000000000001 WEFT"},
		{"1500000000000000000", "1.5 WEFT"},
		{"10000000000000000000000", "10000 WEFT"},
		{"10000000000000000001000", "10000.000000000000001 WEFT"},
		{"-2500000000000000000", "-2.5 WEFT"},
	} {
		v, _ := new(big.Int).SetString(c.in, 10)
		if got := Amount(v); got != c.want {
			t.Errorf("Amount(%s) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Amount(nil); got != "0 WEFT" {
		t.Errorf("Amount(nil) = %q", got)
	}
}

func TestParseAmountRoundTrips(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"1000", "1000"},
		{"1.5 WEFT", "1500000000000000000"},
		{"2weft", "2000000000000000000"},
		{".25 WEFT", "250000000000000000"},
		{"0.000000000000000001 WEFT", "1"},
	} {
		v, err := ParseAmount(c.in)
		if err != nil || v.String() != c.want {
			t.Errorf("ParseAmount(%q) = %v, %v; want %s", c.in, v, err, c.want)
			continue
		}
		back, err := ParseAmount(Amount(v))
		if err != nil || back.Cmp(v) != 0 {
			t.Errorf("ParseAmount(Amount(%s)) = %v, %v", v, back, err)
		}
	}
	for _, bad := range []string{"", "-1", "+1", "1.5", "1e18", "0x10", "1.0000000000000000001 WEFT", "WEFT", ". WEFT", "1.-5 WEFT"} {
		if v, err := ParseAmount(bad); err == nil {
			t.Errorf("ParseAmount(%q) = %v, want an error", bad, v)
		}
	}
}

func TestAddressAndHex(t *testing.T) {
	b := []byte{0xf3, 0x9f, 0xd6, 0xe5, 0x1a, 0xad, 0x88, 0xf6, 0xf4, 0xce, 0x6a, 0xb8, 0x82, 0x72, 0x79, 0xcf, 0xff, 0xb9, 0x22, 0x66}
	if got := Address(b); got != "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" {
		t.Errorf("Address = %s", got)
	}
	if got := Address([]byte{1, 2}); got != "0x0102" {
		t.Errorf("Address(short) = %s", got)
	}
	if got := Hex(nil); got != "0x" {
		t.Errorf("Hex(nil) = %s", got)
	}
}

func TestTimeAndDuration(t *testing.T) {
	if got := Time(time.Time{}); got != "never" {
		t.Errorf("Time(zero) = %s", got)
	}
	if got := Time(time.Date(2026, 12, 7, 16, 0, 0, 123, time.FixedZone("x", 3600))); got != "2026-12-07T15:00:00Z" {
		t.Errorf("Time = %s", got)
	}
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{850 * time.Millisecond, "850ms"},
		{4234 * time.Millisecond, "4.2s"},
		{192 * time.Second, "3m12s"},
		{time.Minute, "1m"},
		{10 * time.Second, "10s"},
		{50 * time.Minute, "50m"},
		{time.Hour, "1h"},
		{time.Hour - 300*time.Millisecond, "1h"},
		{3*time.Hour + 20*time.Second, "3h"},
		{5*time.Hour + 4*time.Minute + 10*time.Second, "5h4m"},
		{51 * time.Hour, "2d3h"},
		{-3 * time.Second, "-3s"},
	} {
		if got := Duration(c.d); got != c.want {
			t.Errorf("Duration(%v) = %s, want %s", c.d, got, c.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	in := "evil\x1b]52;c;aGk=\a\x1b[2K\rok\u202e\tx\nnext"
	want := "evil?]52;c;aGk=??[2K?ok??x\nnext"
	if got := Printable(in); got != want {
		t.Fatalf("Printable(%q) = %q, want %q", in, got, want)
	}
}
