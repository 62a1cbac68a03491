package ioc

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want IOC
	}{
		{"1.2.3.4", IOC{IPv4, "1.2.3.4"}},
		{" 1[.]2[.]3[.]4 ", IOC{IPv4, "1.2.3.4"}},
		{"::ffff:1.2.3.4", IOC{IPv4, "1.2.3.4"}},
		{"2001:0DB8::0001", IOC{IPv6, "2001:db8::1"}},
		{"[2001:db8::1]", IOC{IPv6, "2001:db8::1"}},
		{"fe80::1%eth0", IOC{IPv6, "fe80::1"}},
		{"EVIL.COM.", IOC{Domain, "evil.com"}},
		{"evil[.]com", IOC{Domain, "evil.com"}},
		{"bücher.de", IOC{Domain, "xn--bcher-kva.de"}},
		{"invoice.zip", IOC{Domain, "invoice.zip"}},
		{"hxxps://Evil[.]COM:443/a?b=C", IOC{URL, "https://evil.com/a?b=C"}},
		{"<http://evil.com/x>", IOC{URL, "http://evil.com/x"}},
		{"http://evil.com/x).", IOC{URL, "http://evil.com/x"}},
		{"HTTP://[2001:DB8::1]:80/", IOC{URL, "http://[2001:db8::1]/"}},
		{"John.Doe[at]Evil[.]com", IOC{Email, "john.doe@evil.com"}},
		{"john at evil dot com", IOC{Email, "john@evil.com"}},
		{"D41D8CD98F00B204E9800998ECF8427E", IOC{MD5, "d41d8cd98f00b204e9800998ecf8427e"}},
		{"da39a3ee5e6b4b0d3255bfef95601890afd80709", IOC{SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"}},
		{"cve-2021-44228", IOC{CVE, "CVE-2021-44228"}},
		{"AS13335", IOC{ASN, "AS13335"}},
		{"ASN 13335", IOC{ASN, "AS13335"}},
		{"asn13335", IOC{ASN, "AS13335"}},
		{"'evil.com'", IOC{Domain, "evil.com"}},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", IOC{BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}},
		{"BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ", IOC{BTC, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"", "hello", "report.pdf", "999.1.1.1", "1.2.3", "010.1.1.1", "setup.exe",
		"d41d8cd98f00b204e9800998ecf8427", "CVE-2021-1", "AS0", "AS4294967296",
		"http://localhost/", "http://evil.com/a b", "ftp://", "-evil.com", "evil-.com",
		"a..b.com", "bob@host.exe", "@evil.com", ".@evil.com",
	} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want error", in, got)
		} else if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) error %v does not wrap ErrInvalid", in, err)
		}
	}
}

func TestParseAs(t *testing.T) {
	tests := []struct {
		t      Type
		in     string
		want   string
		wantOK bool
	}{
		{IPv4, "8.8.8.8", "8.8.8.8", true},
		{IPv4, "::ffff:8.8.8.8", "8.8.8.8", true},
		{IPv4, "2001:db8::1", "", false},
		{IPv6, "::ffff:8.8.8.8", "::ffff:8.8.8.8", true},
		{IPv6, "8.8.8.8", "", false},
		{Domain, "main.py", "main.py", true},
		{Domain, "config.json", "", false},
		{Domain, "localhost", "", false},
		{Domain, "dc01.corp", "dc01.corp", true},
		{Domain, "xn--bcher-kva.de", "xn--bcher-kva.de", true},
		{Domain, "xn--zz.de", "", false},
		{MD5, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "", false},
		{SHA1, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709", true},
		{ASN, "13335", "AS13335", true},
		{URL, "evil.com", "", false},
		{URL, "http://evil.com:8080", "http://evil.com:8080", true},
		{URL, "http://evil.com:99999/", "", false},
		{Email, "Bob@Evil.com", "bob@evil.com", true},
		{Type("nope"), "x", "", false},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.t, tt.in)
		if (err == nil) != tt.wantOK || got != tt.want {
			t.Errorf("Normalize(%s, %q) = %q, %v; want %q ok=%v", tt.t, tt.in, got, err, tt.want, tt.wantOK)
		}
	}
}

