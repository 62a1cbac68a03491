package lists

import (
	"net/netip"
	"strings"
)

// This file holds the one canonical form both sides of a comparison go
// through: every list entry when it is loaded and every IOC value when it is
// looked up. Applying the same function to both is what makes the exact sets
// correct even when a caller's IOC was normalised by a different hand. (Match
// skips the work for a value it finds, in one pass, to be in that form
// already: see isCanonName, parseIPv4 and urlHost.)
//
// The rules are deliberately small: IP addresses in netip's canonical form
// (IPv4-mapped IPv6 unmapped); URLs with the scheme and host lower-cased and
// the rest kept (paths are case-sensitive); file hashes, domains, e-mail
// addresses and anything else lower-cased, domains without a trailing dot;
// CVE ids ("cve-" then digits and dashes) upper-cased; Bitcoin addresses
// (base58, case-sensitive) kept.

// refang undoes the common defanging marks so lists copied out of reports
// load: hxxp, [.], (.), {.}, [dot], [:], [@] and [at].
func refang(s string) string {
	if !strings.ContainsAny(s, "[({") && !strings.Contains(s, "xxp") && !strings.Contains(s, "XXp") {
		return s
	}
	return refanger.Replace(s)
}

var refanger = strings.NewReplacer(
	"[.]", ".", "(.)", ".", "{.}", ".", "[dot]", ".", "(dot)", ".",
	"[:]", ":", "[://]", "://", "[@]", "@", "[at]", "@",
	"hxxps://", "https://", "hxxp://", "http://", "hXXps://", "https://", "hXXp://", "http://",
)

// canon returns the canonical form of s (see the file comment).
func canon(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	if a, ok := parseIP(s); ok {
		return a.Unmap().String()
	}
	return canonNotIP(s)
}

// canonFast is canon for a trimmed s already known not to be an IP address,
// in one pass over s for the common cases (a lower-case hash or domain comes
// back as it is, without allocating); defanged text takes the slow path.
func canonFast(s string) string {
	var upper, nonHex, slash, xx bool
	var prev byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			upper = true
		case c == '[' || c == '(' || c == '{' || c >= 0x80:
			return canon(refang(s)) // defanged, or not ASCII (Unicode case rules)
		case c == '/':
			slash, nonHex = true, true
		case 'G' <= c && c <= 'Z':
			upper, nonHex = true, true
			xx = xx || (c == 'X' && (prev == 'x' || prev == 'X'))
		default:
			nonHex = true
			xx = xx || (c == 'x' && (prev == 'x' || prev == 'X'))
		}
		prev = c
	}
	switch {
	case xx:
		if r := refang(s); r != s {
			return canon(r)
		}
	case !nonHex:
		if upper && isHex(s) {
			return strings.ToLower(s)
		}
		if isHex(s) {
			return s
		}
	}
	if slash {
		if i := strings.Index(s, "://"); i > 0 {
			if urlCanonical(s, i) {
				return s // already canonical: no copy
			}
			return canonURL(s, i)
		}
	}
	if !upper && s[len(s)-1] != '.' && !isCVE(s) {
		return s
	}
	return canonNotIP(s)
}

// isCVE reports whether s is shaped like a CVE id, in any case: "cve-",
// then only digits and dashes ("cve-2021-44228", not "cve-db.example").
func isCVE(s string) bool {
	if len(s) < 5 || !strings.EqualFold(s[:4], "cve-") {
		return false
	}
	for i := 4; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// isCanonName reports whether s is a domain name or a file hash already in
// canonical form, the form package ioc gives them: lower-case letters,
// digits, '-', '_' and '.', not ending in '.'. Such a value needs no
// further work before a look-up. So that canon(s) == s and s is no IP
// address, a value of only digits and dots, and a CVE id, are not.
func isCanonName(s string) bool {
	if s == "" || s[len(s)-1] == '.' {
		return false
	}
	// Branch-free: a hash's random mix of digits and letters would
	// mispredict a branch per byte.
	all, any := nameOK|nameAlpha, uint8(0)
	for i := 0; i < len(s); i++ {
		c := nameClass[s[i]]
		all &= c
		any |= c
	}
	return all&nameOK != 0 && any&nameAlpha != 0 && !isCVE(s)
}

// nameClass classifies the bytes of a canonical name: nameOK for every byte
// allowed, nameAlpha for those that make it no IP address.
var nameClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case 'a' <= c && c <= 'z', c == '-', c == '_':
			t[c] = nameOK | nameAlpha
		case '0' <= c && c <= '9', c == '.':
			t[c] = nameOK
		}
	}
	return t
}()

