package input

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzRead reads data in format f and checks the invariants every reader
// keeps on any input: no panic, items with a known type and a value, and
// any problem reported as an *Error naming the input.
func fuzzRead(t *testing.T, f Format, data []byte) {
	err := Read(context.Background(), bytes.NewReader(data), "fuzz", Options{Format: f, MaxSize: 1 << 20}, func(it Item) error {
		if !it.Type.Valid() || it.Value == "" {
			t.Fatalf("bad item %+v", it)
		}
		return nil
	})
	var ie *Error
	if err != nil && !errors.As(err, &ie) {
		t.Fatalf("error %v (%T) is not an *input.Error", err, err)
	}
}

// seed adds the testdata files and examples to the corpus.
func seed(f *testing.F, globs ...string) {
	for _, g := range globs {
		files, _ := filepath.Glob(g)
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
}

func FuzzReadJSON(f *testing.F) {
	seed(f, "testdata/*.json", "../../examples/*.json")
	f.Add([]byte(`{"a":"1.1.1.1"}` + "\n" + `["x",{"b":[1,2,{"asn":3}]}]`))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, JSON, b) })
}

func FuzzReadEML(f *testing.F) {
	seed(f, "../../examples/*.eml", "testdata/*.eml")
	f.Add([]byte("From: a@b.com\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<a href=\"http://e.com\">f.com</a>\r\n--x--\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, EML, b) })
}

func FuzzReadSTIX(f *testing.F) {
	seed(f, "testdata/bundle.json")
	f.Add([]byte(`{"type":"indicator","id":"indicator--1","pattern":"[file:hashes.'SHA-256' IN ('a','b')]"}`))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, STIX, b) })
}

func FuzzReadMISP(f *testing.F) {
	seed(f, "testdata/misp_event.json")
	f.Add([]byte(`{"response":[{"Event":{"Attribute":[{"type":"domain|ip","value":"a.com|1.1.1.1"}]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, MISP, b) })
}

func FuzzReadCSV(f *testing.F) {
	seed(f, "testdata/*.csv")
	f.Add([]byte("ioc,note\n8.8.8.8,\"x, y\"\nevil.com,z\n"))
	f.Add([]byte("a;b\n1;2\n"))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, CSV, b) })
}

func FuzzDetect(f *testing.F) {
	seed(f, "testdata/*", "../../examples/*.eml", "../../examples/*.json")
	f.Add([]byte("[2024-01-01] x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := Detect(b, "-")
		if got == Auto || got == "" {
			t.Fatalf("Detect = %q", got)
		}
		// Whatever was detected must be readable without a panic.
		fuzzRead(t, got, b)
	})
}
