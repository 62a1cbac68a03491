package lists

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

// load reads testdata files (default options) and returns the matcher and
// the log it wrote.
func load(t *testing.T, names ...string) (*Matcher, string) {
	t.Helper()
	var srcs []Source
	for _, n := range names {
		srcs = append(srcs, Source{Path: filepath.Join("testdata", n), TLP: tlp.Amber, Weight: 1})
	}
	var buf bytes.Buffer
	m, err := Load(srcs, slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatalf("Load(%v): %v", names, err)
	}
	return m, buf.String()
}

type want struct {
	list, entry string
	kind        Kind
	viaHost     bool
}

func check(t *testing.T, m *Matcher, i ioc.IOC, w []want) {
	t.Helper()
	hits := m.Match(i)
	if len(hits) != len(w) {
		t.Fatalf("Match(%v) = %+v, want %d hits %+v", i, hits, len(w), w)
	}
	for k, h := range hits {
		if h.List != w[k].list || h.Entry != w[k].entry || h.Kind != w[k].kind || h.ViaHost != w[k].viaHost {
			t.Errorf("Match(%v)[%d] = %+v, want %+v", i, k, h, w[k])
		}
	}
}

func TestTextList(t *testing.T) {
	m, logs := load(t, "corp.txt")
	if logs != "" && strings.Contains(logs, "WARN") {
		t.Errorf("unexpected warnings: %s", logs)
	}
	if m.Len() != 9 || m.Skipped() != 0 {
		t.Errorf("Len, Skipped = %d, %d; want 9, 0", m.Len(), m.Skipped())
	}
	tests := []struct {
		name string
		i    ioc.IOC
		w    []want
	}{
		{"exact ipv4", ioc.IOC{Type: ioc.IPv4, Value: "203.0.113.7"}, []want{{"corp", "203.0.113.7", KindString, false}}},
		{"ipv4 miss", ioc.IOC{Type: ioc.IPv4, Value: "203.0.113.8"}, nil},
		{"cidr v4", ioc.IOC{Type: ioc.IPv4, Value: "198.51.100.200"}, []want{{"corp", "198.51.100.0/24", KindCIDR, false}}},
		{"cidr v4 edge miss", ioc.IOC{Type: ioc.IPv4, Value: "198.51.101.0"}, nil},
		{"cidr v6", ioc.IOC{Type: ioc.IPv6, Value: "2001:db8:abcd:12::1"}, []want{{"corp", "2001:db8:abcd::/48", KindCIDR, false}}},
		{"cidr v6 upper case", ioc.IOC{Type: ioc.IPv6, Value: "2001:DB8:ABCD::FFFF"}, []want{{"corp", "2001:db8:abcd::/48", KindCIDR, false}}},
		{"cidr v6 miss", ioc.IOC{Type: ioc.IPv6, Value: "2001:db8:abce::1"}, nil},
		{"v4-mapped v6", ioc.IOC{Type: ioc.IPv6, Value: "::ffff:198.51.100.1"}, []want{{"corp", "198.51.100.0/24", KindCIDR, false}}},
		{"suffix", ioc.IOC{Type: ioc.Domain, Value: "a.b.corp.example"}, []want{{"corp", "corp.example", KindHostname, false}}},
		{"suffix itself", ioc.IOC{Type: ioc.Domain, Value: "corp.example"}, []want{{"corp", "corp.example", KindHostname, false}}},
		{"suffix is label-aligned", ioc.IOC{Type: ioc.Domain, Value: "notcorp.example"}, nil},
		{"exact domain", ioc.IOC{Type: ioc.Domain, Value: "partner.example.net"}, []want{{"corp", "partner.example.net", KindString, false}}},
		{"exact domain: no subdomains", ioc.IOC{Type: ioc.Domain, Value: "x.partner.example.net"}, nil},
		{"domain trailing dot and case", ioc.IOC{Type: ioc.Domain, Value: "Partner.Example.NET."}, []want{{"corp", "partner.example.net", KindString, false}}},
		{"hash upper case", ioc.IOC{Type: ioc.MD5, Value: "44D88612FEA8A8F36DE82E1F5B0D7E7E"}, []want{{"corp", "44d88612fea8a8f36de82e1f5b0d7e7e", KindString, false}}},
		{"refanged url entry", ioc.IOC{Type: ioc.URL, Value: "http://files.example.org/update.exe"}, []want{{"corp", "http://files.example.org/update.exe", KindString, false}}},
		{"url path is case-sensitive", ioc.IOC{Type: ioc.URL, Value: "http://files.example.org/UPDATE.exe"}, nil},
		{"url via cidr host", ioc.IOC{Type: ioc.URL, Value: "https://198.51.100.3:8443/x"}, []want{{"corp", "198.51.100.0/24", KindCIDR, true}}},
		{"url via ipv6 host", ioc.IOC{Type: ioc.URL, Value: "http://[2001:db8:abcd::5]/"}, []want{{"corp", "2001:db8:abcd::/48", KindCIDR, true}}},
		{"url via suffix host", ioc.IOC{Type: ioc.URL, Value: "https://user@vpn.corp.example:443/login?a=b"}, []want{{"corp", "corp.example", KindHostname, true}}},
		{"url via exact host", ioc.IOC{Type: ioc.URL, Value: "http://partner.example.net/"}, []want{{"corp", "partner.example.net", KindString, true}}},
		{"email via host", ioc.IOC{Type: ioc.Email, Value: "Alice@Mail.Corp.Example"}, []want{{"corp", "corp.example", KindHostname, true}}},
		{"hosts-file line", ioc.IOC{Type: ioc.Domain, Value: "tracker.example.com"}, []want{{"corp", "tracker.example.com", KindString, false}}},
		{"sink address not listed", ioc.IOC{Type: ioc.IPv4, Value: "0.0.0.0"}, nil},
		{"cve miss", ioc.IOC{Type: ioc.CVE, Value: "CVE-2021-44228"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, m, tc.i, tc.w) })
	}
	if h := m.Match(ioc.IOC{Type: ioc.Domain, Value: "partner.example.net"}); len(h) != 1 || h[0].Comment != "our partner, exact host only" {
		t.Errorf("comment: %+v", h)
	}
}

