package extract

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
)

// FuzzAppendRecordJSON checks the hand-written encoder against
// encoding/json byte for byte.
func FuzzAppendRecordJSON(f *testing.F) {
	f.Add("evil.com", "hxxp://evil[.]com", "a.eml", "header:From", "k", "v\n\"x\"", true)
	f.Add("\xff\xfe", "\u2028\u2029<>&", "", "", "", "", false)
	f.Add("tab\there", "\x00\x01\x1f", "ünïcode", "$.a[\"b\"]", "z", "\\", true)
	f.Add("abcdefgh\"ijklmnop\x01qrstuvwxyz01234\u00e9yz\u2028abcdefgh\\", "01234567\x7f89abcdef\xff", "", "", "", "", false)
	f.Fuzz(func(t *testing.T, value, raw, source, path, key, cval string, internal bool) {
		r := Record{Type: ioc.Domain, Value: value, Raw: raw, Source: source, Path: path, Internal: internal}
		if internal {
			r.InternalReason = "private"
		}
		if key != "" {
			r.Context = map[string]string{key: cval, "a": "b"}
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Skip()
		}
		got := append(appendRecordJSON(nil, r), '\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("got  %s\nwant %s", got, want.Bytes())
		}
	})
}

// TestRecordEncoderSources checks that a reused encoder follows the source
// name from record to record, including back to an empty one.
func TestRecordEncoderSources(t *testing.T) {
	var e recordEncoder
	for _, src := range []string{"a.txt", "a.txt", "b \"q\".txt", "", "a.txt", ""} {
		r := Record{Type: ioc.IPv4, Value: "8.8.8.8", Source: src}
		want := appendRecordJSON(nil, r)
		if got := e.append(nil, &r); !bytes.Equal(got, want) {
			t.Errorf("source %q: got %s, want %s", src, got, want)
		}
	}
}

// TestRecordEncoderTypes checks every type's precomputed record start, and
// a type of no known name, against encoding/json.
func TestRecordEncoderTypes(t *testing.T) {
	for _, ty := range append(append([]ioc.Type{}, ioc.Types...), "x-\"odd\"") {
		r := Record{Type: ty, Value: "v"}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendRecordJSON(nil, r); !bytes.Equal(got, want) {
			t.Errorf("type %s: got %s, want %s", ty, got, want)
		}
	}
}
