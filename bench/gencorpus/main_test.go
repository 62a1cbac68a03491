package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/publicsuffix"
)

// extTLDFiles are the trap extensions that are real TLDs on purpose.
var extTLDFiles = map[string]bool{"zip": true, "mov": true, "sh": true, "py": true, "md": true}

// TestTrapFiles checks that no trap file name ends in a real TLD, except
// those documented on purpose.
func TestTrapFiles(t *testing.T) {
	for _, f := range trapFiles {
		ext := f[strings.LastIndexByte(f, '.')+1:]
		if _, icann := publicsuffix.PublicSuffix(ext); icann != extTLDFiles[ext] {
			t.Errorf("%s: .%s is an ICANN TLD: %v", f, ext, icann)
		}
	}
}

func generate(t *testing.T, size int64, seed uint64) ([]byte, map[IOC]struct{}) {
	t.Helper()
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	g := newGen(seed, w)
	for g.n < size {
		g.block()
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != g.n {
		t.Fatalf("counted %d bytes, wrote %d", g.n, buf.Len())
	}
	return buf.Bytes(), g.truth
}

func TestDeterministicAndComplete(t *testing.T) {
	a, ta := generate(t, 256<<10, 7)
	b, tb := generate(t, 256<<10, 7)
	if !bytes.Equal(a, b) || len(ta) != len(tb) {
		t.Fatal("same seed, different corpus")
	}
	c, _ := generate(t, 256<<10, 8)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same corpus")
	}
	seen := map[string]int{}
	for k := range ta {
		seen[k.Type]++
		if k.Type == "domain" && k.Value != strings.ToLower(k.Value) {
			t.Errorf("domain not lower case: %q", k.Value)
		}
	}
	for _, ty := range []string{"ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512", "cve", "asn"} {
		if seen[ty] == 0 {
			t.Errorf("no %s planted", ty)
		}
	}
	for _, form := range []string{"hxxp", "[.]", "(dot)", "[at]", "．", "＠", `\/`, " dot "} {
		if !bytes.Contains(a, []byte(form)) {
			t.Errorf("no %q in the corpus", form)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"50MB": 50 << 20, "512kb": 512 << 10, "1GB": 1 << 30, "1000": 1000} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := parseSize("x"); err == nil {
		t.Error("parseSize(x): no error")
	}
}