func TestBadLines(t *testing.T) {
	m, logs := load(t, "bad.txt")
	if m.Len() != 2 || m.Skipped() != 4 {
		t.Errorf("Len, Skipped = %d, %d; want 2, 4", m.Len(), m.Skipped())
	}
	for _, at := range []string{"bad.txt:3", "bad.txt:4", "bad.txt:5", "bad.txt:6"} {
		if !strings.Contains(logs, at) {
			t.Errorf("no warning naming %s in:\n%s", at, logs)
		}
	}
	if strings.Contains(logs, "bad.txt:2 ") || strings.Contains(logs, "bad.txt:7 ") {
		t.Errorf("a good line was reported bad:\n%s", logs)
	}
	check(t, m, ioc.IOC{Type: ioc.Domain, Value: "good.example"}, []want{{"bad", "good.example", KindString, false}})
	check(t, m, ioc.IOC{Type: ioc.IPv4, Value: "10.0.0.1"}, nil)
}

func TestManyBadLinesAreCounted(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "junk.txt")
	if err := os.WriteFile(p, []byte(strings.Repeat("a b c\n", 50)+"192.0.2.9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	m, err := Load([]Source{{Path: p}}, slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Skipped() != 50 || m.Len() != 1 {
		t.Errorf("Skipped, Len = %d, %d; want 50, 1", m.Skipped(), m.Len())
	}
	if n := strings.Count(buf.String(), "skipped bad entry"); n != maxWarnings {
		t.Errorf("%d warnings, want %d", n, maxWarnings)
	}
	if !strings.Contains(buf.String(), "skipped=50") {
		t.Errorf("no summary count in:\n%s", buf.String())
	}
}

func TestMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope.txt")
	_, err := Load([]Source{{Path: p}}, nil)
	if err == nil || !strings.Contains(err.Error(), p) || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("Load(missing) = %v, want a not-exist error naming %s", err, p)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestCSV(t *testing.T) {
	m, logs := load(t, "feed.csv", "noheader.csv")
	if m.Skipped() != 0 || m.Len() != 6 {
		t.Errorf("Len, Skipped = %d, %d; want 6, 0\n%s", m.Len(), m.Skipped(), logs)
	}
	tests := []struct {
		i       ioc.IOC
		w       []want
		comment string
	}{
		{ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}, []want{{"feed", "185.220.101.47", KindString, false}}, "tor exit relay"},
		{ioc.IOC{Type: ioc.URL, Value: "http://evil.example/login.php"}, []want{
			{"feed", "http://evil.example/login.php", KindString, false},
			{"feed", "evil.example", KindString, true},
		}, "credential phishing"},
		{ioc.IOC{Type: ioc.SHA256, Value: "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}, []want{{"feed", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", KindString, false}}, "dropper"},
		{ioc.IOC{Type: ioc.IPv4, Value: "198.18.0.1"}, []want{{"noheader", "198.18.0.1", KindString, false}}, "lab scanner"},
		{ioc.IOC{Type: ioc.Domain, Value: "cdn.example.org"}, []want{{"noheader", "cdn.example.org", KindString, false}}, "content network"},
	}
	for _, tc := range tests {
		check(t, m, tc.i, tc.w)
		if h := m.Match(tc.i); len(h) > 0 && h[0].Comment != tc.comment {
			t.Errorf("Match(%v) comment %q, want %q", tc.i, h[0].Comment, tc.comment)
		}
	}
}

