package ioc

import (
	"net/netip"
	"strconv"
	"strings"
)

// Classifier decides which indicators are internal or reserved and so must
// never be sent to an external provider.
type Classifier struct {
	// Suffixes are the organisation's own DNS suffixes, e.g.
	// "corp.example.com"; a domain equal to or under one of them is
	// internal. Default: none.
	Suffixes []string
}

type special struct {
	p      netip.Prefix
	reason string
}

func mustPrefixes(rs ...string) []special {
	var out []special
	for i := 0; i < len(rs); i += 2 {
		out = append(out, special{netip.MustParsePrefix(rs[i]), rs[i+1]})
	}
	return out
}

// specials4 follows the IANA IPv4 Special-Purpose Address Registry; the more
// specific entries come first.
var specials4 = mustPrefixes(
	"255.255.255.255/32", "broadcast",
	"0.0.0.0/8", "this-network",
	"10.0.0.0/8", "private",
	"100.64.0.0/10", "cgnat",
	"127.0.0.0/8", "loopback",
	"169.254.0.0/16", "link-local",
	"172.16.0.0/12", "private",
	"192.0.0.0/24", "ietf-protocol",
	"192.0.2.0/24", "documentation",
	"192.88.99.0/24", "reserved", // deprecated 6to4 relay anycast
	"192.168.0.0/16", "private",
	"198.18.0.0/15", "benchmarking",
	"198.51.100.0/24", "documentation",
	"203.0.113.0/24", "documentation",
	"224.0.0.0/4", "multicast",
	"240.0.0.0/4", "reserved",
)

// globals6 are the globally reachable exceptions inside specials6 entries.
var globals6 = mustPrefixes(
	"2001:1::1/128", "", "2001:1::2/128", "", "2001:3::/32", "",
	"2001:4:112::/48", "", "2001:20::/28", "", "2001:30::/28", "",
)

// specials6 follows the IANA IPv6 Special-Purpose Address Registry. Anything
// outside 2000::/3 (global unicast) that is not listed is "reserved".
var specials6 = mustPrefixes(
	"::/128", "unspecified",
	"::1/128", "loopback",
	"64:ff9b:1::/48", "private", // local-use NAT64 (RFC 8215)
	"100::/64", "discard",
	"2001::/23", "ietf-protocol",
	"2001:db8::/32", "documentation",
	"3fff::/20", "documentation",
	"5f00::/16", "reserved", // SRv6 SIDs
	"fc00::/7", "private", // unique local
	"fe80::/10", "link-local",
	"fec0::/10", "reserved", // deprecated site-local
	"ff00::/8", "multicast",
)

var global6 = netip.MustParsePrefix("2000::/3")
var nat64 = netip.MustParsePrefix("64:ff9b::/96")
var sixToFour = netip.MustParsePrefix("2002::/16")

// internalTLDs and reservedNames are suffixes of names that are never public.
var internalTLDs = []string{"local", "internal", "lan", "corp", "home.arpa", "intranet", "localdomain", "home", "private"}
var reservedNames = []string{"localhost", "test", "example", "invalid", "example.com", "example.net", "example.org", "in-addr.arpa", "ip6.arpa"}

// Internal reports whether i must stay inside the organisation and why:
// "private", "loopback", "link-local", "cgnat", "multicast",
// "documentation", "benchmarking", "broadcast", "this-network",
// "ietf-protocol", "reserved", "unspecified", "discard", "internal domain",
// "reserved domain" or "internal suffix". A URL or e-mail address is
// internal when its host is; an ASN when it is private, reserved or for
// documentation. Hashes and CVEs never are.
func (c Classifier) Internal(i IOC) (bool, string) {
	switch i.Type {
	case IPv4, IPv6:
		if a, ok := ipv4Octets(i.Value); ok && !special4(a[0]) {
			return false, ""
		}
		a, err := netip.ParseAddr(strings.Trim(i.Value, "[]"))
		if err != nil {
			return false, ""
		}
		return addrInternal(a)
	case Domain:
		d := strings.TrimSuffix(i.Value, ".")
		if len(c.Suffixes) == 0 {
			return builtinInternal(d)
		}
		return c.domainInternal(strings.ToLower(d))
	case URL:
		if h, ok := plainURLHost(i.Value); ok {
			return c.Internal(IOC{Domain, h})
		}
		if h, ok := canonicalURLHost(i.Value); ok {
			return c.Internal(h)
		}
		u, ok := splitURL(i.Value)
		if !ok {
			return false, ""
		}
		return c.Internal(u.host)
	case Email:
		at := strings.LastIndexByte(i.Value, '@')
		if at < 0 {
			return false, ""
		}
		return c.Internal(IOC{Domain, i.Value[at+1:]})
	case ASN:
		return asnInternal(i.Value)
	}
	return false, ""
}

// plainURLHost returns the host of an http(s) URL without userinfo or port
// when it is a plain name of two labels or more: lower-case letters,
// digits, '-', '_' and '.', starting with a letter (so never an IP address
// in any notation), no "xn--", no trailing dot. Classification needs
// nothing more: such a name is internal or not by its suffix, whether or
// not it is a valid public domain, so the name is not validated
// (canonicalURLHost does, for the other hosts). Nearly every URL extracted
// has such a host.
func plainURLHost(s string) (string, bool) {
	var auth string
	switch {
	case strings.HasPrefix(s, "https://"):
		auth = s[len("https://"):]
	case strings.HasPrefix(s, "http://"):
		auth = s[len("http://"):]
	default:
		return "", false
	}
	end := 0
	for end < len(auth) {
		c := auth[end]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			end++
			continue
		}
		if c != '/' && c != '?' && c != '#' {
			return "", false // userinfo, a port, an IPv6 literal, upper case, ...
		}
		break
	}
	h := auth[:end]
	if h == "" || h[0] < 'a' || h[0] > 'z' || h[len(h)-1] == '.' || strings.IndexByte(h, '.') < 0 || strings.Contains(h, "xn--") {
		return "", false
	}
	return h, true
}