func TestRefang(t *testing.T) {
	tests := []struct{ in, want string }{
		{"evil[.]com", "evil.com"},
		{"evil(.)com evil{.}com", "evil.com evil.com"},
		{"evil[dot]com evil(DOT)com evil{dot}com", "evil.com evil.com evil.com"},
		{"evil\\.com", "evil.com"},
		{"evil [.] com", "evil.com"},
		{"evil [dot] com", "evil.com"},
		{"hxxp://a.com hXXps://a.com h**p://a.com fxp://a.com", "http://a.com https://a.com http://a.com ftp://a.com"},
		{"http[:]//a.com http[://]a.com http[:][/][/]a.com", "http://a.com http://a.com http://a.com"},
		{"http:\\/\\/a.com\\/x", "http://a.com/x"},
		{"bob[@]a.com bob[at]a.com bob(at)a.com bob{at}a.com", "bob@a.com bob@a.com bob@a.com bob@a.com"},
		{"bob [at] a [dot] com", "bob@a.com"},
		{"write john at evil dot com now", "write john@evil.com now"},
		{"meet at noon dot", "meet at noon dot"},
		{"evil．com bob＠a.com http：／／a.com", "evil.com bob@a.com http://a.com"},
		{"plain text [x] (y) {z} \\n", "plain text [x] (y) {z} \\n"},
		{"[.", "[."},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Refang(tt.in); got != tt.want {
			t.Errorf("Refang(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClassifier(t *testing.T) {
	c := Classifier{Suffixes: []string{"corp.acme-inc.com", ".Acme.IO."}}
	tests := []struct {
		i      IOC
		want   bool
		reason string
	}{
		{IOC{IPv4, "10.1.2.3"}, true, "private"},
		{IOC{IPv4, "172.31.255.255"}, true, "private"},
		{IOC{IPv4, "172.32.0.1"}, false, ""},
		{IOC{IPv4, "192.168.0.1"}, true, "private"},
		{IOC{IPv4, "127.0.0.1"}, true, "loopback"},
		{IOC{IPv4, "169.254.169.254"}, true, "link-local"},
		{IOC{IPv4, "100.64.0.1"}, true, "cgnat"},
		{IOC{IPv4, "100.128.0.1"}, false, ""},
		{IOC{IPv4, "224.0.0.251"}, true, "multicast"},
		{IOC{IPv4, "192.0.2.1"}, true, "documentation"},
		{IOC{IPv4, "198.51.100.1"}, true, "documentation"},
		{IOC{IPv4, "203.0.113.1"}, true, "documentation"},
		{IOC{IPv4, "198.18.0.1"}, true, "benchmarking"},
		{IOC{IPv4, "198.19.255.1"}, true, "benchmarking"},
		{IOC{IPv4, "0.1.2.3"}, true, "this-network"},
		{IOC{IPv4, "240.0.0.1"}, true, "reserved"},
		{IOC{IPv4, "255.255.255.255"}, true, "broadcast"},
		{IOC{IPv4, "192.0.0.8"}, true, "ietf-protocol"},
		{IOC{IPv4, "192.0.0.9"}, false, ""},
		{IOC{IPv4, "8.8.8.8"}, false, ""},
		{IOC{IPv6, "::1"}, true, "loopback"},
		{IOC{IPv6, "::"}, true, "unspecified"},
		{IOC{IPv6, "fe80::1"}, true, "link-local"},
		{IOC{IPv6, "fd00::1"}, true, "private"},
		{IOC{IPv6, "ff02::1"}, true, "multicast"},
		{IOC{IPv6, "2001:db8::1"}, true, "documentation"},
		{IOC{IPv6, "3fff::1"}, true, "documentation"},
		{IOC{IPv6, "::ffff:10.0.0.1"}, true, "private"},
		{IOC{IPv6, "64:ff9b::808:808"}, false, ""},
		{IOC{IPv6, "64:ff9b::a00:1"}, true, "private"},
		{IOC{IPv6, "2002:c000:0201::1"}, true, "documentation"},
		{IOC{IPv6, "2001::1"}, true, "ietf-protocol"},
		{IOC{IPv6, "2001:4:112::1"}, false, ""},
		{IOC{IPv6, "4000::1"}, true, "reserved"},
		{IOC{IPv6, "2606:4700::1111"}, false, ""},
		{IOC{Domain, "printer.local"}, true, "internal domain"},
		{IOC{Domain, "svc.internal"}, true, "internal domain"},
		{IOC{Domain, "nas.home.arpa"}, true, "internal domain"},
		{IOC{Domain, "pc.lan"}, true, "internal domain"},
		{IOC{Domain, "dc.corp"}, true, "internal domain"},
		{IOC{Domain, "localhost"}, true, "reserved domain"},
		{IOC{Domain, "a.test"}, true, "reserved domain"},
		{IOC{Domain, "www.example.com"}, true, "reserved domain"},
		{IOC{Domain, "example.org"}, true, "reserved domain"},
		{IOC{Domain, "notexample.com"}, false, ""},
		{IOC{Domain, "wiki.corp.acme-inc.com"}, true, "internal suffix"},
		{IOC{Domain, "git.acme.io"}, true, "internal suffix"},
		{IOC{Domain, "acme.io.evil.com"}, false, ""},
		{IOC{Domain, "evil.com"}, false, ""},
		{IOC{URL, "http://10.0.0.1/x"}, true, "private"},
		{IOC{URL, "http://[fe80::1]/"}, true, "link-local"},
		{IOC{URL, "https://intranet.acme.io/x"}, true, "internal suffix"},
		{IOC{URL, "https://evil.com/x"}, false, ""},
		{IOC{URL, "http://u:p@10.1.2.3:8080/x?y#z"}, true, "private"},
		{IOC{URL, "https://wiki.corp:8443"}, true, "internal domain"},
		{IOC{URL, "HXXP://Dc.Corp/x"}, true, "internal domain"}, // not canonical: parsed
		{IOC{URL, "http://dc.corp:0/"}, false, ""},              // invalid port
		{IOC{URL, "http://[::ffff:10.0.0.1]/"}, true, "private"},
		{IOC{Domain, "home.arpa"}, true, "internal domain"},
		{IOC{Domain, "x.home.arpa"}, true, "internal domain"},
		{IOC{Domain, "xhome.arpa"}, false, ""},
		{IOC{Domain, "mylocal"}, false, ""},
		{IOC{Email, "bob@dc.corp.acme-inc.com"}, true, "internal suffix"},
		{IOC{Email, "bob@evil.com"}, false, ""},
		{IOC{ASN, "AS64512"}, true, "private"},
		{IOC{ASN, "AS64500"}, true, "documentation"},
		{IOC{ASN, "AS13335"}, false, ""},
		{IOC{MD5, "d41d8cd98f00b204e9800998ecf8427e"}, false, ""},
		{IOC{CVE, "CVE-2021-44228"}, false, ""},
	}
	for _, tt := range tests {
		got, reason := c.Internal(tt.i)
		if got != tt.want || reason != tt.reason {
			t.Errorf("Internal(%v) = %v, %q; want %v, %q", tt.i, got, reason, tt.want, tt.reason)
		}
	}
	if ok, _ := Internal(IOC{Domain, "wiki.corp.acme-inc.com"}); ok {
		t.Error("default classifier must not know configured suffixes")
	}
}

func TestSeen(t *testing.T) {
	s := NewSeen()
	a := IOC{Domain, "evil.com"}
	if !s.Add(a) || s.Add(a) || !s.Add(IOC{URL, "evil.com"}) || s.Len() != 2 {
		t.Error("Seen does not deduplicate by type and value")
	}
	var z Seen
	if !z.Add(a) || z.Add(a) {
		t.Error("zero Seen is not usable")
	}
}

func TestExtractOffsetsAndRaw(t *testing.T) {
	in := "x hxxp://evil[.]com/a y 1.2.3.4 Bob@Evil.com"
	var got []Match
	Extract([]byte(in), func(m Match) { got = append(got, m) })
	want := []Match{
		{IOC{URL, "http://evil.com/a"}, "hxxp://evil[.]com/a", 2},
		{IOC{Domain, "evil.com"}, "evil[.]com", 9},
		{IOC{IPv4, "1.2.3.4"}, "", 24},
		{IOC{Email, "bob@evil.com"}, "Bob@Evil.com", 32},
		{IOC{Domain, "evil.com"}, "Evil.com", 36},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("match %d = %+v, want %+v", i, got[i], want[i])
		}
		if w := want[i]; w.Raw != "" && in[w.Offset:int(w.Offset)+len(w.Raw)] != w.Raw {
			t.Errorf("offset %d does not point at %q", w.Offset, w.Raw)
		}
	}
}

func TestRelated(t *testing.T) {
	for in, want := range map[string]string{
		"https://login.evil.example:8443/x?y=1": "domain:login.evil.example",
		"http://185.220.101.47/payload":         "ipv4:185.220.101.47",
		"payroll@evil-corp.xyz":                 "domain:evil-corp.xyz",
		"185.220.101.47":                        "",
	} {
		i, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range Related(i) {
			got = append(got, r.String())
		}
		if strings.Join(got, ",") != want {
			t.Errorf("Related(%s) = %v, want %s", in, got, want)
		}
	}
}
