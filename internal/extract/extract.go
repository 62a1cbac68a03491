// Package extract is the `iocane extract` contract: it reads inputs with
// internal/input and prints each IOC of the whole run once, refanged,
// normalised and marked internal where it is, as JSON Lines, one JSON
// array, CSV or plain values. cmd/iocane keeps only the flags and help.
package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/ioc"
)

// Record is one line of output: the design contract {"type","value"} plus
// where the IOC came from.
type Record struct {
	Type           ioc.Type          `json:"type"`
	Value          string            `json:"value"`
	Raw            string            `json:"raw,omitempty"`
	Source         string            `json:"source,omitempty"`
	Path           string            `json:"path,omitempty"`
	Internal       bool              `json:"internal,omitempty"`
	InternalReason string            `json:"internal_reason,omitempty"`
	TLP            string            `json:"tlp,omitempty"`
	Context        map[string]string `json:"context,omitempty"`
}

// Formats are the output formats, the first the default.
var Formats = []string{"jsonl", "json", "csv", "text"}

// DefaultMaxDistinct bounds the memory deduplication takes, at about 50
// bytes a value: 10 million distinct IOCs is half a gigabyte, and more
// than any SIEM export or feed a SOC reads in one go.
const DefaultMaxDistinct = 10_000_000

// Options configure a Run.
type Options struct {
	// Format is one of Formats.
	Format string
	// Input says how inputs are read (format, CSV column, size cap).
	Input input.Options
	// Types keeps only these IOC types; nil keeps every type.
	Types map[ioc.Type]bool
	// MaxDistinct is the most distinct values remembered to print each
	// once; 0 means no limit.
	MaxDistinct int
	// Stdin is read for the name "-".
	Stdin io.Reader
	// Warn receives warnings (a truncated input, the distinct limit
	// reached). Never nil.
	Warn io.Writer
}

// Run reads each named input ("-" is Options.Stdin) and prints its IOCs to
// out. An input that cannot be read or is malformed does not stop the
// others: its error is joined into the one returned, after everything else
// was printed. A failure to write out ends the run with a *WriteError.
func Run(ctx context.Context, names []string, out io.Writer, o Options) error {
	w, err := newWriter(out, o.Format)
	if err != nil {
		return err
	}
	d := &dedupWriter{w: w, want: o.Types, max: o.MaxDistinct, warn: o.Warn}
	var errs []error
	for _, name := range names {
		err := d.read(ctx, name, o)
		var we *WriteError
		if errors.As(err, &we) {
			_ = w.close()
			return err // the output is gone; nothing more to do
		}
		if errors.Is(err, input.ErrTruncated) {
			fmt.Fprintln(o.Warn, "iocane: warning:", err)
			continue
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := w.close(); err != nil {
		return &WriteError{err}
	}
	return errors.Join(errs...)
}

// ParseTypes reads a comma-separated list of IOC types; "hash" stands for
// every hash type. An empty list is nil: every type.
func ParseTypes(s string) (map[ioc.Type]bool, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	want := map[ioc.Type]bool{}
	for _, p := range strings.Split(s, ",") {
		t := ioc.Type(strings.ToLower(strings.TrimSpace(p)))
		if t == "" {
			continue
		}
		if t == "hash" {
			for _, h := range []ioc.Type{ioc.MD5, ioc.SHA1, ioc.SHA256, ioc.SHA512} {
				want[h] = true
			}
			continue
		}
		if !t.Valid() {
			names := make([]string, len(ioc.Types))
			for i, k := range ioc.Types {
				names[i] = string(k)
			}
			return nil, fmt.Errorf("unknown IOC type %q (want %s or hash)", p, strings.Join(names, ", "))
		}
		want[t] = true
	}
	return want, nil
}

// CheckFormat returns an error naming the valid formats when format is
// not one of them.
func CheckFormat(format string) error {
	if !slices.Contains(Formats, strings.ToLower(format)) {
		return fmt.Errorf("unknown output format %q (want %s)", format, strings.Join(Formats, ", "))
	}
	return nil
}

// WriteError is a failure to write the output, which ends the run.
type WriteError struct{ Err error }

func (w *WriteError) Error() string { return "writing output: " + w.Err.Error() }
func (w *WriteError) Unwrap() error { return w.Err }

// density is about how many bytes of a large input hold one distinct IOC;
// read sizes the set of values seen from it. SIEM exports and feeds are
// denser than that and prose is sparser: the estimate saves the set some of
// its growing, and costs little memory when too high.
const density = 128

// read reads one named input ("-" is standard input).
func (d *dedupWriter) read(ctx context.Context, name string, o Options) error {
	r := o.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("%s: cannot read: %w", name, unwrapPath(err))
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			if st.IsDir() {
				return fmt.Errorf("%s: is a directory", name)
			}
			if st.Mode().IsRegular() {
				hint := min(st.Size()/density, 1<<22)
				if d.max > 0 {
					hint = min(hint, int64(d.max))
				}
				d.seen.Grow(int(hint))
			}
		}
		r = f
	}
	return input.ReadBatches(ctx, r, name, o.Input, d.add)
}

// unwrapPath drops the *PathError wrapper, whose message repeats the name.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