// Internal is Classifier{}.Internal: the built-in ranges and names only.
func Internal(i IOC) (bool, string) { return Classifier{}.Internal(i) }

// ipv4Octets parses a dotted-quad IPv4 address in canonical form.
func ipv4Octets(s string) (a [4]byte, ok bool) {
	k, n, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || n > 255 || k == 4 {
				return a, false
			}
			a[k] = byte(n)
			k, n, digits = k+1, 0, 0
			continue
		}
		if c := s[i]; c >= '0' && c <= '9' && digits < 3 {
			n = n*10 + int(c-'0')
			digits++
			continue
		}
		return a, false
	}
	return a, k == 4
}

// special4 reports whether an IPv4 address with first octet o may fall in
// specials4.
func special4(o byte) bool {
	switch o {
	case 0, 10, 100, 127, 169, 172, 192, 198, 203:
		return true
	}
	return o >= 224
}

func addrInternal(a netip.Addr) (bool, string) {
	a = a.WithZone("")
	if a.Is4In6() {
		a = a.Unmap()
	}
	if a.Is4() {
		for _, s := range specials4 {
			if s.p.Contains(a) {
				if s.reason == "ietf-protocol" && (a == netip.AddrFrom4([4]byte{192, 0, 0, 9}) || a == netip.AddrFrom4([4]byte{192, 0, 0, 10})) {
					return false, "" // PCP and TURN anycast are global
				}
				return true, s.reason
			}
		}
		return false, ""
	}
	if nat64.Contains(a) || sixToFour.Contains(a) {
		// The well-known NAT64 prefix and 6to4 embed an IPv4 address:
		// judge that address.
		b := a.As16()
		if sixToFour.Contains(a) {
			return addrInternal(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
		return addrInternal(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	for _, s := range globals6 {
		if s.p.Contains(a) {
			return false, ""
		}
	}
	best := special{}
	for _, s := range specials6 {
		if s.p.Contains(a) && s.p.Bits() >= best.p.Bits() {
			best = s
		}
	}
	if best.reason != "" {
		return true, best.reason
	}
	if !global6.Contains(a) {
		return true, "reserved"
	}
	return false, ""
}

// hasSuffixLabel reports whether d is suffix or ends in "."+suffix.
func hasSuffixLabel(d, suffix string) bool {
	k := len(d) - len(suffix)
	return k >= 0 && d[k:] == suffix && (k == 0 || d[k-1] == '.')
}

// builtinTLD reports whether a name's last label (any case) is the last
// label of an entry of internalTLDs or reservedNames.
func builtinTLD(l string) bool {
	if len(l) < 3 || len(l) > len("localdomain") {
		return false
	}
	var buf [len("localdomain")]byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(l)]) {
	case "local", "internal", "lan", "corp", "arpa", "intranet", "localdomain", "home", "private",
		"localhost", "test", "example", "invalid", "com", "net", "org":
		return true
	}
	return false
}

func (c Classifier) domainInternal(d string) (bool, string) {
	for _, s := range c.Suffixes {
		s = strings.Trim(strings.ToLower(strings.TrimSpace(s)), ".")
		if !isASCII(s) { // an ASCII name is canonical once lower case
			if n, ok := normalizeDomain(s); ok {
				s = n
			}
		}
		if s != "" && hasSuffixLabel(d, s) {
			return true, "internal suffix"
		}
	}
	return builtinInternal(d)
}

// builtinInternal is domainInternal without corporate suffixes, for a name
// in any case: most names are let go on their last label alone.
func builtinInternal(d string) (bool, string) {
	tld := d[strings.LastIndexByte(d, '.')+1:]
	if !builtinTLD(tld) {
		return false, ""
	}
	d = strings.ToLower(d) // no copy when already lower case, as values are
	for _, n := range builtinByTLD[d[strings.LastIndexByte(d, '.')+1:]] {
		if hasSuffixLabel(d, n.suffix) {
			return true, n.reason
		}
	}
	return false, ""
}

// builtinByTLD holds internalTLDs and reservedNames by their last label,
// with the reason each gives.
var builtinByTLD = func() map[string][]builtinName {
	m := map[string][]builtinName{}
	for _, l := range []struct {
		names  []string
		reason string
	}{{internalTLDs, "internal domain"}, {reservedNames, "reserved domain"}} {
		for _, s := range l.names {
			tld := s[strings.LastIndexByte(s, '.')+1:]
			m[tld] = append(m[tld], builtinName{s, l.reason})
		}
	}
	return m
}()

type builtinName struct{ suffix, reason string }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func asnInternal(v string) (bool, string) {
	n, err := strconv.ParseUint(strings.TrimPrefix(v, "AS"), 10, 32)
	if err != nil {
		return false, ""
	}
	switch {
	case n == 0 || n == 23456 || n == 65535 || n == 4294967295:
		return true, "reserved"
	case n >= 64496 && n <= 64511, n >= 65536 && n <= 65551:
		return true, "documentation"
	case n >= 64512 && n <= 65534, n >= 4200000000:
		return true, "private"
	case n >= 65552 && n <= 131071:
		return true, "reserved"
	}
	return false, ""
}
