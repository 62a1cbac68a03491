// Package table writes results as an aligned table for people: one line per
// IOC with its verdict, score, confidence and top two reasons, coloured by
// verdict when Options.Color is set (on a terminal), and a footer that
// counts the verdicts and says which providers were skipped, deferred or
// failed and why, so a run without API keys says plainly what it left out.
//
// Lines are written as each result arrives. Columns have fixed widths so
// that streaming needs no look-ahead; a value longer than its column
// (a long URL) pushes that line's reasons to the right rather than being cut.
// Control characters from provider text are replaced, so a hostile summary
// cannot drive the terminal.
package table

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/iocane/iocane/internal/output"
	"github.com/iocane/iocane/internal/result"
)

func init() {
	output.Register("table", func(w io.Writer, opt output.Options) output.Writer { return New(w, opt) })
}

// valueWidth is the width of the VALUE column: a SHA-1 or a typical URL.
const valueWidth = 40

// ANSI colours per verdict.
var colours = map[result.Verdict]string{
	result.Malicious:  "\x1b[1;31m",
	result.Suspicious: "\x1b[33m",
	result.Benign:     "\x1b[32m",
	result.Unknown:    "\x1b[2m",
}

const reset = "\x1b[0m"

// Writer writes the table; see the package doc.
type Writer struct {
	w      *bufio.Writer
	color  bool
	n      int
	counts map[result.Verdict]int
	// groups collects non-answering providers by status, then reason.
	groups map[string]*group
}

type group struct {
	reasons []string            // in order of first appearance
	by      map[string][]string // reason -> providers
}

var _ output.Writer = (*Writer)(nil)

// New returns a table Writer over w.
func New(w io.Writer, opt output.Options) *Writer {
	return &Writer{w: bufio.NewWriter(w), color: opt.Color, counts: map[result.Verdict]int{}, groups: map[string]*group{}}
}

func (w *Writer) paint(code, s string) string {
	if !w.color || code == "" {
		return s
	}
	return code + s + reset
}

// Write writes one line for r.
func (w *Writer) Write(r result.Result) error {
	if w.n == 0 {
		head := fmt.Sprintf("%-10s %5s %4s  %-6s  %-*s  %s", "VERDICT", "SCORE", "CONF", "TYPE", valueWidth, "VALUE", "REASONS")
		fmt.Fprintln(w.w, w.paint("\x1b[1m", head))
	}
	w.n++
	w.counts[r.Verdict]++
	top := r.Reasons[:min(2, len(r.Reasons))]
	verdict := fmt.Sprintf("%-10s", clean(string(r.Verdict)))
	fmt.Fprintf(w.w, "%s %5d %4d  %-6s  %-*s  %s\n", w.paint(colours[r.Verdict], verdict), r.Score, r.Confidence,
		clean(string(r.IOC.Type)), valueWidth, clean(r.IOC.Value), clean(strings.Join(top, "; ")))
	for _, s := range r.Sources {
		if s.Status == "skipped" || s.Status == "rate_limited" || s.Status == "error" {
			w.note(s.Status, s.Reason, s.Provider)
		}
	}
	return w.w.Flush()
}

func (w *Writer) note(status, reason, name string) {
	g := w.groups[status]
	if g == nil {
		g = &group{by: map[string][]string{}}
		w.groups[status] = g
	}
	if _, seen := g.by[reason]; !seen {
		g.reasons = append(g.reasons, reason)
	}
	if !slices.Contains(g.by[reason], name) {
		g.by[reason] = append(g.by[reason], name)
	}
}

// Close writes the footer and flushes.
func (w *Writer) Close() error {
	if w.n == 0 {
		fmt.Fprintln(w.w, "no IOCs")
		return w.w.Flush()
	}
	var parts []string
	for _, v := range []result.Verdict{result.Malicious, result.Suspicious, result.Benign, result.Unknown} {
		if c := w.counts[v]; c > 0 {
			parts = append(parts, w.paint(colours[v], fmt.Sprintf("%d %s", c, v)))
		}
	}
	noun := "IOCs"
	if w.n == 1 {
		noun = "IOC"
	}
	fmt.Fprintf(w.w, "\n%d %s: %s\n", w.n, noun, strings.Join(parts, ", "))
	for _, st := range []struct{ status, label string }{
		{"skipped", "skipped"}, {"rate_limited", "deferred (quota)"}, {"error", "failed"},
	} {
		g := w.groups[st.status]
		if g == nil {
			continue
		}
		var items []string
		for _, reason := range g.reasons {
			names := slices.Sorted(slices.Values(g.by[reason]))
			item := strings.Join(names, ", ")
			if reason != "" {
				item += " (" + reason + ")"
			}
			items = append(items, item)
		}
		fmt.Fprintf(w.w, "%s: %s\n", st.label, clean(strings.Join(items, "; ")))
	}
	return w.w.Flush()
}

// clean replaces control characters, which could move the cursor or change
// colours, with U+FFFD.
func clean(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
