package ioc

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every error Parse, ParseAs and Normalize return.
var ErrInvalid = errors.New("not a valid indicator")

func invalid(t Type, s string, why string) error {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	if t == "" {
		return fmt.Errorf("ioc: %q: %w", s, ErrInvalid)
	}
	return fmt.Errorf("ioc: %q is not a valid %s (%s): %w", s, t, why, ErrInvalid)
}

// Parse refangs s, works out which type of indicator it is and returns it in
// canonical form. s must hold exactly one indicator, optionally surrounded by
// white space, quotes, brackets or trailing punctuation. An IPv4-mapped IPv6
// address is returned as the IPv4 address it maps.
func Parse(s string) (IOC, error) {
	v := prepare(s)
	t := guess(v)
	if t == "" {
		return IOC{}, invalid("", s, "")
	}
	i, err := parseAs(t, v)
	if err != nil {
		return IOC{}, err
	}
	if i.Type == IPv6 {
		if a, err := netip.ParseAddr(i.Value); err == nil && a.Is4In6() {
			return IOC{IPv4, a.Unmap().String()}, nil
		}
	}
	return i, nil
}

// ParseAs is Parse for a value whose type is already known, e.g. from a STIX
// ipv4-addr object or a CSV column. Unlike Extract it accepts a two-label
// domain whose TLD is also a file extension ("invoice.zip"): the caller said
// it is a domain.
func ParseAs(t Type, s string) (IOC, error) {
	if !t.Valid() {
		return IOC{}, fmt.Errorf("ioc: unknown type %q: %w", t, ErrInvalid)
	}
	return parseAs(t, prepare(s))
}

// Normalize returns the canonical form of s as an indicator of type t. It is
// ParseAs(t, s).Value.
func Normalize(t Type, s string) (string, error) {
	i, err := ParseAs(t, s)
	return i.Value, err
}

// prepare refangs s and strips surrounding space, enclosing pairs and
// trailing punctuation.
func prepare(s string) string {
	s = strings.TrimSpace(Refang(strings.TrimSpace(s)))
	for range 4 {
		n := len(s)
		for _, p := range [...][2]string{{"<", ">"}, {"(", ")"}, {"[", "]"}, {`"`, `"`}, {"'", "'"}, {"“", "”"}, {"‘", "’"}, {"«", "»"}, {"`", "`"}} {
			if len(s) >= len(p[0])+len(p[1]) && strings.HasPrefix(s, p[0]) && strings.HasSuffix(s, p[1]) {
				s = strings.TrimSpace(s[len(p[0]) : len(s)-len(p[1])])
			}
		}
		s = strings.TrimRight(s, ",;!?”’'\"»")
		if len(s) == n {
			break
		}
	}
	return s
}

// guess classifies a prepared value.
func guess(v string) Type {
	switch {
	case v == "":
		return ""
	case strings.Contains(v, "://"):
		return URL
	case isASNText(v):
		return ASN
	}
	if _, ok := parseIPv4(v); ok {
		return IPv4
	}
	if strings.Contains(v, ":") {
		if _, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil {
			return IPv6
		}
	}
	switch {
	case strings.Contains(v, "@"):
		return Email
	case isHex(v):
		return hashType(len(v))
	case len(v) > 4 && strings.EqualFold(v[:4], "cve-"):
		return CVE
	case validBTC(v):
		return BTC
	case strings.Contains(v, "."):
		return Domain
	}
	return ""
}

func parseAs(t Type, v string) (IOC, error) {
	var out string
	var ok bool
	why := "bad syntax"
	switch t {
	case IPv4:
		out, ok = parseIPv4(v)
		if !ok {
			if a, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil && a.Is4In6() {
				out, ok = a.Unmap().String(), true
			}
		}
	case IPv6:
		v = strings.Trim(v, "[]")
		if z := strings.IndexByte(v, '%'); z > 0 {
			v = v[:z]
		}
		if a, err := netip.ParseAddr(v); err == nil && a.Is6() {
			out, ok = a.String(), true
		}
	case Domain:
		out, ok = normalizeDomain(v)
		why = "bad label or unknown TLD"
	case URL:
		var u urlParts
		u, ok = parseURL(v[:trimURLEnd([]byte(v))])
		ok = ok && cleanText(v)
		out = u.value
	case Email:
		out, ok = normalizeEmail(v)
	case MD5, SHA1, SHA256, SHA512:
		ok = isHex(v) && hashType(len(v)) == t
		out = strings.ToLower(v)
	case CVE:
		out, ok = normalizeCVE(v)
	case ASN:
		out, ok = normalizeASN(v)
	case BTC:
		out, ok = normalizeBTC(v)
	}
	if !ok {
		return IOC{}, invalid(t, v, why)
	}
	return IOC{t, out}, nil
}

