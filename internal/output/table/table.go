// Package table writes results as an aligned table for people: one line per
// IOC with its verdict, score, confidence and top two reasons, coloured by
// verdict when Options.Color is set (on a terminal), and a footer that
// counts the verdicts and says which providers were skipped, deferred or
// failed and why, so a run without API keys says plainly what it left out.
//
// Lines are written as each result arrives. Columns have fixed widths so
// that streaming needs no look-ahead; a value longer than its column
// (a long URL) pushes that line's reasons to the right. With
// Options.Width (a terminal's width) each line is fitted to it so that
// none wraps: the reasons are cut, ending in "…" (or left out when fewer
// than a few characters would fit), and a value longer than a SHA-256 that
// would leave no room for reasons is cut in its middle. A hash is never
// cut, since an analyst copies it; on a terminal too narrow for one, that
// line wraps. The full text is in the other formats.
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
	"unicode/utf8"

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
	width  int
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
	return &Writer{w: bufio.NewWriter(w), color: opt.Color, width: opt.Width, counts: map[result.Verdict]int{}, groups: map[string]*group{}}
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
	joined := strings.Join(top, "; ")
	if r.Changed() {
		// A verdict that changed since the IOC was last enriched says so
		// first: that is what an analyst re-reading an alert looks for.
		joined = "(was " + string(r.PreviousVerdict) + ") " + joined
	}
	value, reasons := w.fit(clean(r.IOC.Value), clean(joined))
	line := fmt.Sprintf("%s %5d %4d  %-6s  %-*s  %s", w.paint(colours[r.Verdict], verdict), r.Score, r.Confidence,
		clean(string(r.IOC.Type)), valueWidth, value, reasons)
	fmt.Fprintln(w.w, strings.TrimRight(line, " "))
	for _, s := range r.Sources {
		if s.Status == "skipped" || s.Status == "rate_limited" || s.Status == "error" {
			w.note(s.Status, s.Reason, s.Provider)
		}
	}
	return w.w.Flush()
}

// fixedWidth is the width of a line before its VALUE column: verdict,
// score, confidence, type and their gaps.
const fixedWidth = 10 + 1 + 5 + 1 + 4 + 2 + 6 + 2

// Fitting a line to the terminal: a value longer than keepWhole may be cut
// to leave minReasons columns of reasons, and reasons are shown only when
// at least fewReasons columns are left for them.
const (
	keepWhole  = 64 // a SHA-256
	minReasons = 24
	fewReasons = 8
)

// fit cuts value and reasons so that a line fits w.width columns (one
// fewer, since a terminal may wrap a line that fills its last column).
func (w *Writer) fit(value, reasons string) (string, string) {
	if w.width <= 0 {
		return value, reasons
	}
	room := w.width - 1 - fixedWidth
	if v := utf8.RuneCountInString(value); v > keepWhole && v+2+minReasons > room {
		value = cutMiddle(value, max(keepWhole, room-2-minReasons))
	}
	room -= max(valueWidth, utf8.RuneCountInString(value)) + 2
	if room < fewReasons {
		return value, ""
	}
	return value, cutEnd(reasons, room)
}

// cutEnd keeps the first n-1 runes of s and "…" when s is longer than n.
func cutEnd(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// cutMiddle keeps both ends of s around "…" in n runes, since the end of a
// URL (its path) tells as much as its host.
func cutMiddle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	head := (n - 1) / 2
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
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
