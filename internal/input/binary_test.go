package input

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/iotest"
	"unicode/utf16"
)

// utf16le encodes s as UTF-16LE, as Windows programs store their strings.
func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// peLike builds a binary with strings in it, as an executable holds them:
// C strings between NUL bytes and control bytes, a UTF-16LE string behind a
// printable length byte, and short runs that only look like indicators.
func peLike() []byte {
	r := rand.New(rand.NewPCG(7, 7))
	junk := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(0x20)) // control bytes and NULs only
		}
		return b
	}
	var b []byte
	for _, part := range [][]byte{
		junk(300), []byte("http://evil-c2.badsite.net/gate.php\x00"),
		junk(40), []byte("\x005.kz\x00AS7\x00f.vc\x00"),
		junk(40), append([]byte("\x00L"), utf16le("https://wide.badsite.org/x")...),
		junk(40), []byte("\x008.8.8.8\x00"),
		junk(40), []byte("\x00bücher.de\x00"),
		junk(300),
	} {
		b = append(b, part...)
	}
	return b
}

// A binary is read for its strings, as `strings -n 6` and `strings -el`
// show them: the URLs in a C string and a UTF-16LE string are found, with
// their hosts, an address and an internationalised name in C strings too;
// runs of fewer than six characters ("5.kz", "AS7") are not.
func TestReadBinaryStrings(t *testing.T) {
	want := []string{
		"domain:evil-c2.badsite.net", "domain:wide.badsite.org", "domain:xn--bcher-kva.de",
		"ipv4:8.8.8.8", "url:http://evil-c2.badsite.net/gate.php", "url:https://wide.badsite.org/x",
	}
	in := peLike()
	for name, r := range map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(in) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(in)) },
		"halves":   func() io.Reader { return iotest.HalfReader(bytes.NewReader(in)) },
	} {
		for _, f := range []Format{Auto, Text} {
			var items []Item
			err := Read(context.Background(), r(), "sample.exe", Options{Format: f}, func(it Item) error {
				items = append(items, it)
				return nil
			})
			if err != nil {
				t.Fatalf("%s, %s: %v", name, f, err)
			}
			if got := set(items); !slices.Equal(got, want) {
				t.Errorf("%s, %s: got %v\nwant %v", name, f, got, want)
			}
		}
	}
}

// Random bytes are binary and yield next to nothing.
func TestReadRandomBytes(t *testing.T) {
	data := make([]byte, 1<<20)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(data)
	items, err := read(t, "random.bin", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) > 8 {
		t.Errorf("%d items from a megabyte of random bytes (want at most 8): %v", len(items), set(items))
	}
}

// A text file with a stray NUL is read as binary, which loses nothing that
// holds an indicator: lines are runs of text, UTF-8 included.
func TestReadTextWithNUL(t *testing.T) {
	in := []byte("line one 1.2.3.4\n\x00\nvisit bücher.de today\nok\n")
	items, err := read(t, "x.log", in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := set(items), []string{"domain:xn--bcher-kva.de", "ipv4:1.2.3.4"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// A UTF-16LE text file (with its byte-order mark) is read too.
func TestReadUTF16Text(t *testing.T) {
	in := append([]byte("\xff\xfe"), utf16le("Contact admin@evil-corp.biz or 198.51.100.77\r\nBye\r\n")...)
	items, err := read(t, "notes.txt", in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"domain:evil-corp.biz", "email:admin@evil-corp.biz", "ipv4:198.51.100.77"}
	if got := set(items); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// FuzzStringsReader checks stringsReader on any bytes: the output is as
// long as the input, holds only text and line breaks, and does not depend
// on how the input is cut into reads.
func FuzzStringsReader(f *testing.F) {
	f.Add(peLike())
	f.Add([]byte("abc\x00defghij\x00k\x00l\x00m\x00n\x00o\x00p\x00\x01bücher.de\xff\xfe"))
	f.Fuzz(func(t *testing.T, in []byte) {
		whole, err := io.ReadAll(newStringsReader(bytes.NewReader(in)))
		if err != nil {
			t.Fatal(err)
		}
		if len(whole) != len(in) {
			t.Fatalf("%d bytes in, %d out", len(in), len(whole))
		}
		for i := 0; i < len(whole); {
			if whole[i] == 0 || whole[i] < 0x20 && whole[i] != '\n' && whole[i] != '\t' {
				t.Fatalf("byte %#x at %d in the output", whole[i], i)
			}
			i++
		}
		if len(in) < binaryCarryMax {
			bytewise, err := io.ReadAll(newStringsReader(iotest.OneByteReader(bytes.NewReader(in))))
			if err != nil || !bytes.Equal(bytewise, whole) {
				t.Fatalf("read a byte at a time: %q (%v); at once: %q", bytewise, err, whole)
			}
		}
	})
}
