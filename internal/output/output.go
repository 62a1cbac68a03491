// Package output writes enrichment results in the formats SOC tools read:
// an aligned table for people, JSON and JSONL (the result contract of
// docs/design.md), CSV, a STIX 2.1 bundle, a MISP event, Cortex analyzer reports
// and XSOAR context.
//
// Each format lives in its own package under internal/output/ and registers
// a Factory in init(); internal/output/all imports every one, as
// provider/all does for providers. Streaming formats (table, jsonl, json,
// csv) write each result as it arrives, so a bulk run's memory stays flat;
// whole-document formats (stix, misp, cortex, dbot) keep the results and
// write one document on Close.
package output

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// Namespace is iocane's UUIDv5 namespace for the ids of the documents and
// objects it writes.
const Namespace = "6f1f3c2e-58a4-4e0b-9d7e-2a9c5b1e4d73"

// Writer writes results in one format. Write is called once per result and
// Close once at the end, when whole-document formats write their document.
// A Writer is not safe for concurrent use.
type Writer interface {
	Write(r result.Result) error
	Close() error
}

// Options tunes the writers. The zero value is valid.
type Options struct {
	// Color turns on ANSI colours in the table format; set it only when
	// writing to a terminal. Default off.
	Color bool
	// Reliability is the XSOAR source reliability given to iocane's verdicts
	// in dbot output. Default "B - Usually reliable".
	Reliability string
	// Now stamps documents written with no results. Default time.Now.
	Now func() time.Time
	// TLP is the input's marking: a document that carries one (MISP) is
	// marked at least this strictly, even with no results. The zero value
	// is TLP:CLEAR.
	TLP tlp.Level
	// Width is the terminal's width in columns: the table format fits each
	// line to it by cutting the reasons (and, when even that is not enough,
	// the middle of a long value) so that no line wraps. The other formats
	// ignore it; the full text is always in --format json. 0: no limit.
	Width int
}

// Time returns Options.Now(), or time.Now when unset, in UTC.
func (o Options) Time() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

// Factory builds a Writer over w.
type Factory func(w io.Writer, opt Options) Writer

var (
	mu      sync.RWMutex
	formats = map[string]Factory{}
)

// Register adds a format. It panics on a duplicate name, a programming error.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := formats[name]; dup {
		panic("output: Register called twice for " + name)
	}
	formats[name] = f
}

// New returns a Writer for format over w. The format's package must be
// imported (internal/output/all imports them all).
func New(format string, w io.Writer, opt Options) (Writer, error) {
	mu.RLock()
	f, ok := formats[format]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("output: unknown format %q (want one of %v)", format, Formats())
	}
	return f(w, opt), nil
}

// Formats lists the registered format names, sorted.
func Formats() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(formats))
	for name := range formats {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Normalize returns r with nil Reasons and Sources replaced by empty slices,
// so JSON carries [] as the contract shows rather than null.
func Normalize(r result.Result) result.Result {
	if r.Reasons == nil {
		r.Reasons = []string{}
	}
	if r.Sources == nil {
		r.Sources = []result.Source{}
	}
	return r
}

// Links returns the permalinks of r's sources, in source order, each with
// its provider and summary.
func Links(r result.Result) []result.Source {
	var out []result.Source
	for _, s := range r.Sources {
		if s.Link != "" {
			out = append(out, s)
		}
	}
	return out
}

// Tags returns the distinct tags of r's sources, sorted.
func Tags(r result.Result) []string {
	var out []string
	for _, s := range r.Sources {
		out = append(out, s.Tags...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
