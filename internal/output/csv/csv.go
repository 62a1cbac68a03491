// Package csv writes one CSV row per IOC (RFC 4180, header first):
//
//	type,value,verdict,score,confidence,dbot_score,tlp,reasons,sources,enriched_at
//
// reasons are joined by " | " and sources are "provider:status" pairs joined
// by ";". Rows are written as results arrive. A cell that a spreadsheet
// would run as a formula (starting with =, +, -, @, tab or CR) is prefixed
// with a single quote, the OWASP advice against CSV injection; IOC values
// never start with those characters, so they are never altered.
package csv

import (
	enccsv "encoding/csv"
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
	w      *enccsv.Writer
	header bool
}

var _ output.Writer = (*Writer)(nil)

// New returns a CSV Writer over w.
func New(w io.Writer) *Writer { return &Writer{w: enccsv.NewWriter(w)} }

func (w *Writer) writeHeader() {
	if !w.header {
		w.header = true
		w.w.Write(Header)
	}
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
	for i := range row {
		row[i] = defuse(row[i])
	}
	w.w.Write(row)
	w.w.Flush()
	return w.w.Error()
}

// Close writes the header if no row was written, and flushes.
func (w *Writer) Close() error {
	w.writeHeader()
	w.w.Flush()
	return w.w.Error()
}

func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
