package ioc

import (
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

// Extract scans text and calls emit for every indicator, in input order.
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
}

func (s *scanner) extract(src []byte, base int64, emit func(Match)) {
	s.src, s.base, s.emit = src, base, emit
	s.b = s.rf.run(src)
	s.edits = s.rf.edits
	s.scan()
	s.src, s.b, s.emit = nil, nil, nil
}

// raw returns the input bytes behind b[start:end].
func (s *scanner) raw(start, end int) (int, []byte) {
	if len(s.edits) == 0 {
		return start, s.src[start:end]
	}
	i, j := mapPos(s.edits, start), mapPos(s.edits, end)
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
)

// scanRun returns the end of the host-name run starting at i and its flags.
func (s *scanner) scanRun(i int) (int, int) {
	b := s.b
	flags := 0
	for i < len(b) {
		c := b[i]
		if c < 0x80 {
			k := class[c]
			if k&cHost == 0 {
				break
			}
			if k&cHex == 0 {
				flags |= fNonHex
			}
			if k&cDigit == 0 {
				if k&cDot != 0 {
					flags |= fDot
				} else {
					flags |= fNonDigit
					if k&cSep != 0 {
						flags |= fSep
					}
				}
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if !isWordRune(r) {
			break
		}
		flags |= fNonASCII | fNonHex | fNonDigit
		i += n
	}
	return i, flags
}

func (s *scanner) scan() {
	b := s.b
	n := len(b)
	for i := 0; i < n; {
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
		j, flags := s.scanRun(i)
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
		case ' ':
			if j+4 < n && (b[j+1]|0x20) == 'a' && (b[j+2]|0x20) == 't' && b[j+3] == ' ' {
				if v, ds, end, ok := spacedEmail(b, i, j); ok {
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
