package extract

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
)

// writer prints records in one output format.
type writer struct {
	out    *bufio.Writer
	format string
	csv    *csv.Writer
	enc    recordEncoder
	n      int
}

func newWriter(out io.Writer, format string) (*writer, error) {
	if err := CheckFormat(format); err != nil {
		return nil, err
	}
	format = strings.ToLower(format)
	w := &writer{out: bufio.NewWriterSize(out, 64<<10), format: format}
	switch format {
	case "csv":
		w.csv = csv.NewWriter(w.out)
		if err := w.csv.Write([]string{"type", "value", "raw", "source", "path", "internal", "internal_reason", "tlp", "context"}); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *writer) write(r *Record) error {
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
func (w *writer) close() error {
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
