package input

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// read runs Read over data and returns every item.
func read(t *testing.T, name string, data []byte, opt Options) ([]Item, error) {
	t.Helper()
	var items []Item
	err := Read(context.Background(), bytes.NewReader(data), name, opt, func(it Item) error {
		if it.Source != name {
			t.Errorf("item %v: Source = %q, want %q", it.IOC, it.Source, name)
		}
		items = append(items, it)
		return nil
	})
	return items, err
}

// set renders items as sorted, unique "type:value" strings.
func set(items []Item) []string {
	var s []string
	for _, it := range items {
		s = append(s, it.IOC.String())
	}
	slices.Sort(s)
	return slices.Compact(s)
}

func assertSet(t *testing.T, items []Item, want ...string) {
	t.Helper()
	slices.Sort(want)
	got := set(items)
	if !slices.Equal(got, want) {
		t.Errorf("IOCs:\n got  %q\n want %q", got, want)
	}
}

// find returns the first item with the IOC "type:value".
func find(t *testing.T, items []Item, s string) Item {
	t.Helper()
	for _, it := range items {
		if it.IOC.String() == s {
			return it
		}
	}
	t.Fatalf("%s not found in %q", s, set(items))
	return Item{}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertInputError checks err is an *Error naming the input, matching
// sentinel (when non-nil) and mentioning every fragment.
func assertInputError(t *testing.T, err error, name string, sentinel error, fragments ...string) {
	t.Helper()
	var ie *Error
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v (%T), want *input.Error", err, err)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error %q is not %v", err, sentinel)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, name+": ") {
		t.Errorf("error %q does not start with the input name %q", msg, name)
	}
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("error %q does not mention %q", msg, f)
		}
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		want       Format
	}{
		{"a.eml", "anything", EML},
		{"a.csv", "ioc\n1.2.3.4", CSV},
		{"a.tsv", "x", CSV},
		{"a.json", `{"result":{"src_ip":"1.2.3.4"}}`, JSON},
		{"-", `{"result":{"src_ip":"1.2.3.4"}}`, JSON},
		{"-", "\xef\xbb\xbf  [ {\"a\":1} ]", JSON},
		{"x.json", `{"type": "bundle", "id": "bundle--1", "objects": []}`, STIX},
		{"-", `{"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--x"}],"type":"bundle"}`, STIX},
		{"-", `{"Event":{"info":"x","Attribute":[]}}`, MISP},
		{"-", `{"response":[{"Event":{}}]}`, MISP},
		{"-", "Received: from a by b; Tue, 3 Jun 2025\r\nFrom: x@y.com\r\nSubject: hi\r\n\r\nbody", EML},
		{"-", "From MAILER-DAEMON Tue Jun  3 09:14:20 2025\nReturn-Path: <a@b.com>\nFrom: a@b.com\n\nbody", EML},
		{"-", "Note: one\nThing: two\n\nnot mail", Text},
		{"-", "[2024-06-01 12:00:00] blocked 1.2.3.4", Text},
		{"-", "[1, 2, 3]", JSON},
		{"report.txt", "See hxxp://evil[.]com", Text},
		{"-", "\x00\x01\x02\xff\xfe binary", Text},
		{"-", "", Text},
		{"notes.jsonl", "not json at all", JSON},
	} {
		if got := Detect([]byte(tc.head), tc.name); got != tc.want {
			t.Errorf("Detect(%q, %q) = %s, want %s", tc.head, tc.name, got, tc.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"", "auto", "TEXT", "json", "eml", "stix", "misp", "csv"} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) accepted")
	}
}

