package view

import (
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"
	"text/tabwriter"

	"github.com/weftnet/weft/format"
)

// Format is how an answer is printed.
type Format int

const (
	// Text is aligned "key  value" lines and tables, for a terminal.
	Text Format = iota
	// JSON is one JSON object per answer (one line per item of a stream).
	JSON
)

// ParseFormat reads --output: "text" or "json".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "text":
		return Text, nil
	case "json":
		return JSON, nil
	}
	return Text, fmt.Errorf("--output %q: want text or json", s)
}

// Viewer is an answer: encoding/json prints it as JSON, WriteText as text.
type Viewer interface {
	WriteText(t *TextWriter)
}

// Print writes v to w as f: indented JSON, or its text.
func Print(w io.Writer, f Format, v Viewer) error {
	if f == JSON {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	var t TextWriter
	v.WriteText(&t)
	_, err := io.WriteString(w, t.String())
	return err
}

// PrintLine writes v to w as one line: compact JSON, or its text; for
// streams (one answer per line).
func PrintLine(w io.Writer, f Format, v Viewer) error {
	if f == JSON {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	var t TextWriter
	v.WriteText(&t)
	_, err := io.WriteString(w, t.String())
	return err
}

// Amounts formats token amounts: decimal WEFT with the unit ("1.5 WEFT"),
// or with Raw the integer in the smallest unit ("1500000000000000000").
type Amounts struct {
	Raw bool
}

// Big is v as an amount.
func (a Amounts) Big(v *big.Int) string {
	if a.Raw {
		return format.Raw(v)
	}
	return format.Amount(v)
}

// Of is the big-endian integer b (how the chain stores amounts) as an
// amount.
func (a Amounts) Of(b []byte) string { return a.Big(format.BigEndian(b)) }

// TextWriter collects the text of an answer: runs of key/value fields,
// aligned on the longest key of the run, tables with a header row, and
// plain lines, separated as written.
type TextWriter struct {
	b      strings.Builder
	fields [][2]string
}

// Field adds a "key  value" line; consecutive fields are aligned.
func (t *TextWriter) Field(key string, value any) {
	t.fields = append(t.fields, [2]string{key, format.Printable(fmt.Sprint(value))})
}

// List adds a field whose values each take a line, aligned under the
// first; none is shown as empty ("none" unless given).
func (t *TextWriter) List(key string, values []string, empty string) {
	if len(values) == 0 {
		t.Field(key, empty)
		return
	}
	for i, v := range values {
		if i > 0 {
			key = ""
		}
		t.Field(key, v)
	}
}

// Line adds a line (control characters shown as '?').
func (t *TextWriter) Line(layout string, args ...any) {
	t.flush()
	t.b.WriteString(format.Printable(fmt.Sprintf(layout, args...)) + "\n")
}

// Table adds a table: an upper-case header row and aligned columns. A
// table without rows is the line empty instead.
func (t *TextWriter) Table(header []string, rows [][]string, empty string) {
	t.flush()
	if len(rows) == 0 {
		t.b.WriteString(empty + "\n")
		return
	}
	tw := tabwriter.NewWriter(&t.b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(header, "\t")))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = format.Printable(c) // a tab becomes '?' too: it would break the columns
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	t.trimTrailing()
}

// String is the text written so far.
func (t *TextWriter) String() string {
	t.flush()
	return t.b.String()
}

// flush writes the pending run of fields, aligned.
func (t *TextWriter) flush() {
	if len(t.fields) == 0 {
		return
	}
	width := 0
	for _, f := range t.fields {
		width = max(width, len(f[0]))
	}
	for _, f := range t.fields {
		fmt.Fprintf(&t.b, "%-*s  %s\n", width, f[0], f[1])
	}
	t.fields = nil
}

// trimTrailing drops the spaces tabwriter leaves at the end of lines
// whose last cell is shorter than its column.
func (t *TextWriter) trimTrailing() {
	lines := strings.Split(t.b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	t.b.Reset()
	t.b.WriteString(strings.Join(lines, "\n"))
}
