package ioc

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// TestInternalIPv4FastPath checks Internal's quick answer for IPv4 against
// the prefix table, over random addresses and every first octet.
func TestInternalIPv4FastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for k := 0; k < 200_000; k++ {
		a := netip.AddrFrom4([4]byte{byte(k % 256), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		gotOK, gotWhy := Internal(IOC{IPv4, a.String()})
		wantOK, wantWhy := addrInternal(a)
		if gotOK != wantOK || gotWhy != wantWhy {
			t.Fatalf("Internal(%s) = %v, %q; want %v, %q", a, gotOK, gotWhy, wantOK, wantWhy)
		}
	}
	for _, s := range []string{"1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "1.2.3.4 ", "1.2.3.1234"} {
		if _, ok := ipv4Octets(s); ok {
			t.Errorf("ipv4Octets(%q) accepted", s)
		}
	}
}

// TestBuiltinTLD checks the quick filter knows the last label of every
// built-in internal and reserved name, in any case.
func TestBuiltinTLD(t *testing.T) {
	for _, s := range append(append([]string{}, internalTLDs...), reservedNames...) {
		l := s[strings.LastIndexByte(s, '.')+1:]
		if !builtinTLD(l) || !builtinTLD(strings.ToUpper(l)) {
			t.Errorf("builtinTLD(%q) = false; Internal would miss %q", l, s)
		}
	}
	if ok, why := Internal(IOC{Domain, "DC.Corp."}); !ok || why != "internal domain" {
		t.Errorf("Internal(DC.Corp.) = %v, %q", ok, why)
	}
}

// classifyURLSlow is Internal's URL case without the plainURLHost short
// cut, as it was before it.
func classifyURLSlow(c Classifier, v string) (bool, string) {
	if h, ok := canonicalURLHost(v); ok {
		return c.Internal(h)
	}
	u, ok := splitURL(v)
	if !ok {
		return false, ""
	}
	return c.Internal(u.host)
}

// The plain-host short cut answers as the full URL parse does for every
// URL a scanner can produce, with and without corporate suffixes.
func TestInternalURLPlainHost(t *testing.T) {
	urls := []string{
		"http://intranet.corp/login", "https://files.example.com:8443/x", "http://evil.com/a?b#c",
		"https://user:pass@printer.lan/", "http://user@evil.com/", "http://[fe80::1]/", "http://[2001:db8::1]:80/",
		"http://10.0.0.1/x", "http://0x7f000001/", "http://127.1/", "https://192.168.1.1:8080/admin",
		"http://wiki.acme.internal/", "http://host.home.arpa/", "http://localhost:3000/", "http://a.b.c.test/",
		"http://xn--80ak6aa92e.com/", "http://ex_ample.zip/", "http://shop.acme-corp.com/", "https://acme-corp.com",
		"http://router.local./", "ftp://files.corp/", "http://EVIL.com/", "http://1password.com/",
	}
	for _, c := range []Classifier{{}, {Suffixes: []string{"acme-corp.com", "corp"}}} {
		for _, u := range urls {
			gotIn, gotWhy := c.Internal(IOC{URL, u})
			wantIn, wantWhy := classifyURLSlow(c, u)
			if gotIn != wantIn || gotWhy != wantWhy {
				t.Errorf("%v.Internal(%s) = %v %q; the full parse gives %v %q", c.Suffixes, u, gotIn, gotWhy, wantIn, wantWhy)
			}
		}
	}
	if h, ok := plainURLHost("https://user:pass@printer.lan/"); ok {
		t.Errorf("plainURLHost took %q from a URL with userinfo", h)
	}
}
