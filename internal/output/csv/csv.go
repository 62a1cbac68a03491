// Package csv writes one CSV row per IOC (RFC 4180, header first):
//
//	type,value,verdict,score,confidence,dbot_score,tlp,reasons,sources,enriched_at
//
// reasons are joined by " | " and sources are "provider:status" pairs joined
// by ";". Rows are written as results arrive, with CRLF line endings as RFC
// 4180 says. A cell that a spreadsheet would run as a formula (starting with
// =, +, -, @, tab or CR) is prefixed with a single quote, the OWASP advice
// against CSV injection, except the IOC value, which the contract never
// alters (an e-mail address may start with + or -): it is quoted instead.
package csv

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/output"
	"github.com/iocane/iocane/internal/result"
)

func init() {
	output.Register("csv", func(w io.Writer, _ output.Options) output.Writer { return New(w) })
}

// Header is the first row.
var Header = []string{"type", "value", "verdict", "score", "confidence", "dbot_score", "tlp", "reasons", "sources", "enriched_at"}

// Writer writes CSV rows; see the package doc.
type Writer struct {
	w      *bufio.Writer
	header bool
}

var _ output.Writer = (*Writer)(nil)

// New returns a CSV Writer over w.
func New(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w)} }

func (w *Writer) writeHeader() {
	if !w.header {
		w.header = true
		w.row(Header, -1)
	}
}

// valueColumn is the index of the IOC value, which is quoted, not defused.
const valueColumn = 1

// row writes one record: each field quoted when it holds a comma, a quote,
// a line break or leading space, or is the IOC value starting with a
// formula character; a field f other than that value is defused first.
func (w *Writer) row(fields []string, value int) {
	for i, f := range fields {
		if i > 0 {
			w.w.WriteByte(',')
		}
		quote := strings.ContainsAny(f, ",\"\r\n") || strings.HasPrefix(f, " ")
		if i == value {
			quote = quote || formula(f)
		} else {
			f = defuse(f)
		}
		if !quote {
			w.w.WriteString(f)
			continue
		}
		w.w.WriteByte('"')
		w.w.WriteString(strings.ReplaceAll(f, `"`, `""`))
		w.w.WriteByte('"')
	}
	w.w.WriteString("\r\n")
}

// Write writes r's row.
func (w *Writer) Write(r result.Result) error {
	w.writeHeader()
	sources := make([]string, len(r.Sources))
	for i, s := range r.Sources {
		sources[i] = s.Provider + ":" + s.Status
	}
	row := []string{string(r.IOC.Type), r.IOC.Value, string(r.Verdict), strconv.Itoa(r.Score), strconv.Itoa(r.Confidence),
		strconv.Itoa(r.DBotScore), r.TLP.String(), strings.Join(r.Reasons, " | "), strings.Join(sources, ";"),
		r.EnrichedAt.UTC().Format(time.RFC3339)}
	w.row(row, valueColumn)
	return w.w.Flush()
}

// Close writes the header if no row was written, and flushes.
func (w *Writer) Close() error {
	w.writeHeader()
	return w.w.Flush()
}

// formula reports whether a spreadsheet would run s as a formula.
func formula(s string) bool { return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) }

func defuse(s string) string {
	if formula(s) {
		return "'" + s
	}
	return s
}