const (
	nameOK uint8 = 1 << iota
	nameAlpha
)

// parseIPv4 parses s when it is an IPv4 address in canonical dotted-quad
// form (four decimal octets without leading zeros), the form package ioc
// gives, to the address as a number.
func parseIPv4(s string) (uint32, bool) {
	if len(s) < 7 || len(s) > 15 {
		return 0, false
	}
	var x, n uint32
	parts, digits := 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || n > 255 || digits > 1 && s[i-digits] == '0' {
				return 0, false
			}
			x, n, digits = x<<8|n, 0, 0
			parts++
			continue
		}
		c := s[i] - '0'
		if c > 9 || digits == 3 {
			return 0, false
		}
		n = n*10 + uint32(c)
		digits++
	}
	return x, parts == 4
}

// canonNotIP is canon for a trimmed s already known not to be an IP address.
func canonNotIP(s string) string {
	if i := strings.Index(s, "://"); i > 0 {
		return canonURL(s, i)
	}
	if isHex(s) {
		return strings.ToLower(s)
	}
	if isBase58BTC(s) {
		return s
	}
	l := strings.ToLower(s)
	if isCVE(l) {
		return strings.ToUpper(l)
	}
	if !strings.Contains(l, "@") {
		l = strings.TrimSuffix(l, ".")
	}
	return l
}

// parseIP parses s as an IP address. It screens s first, in one
// branch-free pass, so that the common case, a value that is no address,
// costs no allocation (netip's parse error does): an address has only hex
// digits, ':' and '.' before any zone, a colon if it has a letter, and a
// colon or a dot.
func parseIP(s string) (netip.Addr, bool) {
	var seen uint8
	for i := 0; i < len(s); i++ {
		c := ipClass[s[i]]
		if c == ipZone {
			break // a zone: anything may follow
		}
		seen |= c
	}
	switch {
	case seen&ipOther != 0, seen&ipColon == 0 && (seen&ipLetter != 0 || seen&ipDot == 0):
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

// ipClass classifies the bytes of an IP address for parseIP.
var ipClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case '0' <= c && c <= '9':
		case 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
			t[c] = ipLetter
		case c == ':':
			t[c] = ipColon
		case c == '.':
			t[c] = ipDot
		case c == '%':
			t[c] = ipZone
		default:
			t[c] = ipOther
		}
	}
	return t
}()

const (
	ipLetter uint8 = 1 << iota
	ipColon
	ipDot
	ipZone
	ipOther
)

// canonURL lower-cases the scheme and the authority of a URL (i is the index
// of "://") and keeps the path, query and fragment as they are.
func canonURL(s string, i int) string {
	rest := s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host := strings.ToLower(rest[:end])
	host = strings.TrimSuffix(host, ".")
	return strings.ToLower(s[:i]) + "://" + host + rest[end:]
}

// urlCanonical reports whether canonURL(s, i) would return s: the scheme
// and the authority are lower-case and the host does not end in '.'.
func urlCanonical(s string, i int) bool {
	end := strings.IndexAny(s[i+3:], "/?#")
	if end < 0 {
		end = len(s) - i - 3
	}
	end += i + 3
	if end > i+3 && s[end-1] == '.' {
		return false
	}
	for j := 0; j < end; j++ {
		if 'A' <= s[j] && s[j] <= 'Z' {
			return false
		}
	}
	return true
}

