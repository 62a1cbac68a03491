package jobs

// A job's input is stored as received, or gzip-compressed when it is large:
// log text and alert JSON shrink several times, so a large job holds a
// fraction of its body in memory while it runs (the input is read twice,
// a counting pass and the items' pass, each decompressing as it reads)
// and the store stays smaller. jobs.input_encoding says which.

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

// compressAbove is the input size from which it is stored compressed.
const compressAbove = 64 << 10

// encGzip is input_encoding for a gzip-compressed input.
const encGzip = "gzip"

// encodeInput returns the input as it is stored and its encoding.
func encodeInput(in []byte) ([]byte, string, error) {
	if len(in) < compressAbove {
		return in, "", nil
	}
	var b bytes.Buffer
	b.Grow(len(in) / 4)
	zw, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if err != nil {
		return nil, "", err
	}
	if _, err := zw.Write(in); err != nil {
		return nil, "", err
	}
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	if b.Len() >= len(in) {
		return in, "", nil // it does not compress: keep it as it is
	}
	return b.Bytes(), encGzip, nil
}

// storedInput is a job's input as stored; open reads it as received.
type storedInput struct {
	b   []byte
	enc string
}

func (s storedInput) open() (io.Reader, error) {
	switch s.enc {
	case "":
		return bytes.NewReader(s.b), nil
	case encGzip:
		zr, err := gzip.NewReader(bytes.NewReader(s.b))
		if err != nil {
			return nil, fmt.Errorf("stored input: %w", err)
		}
		return zr, nil
	}
	return nil, fmt.Errorf("stored input: unknown encoding %q", s.enc)
}
