package ioc

import (
	"net/netip"
	"strconv"
	"strings"
)

// urlParts is a parsed, canonical URL and where its host sits in the text it
// was parsed from.
type urlParts struct {
	value     string
	host      IOC
	hostStart int // byte offsets of the host in the parsed text
	hostEnd   int
	// The canonical pieces value is made of.
	scheme, userinfo, hostText, port, tail string
}

var defaultPorts = map[string]string{"http": "80", "https": "443", "ftp": "21", "ftps": "990", "ws": "80", "wss": "443", "sftp": "22"}

// parseURL parses scheme://[userinfo@]host[:port][path?query#fragment]. The
// scheme (defanged or not) must be one of schemes; the host must be a valid
// domain, IPv4 address or bracketed IPv6 address. Scheme and host are
// canonicalised, a default port is dropped, and the rest is kept verbatim.
func parseURL(s string) (urlParts, bool) {
	u, ok := splitURL(s)
	if ok {
		u.value = u.scheme + "://" + u.userinfo + u.hostText + u.port + u.tail
	}
	return u, ok
}

// splitURL is parseURL without building the value: it checks s and
// returns its canonical pieces and host.
func splitURL(s string) (urlParts, bool) {
	var u urlParts
	sep := strings.Index(s, "://")
	if sep <= 0 || sep > 8 {
		return u, false
	}
	var lw [8]byte
	w := lw[:0]
	for i := 0; i < sep; i++ {
		w = append(w, s[i]|0x20)
	}
	scheme, ok := schemes[string(w)]
	if !ok || !isAlpha(s[0]) {
		return u, false
	}
	rest := s[sep+3:]
	ae := strings.IndexAny(rest, "/?#")
	if ae < 0 {
		ae = len(rest)
	}
	auth, tail := rest[:ae], rest[ae:]
	userinfo := ""
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		userinfo, auth = auth[:at+1], auth[at+1:]
	}
	hostStart := sep + 3 + len(userinfo)
	host, port := auth, ""
	if strings.HasPrefix(auth, "[") {
		end := strings.IndexByte(auth, ']')
		if end < 0 {
			return u, false
		}
		host, port = auth[1:end], auth[end+1:]
		hostStart++
		if port != "" && port[0] != ':' {
			return u, false
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return u, false
		}
		u.host = IOC{IPv6, a.String()}
		if a.Is4In6() {
			u.host = IOC{IPv4, a.Unmap().String()}
		}
		host = "[" + a.String() + "]"
	} else {
		if c := strings.LastIndexByte(auth, ':'); c >= 0 {
			host, port = auth[:c], auth[c:]
		}
		if v4, ok := parseIPv4(host); ok {
			u.host = IOC{IPv4, v4}
		} else {
			if isDigitsDots(host) {
				return u, false
			}
			d, ok := normalizeDomain(host)
			if !ok {
				return u, false
			}
			u.host = IOC{Domain, d}
			host = d
		}
	}
	u.hostStart, u.hostEnd = hostStart, hostStart+len(auth)-len(port)
	if strings.HasPrefix(auth, "[") {
		u.hostEnd--
	}
	if port != "" {
		p := port[1:]
		if p == "" {
			port = ""
		} else {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil || n == 0 {
				return u, false
			}
			if p[0] == '0' { // else p is already canonical
				p = strconv.FormatUint(n, 10)
				port = ":" + p
			}
			if defaultPorts[scheme] == p {
				port = ""
			}
		}
	}
	u.scheme, u.userinfo, u.hostText, u.port, u.tail = scheme, userinfo, host, port, tail
	return u, true
}

// canonicalURLHost returns the host of a URL already in canonical form
// (as Extract and Parse return it: canonical scheme, lower-case ASCII host,
// no default or zero-padded port) without parsing the rest; ok is false for
// any other form, for which splitURL decides. It answers as splitURL would.
func canonicalURLHost(s string) (IOC, bool) {
	sep := strings.Index(s, "://")
	if sep < 0 {
		return IOC{}, false
	}
	switch s[:sep] {
	case "http", "https", "ftp", "ftps", "sftp", "ws", "wss":
	default:
		return IOC{}, false
	}
	auth := s[sep+3:]
	if ae := strings.IndexAny(auth, "/?#"); ae >= 0 {
		auth = auth[:ae]
	}
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		auth = auth[at+1:]
	}
	if c := strings.LastIndexByte(auth, ':'); c >= 0 {
		p := auth[c+1:]
		if len(p) == 0 || len(p) > 5 || p[0] == '0' {
			return IOC{}, false
		}
		n := 0
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return IOC{}, false
			}
			n = n*10 + int(p[i]-'0')
		}
		if n > 65535 {
			return IOC{}, false
		}
		auth = auth[:c]
	}
	if v4, ok := parseIPv4(auth); ok {
		return IOC{IPv4, v4}, true
	}
	for i := 0; i < len(auth); i++ {
		if c := auth[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return IOC{}, false
		}
	}
	if isDigitsDots(auth) || strings.Contains(auth, "xn--") || strings.HasSuffix(auth, ".") || !checkASCIIDomain(auth) {
		return IOC{}, false
	}
	return IOC{Domain, auth}, true
}

func isDigitsDots(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

// trimURLEnd returns the length of s without trailing punctuation that ends
// the sentence rather than the URL: . , ; : ! ? ' * and closing brackets
// that have no opening partner inside the URL.
func trimURLEnd(s []byte) int {
	paren, square := 0, 0
	for _, x := range s {
		switch x {
		case '(':
			paren++
		case ')':
			paren--
		case '[':
			square++
		case ']':
			square--
		}
	}
	e := len(s)
	for e > 0 {
		switch s[e-1] {
		case '.', ',', ';', ':', '!', '?', '\'', '*':
			e--
			continue
		case ')':
			if paren < 0 {
				paren++
				e--
				continue
			}
		case ']':
			if square < 0 {
				square++
				e--
				continue
			}
		}
		break
	}
	return e
}