// urlHost returns the host of URL s when s is in canonical form already
// (canonFast(s) == s) and so is its host, a name (isCanonName) or an IPv4
// address in dotted-quad form: then hostOf(s) == host. Otherwise ok is
// false and s goes the slow way.
func urlHost(s string) (host string, ok bool) {
	i := strings.Index(s, "://")
	if i <= 0 {
		return "", false
	}
	// Nothing for canonFast to refang or take the slow way: no '[', '(',
	// '{' or non-ASCII byte (a branch-free pass), no "xxp" or "XXp".
	var bad uint8
	for j := 0; j < len(s); j++ {
		bad |= urlBad[s[j]]
	}
	if bad != 0 || strings.Contains(s, "xxp") || strings.Contains(s, "XXp") {
		return "", false
	}
	for j := 0; j < i; j++ {
		if 'A' <= s[j] && s[j] <= 'Z' {
			return "", false
		}
	}
	// The authority: up to '/', '?' or '#'; the host after the last '@',
	// before a port; nothing upper-case (see urlCanonical and hostOf).
	start, end, colon, colons := i+3, len(s), -1, 0
scan:
	for j := i + 3; j < len(s); j++ {
		switch c := s[j]; {
		case authPlain[c]:
		case c == '/' || c == '?' || c == '#':
			end = j
			break scan
		case c == '@':
			start, colon, colons = j+1, -1, 0
		case c == ':':
			colon, colons = j, colons+1
		default: // upper case
			return "", false
		}
	}
	if end > i+3 && s[end-1] == '.' || colons > 1 {
		return "", false
	}
	h := s[start:end]
	if colons == 1 {
		h = s[start:colon]
	}
	if !isCanonName(h) {
		if _, ok := parseIPv4(h); !ok {
			return "", false
		}
	}
	return h, true
}

// urlBad marks the bytes that send a URL the slow way; authPlain the
// bytes of an authority that need no attention.
var urlBad, authPlain = func() (bad [256]uint8, plain [256]bool) {
	for c := range 256 {
		bad[c] = b2u(c == '[' || c == '(' || c == '{' || c >= 0x80)
		plain[c] = !strings.ContainsRune("/?#@:", rune(c)) && (c < 'A' || c > 'Z')
	}
	return bad, plain
}()

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// hostOf returns the host of a URL or an e-mail address, canonical, or "".
func hostOf(s string) string {
	if i := strings.Index(s, "://"); i > 0 {
		rest := s[i+3:]
		if end := strings.IndexAny(rest, "/?#"); end >= 0 {
			rest = rest[:end]
		}
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			rest = rest[at+1:]
		}
		if strings.HasPrefix(rest, "[") {
			if end := strings.IndexByte(rest, ']'); end > 0 {
				return canon(rest[1:end])
			}
			return ""
		}
		if c := strings.LastIndexByte(rest, ':'); c >= 0 && strings.Count(rest, ":") == 1 {
			rest = rest[:c]
		}
		return canon(rest)
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 && at < len(s)-1 {
		return canon(s[at+1:])
	}
	return ""
}

// isHex reports whether s is a hex string of a file-hash length.
func isHex(s string) bool {
	switch len(s) {
	case 32, 40, 64, 128:
	default:
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// isBase58BTC reports whether s looks like a legacy (base58) Bitcoin
// address, whose case matters.
func isBase58BTC(s string) bool {
	if len(s) < 26 || len(s) > 35 || (s[0] != '1' && s[0] != '3') {
		return false
	}
	upper, lower := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '1' <= c && c <= '9':
		case 'A' <= c && c <= 'Z' && c != 'I' && c != 'O':
			upper = true
		case 'a' <= c && c <= 'z' && c != 'l':
			lower = true
		default:
			return false
		}
	}
	return upper && lower
}

// isDomain reports whether s (canonical) is shaped like a host name: labels
// of letters, digits, '-' and '_' (punycode included), none empty, at most
// 63 bytes each and 253 in all. A single label is accepted; callers that
// need a dot check for one.
func isDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if n == 0 {
				return false
			}
			n = 0
			continue
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c >= 0x80:
		default:
			return false
		}
		n++
		if n > 63 {
			return false
		}
	}
	return n > 0
}