func TestWarninglists(t *testing.T) {
	m, logs := load(t, "wl-hostname.json", "wl-cidr.json", "wl-string.json", "wl-substring.json", "wl-regex.json")
	const (
		cdn   = "List of known Example CDN domains"
		nets  = "List of example networks"
		good  = "Known good hashes"
		sink  = "Sinkholes"
		cloud = "Cloud buckets"
	)
	if got := m.Lists(); strings.Join(got, "|") != strings.Join([]string{cdn, nets, good, sink, cloud}, "|") {
		t.Errorf("Lists() = %q", got)
	}
	// Bad entries: "not a host" (hostname), "example.com" and 42 (cidr),
	// the look-behind regex (not RE2).
	if m.Skipped() != 4 {
		t.Errorf("Skipped = %d, want 4\n%s", m.Skipped(), logs)
	}
	for _, at := range []string{"wl-hostname.json:10", "wl-cidr.json:7", "wl-cidr.json:8", "wl-regex.json:2"} {
		if !strings.Contains(logs, at+" ") {
			t.Errorf("no warning naming %s in:\n%s", at, logs)
		}
	}
	tests := []struct {
		name string
		i    ioc.IOC
		w    []want
	}{
		{"hostname subdomain", ioc.IOC{Type: ioc.Domain, Value: "img.cdn.example"}, []want{{cdn, "cdn.example", KindHostname, false}}},
		{"hostname dotted entry", ioc.IOC{Type: ioc.Domain, Value: "static.example"}, []want{{cdn, "static.example", KindHostname, false}}},
		{"hostname url host (url in matching_attributes)", ioc.IOC{Type: ioc.URL, Value: "https://a.cdn.example/x.js"}, []want{{cdn, "cdn.example", KindHostname, true}}},
		{"hostname not for email", ioc.IOC{Type: ioc.Email, Value: "x@cdn.example"}, nil},
		{"cidr v4", ioc.IOC{Type: ioc.IPv4, Value: "192.0.2.77"}, []want{{nets, "192.0.2.0/24", KindCIDR, false}}},
		{"cidr v6", ioc.IOC{Type: ioc.IPv6, Value: "2001:db8:ffff::1"}, []want{{nets, "2001:db8::/32", KindCIDR, false}}},
		{"cidr bare ip is a /32", ioc.IOC{Type: ioc.IPv4, Value: "198.51.100.9"}, []want{{nets, "198.51.100.9/32", KindCIDR, false}}},
		{"cidr not for urls", ioc.IOC{Type: ioc.URL, Value: "http://192.0.2.1/"}, []want{{sink, ".honeypot.", KindSubstring, false}}[:0]},
		{"string hash any case", ioc.IOC{Type: ioc.MD5, Value: "d41d8cd98f00b204e9800998ecf8427e"}, []want{{good, "d41d8cd98f00b204e9800998ecf8427e", KindString, false}}},
		{"string type filter", ioc.IOC{Type: ioc.IPv4, Value: "8.8.8.8"}, nil},
		{"substring", ioc.IOC{Type: ioc.Domain, Value: "SinkHole.abuse.example"}, []want{{sink, "sinkhole", KindSubstring, false}}},
		{"substring inside", ioc.IOC{Type: ioc.URL, Value: "http://a.honeypot.example/"}, []want{{sink, ".honeypot.", KindSubstring, false}}},
		{"regex with flags", ioc.IOC{Type: ioc.Domain, Value: "my-bucket.s3.amazonaws.com"}, []want{{cloud, `/^[a-z0-9-]+\.s3\.amazonaws\.com$/i`, KindRegex, false}}},
		{"regex bare", ioc.IOC{Type: ioc.URL, Value: "https://storage.example/f"}, []want{{cloud, `^https?://storage\.example/`, KindRegex, false}}},
		{"regex type filter", ioc.IOC{Type: ioc.SHA1, Value: "a.s3.amazonaws.com"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, m, tc.i, tc.w) })
	}
}

func TestWarninglistErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"bad-type.json":  `{"name": "Bad", "type": "glob", "list": ["a"]}`,
		"not-json.json":  `name: yaml`,
		"no-list.json":   `{"name": "x", "type": "string"}`,
		"list-obj.json":  `{"name": "x", "list": {"a": 1}}`,
		"truncated.json": `{"name": "x", "list": ["a",`,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load([]Source{{Path: p}}, nil); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("Load(%s) = %v, want an error naming the file", name, err)
		}
	}
}

