package ioc

import (
	"bytes"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Byte classes used by the scanner.
const (
	cAlnum = 1 << iota // A-Z a-z 0-9
	cDigit             // 0-9
	cHex               // 0-9 a-f A-F
	cHost              // alnum - . _ : bytes of a host-name run
	cLocal             // alnum . _ % + - : bytes of an e-mail local part
	cURL               // ASCII bytes allowed inside a URL
	cDot               // .
	cSep               // - _ (with '.', separators inside a run)
)

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case b >= '0' && b <= '9':
			t[c] |= cAlnum | cDigit | cHex | cHost | cLocal
		case b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F':
			t[c] |= cAlnum | cHex | cHost | cLocal
		case b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z':
			t[c] |= cAlnum | cHost | cLocal
		}
		if b > 0x20 && b < 0x7f {
			switch b {
			case '"', '<', '>', '\\', '^', '`', '{', '}', '|':
			default:
				t[c] |= cURL
			}
		}
	}
	t['.'] |= cHost | cLocal | cDot
	t['-'] |= cHost | cLocal | cSep
	t['_'] |= cHost | cLocal | cSep
	t['%'] |= cLocal
	t['+'] |= cLocal
	return t
}()

// MaxToken is the longest candidate (URL or run of host-name bytes) the
// scanner considers; longer ones are skipped whole, by Extract and
// ExtractReader alike.
const MaxToken = 64 << 10

// Match is one indicator found in a text.
type Match struct {
	IOC
	// Raw is the text as found in the input, set only when it differs from
	// Value (e.g. "hxxp://evil[.]com" or "EVIL.COM").
	Raw string
	// Offset is the byte offset of the match in the input.
	Offset int64
}

// Extract scans text and calls emit for every indicator, in input order,
// except that the indicators of a URL carried percent-encoded
// (?u=https%3A%2F%2Fevil.com%2F...) come after the rest, decoded.
// After a URL or an e-mail address it also emits the host as a domain, ipv4
// or ipv6. It does not deduplicate (see Seen). Extract runs in time linear in
// len(text) and never panics, whatever the bytes.
func Extract(text []byte, emit func(Match)) {
	var s scanner
	s.extract(text, 0, emit)
}

// scanner holds the buffers of one extraction; it may be reused.
type scanner struct {
	rf    refanger
	src   []byte // the input
	b     []byte // the refanged input
	edits []edit
	base  int64
	emit  func(Match)
	hint  int    // index into edits of the last mapped position
	low   []byte // scratch for lower-casing
	depth int    // how many percent-decodings deep this scan is
	// spacedDot is set when the scan met digits followed by " .", so that
	// spaced runs only on input that may hold a spaced address.
	spacedDot bool
}

func (s *scanner) extract(src []byte, base int64, emit func(Match)) {
	s.src, s.base, s.emit = src, base, emit
	if cap(s.rf.out) < len(src)+len(src)/8 && len(src) > 0 {
		s.rf.out = make([]byte, 0, len(src)+len(src)/8)
	}
	s.b = s.rf.run(src)
	s.edits = s.rf.edits
	s.hint, s.spacedDot = 0, false
	s.scan()
	s.encoded()
	if s.spacedDot {
		s.spaced()
	}
	s.src, s.b, s.emit = nil, nil, nil
}

