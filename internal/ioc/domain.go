package ioc

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// idnaProfile converts internationalised names to punycode. Underscores are
// allowed (they occur in real hostnames); the label rules are checked by
// checkASCIIDomain afterwards.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.StrictDomainName(false),
	idna.VerifyDNSLength(false),
)

// pseudoTLDs are top-level names that are not in the ICANN root but name
// internal or reserved networks (RFC 2606, RFC 6761, RFC 6762, common
// corporate practice). They are accepted as domains so that they can be
// extracted and then classified internal.
var pseudoTLDs = map[string]bool{
	"local": true, "internal": true, "lan": true, "corp": true, "intranet": true,
	"localhost": true, "test": true, "example": true, "invalid": true,
	"localdomain": true, "home": true, "private": true,
}

// extTLDs are ICANN TLDs that are also common file extensions or that end
// common code and SIEM field names. A bare two-label name ending in one of
// them ("setup.zip", "main.py", "self.name") is taken as a domain by Extract
// only with further evidence (see the package documentation).
var extTLDs = map[string]bool{
	"zip": true, "mov": true, "py": true, "sh": true, "rs": true, "pl": true,
	"pm": true, "md": true, "ps": true, "cc": true, "so": true, "ai": true,
	"ac": true, "am": true, "in": true, "la": true, "mk": true, "ml": true,
	"mm": true, "cat": true, "app": true, "do": true, "gs": true, "ms": true,
	"sc": true, "one": true, "cab": true, "pub": true, "java": true,
	"properties": true, "save": true, "map": true, "data": true, "name": true,
	"email": true, "run": true, "id": true, "host": true, "build": true,
	"group": true, "type": true, "info": false,
}

// codeReceivers are first labels that, before a word-like TLD, mark a code
// expression or a SIEM field name ("user.email", "host.name", "log.info")
// rather than a domain.
var codeReceivers = map[string]bool{
	"self": true, "this": true, "os": true, "sys": true, "window": true,
	"document": true, "console": true, "log": true, "logger": true,
	"logging": true, "req": true, "res": true, "request": true, "response": true,
	"obj": true, "args": true, "params": true, "config": true, "settings": true,
	"user": true, "host": true, "file": true, "process": true, "source": true,
	"destination": true, "client": true, "server": true, "event": true,
	"agent": true, "url": true, "dns": true, "app": true, "ctx": true,
	"context": true, "err": true, "error": true, "item": true, "node": true,
	"result": true, "data": true, "json": true, "module": true, "props": true,
	"state": true, "observer": true, "related": true, "network": true,
	"cloud": true, "container": true, "rule": true, "threat": true, "email": true,
	"message": true, "msg": true, "e": true,
}

// classicTLDs are never treated as word-like after a code receiver.
var classicTLDs = map[string]bool{
	"com": true, "net": true, "org": true, "io": true, "co": true, "me": true,
	"ru": true, "cn": true, "uk": true, "de": true, "xyz": true, "top": true,
	"biz": true, "su": true, "tk": true, "cc": true,
}

// tldEntry is one answer of validTLD.
type tldEntry struct {
	name string
	ok   bool
}

// tldCache holds recent validTLD answers, two ways per hash bucket. It is
// lock-free: a reader sees a whole entry or none. Every domain the scanner
// finds asks for its TLD, so a hit must cost a hash and a compare.
var tldCache [1 << 12]atomic.Pointer[tldEntry]

// validTLD reports whether the lower-case label is an ICANN top-level domain
// or one of pseudoTLDs.
func validTLD[T string | []byte](tld T) bool {
	h := uint32(2166136261)
	for i := 0; i < len(tld); i++ {
		h = (h ^ uint32(tld[i])) * 16777619
	}
	k := int(h) & (len(tldCache) - 1) &^ 1
	for w := k; w <= k+1; w++ {
		if e := tldCache[w].Load(); e != nil && e.name == string(tld) {
			return e.ok
		}
	}
	name := string(tld)
	ok := pseudoTLDs[name]
	if !ok {
		ps, icann := publicsuffix.PublicSuffix(name)
		ok = icann && ps == name
	}
	if len(name) <= 24 { // only plausible TLDs are kept
		w := k
		if tldCache[w].Load() != nil {
			w = k + 1 - int(h>>31) // a full bucket: replace either way
		}
		tldCache[w].Store(&tldEntry{name, ok})
	}
	return ok
}

