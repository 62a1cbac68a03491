package ioc

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc/iocgen"
)

// repeatReader yields pattern repeatedly up to n bytes, without holding them.
type repeatReader struct {
	pattern string
	n, off  int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.off < r.n {
		c := copy(p[k:], r.pattern[r.off%int64(len(r.pattern)):])
		if rem := r.n - r.off; int64(c) > rem {
			c = int(rem)
		}
		k += c
		r.off += int64(c)
	}
	return k, nil
}

// TestExtractReaderBoundedMemory streams 24 MB single lines (one giant
// token; words with IOCs but no newline) and checks the heap stays small.
func TestExtractReaderBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 72 MB")
	}
	for _, tc := range []struct {
		name, pattern string
		minMatches    int
	}{
		{"giant token", "abcdefghij", 0},
		{"single line", "beacon to evil[.]com from 10.0.0.1, ", 1000},
		{"minified json", `{"a":"http://x.evil.com/p","b":"1.2.3.4"},`, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			n := 0
			var peak uint64
			err := ExtractReader(&repeatReader{pattern: tc.pattern, n: 24 << 20}, func(m Match) {
				n++
				if n%100000 == 0 {
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if n < tc.minMatches {
				t.Errorf("%d matches, want at least %d", n, tc.minMatches)
			}
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			peak = max(peak, after.HeapInuse)
			if peak > before.HeapInuse+32<<20 {
				t.Errorf("heap in use grew from %d to %d bytes", before.HeapInuse, peak)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestExtractReaderError(t *testing.T) {
	err := ExtractReader(io.MultiReader(strings.NewReader("evil.com "), errReader{}), func(Match) {})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("err = %v", err)
	}
}

// TestExtractReaderValuesOwnMemory keeps every match of a stream read in
// small chunks and compares them with Extract's afterwards: a value or raw
// text pointing into the reader's reused buffer, or into the text given to
// Extract (overwritten here), would have changed.
func TestExtractReaderValuesOwnMemory(t *testing.T) {
	in := iocgen.Mixed(256<<10, 3)
	in = append(in, "\nhxxp://Evil[.]COM:8080/a 10.1.2.3 HTTP://[2001:DB8::1]/x Bob+x@Evil.COM AS13335 cve-2021-44228\n"...)
	var want []Match
	src := bytes.Clone(in)
	Extract(src, func(m Match) { want = append(want, m) })
	for i := range src {
		src[i] = 'x'
	}
	old := chunkSize
	chunkSize = 4 << 10
	defer func() { chunkSize = old }()
	var got []Match
	if err := ExtractReader(bytes.NewReader(in), func(m Match) { got = append(got, m) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) < 1000 {
		t.Fatalf("got %d matches, want %d (at least 1000)", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("match %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