// spaced finds IPv4 addresses written with spaces around their dots
// ("185.220.101 . 47", "185 . 220 . 101 . 47", "185.220.101 .47"; a space
// after a dot alone is not read), as analysts paste them to
// keep a chat from linking them, and emits them after the rest. Only four
// octets make an address, and one of them must have two digits or more, so
// that a numbered list ("1. 2. 3. 4") is not one. Each look around a
// spaced dot is bounded (an address is at most 27 bytes so written), which
// keeps the pass linear.
func (s *scanner) spaced() {
	src := s.src
	last := 0
	for i := 0; i < len(src); {
		// Only a space before a dot is looked at: a dot followed by a
		// space ends most sentences, and looking at each would cost the
		// scan a tenth of its speed.
		k := bytes.Index(src[i:], []byte(" ."))
		if k < 0 {
			return
		}
		p := i + k
		i = p + 2
		if p < last {
			continue
		}
		// A digit on each side first.
		l, r := p-1, p+2
		if r < len(src) && src[r] == ' ' {
			r++
		}
		if l < 0 || r >= len(src) || !isDigit(src[l]) || !isDigit(src[r]) {
			continue
		}
		start, end := p, p
		for start > 0 && p-start < 28 && (isDigit(src[start-1]) || src[start-1] == '.' || src[start-1] == ' ' && start-1 > 0 && (src[start-2] == '.' || src[start] == '.')) {
			start--
		}
		for end < len(src) && end-p < 28 && (isDigit(src[end]) || src[end] == '.' || src[end] == ' ' && end+1 < len(src) && (src[end+1] == '.' || end > 0 && src[end-1] == '.')) {
			end++
		}
		for start < end && !isDigit(src[start]) {
			start++
		}
		for end > start && !isDigit(src[end-1]) {
			end--
		}
		if end-start < 8 || end-start > 27 || bytes.IndexByte(src[start:end], ' ') < 0 ||
			start > 0 && (isAlpha(src[start-1]) || src[start-1] == '.') || end < len(src) && isAlpha(src[end]) {
			continue // too short or long, no space (the scan found it), or part of a word
		}
		v := strings.ReplaceAll(string(src[start:end]), " ", "")
		a, ok := parseIPv4(v)
		if !ok || strings.Count(v, ".") != 3 || !twoDigitOctet(v) || afterVersionWord(src, start) {
			continue
		}
		last = end
		s.emit(Match{IOC: IOC{IPv4, a}, Raw: string(src[start:end]), Offset: s.base + int64(start)})
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// twoDigitOctet reports whether a dotted quad has an octet of two digits
// or more.
func twoDigitOctet(v string) bool {
	for _, o := range strings.Split(v, ".") {
		if len(o) >= 2 {
			return true
		}
	}
	return false
}

// encodedScheme is "://" percent-encoded, as a redirector's query carries a
// URL: ?u=https%3A%2F%2Fevil.com%2Fpayload.
var encodedScheme = []byte("%3a%2f%2f")

// encoded finds the URLs the input carries percent-encoded and extracts
// from their decoded text, after the rest of the input: the inner URL and
// its host, never a "2fevil.com" made of the escape's digits. Raw is the
// encoded text; two levels of encoding are undone at most.
func (s *scanner) encoded() {
	if s.depth >= 2 || !containsFold(s.src, encodedScheme) {
		return
	}
	src := s.src
	for i := 0; i+len(encodedScheme) <= len(src); {
		k := indexFold(src[i:], encodedScheme)
		if k < 0 {
			return
		}
		k += i
		start := k
		for start > 0 && isAlpha(src[start-1]) && k-start < 8 {
			start--
		}
		end := k + len(encodedScheme)
		for end < len(src) && !isURLStop(src[end]) {
			end++
		}
		i = end
		if start == k {
			continue // no scheme before it
		}
		dec, err := url.QueryUnescape(string(src[start:end]))
		if err != nil {
			continue
		}
		raw, off := string(src[start:end]), s.base+int64(start)
		emit := s.emit
		inner := scanner{depth: s.depth + 1}
		inner.extract([]byte(dec), off, func(m Match) {
			m.Raw, m.Offset = raw, off
			emit(m)
		})
	}
}

// isURLStop ends an encoded URL: white space, quotes, angle brackets and
// the query separators around it.
func isURLStop(c byte) bool {
	return c <= ' ' || c == '&' || c == '"' || c == '\'' || c == '<' || c == '>' || c == ';' || c == ','
}

// indexFold is bytes.Index for a lower-case ASCII needle, ignoring case.
// The needle starts with '%', which IndexByte finds fast.
func indexFold(b, needle []byte) int {
	for i := 0; i+len(needle) <= len(b); i++ {
		k := bytes.IndexByte(b[i:len(b)-len(needle)+1], '%')
		if k < 0 {
			return -1
		}
		i += k
		if foldEq(b[i:i+len(needle)], string(needle)) {
			return i
		}
	}
	return -1
}

// containsFold reports whether b holds needle, ignoring ASCII case.
func containsFold(b, needle []byte) bool { return indexFold(b, needle) >= 0 }

// raw returns the input bytes behind b[start:end].
func (s *scanner) raw(start, end int) (int, []byte) {
	if len(s.edits) == 0 {
		return start, s.src[start:end]
	}
	i, j := s.mapPos(start), s.mapPos(end)
	return i, s.src[i:j]
}

// defanged reports whether b[start:end] differs from the input behind it.
func (s *scanner) defanged(start, end int) bool {
	_, r := s.raw(start, end)
	return string(r) != string(s.b[start:end])
}

func (s *scanner) put(t Type, v string, start, end int) {
	off, r := s.raw(start, end)
	m := Match{IOC: IOC{t, v}, Offset: s.base + int64(off)}
	if string(r) != v {
		m.Raw = string(r)
	}
	s.emit(m)
}

// isWordRune reports whether a non-ASCII rune can be part of a host name.
func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
}

// run flags
const (
	fDot      = 1 << iota // contains '.'
	fSep                  // contains '-' or '_'
	fNonASCII             // contains non-ASCII letters
	fNonHex               // contains a byte that is not a hex digit
	fNonDigit             // contains a byte other than digits and dots
	fRun      = 1 << 7    // runFlags: the byte belongs to a run
)

// runFlags holds, for every ASCII byte of a host-name run, fRun and the
// flags the byte contributes; it is 0 for every other byte.
var runFlags = func() (t [256]uint8) {
	for c := 0; c < 0x80; c++ {
		k := class[c]
		if k&cHost == 0 {
			continue
		}
		f := uint8(fRun)
		if k&cHex == 0 {
			f |= fNonHex
		}
		if k&cDigit == 0 {
			if k&cDot != 0 {
				f |= fDot
			} else {
				f |= fNonDigit
				if k&cSep != 0 {
					f |= fSep
				}
			}
		}
		t[c] = f
	}
	return t
}()

// skipByte marks the ASCII bytes that neither start a run nor may start
// "::": the scanner passes over them in a tight loop.
var skipByte = func() (t [256]bool) {
	for c := 0; c < 0x80; c++ {
		t[c] = (class[c]&cHost == 0 || c == '.' || c == '-') && c != ':'
	}
	return t
}()

// scanRun returns the end of the host-name run starting at i and its flags.
func (s *scanner) scanRun(i int) (int, int) {
	return scanRun(s.b, i)
}

func scanRun(b []byte, i int) (int, int) {
	var flags uint8
	for {
		for i < len(b) {
			f := runFlags[b[i]]
			if f == 0 {
				break
			}
			flags |= f
			i++
		}
		if i >= len(b) || b[i] < 0x80 {
			return i, int(flags &^ fRun)
		}
		r, n := utf8.DecodeRune(b[i:])
		if !isWordRune(r) {
			return i, int(flags &^ fRun)
		}
		flags |= fNonASCII | fNonHex | fNonDigit
		i += n
	}
}

func (s *scanner) scan() {
	b := s.b
	n := len(b)
	for i := 0; i < n; {
		for i < n && skipByte[b[i]] {
			i++
		}
		if i >= n {
			break
		}
		c := b[i]
		if c < 0x80 {
			if class[c]&cHost == 0 || c == '.' || c == '-' {
				if c == ':' && i+1 < n && b[i+1] == ':' {
					if e := s.tryIPv6(i); e > 0 {
						i = e
						continue
					}
				}
				i++
				continue
			}
		} else {
			r, sz := utf8.DecodeRune(b[i:])
			if !isWordRune(r) {
				i += sz
				continue
			}
		}
		// The run's ASCII part inline (most runs are ASCII); scanRun
		// takes over at a non-ASCII byte.
		j := i
		var f uint8
		for j < n {
			g := runFlags[b[j]]
			if g == 0 {
				break
			}
			f |= g
			j++
		}
		flags := int(f &^ fRun)
		if j < n && b[j] >= 0x80 {
			j, flags = scanRun(b, i)
		}
		// Fast path for an ordinary word or number: no dot, separator or
		// special successor, too short for a hash or a BTC address, not
		// "AS...".
		if flags&(fDot|fSep|fNonASCII) == 0 && j-i < 26 && b[i] != 'A' && (j >= n || plainAfter(b, j)) {
			if flags&fNonDigit == 0 && j+1 < n && b[j] == ' ' && b[j+1] == '.' {
				s.spacedDot = true // "185 . 220 . 101 . 47": see spaced
			}
			i = j
			continue
		}
		i = s.handleRun(i, j, flags)
	}
}

// handleRun looks at what follows the run b[i:j] (a URL scheme, an e-mail
// '@', an IPv6 colon, " at ") and otherwise classifies the run itself. It
// returns where scanning resumes.
func (s *scanner) handleRun(i, j, flags int) int {
	b := s.b
	n := len(b)
	if j < n {
		switch b[j] {
		case ':':
			if j+2 < n && b[j+1] == '/' && b[j+2] == '/' {
				if e := s.tryURL(i, j); e > 0 {
					return e
				}
			} else if flags&fNonHex == 0 && j-i <= 4 {
				if e := s.tryIPv6(i); e > 0 {
					return e
				}
			}
		case '@':
			if e := s.tryEmail(i, j); e > 0 {
				return e
			}
		case '+', '%':
			k := j
			for k < n && k-i < 64 && class[b[k]]&cLocal != 0 {
				k++
			}
			if k < n && b[k] == '@' {
				if e := s.tryEmail(i, k); e > 0 {
					return e
				}
			}
			// "billing+it at files dot example dot biz": the local
			// part holds a byte that ends a run, so the " at " is seen
			// here, not after the last run of the local part.
			if k+4 < n && b[k] == ' ' && (b[k+1]|0x20) == 'a' && (b[k+2]|0x20) == 't' && b[k+3] == ' ' {
				if v, ds, end, ok := s.spacedEmail(i, k); ok {
					s.putEmail(v, i, ds, end)
					return end
				}
			}
		case ' ':
			if j+1 < n && b[j+1] == '.' && flags&fNonDigit == 0 {
				s.spacedDot = true // "185.220.101 . 47": see spaced
			}
			if j+4 < n && (b[j+1]|0x20) == 'a' && (b[j+2]|0x20) == 't' && b[j+3] == ' ' {
				if v, ds, end, ok := s.spacedEmail(i, j); ok {
					s.putEmail(v, i, ds, end)
					return end
				}
			}
			if j-i == 3 && b[i] == 'A' && b[i+1] == 'S' && b[i+2] == 'N' {
				if e := s.trySpacedASN(i, j); e > 0 {
					return e
				}
			}
		}
	}
	s.token(i, j, flags)
	return j
}

// asciiDomain validates b[i:j], an ASCII run, as a domain and returns it in
// canonical form; it allocates only for a valid name.
func (s *scanner) asciiDomain(i, j int) (string, bool) {
	if j-i > 253 {
		return "", false
	}
	s.low = s.low[:0]
	for _, c := range s.b[i:j] {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		s.low = append(s.low, c)
	}
	t, ok := checkLabels(s.low)
	if !ok || !validTLD(s.low[t:]) {
		return "", false
	}
	if bytes.Contains(s.low, []byte("xn--")) {
		return normalizeDomain(string(s.low))
	}
	return string(s.low), true
}

// mapPos maps a refanged position back to the input. Positions arrive
// nearly in order, so it walks forward from the last answer and falls back
// to a binary search.
func (s *scanner) mapPos(pos int) int {
	e := s.edits
	h := s.hint
	if h < len(e) && e[h].out <= pos {
		for k := 0; k < 8; k++ {
			if h+1 == len(e) || e[h+1].out > pos {
				s.hint = h
				return e[h].in + (pos - e[h].out)
			}
			h++
		}
	}
	k := editIndex(e, pos)
	if k < 0 {
		return pos
	}
	s.hint = k
	return e[k].in + (pos - e[k].out)
}

// plainAfter reports whether b[j], the byte after a word, cannot start a
// URL, an e-mail address, an IPv6 address or a spaced " at ".
func plainAfter(b []byte, j int) bool {
	switch b[j] {
	case ':', '@', '+', '%':
		return false
	case ' ':
		return !(j+3 < len(b) && b[j+3] == ' ' && (b[j+1]|0x20) == 'a' && (b[j+2]|0x20) == 't')
	}
	return true
}
