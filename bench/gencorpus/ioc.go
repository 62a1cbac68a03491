package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
)

// gen writes corpus text and records, for each IOC it plants, the canonical
// value in truth. Every helper that returns IOC text records it; text
// written any other way holds no IOC.
type gen struct {
	r     *rand.Rand
	w     *bufio.Writer
	n     int64
	truth map[IOC]struct{}
	// recent values are reused now and then, as in real logs where the same
	// hosts recur.
	recentIP  []string
	recentDom []string
}

// idnaProfile maps Unicode names as iocane's contract says (UTS 46,
// non-transitional: "ß" stays distinct).
var idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.BidiRule())

func newGen(seed uint64, w *bufio.Writer) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), w: w, truth: map[IOC]struct{}{}}
}

func (g *gen) add(t, v string) { g.truth[IOC{t, v}] = struct{}{} }

func (g *gen) printf(format string, a ...any) {
	n, _ := fmt.Fprintf(g.w, format, a...)
	g.n += int64(n)
}

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }
func (g *gen) chance(pct int) bool    { return g.r.IntN(100) < pct }

const hexDigits = "0123456789abcdef"

func (g *gen) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[g.r.IntN(16)]
	}
	return string(b)
}

func (g *gen) alnum(n int) string {
	const cs = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = cs[g.r.IntN(len(cs))]
	}
	return string(b)
}

// dotForms are the defanged spellings of "." that iocane refangs.
var dotForms = []string{"[.]", "[.]", "[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}", "[DOT]", "．"}

