package format

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"

	"github.com/ethereum/go-ethereum/common"
)

// Unit is the name of Weft's token; one Unit is 10^Decimals of the smallest
// unit that balances, fees and stakes are counted in on chain.
const (
	Unit     = "WEFT"
	Decimals = 18
)

var one = new(big.Int).Exp(big.NewInt(10), big.NewInt(Decimals), nil)

// Address is b as an EIP-55 checksummed 0x address; a value that is not 20
// bytes long is shown as plain 0x-hex (so nothing is hidden or padded).
func Address(b []byte) string {
	if len(b) != common.AddressLength {
		return Hex(b)
	}
	return common.BytesToAddress(b).Hex()
}

// Hex is b as lower-case 0x-hex ("0x" for no bytes): hashes, keys, data.
func Hex(b []byte) string { return "0x" + hex.EncodeToString(b) }

// BigEndian reads an unsigned big-endian integer (how the chain stores
// amounts); no bytes is zero.
func BigEndian(b []byte) *big.Int { return new(big.Int).SetBytes(b) }

// Raw is an amount in the smallest unit as a decimal integer string.
func Raw(v *big.Int) string {
	if v == nil {
		return "0"
	}
	return v.String()
}

// Amount is v (in the smallest unit) as a decimal number of Units with the
// unit's name: "1.5 WEFT", "0.000000000000001 WEFT", "10000 WEFT". No
// digits are lost and trailing zeros of the fraction are dropped.
func Amount(v *big.Int) string { return Decimal(v) + " " + Unit }

// Decimal is Amount without the unit's name.
func Decimal(v *big.Int) string {
	if v == nil {
		v = new(big.Int)
	}
	neg := v.Sign() < 0
	q, r := new(big.Int).QuoRem(new(big.Int).Abs(v), one, new(big.Int))
	s := q.String()
	if r.Sign() != 0 {
		frac := strings.TrimRight(fmt.Sprintf("%0*s", Decimals, r.String()), "0")
		s += "." + frac
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ParseAmount reads an amount given by a person: a plain integer is in the
// smallest unit ("1000"), a number followed by the unit's name is in Units
// ("1.5 WEFT", "2WEFT", case-insensitive). Negative amounts, more than
// Decimals fraction digits and anything else are errors that say what is
// accepted.
func ParseAmount(s string) (*big.Int, error) {
	in := strings.TrimSpace(s)
	bad := fmt.Errorf("invalid amount %q: want an integer in the smallest unit (1000) or a number of %s (1.5 %s)", s, Unit, Unit)
	if in == "" {
		return nil, bad
	}
	upper := strings.ToUpper(in)
	if !strings.HasSuffix(upper, Unit) {
		v, ok := new(big.Int).SetString(in, 10)
		if !ok || v.Sign() < 0 || strings.HasPrefix(in, "+") {
			return nil, bad
		}
		return v, nil
	}
	num := strings.TrimSpace(in[:len(in)-len(Unit)])
	whole, frac, _ := strings.Cut(num, ".")
	if whole == "" && frac == "" || len(frac) > Decimals || !digits(whole) || !digits(frac) {
		return nil, bad
	}
	v, _ := new(big.Int).SetString("0"+whole+frac+strings.Repeat("0", Decimals-len(frac)), 10)
	return v, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Time is t in RFC 3339 (UTC, second precision); the zero time is "never".
func Time(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// Duration is d rounded for a person: "850ms", "4.2s", "3m12s", "1m",
// "5h4m", "2d3h".
func Duration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d < time.Second:
		s = d.Round(time.Millisecond).String()
	case d < 10*time.Second:
		s = d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		s = d.Round(time.Second).String()
	case d < 48*time.Hour:
		s = strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	default:
		h := int64(d.Round(time.Hour) / time.Hour)
		s = fmt.Sprintf("%dd%dh", h/24, h%24)
	}
	// "1m", not "1m0s"; "1h", not "1h0m".
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Printable is s with every control and bidi-control character but a
// newline replaced by '?': text from the chain or a node (a validator's
// moniker, an error message) cannot move the cursor, rewrite lines, set
// the clipboard through a terminal escape, or reorder what is shown.
func Printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
			return '?'
		}
		return r
	}, s)
}