func TestReadText(t *testing.T) {
	items, err := read(t, "report.txt", []byte("C2 at hxxps://evil-c2[.]com/gate.php and 185.220.101.47; hash d41d8cd98f00b204e9800998ecf8427e.\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertSet(t, items,
		"url:https://evil-c2.com/gate.php", "domain:evil-c2.com", "ipv4:185.220.101.47", "md5:d41d8cd98f00b204e9800998ecf8427e")
	if it := find(t, items, "url:https://evil-c2.com/gate.php"); it.Raw == "" {
		t.Errorf("defanged URL has no Raw: %+v", it)
	}
}

func TestReadBinaryGarbage(t *testing.T) {
	data := make([]byte, 64<<10)
	for i := range data {
		data[i] = byte(i*131 + i>>7)
	}
	copy(data[30000:], " 185.220.101.47 \xff\xfe")
	items, err := read(t, "blob.bin", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	find(t, items, "ipv4:185.220.101.47")
}

// lineReader yields n bytes of one endless line, then tail, and records
// the heap's high-water mark while it is read.
type lineReader struct {
	n, done int64
	tail    []byte
	peak    uint64
}

func (l *lineReader) Read(p []byte) (int, error) {
	if l.done >= l.n {
		if len(l.tail) == 0 {
			return 0, io.EOF
		}
		k := copy(p, l.tail)
		l.tail = l.tail[k:]
		return k, nil
	}
	k := int64(len(p))
	if k > l.n-l.done {
		k = l.n - l.done
	}
	for i := range p[:k] {
		p[i] = 'a'
	}
	if l.done/(8<<20) != (l.done+k)/(8<<20) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		l.peak = max(l.peak, ms.HeapAlloc)
	}
	l.done += k
	return int(k), nil
}

// A 200 MB single line is streamed: text finds what follows it, JSON and
// CSV stop with a clear error after one token's cap, never holding it all.
func TestHugeSingleLine(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 200 MB")
	}
	const size = 200 << 20
	for _, tc := range []struct {
		format Format
		head   string
		tail   string
		check  func(t *testing.T, items []Item, err error)
	}{
		{Text, "", " 185.220.101.47\n", func(t *testing.T, items []Item, err error) {
			if err != nil {
				t.Fatal(err)
			}
			find(t, items, "ipv4:185.220.101.47")
		}},
		{JSON, `{"a":"`, `"}`, func(t *testing.T, items []Item, err error) {
			assertInputError(t, err, "big", ErrTooLarge, "line 1", "longer than")
		}},
		{CSV, "ioc,", "\n", func(t *testing.T, items []Item, err error) {
			assertInputError(t, err, "big", ErrTooLarge, "row 1", "longer than")
		}},
		{EML, "From: a@example.com\r\n\r\n", "", func(t *testing.T, items []Item, err error) {
			assertInputError(t, err, "big", ErrTooLarge)
			find(t, items, "email:a@example.com")
		}},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			runtime.GC()
			lr := &lineReader{n: size, tail: []byte(tc.tail)}
			r := io.MultiReader(strings.NewReader(tc.head), lr)
			var items []Item
			err := Read(context.Background(), r, "big", Options{Format: tc.format}, func(it Item) error {
				items = append(items, it)
				return nil
			})
			tc.check(t, items, err)
			if lr.peak > 100<<20 {
				t.Errorf("heap peaked at %d MB reading a 200 MB line", lr.peak>>20)
			}
		})
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("stop")
	inputs := map[Format]string{
		Text: "1.1.1.1 8.8.8.8 9.9.9.9",
		JSON: `{"a":"1.1.1.1","b":"8.8.8.8"}`,
		CSV:  "ip\n1.1.1.1\n8.8.8.8\n",
		EML:  "From: a@example.com\r\nReply-To: b@example.org\r\n\r\nbody",
		STIX: `{"type":"bundle","objects":[{"type":"ipv4-addr","id":"ipv4-addr--1","value":"1.1.1.1"},{"type":"ipv4-addr","id":"ipv4-addr--2","value":"8.8.8.8"}]}`,
		MISP: `{"Event":{"Attribute":[{"type":"ip-dst","value":"1.1.1.1"},{"type":"ip-dst","value":"8.8.8.8"}]}}`,
	}
	for f, in := range inputs {
		n := 0
		err := Read(context.Background(), strings.NewReader(in), "x", Options{Format: f}, func(Item) error {
			n++
			return stop
		})
		if err != stop || n != 1 {
			t.Errorf("%s: err = %v after %d items, want the emit error after 1", f, err, n)
		}
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Read(ctx, strings.NewReader("1.1.1.1"), "x", Options{}, func(Item) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestUnknownFormat(t *testing.T) {
	err := Read(context.Background(), strings.NewReader(""), "x", Options{Format: "xml"}, func(Item) error { return nil })
	assertInputError(t, err, "x", nil, "unknown input format")
}

// TestReadBatches checks that ReadBatches passes what Read passes, in the
// same order, in batches of at most BatchSize; that an emit error stops it
// and comes back unchanged; and that the items found before a malformed
// input are passed before its error.
func TestReadBatches(t *testing.T) {
	var text strings.Builder
	for k := range 3*BatchSize + 7 {
		fmt.Fprintf(&text, "host%d.example.net 10.0.%d.%d\n", k, k/250, k%250)
	}
	in := []byte(text.String())
	want, err := read(t, "big.txt", in, Options{Format: Text})
	if err != nil || len(want) != 2*(3*BatchSize+7) {
		t.Fatalf("Read: %d items, %v", len(want), err)
	}
	var got []Item
	batches := 0
	err = ReadBatches(context.Background(), bytes.NewReader(in), "big.txt", Options{Format: Text}, func(items []Item) error {
		if len(items) == 0 || len(items) > BatchSize {
			t.Errorf("batch of %d items", len(items))
		}
		batches++
		got = append(got, items...)
		return nil
	})
	if err != nil || !slices.EqualFunc(got, want, func(a, b Item) bool { return a.IOC == b.IOC && a.Raw == b.Raw && a.Source == b.Source }) {
		t.Fatalf("ReadBatches: %d items in %d batches (err %v); Read gave %d", len(got), batches, err, len(want))
	}

	stop := errors.New("stop")
	calls := 0
	err = ReadBatches(context.Background(), bytes.NewReader(in), "big.txt", Options{Format: Text}, func([]Item) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("emit error: err = %v after %d calls, want it after 1", err, calls)
	}

	// A JSON document broken after two values: both are passed, then the
	// error comes back.
	got = got[:0]
	err = ReadBatches(context.Background(), strings.NewReader(`{"a":"1.1.1.1","b":"8.8.8.8",`), "bad.json", Options{Format: JSON}, func(items []Item) error {
		got = append(got, items...)
		return nil
	})
	if err == nil || len(got) != 2 {
		t.Errorf("malformed JSON: %d items, err %v; want 2 items and an error", len(got), err)
	}
}
