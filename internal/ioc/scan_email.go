package ioc

import (
	"bytes"
	"strings"
)

// tryEmail parses local@domain with the local part b[i:at].
func (s *scanner) tryEmail(i, at int) int {
	b := s.b
	for i < at && b[i] == '.' {
		i++
	}
	if at-i < 1 || at-i > 64 {
		return 0
	}
	v, end, _, ok := s.email(i, at, at+1)
	if !ok {
		return 0
	}
	s.putEmail(v, i, at+1, end)
	return end
}

func (s *scanner) putEmail(v string, start, domStart, end int) {
	s.put(Email, v, start, end)
	s.put(Domain, v[strings.LastIndexByte(v, '@')+1:], domStart, end)
}

// email builds the address with local part b[ls:le] and the domain at
// b[ds:] (see emailDomain) in the scanner's scratch buffer and returns its
// canonical form, where the domain ends and whether a " dot " word joined
// it. Only the result is allocated.
func (s *scanner) email(ls, le, ds int) (v string, end int, words, ok bool) {
	e := append(s.low[:0], s.b[ls:le]...)
	e = append(e, '@')
	at := len(e) - 1
	e, end, words = emailDomain(e, s.b, ds)
	s.low = e
	if len(e) == at+1 {
		return "", end, words, false
	}
	v, ok = normalizeEmailBytes(e)
	return v, end, words, ok
}

// normalizeEmailBytes is normalizeEmail for an address in a scratch buffer,
// which it may lower-case in place.
func normalizeEmailBytes(e []byte) (string, bool) {
	at := bytes.LastIndexByte(e, '@')
	d := e[at+1:]
	for _, c := range e {
		if c >= 0x80 {
			return normalizeEmail(string(e))
		}
	}
	if bytes.Contains(d, []byte("xn--")) || len(d) > 0 && d[len(d)-1] == '.' {
		return normalizeEmail(string(e))
	}
	if at <= 0 || at > 64 || !validLocal(e[:at]) {
		return "", false
	}
	for i, c := range e {
		if c >= 'A' && c <= 'Z' {
			e[i] = c + 'a' - 'A'
		}
	}
	if !checkASCIIDomain(d) {
		return "", false
	}
	return string(e), true
}

// emailDomain appends to dst the domain at b[p:] whose labels are joined by
// '.' or by the word " dot ", with '.' joins; it returns dst, where the
// domain ends and whether a " dot " word was used. Nothing is appended when
// a label is too long.
func emailDomain(dst, b []byte, p int) ([]byte, int, bool) {
	n0 := len(dst)
	words := false
	for {
		q, _ := scanRun(b, p)
		if q-p > 255 {
			return dst[:n0], p, false
		}
		e := q
		for e > p && isTrim(b[e-1]) {
			e--
		}
		if e == p {
			break
		}
		dst = append(dst, b[p:e]...)
		p = e
		if e == q && q+5 < len(b) && b[q] == ' ' && foldEq(b[q+1:q+4], "dot") && b[q+4] == ' ' && class[b[q+5]]&cAlnum != 0 && len(dst)-n0 < 255 {
			dst = append(dst, '.')
			p = q + 5
			words = true
			continue
		}
		break
	}
	return dst, p, words
}

// spacedEmail parses "local at domain dot tld" where b[ls:j] is the local
// part and b[j:] starts with " at ". The domain must use at least one " dot "
// word, so that plain prose ("meet at example.com") is left alone.
func (s *scanner) spacedEmail(ls, j int) (v string, domStart, end int, ok bool) {
	if j-ls < 1 || j-ls > 64 {
		return "", 0, 0, false
	}
	domStart = j + 4
	v, end, words, ok := s.email(ls, j, domStart)
	if !words {
		return "", 0, 0, false
	}
	return v, domStart, end, ok
}

// spacedEmail is scanner.spacedEmail over b, for Refang.
func spacedEmail(b []byte, ls, j int) (v string, domStart, end int, ok bool) {
	s := scanner{b: b}
	return s.spacedEmail(ls, j)
}

// localStart returns the start of the e-mail local part ending at b[j].
func localStart(b []byte, j int) int {
	k := j
	for k > 0 && j-k < 64 && class[b[k-1]]&cLocal != 0 {
		k--
	}
	for k < j && b[k] == '.' {
		k++
	}
	return k
}
