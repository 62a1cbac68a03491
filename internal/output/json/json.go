// Package json writes results as the JSON result contract of docs/design.md:
// "json" is one array of result objects, "jsonl" one object per line. Both
// stream: each result is written as it arrives, and the array is closed on
// Close, so memory stays flat on any input size.
package json

import (
	"bufio"
	encjson "encoding/json"
	"fmt"
	"io"

	"github.com/iocane/iocane/internal/output"
	"github.com/iocane/iocane/internal/result"
)

func init() {
	output.Register("json", func(w io.Writer, _ output.Options) output.Writer { return &Writer{w: bufio.NewWriter(w), array: true} })
	output.Register("jsonl", func(w io.Writer, _ output.Options) output.Writer { return &Writer{w: bufio.NewWriter(w)} })
}

// Writer writes results as JSON; see the package doc.
type Writer struct {
	w     *bufio.Writer
	array bool
	n     int
}

var _ output.Writer = (*Writer)(nil)

// Write writes one result: a line in jsonl, an array element in json.
func (w *Writer) Write(r result.Result) error {
	b, err := marshal(output.Normalize(r), w.array)
	if err != nil {
		return fmt.Errorf("json: %w", err)
	}
	switch {
	case w.array && w.n == 0:
		w.w.WriteString("[\n  ")
	case w.array:
		w.w.WriteString(",\n  ")
	}
	w.w.Write(b)
	if !w.array {
		w.w.WriteByte('\n')
	}
	w.n++
	return w.w.Flush()
}

// Close ends the array (json) and flushes.
func (w *Writer) Close() error {
	if w.array {
		if w.n == 0 {
			w.w.WriteString("[]\n")
		} else {
			w.w.WriteString("\n]\n")
		}
	}
	return w.w.Flush()
}

// marshal encodes v without HTML escaping, so URLs keep their & and <.
func marshal(v any, indent bool) ([]byte, error) {
	var buf bytesBuffer
	enc := encjson.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("  ", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := buf.b
	return b[:len(b)-1], nil // drop Encode's newline
}

type bytesBuffer struct{ b []byte }

func (b *bytesBuffer) Write(p []byte) (int, error) { b.b = append(b.b, p...); return len(p), nil }