// parseIPv4 accepts exactly four decimal octets 0-255 without leading zeros
// (a leading zero means octal to inet_aton, so "010.1.1.1" is ambiguous and
// rejected) and returns the value unchanged.
func parseIPv4(s string) (string, bool) {
	if len(s) < 7 || len(s) > 15 {
		return "", false
	}
	parts, n, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || n > 255 || (digits > 1 && s[i-digits] == '0') {
				return "", false
			}
			parts++
			n, digits = 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || digits == 3 {
			return "", false
		}
		n = n*10 + int(c-'0')
		digits++
	}
	return s, parts == 4
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if class[s[i]]&cHex == 0 {
			return false
		}
	}
	return true
}

func hashType(n int) Type {
	switch n {
	case 32:
		return MD5
	case 40:
		return SHA1
	case 64:
		return SHA256
	case 128:
		return SHA512
	}
	return ""
}

// normalizeCVE accepts CVE-YYYY-NNNN with a four-digit year from 1999 and a
// sequence number of four to seven digits, in any case.
func normalizeCVE(s string) (string, bool) {
	if len(s) < 13 || len(s) > 16 || !strings.EqualFold(s[:4], "cve-") || s[8] != '-' {
		return "", false
	}
	for i := 4; i < len(s); i++ {
		if i != 8 && (s[i] < '0' || s[i] > '9') {
			return "", false
		}
	}
	if s[4:8] < "1999" {
		return "", false
	}
	return "CVE" + s[3:], true
}

// isASNText reports whether s looks like "AS13335", "ASN13335" or
// "ASN 13335" (any case).
func isASNText(s string) bool {
	_, ok := normalizeASN(s)
	return ok && len(s) > 2 && (s[0]|0x20) == 'a'
}

// normalizeASN returns "AS<number>" for "AS13335", "asn 13335" or a bare
// "13335"; 0 and numbers above 2^32-1 are rejected.
func normalizeASN(s string) (string, bool) {
	if len(s) >= 2 && strings.EqualFold(s[:2], "as") {
		s = s[2:]
		if len(s) > 0 && (s[0]|0x20) == 'n' {
			s = s[1:]
		}
		s = strings.TrimPrefix(s, " ")
	}
	if s == "" || len(s) > 10 || s[0] == '0' {
		return "", false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return "", false
	}
	return "AS" + s, true
}

// normalizeEmail lower-cases the whole address (see the package
// documentation) and checks a dot-atom local part and a valid domain.
func normalizeEmail(s string) (string, bool) {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > 64 || !utf8.ValidString(s) {
		return "", false
	}
	local := s[:at]
	if !validLocal(local) {
		return "", false
	}
	d, ok := normalizeDomain(s[at+1:])
	if !ok {
		return "", false
	}
	return lowerASCII(local) + "@" + d, true
}

// localByte marks the bytes of a dot-atom local part.
var localByte = func() (t [256]bool) {
	for c := 0; c < 0x80; c++ {
		t[c] = class[c]&cAlnum != 0 || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", byte(c)) >= 0
	}
	return t
}()

// validLocal reports whether local (not empty) is a dot-atom: ASCII atom
// bytes, no dot at either end and no two dots in a row.
func validLocal[T string | []byte](local T) bool {
	if local[0] == '.' || local[len(local)-1] == '.' {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !localByte[c] || c == '.' && local[i-1] == '.' {
			return false
		}
	}
	return true
}

// cleanText reports whether s is valid UTF-8 without spaces or control
// characters.
func cleanText(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}