func TestMultipleListsShareEntries(t *testing.T) {
	dir := t.TempDir()
	for n, body := range map[string]string{"a.txt": "192.0.2.1\nexample.com\n", "b.txt": "192.0.2.1\n192.0.2.1\n*.example.com\n"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srcs, err := ParseSources(filepath.Join(dir, "a.txt")+";label=A;tlp=red;weight=0.5, "+filepath.Join(dir, "b.txt"), Source{TLP: tlp.Amber})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(srcs, nil)
	if err != nil {
		t.Fatal(err)
	}
	hits := m.Match(ioc.IOC{Type: ioc.IPv4, Value: "192.0.2.1"})
	if len(hits) != 2 || hits[0].List != "A" || hits[0].TLP != tlp.Red || hits[0].Weight != 0.5 ||
		hits[1].List != "b" || hits[1].TLP != tlp.Amber || hits[1].Weight != 1 {
		t.Errorf("hits = %+v", hits)
	}
	check(t, m, ioc.IOC{Type: ioc.Domain, Value: "example.com"}, []want{{"A", "example.com", KindString, false}, {"b", "example.com", KindHostname, false}})
}

func TestParseSources(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"x.json", "y.json"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(`{"list":[]}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srcs, err := ParseSources(" a.txt ; kind=hostname ; format=text ,"+filepath.Join(dir, "*.json")+",,", Source{})
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 3 || srcs[0].Path != "a.txt" || srcs[0].Kind != KindHostname || srcs[0].Format != FormatText ||
		srcs[0].Weight != 1 || srcs[1].Path != filepath.Join(dir, "x.json") || srcs[2].Path != filepath.Join(dir, "y.json") {
		t.Errorf("ParseSources = %+v", srcs)
	}
	for _, bad := range []string{"a.txt;tlp=purple", "a.txt;weight=2", "a.txt;weight=0", "a.txt;kind=glob", "a.txt;colour=red",
		"a.txt;label", "a.txt;format=xml", ";label=x", filepath.Join(dir, "*.none")} {
		if _, err := ParseSources(bad, Source{}); err == nil {
			t.Errorf("ParseSources(%q) succeeded", bad)
		}
	}
}

func TestKindOverride(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hosts.txt")
	if err := os.WriteFile(p, []byte("example.org\n10.1.0.0/16\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Load([]Source{{Path: p, Kind: KindHostname}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	check(t, m, ioc.IOC{Type: ioc.Domain, Value: "www.example.org"}, []want{{"hosts", "example.org", KindHostname, false}})
	// Addresses and networks in a hostname list are kept as such.
	check(t, m, ioc.IOC{Type: ioc.IPv4, Value: "10.1.2.3"}, []want{{"hosts", "10.1.0.0/16", KindCIDR, false}})
}

func TestOddInput(t *testing.T) {
	m, _ := load(t, "corp.txt", "feed.csv", "wl-hostname.json", "wl-cidr.json", "wl-substring.json", "wl-regex.json")
	var nilM *Matcher
	for _, v := range []string{"", " ", ".", "..", "://", "@", "a@", "@b", "http://", "http://[", "http://[::1", "http://:80",
		"[.]", "hxxp", "*.", "/", "1.2.3.4/", "::ffff:", "%", "\x00", strings.Repeat("a.", 300), "http://u@@h:1:2/"} {
		for _, typ := range ioc.Types {
			i := ioc.IOC{Type: typ, Value: v}
			_ = m.Match(i)
			if h := nilM.Match(i); h != nil {
				t.Fatalf("nil Matcher matched %v", i)
			}
		}
	}
	if h := (&Matcher{}).Match(ioc.IOC{Type: ioc.IPv4, Value: "1.2.3.4"}); h != nil {
		t.Errorf("zero Matcher matched: %v", h)
	}
}

func TestMatchAllocatesNothingOnMiss(t *testing.T) {
	m, _ := load(t, "corp.txt", "wl-cidr.json")
	misses := []ioc.IOC{
		{Type: ioc.IPv4, Value: "203.0.113.99"},
		{Type: ioc.Domain, Value: "www.unlisted.example"},
		{Type: ioc.SHA256, Value: "0000000000000000000000000000000000000000000000000000000000000000"},
		{Type: ioc.URL, Value: "https://www.unlisted.example/a/b?c=d"},
		{Type: ioc.Email, Value: "someone@unlisted.example"},
	}
	for _, i := range misses {
		if n := testing.AllocsPerRun(100, func() { _ = m.Match(i) }); n != 0 {
			t.Errorf("Match(%v) allocates %.0f times on a miss", i, n)
		}
	}
}

func TestEntriesInIOCForm(t *testing.T) {
	p := filepath.Join(t.TempDir(), "intl.txt")
	if err := os.WriteFile(p, []byte("bücher.example.de\n*.münchen.de\nHTTP://Example.COM\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Load([]Source{{Path: p}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"bücher.example.de", "www.münchen.de", "http://example.com"} {
		i, err := ioc.Parse(raw)
		if err != nil {
			t.Fatalf("ioc.Parse(%q): %v", raw, err)
		}
		if len(m.Match(i)) != 1 {
			t.Errorf("Match(%v) (from %q) found nothing", i, raw)
		}
	}
}
