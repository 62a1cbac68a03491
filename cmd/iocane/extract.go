package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/ioc"
)

func init() { addCommand(newExtractCmd) }

// extractRecord is one line of `iocane extract` output: the design.md
// contract {"type","value"} plus where the IOC came from.
type extractRecord struct {
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

func newExtractCmd() *cobra.Command {
	var format, inFormat, column, types string
	var maxSize int64
	var maxDistinct int
	c := &cobra.Command{
		Use:   "extract [FILE...]",
		Short: "Extract IOCs from text, SIEM alerts, e-mails, STIX, MISP or CSV",
		Long: `extract finds the indicators of compromise in each FILE (standard input when
there is none, or for "-") and prints each once: refanged, normalised and
deduplicated across the whole run. The host of every URL and e-mail address
is printed too, as a domain or IP. Internal and reserved values are printed
with "internal": true and the reason; later stages never send them out.

The input format is detected from the file name and content, or set with
--input-format:
  text  anything; defanged forms (hxxps://, [.], [at]) are refanged. A
        binary (a NUL byte in its first 8 KiB: an executable, a dump) is
        read for its strings of 6 characters or more, ASCII, UTF-8 and
        UTF-16LE, as strings(1) shows them
  json  SIEM alerts (Splunk webhook, Elastic) or any JSON / JSON Lines;
        "path" is the JSON path the IOC came from
  eml   an e-mail: sender addresses, Received chain (the originating public
        IP has context.originating_ip), URLs in text and HTML (a link whose
        text shows another domain has context.mismatch), attachment hashes
  stix  a STIX 2.1 bundle: indicator patterns and observables, with TLP
  misp  a MISP event: attributes and object attributes, with TLP tags
  csv   the IOC column is detected, or named with --column

A file that cannot be read, or is malformed, is reported on stderr and the
exit status is 1, but the other files are still read and their IOCs printed.`,
		Example: `  # IOCs in a phishing e-mail, one JSON object per line
  iocane extract suspicious.eml

  # From a pasted report on standard input, one value per line
  pbpaste | iocane extract --format text

  # Only the IPs and URLs of a Splunk alert
  iocane extract --types ipv4,ipv6,url alert.json

  # The "indicator" column of a CSV export, as CSV
  iocane extract --column indicator --format csv feed.csv

  # A JSON array of everything in several files
  iocane extract --format json report.txt bundle.json event.json`,
		RunE: func(c *cobra.Command, args []string) error {
			inf, err := input.ParseFormat(inFormat)
			if err != nil {
				return usagef("--input-format: %v", err)
			}
			want, err := parseTypes(types)
			if err != nil {
				return usagef("--types: %v", err)
			}
			w, err := newExtractWriter(c.OutOrStdout(), format)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				args = []string{"-"}
			}
			opt := input.Options{Format: inf, Column: column, MaxSize: maxSize}
			if maxDistinct < 0 {
				return usagef("--max-distinct: %d is negative (0 means no limit)", maxDistinct)
			}
			d := &dedupWriter{w: w, want: want, max: maxDistinct, warn: c.ErrOrStderr()}
			var errs []error
			for _, name := range args {
				err := extractOne(c, name, opt, d)
				var we writeError
				if errors.As(err, &we) {
					_ = w.close()
					return err // the output is gone; nothing more to do
				}
				if errors.Is(err, input.ErrTruncated) {
					fmt.Fprintln(c.ErrOrStderr(), "iocane: warning:", err)
					continue
				}
				if err != nil {
					errs = append(errs, err)
				}
			}
			if err := w.close(); err != nil {
				return err
			}
			return errors.Join(errs...)
		},
	}
	f := c.Flags()
	f.StringVar(&format, "format", "jsonl", "output format: jsonl, json (one array), csv (with a header) or text (one value per line)")
	f.StringVar(&inFormat, "input-format", "auto", "input format: auto, text, json, eml, stix, misp or csv")
	f.StringVar(&column, "column", "", "CSV: the column holding IOCs, by header name or 1-based index (default: detected)")
	f.StringVar(&types, "types", "", "only these IOC types, comma-separated (e.g. ipv4,ipv6,url,sha256)")
	f.Int64Var(&maxSize, "max-size", input.DefaultMaxSize, "largest e-mail, STIX or MISP document read, in bytes")
	f.IntVar(&maxDistinct, "max-distinct", defaultMaxDistinct, "most distinct IOCs remembered to print each once (about 50 bytes each); later ones may print more than once; 0: no limit")
	return c
}

// extractOne reads one named input ("-" is standard input).
func extractOne(c *cobra.Command, name string, opt input.Options, d *dedupWriter) error {
	var r io.Reader = c.InOrStdin()
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
				hint := min(st.Size()/extractDensity, 1<<22)
				if d.max > 0 {
					hint = min(hint, int64(d.max))
				}
				d.seen.Grow(int(hint))
			}
		}
		r = f
	}
	return input.ReadBatches(c.Context(), r, name, opt, d.add)
}

// dedupWriter prints each IOC of the run once, in the order first found.
// It takes the items a batch at a time and deduplicates each batch at once
// (ioc.Set.AddAll): on the hundreds of thousands of values of a large input
// that takes about half the time of one look-up after another.
type dedupWriter struct {
	w     *extractWriter
	want  map[ioc.Type]bool // nil: every type
	max   int               // most distinct values remembered; 0: no limit
	warn  io.Writer         // where the warning goes once max is reached
	full  bool              // a value was not remembered, and the warning given
	seen  ioc.Set
	kept  []input.Item // the batch's items of the wanted types
	iocs  []ioc.IOC
	isNew []bool
}