// defangDots replaces every dot (or, for mixed, a random subset) with a
// defanged form. Spaced " [.] " and "\." are used only by prose.
func (g *gen) defangDots(s string, mixed bool) string {
	form := g.pick(dotForms)
	var b strings.Builder
	for _, c := range s {
		if c == '.' && (!mixed || g.chance(50)) {
			b.WriteString(form)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// --- IPv4 ---

func (g *gen) newIPv4() string {
	switch k := g.r.IntN(100); {
	case k < 8:
		return fmt.Sprintf("10.%d.%d.%d", g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
	case k < 12:
		return fmt.Sprintf("192.168.%d.%d", g.r.IntN(256), 1+g.r.IntN(254))
	default:
		return fmt.Sprintf("%d.%d.%d.%d", 1+g.r.IntN(223), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
	}
}

// ipv4 plants an address and returns its canonical text (for log lines).
func (g *gen) ipv4() string {
	var ip string
	if len(g.recentIP) > 0 && g.chance(30) {
		ip = g.pick(g.recentIP)
	} else {
		ip = g.newIPv4()
		if len(g.recentIP) < 512 {
			g.recentIP = append(g.recentIP, ip)
		} else {
			g.recentIP[g.r.IntN(512)] = ip
		}
	}
	g.add("ipv4", ip)
	return ip
}

// ipv4Defanged plants an address written the way reports defang it.
func (g *gen) ipv4Defanged() string {
	ip := g.ipv4()
	if g.chance(20) {
		return ip
	}
	return g.defangDots(ip, g.chance(30))
}

// --- IPv6 ---

func (g *gen) ipv6Addr() netip.Addr {
	var a [16]byte
	prefixes := [][]byte{{0x20, 0x01, 0x0d, 0xb8}, {0x2a, 0x01}, {0x2a, 0x02}, {0x26, 0x06, 0x47, 0x00}, {0x24, 0x00}, {0x2c, 0x0f}, {0x20, 0x03}}
	p := prefixes[g.r.IntN(len(prefixes))]
	copy(a[:], p)
	for i := len(p); i < 16; i++ {
		a[i] = byte(g.r.IntN(256))
	}
	// Zero runs, so that compression ("::") is exercised.
	switch g.r.IntN(3) {
	case 0:
		for i := 6; i < 14; i++ {
			a[i] = 0
		}
	case 1:
		for i := 8; i < 12; i++ {
			a[i] = 0
		}
	}
	return netip.AddrFrom16(a)
}

// ipv6 plants an address and returns a surface form: compressed, fully
// expanded, or upper case.
func (g *gen) ipv6() string {
	a := g.ipv6Addr()
	canon := a.String()
	g.add("ipv6", canon)
	switch g.r.IntN(4) {
	case 0:
		b := a.As16()
		var parts []string
		for i := 0; i < 16; i += 2 {
			parts = append(parts, fmt.Sprintf("%02x%02x", b[i], b[i+1]))
		}
		return strings.Join(parts, ":")
	case 1:
		return strings.ToUpper(canon)
	}
	return canon
}

// --- domains ---

var (
	syllables = []string{"ka", "lo", "mi", "zen", "tor", "vex", "qua", "ri", "nu", "sta", "pol", "der", "fin", "gri", "hol", "jun", "bel", "cor", "dra", "exo"}
	hostWords = []string{"cdn", "update", "mail", "api", "portal", "login", "secure", "static", "files", "sync", "auth", "web", "vpn", "gw", "ns1", "mx"}
	brands    = []string{"micros0ft", "paypa1", "dropbox-share", "office365-verify", "apple-id", "bank-alert", "docusign-review", "wells-secure", "dhl-track", "outlook-web"}
	tlds      = []string{"com", "com", "com", "net", "org", "ru", "info", "xyz", "top", "io", "co.uk", "de", "cn", "biz", "online", "su", "club", "site", "shop", "com.br", "tk"}
	idnLabels = []string{"bücher", "straße-", "münchen", "café", "пример", "почта", "δοκιμή", "ñandú"}
	idnTLDs   = []string{"de", "com", "рф", "net", "es"}
)

func (g *gen) label() string {
	var b strings.Builder
	for range 2 + g.r.IntN(2) {
		b.WriteString(g.pick(syllables))
	}
	if g.chance(40) {
		fmt.Fprintf(&b, "%d", g.r.IntN(1000))
	}
	return b.String()
}

func (g *gen) newDomain() string {
	switch k := g.r.IntN(100); {
	case k < 3:
		u := g.pick(idnLabels) + fmt.Sprint(g.r.IntN(100)) + "." + g.pick(idnTLDs)
		a, err := idnaProfile.ToASCII(u)
		if err != nil {
			panic(fmt.Sprintf("idna %q: %v", u, err))
		}
		g.add("domain", a)
		return u // the Unicode spelling is planted; the truth is punycode
	case k < 35:
		return g.pick(hostWords) + "." + g.pick(brands) + fmt.Sprint(g.r.IntN(1000)) + "." + g.pick(tlds)
	case k < 60:
		return g.label() + "-" + g.pick(brands) + "." + g.pick(tlds)
	default:
		return g.label() + "." + g.pick(tlds)
	}
}

// domain plants a domain and returns it in lower case (the spelling that
// is planted may be Unicode; the truth is punycode).
func (g *gen) domain() string {
	var d string
	if len(g.recentDom) > 0 && g.chance(25) {
		d = g.pick(g.recentDom)
	} else {
		d = g.newDomain()
		if len(g.recentDom) < 512 {
			g.recentDom = append(g.recentDom, d)
		} else {
			g.recentDom[g.r.IntN(512)] = d
		}
	}
	g.add("domain", ascii(d))
	return d
}

// ascii is the punycode form of a lower-case domain.
func ascii(d string) string {
	a, err := idnaProfile.ToASCII(d)
	if err != nil {
		panic(fmt.Sprintf("idna %q: %v", d, err))
	}
	return a
}

// domainDefanged plants a domain in a report's spelling: defanged, and
// sometimes upper case.
func (g *gen) domainDefanged() string {
	d := g.domain()
	if g.chance(8) && isASCII(d) {
		d = strings.ToUpper(d)
	}
	if g.chance(20) {
		return d
	}
	return g.defangDots(d, g.chance(20))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// --- URLs ---

var (
	pathWords = []string{"gate.php", "login", "wp-admin", "invoice", "update.bin", "payload.exe", "index.html", "api/v2/check", "dl", "c2", "stage2.ps1", "verify", "account/confirm", "track", "doc.zip"}
	schemes   = []string{"http", "https", "https", "hxxp", "hxxps", "hXXp", "hXXps", "h**p", "http[:]", "https[:]", "hxxps[:]"}
)

// url plants a URL (and its host) and returns its surface form. When
// defang is true the scheme and host may be defanged.
func (g *gen) url(defang bool) string {
	scheme := "https"
	if g.chance(40) {
		scheme = "http"
	}
	var hostCanon, hostSurf string
	switch k := g.r.IntN(100); {
	case k < 12:
		hostCanon = g.ipv4()
		hostSurf = hostCanon
		if defang && g.chance(60) {
			hostSurf = g.defangDots(hostCanon, false)
		}
	case k < 14:
		a := g.ipv6Addr()
		g.add("ipv6", a.String())
		hostCanon, hostSurf = "["+a.String()+"]", "["+a.String()+"]"
	default:
		d := g.domain()
		hostCanon = ascii(d)
		hostSurf = d
		if defang && g.chance(70) {
			hostSurf = g.defangDots(d, false)
		} else if g.chance(5) && isASCII(d) {
			hostSurf = strings.ToUpper(d)
		}
	}
	port, portSurf := "", ""
	switch k := g.r.IntN(100); {
	case k < 10:
		p := []string{"8080", "8443", "4443", "8000", "2087"}[g.r.IntN(5)]
		port, portSurf = ":"+p, ":"+p
	case k < 14: // a default port, dropped in the canonical form
		if scheme == "https" {
			portSurf = ":443"
		} else {
			portSurf = ":80"
		}
	}
	path := "/" + g.pick(pathWords)
	if g.chance(30) {
		path = "/" + g.alnum(6) + path
	}
	if g.chance(35) {
		path += fmt.Sprintf("?id=%d&u=%s", g.r.IntN(100000), g.alnum(8))
	}
	g.add("url", scheme+"://"+hostCanon+port+path)

	schemeSurf := scheme + "://"
	if defang {
		s := g.pick(schemes)
		switch {
		case strings.HasSuffix(s, "[:]"):
			if scheme == "https" && !strings.Contains(s, "s[") {
				s = strings.Replace(s, "[:]", "s[:]", 1)
			}
			if scheme == "http" {
				s = strings.Replace(s, "s[:]", "[:]", 1)
			}
			schemeSurf = s + "//"
		default:
			s = strings.TrimSuffix(strings.TrimSuffix(s, "s"), "S")
			if scheme == "https" {
				s += "s"
			}
			schemeSurf = s + "://"
		}
	} else if g.chance(3) {
		schemeSurf = strings.ToUpper(scheme) + "://"
	}
	return schemeSurf + hostSurf + portSurf + path
}

// --- e-mail ---

var (
	firstNames = []string{"john", "anna", "li", "maria", "omar", "sven", "yuki", "ivan", "chloe", "raj", "helpdesk", "support", "billing", "noreply", "security", "admin"}
	lastNames  = []string{"smith", "garcia", "novak", "tanaka", "kowalski", "dubois", "rossi", "okafor", "schmidt", "jansen"}
)

// emailParts plants an address (and its domain) and returns the local
// part and the domain as written.
func (g *gen) emailParts() (local, dom string) {
	local = g.pick(firstNames)
	switch g.r.IntN(4) {
	case 0:
		local += "." + g.pick(lastNames)
	case 1:
		local += fmt.Sprint(g.r.IntN(100))
	case 2:
		local += "+" + g.pick([]string{"invoice", "hr", "it", "x"})
	}
	dom = g.domain()
	g.add("email", local+"@"+ascii(dom))
	return local, dom
}

// email plants an address in a plain or defanged spelling.
func (g *gen) email(defang bool) string {
	local, dom := g.emailParts()
	if !defang {
		if g.chance(10) && isASCII(dom) {
			return strings.ToUpper(local[:1]) + local[1:] + "@" + strings.ToUpper(dom)
		}
		return local + "@" + dom
	}
	switch g.r.IntN(7) {
	case 0:
		return local + "[at]" + dom
	case 1:
		return local + "[@]" + g.defangDots(dom, false)
	case 2:
		return local + "(at)" + dom
	case 3:
		return local + "＠" + dom
	case 4:
		return local + " [at] " + g.defangDots(dom, false)
	case 5:
		if isASCII(dom) {
			return local + " at " + strings.ReplaceAll(dom, ".", " dot ")
		}
		return local + "{at}" + dom
	default:
		return local + "@" + g.defangDots(dom, false)
	}
}

// --- hashes, CVE, ASN ---

func (g *gen) hash() (string, string) {
	t := []struct {
		name string
		n    int
	}{{"md5", 32}, {"sha1", 40}, {"sha256", 64}, {"sha256", 64}, {"sha512", 128}}[g.r.IntN(5)]
	h := g.hex(t.n)
	g.add(t.name, h)
	if g.chance(10) {
		return t.name, strings.ToUpper(h)
	}
	return t.name, h
}

func (g *gen) cve() string {
	year := 1999 + g.r.IntN(28)
	digits := 4 + g.r.IntN(2)
	if g.chance(3) {
		digits = 6 + g.r.IntN(2)
	}
	num := fmt.Sprint(1 + g.r.IntN(9))
	for len(num) < digits {
		num += fmt.Sprint(g.r.IntN(10))
	}
	v := fmt.Sprintf("CVE-%d-%s", year, num)
	g.add("cve", v)
	if g.chance(10) {
		return strings.ToLower(v)
	}
	return v
}

func (g *gen) asn() string {
	n := 1 + g.r.IntN(399999)
	g.add("asn", fmt.Sprintf("AS%d", n))
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf("ASN %d", n)
	case 1:
		return fmt.Sprintf("ASN%d", n)
	}
	return fmt.Sprintf("AS%d", n)
}
