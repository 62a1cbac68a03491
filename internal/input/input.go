// Package input turns what a SOC receives — plain text, SIEM alerts in JSON,
// phishing e-mails, STIX 2.1 bundles, MISP events and CSV exports — into
// typed, normalised IOCs, each with where in the input it was found.
//
// Every reader streams or bounds what it holds: text, JSON and CSV are read
// token by token (one JSON string, CSV line or text window at a time, each
// capped), e-mail parts are decoded one at a time with attachments hashed as
// they stream, and the whole-document formats (STIX, MISP) are capped at
// Options.MaxSize. Bad input gets an *Error naming the input, the format,
// where and what; items found before the problem stay emitted. Readers never
// deduplicate across an input (the caller does that per run); the e-mail
// reader merges repeats within one message so that the facts found about a
// link (for example a mismatched link text) are kept together.
package input

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

// Format names an input format.
type Format string

// The input formats.
const (
	Auto Format = "auto"
	Text Format = "text"
	JSON Format = "json"
	EML  Format = "eml"
	STIX Format = "stix"
	MISP Format = "misp"
	CSV  Format = "csv"
)

// Formats lists the concrete formats (everything but Auto).
var Formats = []Format{Text, JSON, EML, STIX, MISP, CSV}

// ParseFormat reads a format name as given to --input-format.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if f == "" || f == Auto {
		return Auto, nil
	}
	for _, k := range Formats {
		if f == k {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown input format %q (want auto, text, json, eml, stix, misp or csv)", s)
}

// Item is one IOC found in an input.
type Item struct {
	ioc.IOC
	// Raw is the original (defanged) text, when it differs from Value.
	Raw string
	// Source is the input's name ("-" for standard input).
	Source string
	// Path says where in the input the IOC was found: a JSON path
	// ($.result.src_ip), an e-mail header or part ("header:From",
	// "body:text/html", "attachment:invoice.zip"), a CSV cell ("row 12 col
	// url"), a STIX object id or a MISP attribute uuid. Empty for plain text.
	Path string
	// TLP is the TLP marking the input carries for this item (a MISP tag, a
	// STIX marking), lower case as tlp.Level prints it; "" when none.
	TLP string
	// Context holds extra facts, e.g. "filename" of an attachment,
	// "link_text_domain" and "mismatch" for a deceptive link,
	// "originating_ip", MISP "category" and "to_ids".
	Context map[string]string
}

// Options tune Read.
type Options struct {
	// Format is the input format; "" or Auto detects it (see Detect).
	Format Format
	// Column picks the CSV column holding IOCs, by header name or 1-based
	// index; "" detects it.
	Column string
	// MaxSize caps the bytes read from one input for the formats that must
	// hold a whole document (STIX, MISP) and the total size of an e-mail; it
	// also caps one JSON token or CSV line when smaller than the 16 MiB
	// default. 0 means DefaultMaxSize.
	MaxSize int64
}

// DefaultMaxSize is the default Options.MaxSize: 64 MiB.
const DefaultMaxSize = 64 << 20

// maxToken caps one JSON string or number, one CSV line and one e-mail text
// part held in memory.
const maxToken = 16 << 20

// Errors a caller can test with errors.Is.
var (
	// ErrMalformed reports input that does not follow its format.
	ErrMalformed = errors.New("malformed input")
	// ErrTooLarge reports input, or one token of it, over the size limit.
	ErrTooLarge = errors.New("input too large")
	// ErrTruncated reports input that ends early; what could be read was
	// extracted (best effort), so a caller may treat it as a warning.
	ErrTruncated = errors.New("input truncated")
)

// Error is a problem with one input.
type Error struct {
	Source string // the input's name
	Format Format // the format being read
	Where  string // e.g. "line 3, column 7", "row 12", an object id; may be empty
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(displayName(e.Source))
	b.WriteString(": ")
	if e.Format != "" {
		b.WriteString(string(e.Format))
		b.WriteString(": ")
	}
	if e.Where != "" {
		b.WriteString(e.Where)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func displayName(name string) string {
	if name == "" || name == "-" {
		return "<stdin>"
	}
	return name
}

// sniffSize is how much of the input Detect sees.
const sniffSize = 8 << 10

// Read reads one input and calls emit for every IOC found, in input order.
// It stops at the first error emit returns and returns that error unchanged.
// Problems with the input come back as *Error (wrapping ErrMalformed,
// ErrTooLarge or ErrTruncated where they apply); items emitted before the
// problem stay emitted. Read never panics on any input.
func Read(ctx context.Context, r io.Reader, name string, opt Options, emit func(Item) error) error {
	return ReadBatches(ctx, r, name, opt, func(items []Item) error {
		for _, it := range items {
			if err := emit(it); err != nil {
				return err
			}
		}
		return nil
	})
}

// BatchSize is the most items ReadBatches passes at once.
const BatchSize = 256

// ReadBatches is Read with the items passed a batch at a time (up to
// BatchSize, in input order): a caller that handles hundreds of thousands
// of items, such as `iocane extract` on a large file, saves a call and a
// copy of each. The slice is reused once emit returns; emit must not keep
// it. A batch is passed when full and when the input ends or fails.
func ReadBatches(ctx context.Context, r io.Reader, name string, opt Options, emit func([]Item) error) error {
	if opt.MaxSize <= 0 {
		opt.MaxSize = DefaultMaxSize
	}
	br := bufio.NewReaderSize(&ctxReader{ctx: ctx, r: r}, 64<<10)
	f := opt.Format
	if f == "" || f == Auto {
		head, _ := br.Peek(sniffSize)
		f = Detect(head, name)
	}
	rn := &run{ctx: ctx, name: name, format: f, opt: opt, emit: emit}
	var err error
	switch f {
	case Text:
		err = readText(br, rn)
	case JSON:
		err = readJSON(br, rn)
	case EML:
		err = readEML(br, rn)
	case STIX:
		err = readSTIX(br, rn)
	case MISP:
		err = readMISP(br, rn)
	case CSV:
		err = readCSV(br, rn)
	default:
		return rn.errorf("", "unknown input format %q", f)
	}
	rn.flush()
	if rn.emitErr != nil {
		return rn.emitErr
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// run carries one Read call's state to a reader.
type run struct {
	ctx     context.Context
	name    string
	format  Format
	opt     Options
	emit    func([]Item) error
	emitErr error  // the first error emit returned; reading stops
	batch   []Item // items not yet emitted
}

// send adds it to the batch, and emits the batch when full, unless an
// earlier emit failed; it reports whether reading should go on.
func (rn *run) send(it Item) bool {
	if rn.emitErr != nil {
		return false
	}
	it.Source = rn.name
	rn.batch = append(rn.batch, it)
	if len(rn.batch) >= BatchSize {
		rn.flush()
	}
	return rn.emitErr == nil
}

// flush emits the batch, unless an earlier emit failed.
func (rn *run) flush() {
	if len(rn.batch) > 0 && rn.emitErr == nil {
		rn.emitErr = rn.emit(rn.batch)
	}
	clear(rn.batch) // the strings go with the batch
	rn.batch = rn.batch[:0]
}

// extract runs the scanner over text and sends each match with the given
// path, TLP and context (the context map is copied per item).
func (rn *run) extract(text []byte, path, tlpName string, ctx map[string]string) bool {
	if rn.emitErr != nil {
		return false
	}
	ioc.Extract(text, func(m ioc.Match) {
		rn.send(Item{IOC: m.IOC, Raw: m.Raw, Path: path, TLP: tlpName, Context: cloneMap(ctx)})
	})
	return rn.emitErr == nil
}

// tokenLimit is the cap on one token for the streaming readers.
func (rn *run) tokenLimit() int64 {
	return min(rn.opt.MaxSize, maxToken)
}

// errorf builds an *Error for this input.
func (rn *run) errorf(where, format string, a ...any) error {
	return &Error{Source: rn.name, Format: rn.format, Where: where, Err: fmt.Errorf(format, a...)}
}

// wrap turns err into an *Error for this input; nil stays nil and an
// *Error or a cancellation passes through.
func (rn *run) wrap(where string, err error) error {
	var ie *Error
	if err == nil || errors.As(err, &ie) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &Error{Source: rn.name, Format: rn.format, Where: where, Err: err}
}

func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// limitReader returns ErrTooLarge once more than n bytes are read, so a
// capped input is never silently cut short.
type limitReader struct {
	r io.Reader
	n int64 // bytes left
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// Probe for one more byte: exactly n bytes is fine.
		var one [1]byte
		k, err := l.r.Read(one[:])
		if k > 0 {
			return 0, ErrTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

// readAll reads the whole input up to MaxSize.
func (rn *run) readAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(&limitReader{r: r, n: rn.opt.MaxSize})
	if errors.Is(err, ErrTooLarge) {
		return nil, rn.errorf("", "%w: more than %d bytes (raise the size limit to read it)", ErrTooLarge, rn.opt.MaxSize)
	}
	return b, err
}