// defaultMaxDistinct bounds the memory deduplication takes, at about 50
// bytes a value: 10 million distinct IOCs is half a gigabyte, and more
// than any SIEM export or feed a SOC reads in one go.
const defaultMaxDistinct = 10_000_000

// extractDensity is about how many bytes of a large input hold one distinct
// IOC; extractOne sizes the set of values seen from it. SIEM exports and
// feeds are denser than that and prose is sparser: the estimate saves the
// set some of its growing, and costs little memory when too high.
const extractDensity = 128

// add prints the new items of a batch; its error is a writeError.
func (d *dedupWriter) add(items []input.Item) error {
	if d.want != nil {
		d.kept = d.kept[:0]
		for _, it := range items {
			if d.want[it.Type] {
				d.kept = append(d.kept, it)
			}
		}
		items = d.kept
		defer clear(d.kept) // drop the strings held
	}
	d.iocs = d.iocs[:0]
	for k := range items {
		d.iocs = append(d.iocs, items[k].IOC)
	}
	d.isNew = slices.Grow(d.isNew[:0], len(items))[:len(items)]
	if d.max == 0 || d.seen.Len()+len(items) <= d.max {
		d.seen.AddAll(d.iocs, d.isNew)
	} else {
		// Reaching the limit: what was seen is still recognised, the
		// rest is printed each time it comes, and memory stops growing.
		for k, i := range d.iocs {
			if d.seen.Len() < d.max {
				d.isNew[k] = d.seen.Add(i)
				continue
			}
			d.isNew[k] = !d.seen.Has(i)
			if d.isNew[k] && !d.full {
				d.full = true
				fmt.Fprintf(d.warn, "iocane: warning: %d distinct IOCs seen: later ones are no longer remembered and may be printed more than once (--max-distinct)\n", d.seen.Len())
			}
		}
	}
	for k := range items {
		if !d.isNew[k] {
			continue
		}
		it := &items[k]
		rec := extractRecord{Type: it.Type, Value: it.Value, Source: it.Source, Path: it.Path, TLP: it.TLP, Context: it.Context}
		if it.Raw != it.Value {
			rec.Raw = it.Raw
		}
		rec.Internal, rec.InternalReason = ioc.Internal(it.IOC)
		if err := d.w.write(&rec); err != nil {
			return writeError{err}
		}
	}
	clear(d.iocs)
	return nil
}

// unwrapPath drops the *PathError wrapper, whose message repeats the name.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writeError marks a failure to write the output, which ends the run.
type writeError struct{ err error }

func (w writeError) Error() string { return "writing output: " + w.err.Error() }
func (w writeError) Unwrap() error { return w.err }

func parseTypes(s string) (map[ioc.Type]bool, error) {
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

// extractWriter prints records in one output format.
type extractWriter struct {
	out    *bufio.Writer
	format string
	csv    *csv.Writer
	enc    recordEncoder
	n      int
}

var extractFormats = []string{"jsonl", "json", "csv", "text"}

func newExtractWriter(out io.Writer, format string) (*extractWriter, error) {
	format = strings.ToLower(format)
	if !slices.Contains(extractFormats, format) {
		return nil, usagef("--format: unknown output format %q (want jsonl, json, csv or text)", format)
	}
	w := &extractWriter{out: bufio.NewWriterSize(out, 64<<10), format: format}
	switch format {
	case "csv":
		w.csv = csv.NewWriter(w.out)
		if err := w.csv.Write([]string{"type", "value", "raw", "source", "path", "internal", "internal_reason", "tlp", "context"}); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *extractWriter) write(r *extractRecord) error {
	w.n++
	switch w.format {
	case "json":
		if w.n > 1 {
			if _, err := w.out.WriteString(","); err != nil {
				return err
			}
		} else if _, err := w.out.WriteString("["); err != nil {
			return err
		}
		b := append(w.enc.append(w.out.AvailableBuffer(), r), '\n') // the newline ends the element
		_, err := w.out.Write(b)
		return err
	case "csv":
		ctx := ""
		if len(r.Context) > 0 {
			b, _ := json.Marshal(r.Context)
			ctx = string(b)
		}
		internal := ""
		if r.Internal {
			internal = "true"
		}
		return w.csv.Write([]string{string(r.Type), r.Value, r.Raw, r.Source, r.Path, internal, r.InternalReason, r.TLP, ctx})
	case "text":
		b := append(append(w.out.AvailableBuffer(), r.Value...), '\n')
		_, err := w.out.Write(b)
		return err
	}
	// Encoded in place in the output buffer: Write then copies nothing
	// unless the record did not fit.
	b := append(w.enc.append(w.out.AvailableBuffer(), r), '\n')
	_, err := w.out.Write(b)
	return err
}

// close ends the output and flushes it.
func (w *extractWriter) close() error {
	switch w.format {
	case "json":
		end := "]\n"
		if w.n == 0 {
			end = "[]\n"
		}
		if _, err := w.out.WriteString(end); err != nil {
			return err
		}
	case "csv":
		w.csv.Flush()
		if err := w.csv.Error(); err != nil {
			return err
		}
	}
	return w.out.Flush()
}
