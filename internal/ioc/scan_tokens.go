package ioc

import (
	"bytes"
	"net/netip"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// view returns b as a string without copying it, for parsers whose result
// never holds on to their input (each use says why): the scanner's buffer is
// reused, so such a string must not outlive the call.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// lowerString returns b lower-cased (ASCII) as a new string, in one
// allocation.
func lowerString(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return unsafe.String(unsafe.SliceData(out), len(out))
}

func isTrim(c byte) bool { return c == '.' || c == '-' || c == '_' }

// flagsOf computes the run flags of b[i:j].
func (s *scanner) flagsOf(i, j int) int {
	_, f := scanRun(s.b[:j], i)
	return f
}

// token classifies a run of host-name bytes that is not part of a URL or an
// e-mail address: IPv4, domain, hash, CVE, ASN or BTC.
func (s *scanner) token(i, j, flags int) {
	if j-i > MaxToken {
		return
	}
	b := s.b
	i0, j0 := i, j
	if i > 0 && b[i-1] == '%' && j-i > 2 && class[b[i]]&cHex != 0 && class[b[i+1]]&cHex != 0 {
		i += 2 // "%2Fevil.com": the escape's digits are not part of the name
	}
	for i < j && (b[i] == '.' || b[i] == '-') {
		i++
	}
	for j > i && isTrim(b[j-1]) {
		j--
	}
	if j-i < 2 {
		return
	}
	if i != i0 || j != j0 {
		flags = s.flagsOf(i, j)
	}
	if flags&fDot != 0 {
		if k := bytes.Index(b[i:j], []byte("..")); k >= 0 {
			for i < j {
				k := bytes.Index(b[i:j], []byte(".."))
				if k < 0 {
					k = j - i
				}
				if k > 0 {
					s.token(i, i+k, s.flagsOf(i, i+k))
				}
				i += k + 1
			}
			return
		}
		if flags&fNonDigit == 0 {
			if _, ok := parseIPv4(view(b[i:j])); ok && !afterVersionWord(b, i) { // only checked
				s.put(IPv4, string(b[i:j]), i, j)
			}
			return
		}
		{
			var d string
			var ok bool
			if flags&fNonASCII == 0 {
				d, ok = s.asciiDomain(i, j)
			} else {
				d, ok = normalizeDomain(string(b[i:j]))
			}
			if ok {
				if !needsEvidence(d) || s.defanged(i, j) {
					s.put(Domain, d, i, j)
				}
				return
			}
		}
		if flags&fNonASCII != 0 {
			s.asciiParts(i, j)
			return
		}
	}
	if flags&fNonHex == 0 {
		if t := hashType(j - i); t != "" {
			s.put(t, lowerString(b[i:j]), i, j)
		}
		return
	}
	if flags&(fDot|fSep) != 0 {
		s.pieces(i, j)
		return
	}
	if flags&fNonASCII != 0 {
		return
	}
	switch c := b[i]; {
	case c == 'A' && b[i+1] == 'S' && j-i > 2:
		k := i + 2
		if b[k] == 'N' {
			k++
		}
		if v, ok := normalizeASN(view(b[k:j])); ok && b[k] != '+' { // v is built anew
			s.put(ASN, v, i, j)
		}
	case (c == '1' || c == '3' || c == 'b' || c == 'B') && j-i >= 26:
		if v, ok := normalizeBTC(string(b[i:j])); ok {
			s.put(BTC, v, i, j)
		}
	}
}

// asciiParts re-scans the ASCII stretches of a run that mixes scripts
// ("访问evil.com网站"), for text without spaces between words.
func (s *scanner) asciiParts(i, j int) {
	b := s.b
	for i < j {
		if b[i] >= 0x80 {
			i++
			continue
		}
		k := i
		for k < j && b[k] < 0x80 {
			k++
		}
		if k < j || i > 0 && b[i-1] >= 0x80 {
			s.token(i, k, s.flagsOf(i, k))
		}
		i = k
	}
}

// pieces looks inside a run that is not a domain or an address for hashes
// delimited by '.', '-' or '_' ("<sha256>.exe") and for CVE identifiers.
func (s *scanner) pieces(i, j int) {
	b := s.b
	// A hash is 32 bytes or more and a CVE identifier 13 or more
	// ("CVE-2021-1234"): most runs that come here (src_ip, user-agent,
	// v2.1.0.4) are shorter than a hash and hold no "cve-".
	if j-i < 32 && (j-i < 13 || !hasCVEPiece(b[i:j])) {
		return
	}
	for p := i; p < j; {
		q := p
		hex := true
		for q < j && !isTrim(b[q]) {
			if class[b[q]]&cHex == 0 {
				hex = false
			}
			q++
		}
		switch {
		case hex && hashType(q-p) != "":
			s.put(hashType(q-p), lowerString(b[p:q]), p, q)
		case q-p == 3 && (b[p]|0x20) == 'c' && (b[p+1]|0x20) == 'v' && (b[p+2]|0x20) == 'e' && q < j && b[q] == '-':
			if e := s.tryCVE(p, j); e > 0 {
				q = e
			}
		}
		p = q + 1
	}
}

// hasCVEPiece reports whether a piece of r (see pieces) is "cve" followed
// by '-', in any case.
func hasCVEPiece(r []byte) bool {
	for k := 0; ; {
		d := bytes.IndexByte(r[k:], '-')
		if d < 0 {
			return false
		}
		d += k
		if d >= 3 && (d == 3 || isTrim(r[d-4])) && r[d-3]|0x20 == 'c' && r[d-2]|0x20 == 'v' && r[d-1]|0x20 == 'e' {
			return true
		}
		k = d + 1
	}
}

// tryCVE parses CVE-YYYY-NNNN at b[p:] (within j) and returns its end.
func (s *scanner) tryCVE(p, j int) int {
	b := s.b
	q := p + 4
	for q < j && q-p < 17 && (class[b[q]]&cDigit != 0 || q == p+8 && b[q] == '-') {
		q++
	}
	if q < j && class[b[q]]&cAlnum != 0 {
		return 0
	}
	v, ok := normalizeCVE(view(b[p:q])) // v is built anew
	if !ok {
		return 0
	}
	s.put(CVE, v, p, q)
	return q
}

// tryURL parses a URL whose scheme ends at b[colon] (followed by "//"). It
// checks the authority first, so that a failed attempt costs only the bytes
// up to the next '/'. It returns where scanning resumes, or 0.
func (s *scanner) tryURL(i, colon int) int {
	b := s.b
	st, sch := schemeBefore(b, colon)
	if sch == "" || st < i {
		return 0
	}
	quote := st > 0 && b[st-1] == '\''
	p := colon + 3
	paren, square := 0, 0
	authEnd := -1
loop:
	for p < len(b) {
		c := b[p]
		if c < 0x80 {
			if class[c]&cURL == 0 {
				break
			}
			switch c {
			case '(':
				paren++
			case ')':
				if paren == 0 {
					break loop
				}
				paren--
			case '[':
				square++
			case ']':
				if square == 0 {
					break loop
				}
				square--
			case '\'':
				if quote {
					break loop
				}
			case '/', '?', '#':
				if authEnd < 0 {
					authEnd = p
					if !plausibleAuthority(b[colon+3 : p]) {
						return 0
					}
				}
			}
			p++
			continue
		}
		r, n := utf8.DecodeRune(b[p:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) || isQuoteRune(r) {
			break
		}
		p += n
	}
	end := colon + 3 + trimURLEnd(b[colon+3:p])
	if end-st > MaxToken {
		return p
	}
	if authEnd < 0 && !plausibleAuthority(b[colon+3:end]) {
		return 0
	}
	u, ok := parseURL(view(b[st:end])) // u.value is built anew; u.host is fixed below
	if !ok {
		// The authority looked like a host, so the whole extent was
		// scanned; skip it to keep the scan linear.
		return p
	}
	if u.hostText[0] != '[' {
		// The host may point into b: take it from the value instead.
		k := len(u.scheme) + len("://") + len(u.userinfo)
		u.host.Value = u.value[k : k+len(u.hostText)]
	}
	s.put(URL, u.value, st, end)
	s.put(u.host.Type, u.host.Value, st+u.hostStart, st+u.hostEnd)
	return end
}

// isQuoteRune reports whether r is a typographic quote or bracket that ends
// a URL in prose.
func isQuoteRune(r rune) bool {
	switch r {
	case '“', '”', '‘', '’', '«', '»', '‹', '›', '„', '「', '」', '『', '』', '（', '）', '＜', '＞', '【', '】', '、', '，', '。':
		return true
	}
	return false
}

// tryIPv6 parses an IPv6 address starting at b[i]. The candidate is at most
// 45 bytes, so a failed attempt costs a bounded amount of work.
func (s *scanner) tryIPv6(i int) int {
	b := s.b
	if i > 0 && (class[b[i-1]]&cAlnum != 0 || b[i-1] == ':' || b[i-1] == '.') {
		return 0
	}
	p, colons, digit, double := i, 0, false, false
	for p < len(b) && p-i <= 45 {
		c := b[p]
		switch {
		case class[c]&cDigit != 0:
			digit = true
		case class[c]&cHex != 0, c == '.':
		case c == ':':
			colons++
			double = double || p > i && b[p-1] == ':'
		default:
			goto done
		}
		p++
	}
done:
	// An IPv6 address has "::", or all eight groups (seven colons), or six
	// and a dotted IPv4 tail (six colons): a time of day such as 12:34:56
	// is turned away here, without a parse.
	if p-i > 45 || colons < 2 || !digit || !double && colons < 6 {
		return 0
	}
	e := p
	for e > i && b[e-1] == '.' {
		e--
	}
	if e > i+1 && b[e-1] == ':' && b[e-2] != ':' {
		e--
	}
	if p < len(b) && (class[b[p]]&cAlnum != 0 || b[p] == '_') {
		return 0
	}
	a, err := netip.ParseAddr(view(b[i:e])) // an Addr keeps no string
	if err != nil || !a.Is6() {
		return 0
	}
	if a.Is4In6() {
		s.put(IPv4, a.Unmap().String(), i, e)
	} else {
		s.put(IPv6, a.String(), i, e)
	}
	return e
}

// trySpacedASN parses "ASN 13335" where b[i:j] is "ASN".
func (s *scanner) trySpacedASN(i, j int) int {
	b := s.b
	q := j + 1
	for q < len(b) && q-j < 12 && class[b[q]]&cDigit != 0 {
		q++
	}
	if q < len(b) && class[b[q]]&cHost != 0 && b[q] != '.' {
		return 0
	}
	v, ok := normalizeASN(view(b[j+1 : q])) // v is built anew
	if !ok {
		return 0
	}
	s.put(ASN, v, i, q)
	return q
}

// plausibleAuthority is a cheap syntactic test of a URL authority: a
// bracketed address, or a host holding a dot or only digits and dots. It
// bounds the cost of a failed URL attempt; parseURL decides.
func plausibleAuthority(a []byte) bool {
	if at := bytes.LastIndexByte(a, '@'); at >= 0 {
		a = a[at+1:]
	}
	if len(a) == 0 {
		return false
	}
	if a[0] == '[' {
		return bytes.IndexByte(a, ']') > 0
	}
	if c := bytes.LastIndexByte(a, ':'); c >= 0 {
		a = a[:c]
	}
	dot := false
	for _, c := range a {
		switch {
		case c == '.':
			dot = true
		case c >= 0x80, class[c]&cAlnum != 0, c == '-', c == '_':
		default:
			return false
		}
	}
	return dot
}

// versionWords are the words after which a dotted quad is a version number
// ("version 1.2.3.4", "Version: 10.0.19041.1", "build 4.2.1.7"), not an
// address.
var versionWords = []string{"version", "ver", "v", "build", "release", "firmware"}

// afterVersionWord reports whether the token at b[i:] follows one of
// versionWords, separated by at most a few spaces, a colon, a dot or an
// equals sign.
func afterVersionWord(b []byte, i int) bool {
	k := i
	for n := 0; k > 0 && n < 3 && (b[k-1] == ' ' || b[k-1] == ':' || b[k-1] == '.' || b[k-1] == '=' || b[k-1] == '\t'); n++ {
		k--
	}
	end := k
	for k > 0 && end-k < 8 && isAlpha(b[k-1]) {
		k--
	}
	if k == end || k > 0 && (isAlpha(b[k-1]) || b[k-1] >= '0' && b[k-1] <= '9') {
		return false
	}
	for _, v := range versionWords {
		if foldEq(b[k:end], v) {
			return true
		}
	}
	return false
}