// normalizeDomain returns the canonical form of a host name: lower case,
// punycode, no trailing dot; it checks label syntax, lengths and the TLD.
func normalizeDomain(s string) (string, bool) {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 1024 {
		return "", false
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		s = lowerASCII(s)
		if strings.Contains(s, "xn--") {
			return idnaMemo.get(s, normalizeIDN)
		}
		if !checkASCIIDomain(s) {
			return "", false
		}
		return s, true
	}
	if !utf8.ValidString(s) {
		return "", false
	}
	return idnaMemo.get(s, normalizeIDN)
}

// normalizeIDN is normalizeDomain for a name that needs IDNA processing: a
// Unicode name, or an ASCII one (lower case) with an A-label.
func normalizeIDN(s string) (string, bool) {
	a, err := idnaProfile.ToASCII(s)
	if err != nil {
		return "", false
	}
	if isASCII(s) {
		// An A-label name must come back as it is.
		if a != s {
			return "", false
		}
	} else {
		// The result must itself be a valid A-label name.
		a = strings.TrimSuffix(a, ".")
		if b, err := idnaProfile.ToASCII(a); err != nil || b != a {
			return "", false
		}
	}
	if !checkASCIIDomain(a) {
		return "", false
	}
	return a, true
}

// idnaMemo remembers the latest IDNA answers. x/net/idna takes about a
// microsecond a name, and a text that names an internationalised domain
// names it many times (the link, its host, the sender's address).
var idnaMemo = memo{max: 4096}

// memo is a bounded, concurrency-safe cache of a pure function's results;
// when full it starts again empty.
type memo struct {
	mu  sync.Mutex
	max int
	m   map[string]memoEntry
}

type memoEntry struct {
	v  string
	ok bool
}

func (m *memo) get(k string, f func(string) (string, bool)) (string, bool) {
	m.mu.Lock()
	e, hit := m.m[k]
	m.mu.Unlock()
	if hit {
		return e.v, e.ok
	}
	v, ok := f(k)
	m.mu.Lock()
	if m.m == nil || len(m.m) >= m.max {
		m.m = make(map[string]memoEntry, m.max)
	}
	m.m[k] = memoEntry{v, ok}
	m.mu.Unlock()
	return v, ok
}

// checkASCIIDomain validates a lower-case ASCII name: at least two labels of
// 1-63 letters, digits, hyphens (not at either end) or underscores (not in
// the TLD), at most 253 bytes, and a valid TLD.
func checkASCIIDomain[T string | []byte](s T) bool {
	t, ok := checkLabels(s)
	return ok && validTLD(s[t:])
}

// checkLabels checks the label syntax of a lower-case ASCII name and returns
// where its TLD starts; the TLD itself is checked by the caller.
func checkLabels[T string | []byte](s T) (int, bool) {
	if len(s) > 253 {
		return 0, false
	}
	dot := len(s) - 1
	for dot >= 0 && s[dot] != '.' {
		dot--
	}
	if dot <= 0 {
		return 0, false
	}
	tld := s[dot+1:]
	if len(tld) < 2 || len(tld) > 63 {
		return 0, false
	}
	if len(tld) >= 4 && string(tld[:4]) == "xn--" {
		for i := 0; i < len(tld); i++ {
			if c := tld[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return 0, false
			}
		}
	} else {
		for i := 0; i < len(tld); i++ {
			if c := tld[i]; c < 'a' || c > 'z' {
				return 0, false
			}
		}
	}
	start := 0
	for i := 0; i <= dot; i++ {
		if i < dot && s[i] != '.' {
			c := s[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return 0, false
			}
			continue
		}
		if n := i - start; n == 0 || n > 63 || s[start] == '-' || s[i-1] == '-' {
			return 0, false
		}
		start = i + 1
	}
	return dot + 1, true
}

// lowerASCII is strings.ToLower for ASCII text, in one pass when s has no
// upper-case letter (the common case) and one allocation otherwise.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := make([]byte, len(s))
			copy(b, s[:i])
			for ; i < len(s); i++ {
				c := s[i]
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				b[i] = c
			}
			return string(b)
		}
	}
	return s
}

// needsEvidence reports whether a valid, normalised domain found bare in
// free text is too likely to be a file name or a code expression to be
// reported without evidence (defanging, a URL or an e-mail around it).
func needsEvidence(d string) bool {
	first := strings.IndexByte(d, '.')
	last := strings.LastIndexByte(d, '.')
	if first != last {
		return false // three or more labels
	}
	tld := d[last+1:]
	if extTLDs[tld] || pseudoTLDs[tld] {
		return true
	}
	return codeReceivers[d[:first]] && !classicTLDs[tld]
}
