package lists

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

// naiveEntry is one list entry as the naive matcher keeps it.
type naiveEntry struct {
	list  string
	kind  Kind // KindString, KindHostname or KindCIDR
	value string
	ip    netip.Addr
	net   netip.Prefix
}

// naiveMatch is the specification Match must agree with, written as plainly
// as possible: a linear scan over every entry.
func naiveMatch(entries []naiveEntry, q string, viaHost bool) []Hit {
	var hits []Hit
	a, err := netip.ParseAddr(q)
	isIP := err == nil
	if isIP {
		a = a.Unmap()
	}
	for _, e := range entries {
		switch {
		case e.kind == KindCIDR && isIP && e.net.Contains(a):
			hits = append(hits, Hit{List: e.list, Entry: e.net.String(), Kind: KindCIDR, ViaHost: viaHost})
		case e.kind == KindString && e.ip.IsValid() && isIP && e.ip == a:
			hits = append(hits, Hit{List: e.list, Entry: a.String(), Kind: KindString, ViaHost: viaHost})
		case e.kind == KindString && !e.ip.IsValid() && e.value == q:
			hits = append(hits, Hit{List: e.list, Entry: q, Kind: KindString, ViaHost: viaHost})
		case e.kind == KindHostname && !isIP && (q == e.value || strings.HasSuffix(q, "."+e.value)):
			hits = append(hits, Hit{List: e.list, Entry: e.value, Kind: KindHostname, ViaHost: viaHost})
		}
	}
	// Match reports a (list, entry) pair once, exact before suffix before
	// network.
	rank := map[Kind]int{KindString: 0, KindHostname: 1, KindCIDR: 2}
	slices.SortStableFunc(hits, func(a, b Hit) int { return rank[a.Kind] - rank[b.Kind] })
	var out []Hit
	for _, h := range hits {
		if !slices.ContainsFunc(out, func(o Hit) bool { return o.List == h.List && o.Entry == h.Entry }) {
			out = append(out, h)
		}
	}
	return out
}

// naiveGen draws entries and queries from small vocabularies, so that
// queries hit, nearly hit and nest often.
type naiveGen struct{ r *rand.Rand }

func (g naiveGen) label() string {
	return [...]string{"a", "b", "c", "www", "mail", "x-1", "cdn", "evil", "corp", "xn--bcher-kva", "cve-2021-1", "7"}[g.r.IntN(12)]
}

func (g naiveGen) domain(minLabels int) string {
	n := minLabels + g.r.IntN(4)
	labels := make([]string, n)
	for i := range labels {
		labels[i] = g.label()
	}
	labels[n-1] = [...]string{"com", "net", "example"}[g.r.IntN(3)]
	return strings.Join(labels, ".")
}

func (g naiveGen) ip4() netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(g.r.IntN(3)), byte(g.r.IntN(4)), byte(g.r.IntN(8))})
}

func (g naiveGen) ip6() netip.Addr {
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	if g.r.IntN(2) == 0 { // a unique local address: it starts with a letter
		b[0], b[1] = 0xfd, 0x00
	}
	b[5], b[14], b[15] = byte(g.r.IntN(3)), byte(g.r.IntN(2)), byte(g.r.IntN(8))
	return netip.AddrFrom16(b)
}

func (g naiveGen) hash() string {
	return strings.Repeat(fmt.Sprintf("%08x", g.r.IntN(20)), 8)[:[...]int{32, 40, 64}[g.r.IntN(3)]]
}

// entry returns a list line and what the naive matcher stores for it.
func (g naiveGen) entry(list string) (string, naiveEntry) {
	switch g.r.IntN(7) {
	case 0:
		a := g.ip4()
		return a.String(), naiveEntry{list: list, kind: KindString, ip: a}
	case 1:
		a := g.ip6()
		return a.String(), naiveEntry{list: list, kind: KindString, ip: a}
	case 2, 3:
		p := netip.PrefixFrom(g.ip4(), 8+g.r.IntN(25)).Masked()
		if g.r.IntN(2) == 0 {
			p = netip.PrefixFrom(g.ip6(), 16+g.r.IntN(113)).Masked()
		}
		if p.IsSingleIP() { // a plain list's /32 or /128 is an exact address
			return p.String(), naiveEntry{list: list, kind: KindString, ip: p.Addr()}
		}
		return p.String(), naiveEntry{list: list, kind: KindCIDR, net: p}
	case 4:
		d := g.domain(2)
		return "*." + d, naiveEntry{list: list, kind: KindHostname, value: d}
	case 5:
		d := g.domain(1)
		return d, naiveEntry{list: list, kind: KindString, value: d}
	default:
		h := g.hash()
		return h, naiveEntry{list: list, kind: KindString, value: h}
	}
}

