package ioc

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"hxxp://evil[.]com/a(b)c). john [at] evil [dot] com 1.2.3.4 2001:db8::1",
	"h**ps[:]//x[.]y{.}com\\/p?q=1 bob＠a．com ASN 13335 CVE-2021-44228",
	"::ffff:1.2.3.4 fe80::1%eth0 [2606:4700::1111]:443 12:30:45 a::b ::::::::",
	"d41d8cd98f00b204e9800998ecf8427e.exe x.y at mail dot evil dot co dot uk",
	"访问evil.com网站 bücher.de пример.рф “http://a.com/x” «b.com»",
	"'http://a.com/x','http://b.com' [x](http://c.com/y) <http://d.com>",
	"http://http://http://a.com/http://b.com/ evil.com...and ..a..b..",
	"\x00\xff\xfe\xef\xbc\x8e\xef\xbc [.] [dot ( at ) {at} \\",
}

func FuzzExtract(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, c := range loadCases(f) {
		f.Add([]byte(c.Input))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var a []Match
		Extract(in, func(m Match) { a = append(a, m) })
		var b []Match
		if err := ExtractReader(bytes.NewReader(in), func(m Match) { b = append(b, m) }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a, b) {
			t.Fatalf("Extract and ExtractReader disagree:\n%+v\n%+v", a, b)
		}
		for _, m := range a {
			if m.Offset < 0 || m.Offset > int64(len(in)) {
				t.Fatalf("offset %d out of range for %+v", m.Offset, m)
			}
			if m.Raw != "" && !bytes.HasPrefix(in[m.Offset:], []byte(m.Raw)) {
				t.Fatalf("raw %q not at offset %d", m.Raw, m.Offset)
			}
			if m.Raw == "" && !bytes.HasPrefix(in[m.Offset:], []byte(m.Value)) {
				t.Fatalf("value %q not at offset %d", m.Value, m.Offset)
			}
			got, err := ParseAs(m.Type, m.Value)
			if err != nil || got != m.IOC {
				t.Fatalf("ParseAs(%s, %q) = %v, %v", m.Type, m.Value, got, err)
			}
		}
		// Tiny chunks take the fallback cuts: no panic, offsets in range.
		old := chunkSize
		chunkSize = 16
		defer func() { chunkSize = old }()
		err := ExtractReader(bytes.NewReader(in), func(m Match) {
			if m.Offset < 0 || m.Offset > int64(len(in)) {
				t.Fatalf("chunked offset %d out of range", m.Offset)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzRefang(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Add("evil [.] com [dot] org bob (at) x {dot} y hXXps[://]z")
	f.Fuzz(func(t *testing.T, s string) {
		r := Refang(s)
		if !strings.ContainsAny(s, "[({\\*\uff0e\uff20\uff1a\uff0f") && !strings.Contains(s, "://") &&
			!strings.Contains(strings.ToLower(s), " at ") && r != s {
			t.Fatalf("Refang(%q) = %q changed text without defang forms", s, r)
		}
		if len(r) > len(s)+len(s)/3+1 {
			t.Fatalf("Refang(%q) grew to %q", s, r)
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"1.2.3.4", "::ffff:1.2.3.4", "2001:db8::1", "[fe80::1%eth0]", "evil[.]com", "bücher.de",
		"hxxps://Evil[.]COM:443/a?b=C", "<http://evil.com/x>).", "John[at]Evil[.]com", "john at evil dot com",
		"D41D8CD98F00B204E9800998ECF8427E", "cve-2021-44228", "ASN 13335", "AS0", "report.pdf",
		"http://[::ffff:1.2.3.4]:80/", "xn--bcher-kva.de", "'\"evil.com\"'", "http://u:p@evil.zip:8080#f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if h, ok := canonicalURLHost(s); ok {
			if u, ok := splitURL(s); !ok || u.host != h {
				t.Fatalf("canonicalURLHost(%q) = %v; splitURL gives %v, %v", s, h, u.host, ok)
			}
		}
		i, err := Parse(s)
		if err != nil {
			return
		}
		if !i.Type.Valid() || i.Value == "" {
			t.Fatalf("Parse(%q) = %v", s, i)
		}
		again, err := ParseAs(i.Type, i.Value)
		if err != nil || again != i {
			t.Fatalf("ParseAs(%s, %q) = %v, %v; not canonical", i.Type, i.Value, again, err)
		}
		if p, err := Parse(i.Value); err != nil || p != i {
			t.Fatalf("Parse(%q) = %v, %v; want %v", i.Value, p, err, i)
		}
		in, why := Internal(i)
		if i.Type == URL {
			c := Classifier{Suffixes: []string{"corp.example.net"}}
			if slowIn, slowWhy := classifyURLSlow(Classifier{}, i.Value); in != slowIn || why != slowWhy {
				t.Fatalf("Internal(%v) = %v %q; the full URL parse gives %v %q", i, in, why, slowIn, slowWhy)
			}
			in, why = c.Internal(i)
			if slowIn, slowWhy := classifyURLSlow(c, i.Value); in != slowIn || why != slowWhy {
				t.Fatalf("%v.Internal(%v) = %v %q; the full URL parse gives %v %q", c.Suffixes, i, in, why, slowIn, slowWhy)
			}
		}
	})
}