// query returns an IOC, its canonical value (or host) for the naive
// matcher, and whether it is matched through its host.
func (g naiveGen) query() (q ioc.IOC, canonical string, viaHost bool) {
	switch g.r.IntN(9) {
	case 0:
		a := g.ip4()
		return ioc.IOC{Type: ioc.IPv4, Value: a.String()}, a.String(), false
	case 1:
		a := g.ip6()
		v := a.String()
		if g.r.IntN(4) == 0 {
			v = strings.ToUpper(v)
		}
		return ioc.IOC{Type: ioc.IPv6, Value: v}, a.String(), false
	case 2:
		d := g.domain(1)
		v := d
		switch g.r.IntN(6) {
		case 0:
			v = strings.ToUpper(d)
		case 1:
			v = d + "."
		}
		return ioc.IOC{Type: ioc.Domain, Value: v}, d, false
	case 3:
		d := g.domain(1)
		u := [...]string{"https://" + d + "/p?q=1", "http://" + strings.ToUpper(d) + "/P", "ftp://u@" + d + ":21", "http://" + d + "./"}[g.r.IntN(4)]
		return ioc.IOC{Type: ioc.URL, Value: u}, d, true
	case 4:
		a := g.ip4()
		return ioc.IOC{Type: ioc.URL, Value: "http://" + a.String() + ":8080/x"}, a.String(), true
	case 5:
		d := g.domain(1)
		return ioc.IOC{Type: ioc.Email, Value: "user@" + d}, d, true
	case 6:
		h := g.hash()
		v := h
		if g.r.IntN(3) == 0 {
			v = strings.ToUpper(h)
		}
		typ := map[int]ioc.Type{32: ioc.MD5, 40: ioc.SHA1, 64: ioc.SHA256}[len(h)]
		return ioc.IOC{Type: typ, Value: v}, h, false
	case 7: // a domain passed with the wrong type still matches as a value
		d := g.domain(2)
		return ioc.IOC{Type: ioc.IPv4, Value: d}, d, false
	default:
		a := g.ip4()
		return ioc.IOC{Type: ioc.Domain, Value: a.String()}, a.String(), false
	}
}

func hitKey(h Hit) string {
	return fmt.Sprintf("%s|%s|%s|%v", h.List, h.Kind, h.Entry, h.ViaHost)
}

// TestMatchAgreesWithNaive loads random lists and checks Match against a
// linear scan over every entry, for random queries of every kind.
func TestMatchAgreesWithNaive(t *testing.T) {
	for seed := range uint64(20) {
		g := naiveGen{rand.New(rand.NewPCG(seed, 7))}
		dir := t.TempDir()
		var srcs []Source
		var entries []naiveEntry
		for _, list := range []string{"one", "two", "three"} {
			var lines []string
			for range 5 + g.r.IntN(60) {
				line, e := g.entry(list)
				lines = append(lines, line)
				entries = append(entries, e)
			}
			p := filepath.Join(dir, list+".txt")
			if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, Source{Path: p, Label: list, TLP: tlp.Green, Weight: 1})
		}
		// A hostname list takes single labels as suffixes too ("com").
		var lines []string
		for range 1 + g.r.IntN(5) {
			d := g.domain(1)
			lines = append(lines, d)
			entries = append(entries, naiveEntry{list: "hosts", kind: KindHostname, value: d})
		}
		p := filepath.Join(dir, "hosts.txt")
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		if seed%2 == 0 {
			srcs = append(srcs, Source{Path: p, Label: "hosts", Kind: KindHostname, TLP: tlp.Green, Weight: 1})
		} else {
			entries = slices.DeleteFunc(entries, func(e naiveEntry) bool { return e.list == "hosts" })
		}
		m, err := Load(srcs, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range 2000 {
			q, canonical, viaHost := g.query()
			var want []string
			for _, h := range naiveMatch(entries, canonical, viaHost) {
				want = append(want, hitKey(h))
			}
			var got []string
			for _, h := range m.Match(q) {
				got = append(got, hitKey(h))
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d: Match(%v) =\n  %v\nwant\n  %v", seed, q, got, want)
			}
		}
	}
}

// FuzzFastPaths checks that Match's fast paths agree with the canonical
// form they skip: a value they accept is canonical already, and gives the
// same host and address the slow path would.
func FuzzFastPaths(f *testing.F) {
	for _, s := range []string{
		"http://a.example/x", "https://u:p@A.example:8443/p?q#f", "http://a.example./", "hxxp://a.example/",
		"http://192.0.2.1:80/x", "http://[2001:db8::1]/", "ftp://u@h:1:2/", "http://cve-2021-1234/",
		"example.com", "cve-2021-44228", "10.1.2.3", "010.1.2.3", "1.2.3", "44d88612fea8a8f36de82e1f5b0d7e7e",
		"a..b", "Example.com", "xn--bcher-kva.example", "http://a.example/xxp://b", "http://é.example/",
		"fe80::1", "FD00::1%eth0", "1.2.3.4%eth0", "::ffff:1.2.3.4", "abc.def", "deadbeef",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := netip.ParseAddr(s)
		if _, ok := parseIP(s); ok != (err == nil) {
			t.Errorf("parseIP(%q) ok = %v, netip.ParseAddr error %v", s, ok, err)
		}
		if isCanonName(s) {
			if c := canon(s); c != s {
				t.Errorf("isCanonName(%q) but canon = %q", s, c)
			}
			if _, ok := parseIP(s); ok {
				t.Errorf("isCanonName(%q) but it parses as an IP address", s)
			}
		}
		if x, ok := parseIPv4(s); ok {
			a, err := netip.ParseAddr(s)
			if err != nil || !a.Is4() || a.String() != s || toU128(a).lo32() != x {
				t.Errorf("parseIPv4(%q) = %x, but netip says %v, %v", s, x, a, err)
			}
		}
		if h, ok := urlHost(s); ok {
			if c := canonFast(s); c != s {
				t.Errorf("urlHost(%q) ok but canonFast = %q", s, c)
			}
			if hh := hostOf(s); hh != h {
				t.Errorf("urlHost(%q) = %q, hostOf = %q", s, h, hh)
			}
		}
	})
}
