package lists

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

// Hit is one list entry an IOC matched.
type Hit struct {
	// List is the list's label.
	List string
	// Entry is the entry that matched, in canonical form ("10.0.0.0/8",
	// "example.com").
	Entry string
	// Kind is how it matched: string (exact), hostname (domain suffix),
	// cidr, substring or regex.
	Kind Kind
	// TLP is the list's marking.
	TLP tlp.Level
	// Weight is the list's weight in (0,1].
	Weight float64
	// Comment is the entry's comment (CSV comment column, or the text after
	// " #" on a plain list line), if any.
	Comment string
	// ViaHost is true when a URL or e-mail address matched through its host.
	ViaHost bool
}

// list is what the Matcher keeps about one loaded list.
type list struct {
	label  string
	tlp    tlp.Level
	weight float64
	types  uint32 // bit set of ioc types the list applies to (typeBit)
}

// A ref names the list(s) an entry belongs to: a list id when >= 0, or
// -(i+1) for multi[i] when the same entry is on several lists. Most entries
// are on one list, so this costs 4 bytes an entry rather than a slice.
type ref = int32

type commentKey struct {
	id    uint16
	entry string
}

type pattern struct {
	id  uint16
	s   string
	re  *regexp.Regexp // regex kind only
	src string         // regex kind only: the entry as written
}

// Matcher holds every loaded list in shared structures. The zero value and
// nil match nothing.
type Matcher struct {
	lists []list
	multi [][]uint16
	keys  keys
	// tab holds the exact entries and the domain suffixes (see table).
	tab table
	// suffixLabels has bit n set when a domain suffix of n labels is
	// loaded (bit 63: 63 or more), so a suffix walk probes only the
	// suffixes of a name that can be there: usually one.
	suffixLabels uint64
	cidr4        cidrTable
	cidr6        cidrTable
	subs         []pattern
	regexes      []pattern
	comments     map[commentKey]string
	entries      int
	skipped      int
}

func newMatcher() *Matcher {
	return &Matcher{keys: newKeys(), comments: map[commentKey]string{}}
}

// labelBit is the bit of suffixLabels for a name of n labels.
func labelBit(n int) uint64 { return 1 << min(n, 63) }

// labels counts the dot-separated labels of s.
func labels(s string) int { return strings.Count(s, ".") + 1 }

// Len returns the number of entries loaded (an entry on two lists counts twice).
func (m *Matcher) Len() int {
	if m == nil {
		return 0
	}
	return m.entries
}

// Skipped returns the number of bad entries skipped while loading.
func (m *Matcher) Skipped() int {
	if m == nil {
		return 0
	}
	return m.skipped
}

// Lists returns the labels of the loaded lists, in load order.
func (m *Matcher) Lists() []string {
	if m == nil {
		return nil
	}
	out := make([]string, len(m.lists))
	for i, l := range m.lists {
		out[i] = l.label
	}
	return out
}

func (m *Matcher) addList(l list) (uint16, error) {
	if len(m.lists) >= 1<<16 {
		return 0, errors.New("lists: too many lists (65536 at most)")
	}
	m.lists = append(m.lists, l)
	return uint16(len(m.lists) - 1), nil
}

// addRef records list id in *r (unset when fresh); it reports false when
// the entry already was on that list.
func (m *Matcher) addRef(r *ref, fresh bool, id uint16) bool {
	switch {
	case fresh:
		*r = ref(id)
	case *r >= 0:
		if uint16(*r) == id {
			return false
		}
		m.multi = append(m.multi, []uint16{uint16(*r), id})
		*r = -ref(len(m.multi))
	default:
		ids := m.multi[-*r-1]
		if slices.Contains(ids, id) {
			return false
		}
		m.multi[-*r-1] = append(ids, id)
	}
	return true
}

// put records that key k of the table is on list id; it reports false when
// it already was.
func (m *Matcher) put(k uint64, id uint16) bool {
	s, fresh := m.tab.slot(k)
	if m.addRef(&s.r, fresh, id) {
		m.entries++
		return true
	}
	return false
}

var (
	errEmpty    = errors.New("empty entry")
	errNotHost  = errors.New("not a host name")
	errNotCIDR  = errors.New("not an IP address or CIDR network")
	errTooBroad = errors.New("a suffix needs at least one dot")
)

// add inserts one raw entry into list id as kind k and returns its canonical
// form, or why it was rejected.
func (m *Matcher) add(id uint16, k Kind, raw string) (string, error) {
	raw = refang(strings.TrimSpace(raw))
	if raw == "" {
		return "", errEmpty
	}
	switch k {
	case KindSubstring:
		s := strings.ToLower(raw)
		m.subs = append(m.subs, pattern{id: id, s: s})
		m.entries++
		return s, nil
	case KindRegex:
		re, err := compileRegex(raw)
		if err != nil {
			return "", err
		}
		m.regexes = append(m.regexes, pattern{id: id, re: re, src: raw})
		m.entries++
		return raw, nil
	}
	marked := false
	if r, ok := strings.CutPrefix(raw, "*."); ok {
		raw, marked = r, true
	} else if r, ok := strings.CutPrefix(raw, "."); ok {
		raw, marked = r, true
	}
	v := canon(raw)
	if !marked && strings.Contains(v, "/") && !strings.Contains(v, "://") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			ip, _, _ := strings.Cut(v, "/")
			if _, ipErr := netip.ParseAddr(ip); k == KindCIDR || ipErr == nil {
				return "", errNotCIDR
			}
		} else {
			p = p.Masked()
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			if p.IsSingleIP() && k != KindCIDR {
				return m.addIP(id, p.Addr()), nil
			}
			return m.addPrefix(id, p), nil
		}
	}
	if !marked {
		if a, ok := parseIP(v); ok {
			if k == KindCIDR {
				return m.addPrefix(id, netip.PrefixFrom(a, a.BitLen())), nil
			}
			return m.addIP(id, a), nil
		}
	}
	if k != KindCIDR {
		v = viaIOC(v)
	}
	switch {
	case k == KindCIDR:
		return "", errNotCIDR
	case k == KindHostname || marked:
		if !isDomain(v) {
			return "", errNotHost
		}
		if !strings.Contains(v, ".") && k != KindHostname {
			return "", errTooBroad
		}
		m.put(m.keys.suffixOf(m.keys.str(v)), id)
		m.suffixLabels |= labelBit(labels(v))
		return v, nil
	}
	m.put(m.keys.str(v), id)
	return v, nil
}

func (m *Matcher) addIP(id uint16, a netip.Addr) string {
	a = a.Unmap().WithZone("")
	m.addNet(id, netip.PrefixFrom(a, a.BitLen()), true)
	return a.String()
}

func (m *Matcher) addPrefix(id uint16, p netip.Prefix) string {
	m.addNet(id, p, false)
	return p.String()
}

func (m *Matcher) addNet(id uint16, p netip.Prefix, exact bool) {
	t := &m.cidr4
	if p.Addr().Is6() {
		t = &m.cidr6
	}
	if t.put(m, p, exact, id) {
		m.entries++
	}
}

// finish builds the CIDR interval tables and the table's filter.
func (m *Matcher) finish() error {
	m.tab.buildFilter()
	m.cidr4.build(u128{0, 1<<32 - 1})
	m.cidr6.build(u128{^uint64(0), ^uint64(0)})
	return nil
}

// viaIOC brings a URL, or a domain or e-mail address with non-ASCII letters,
// to package ioc's canonical form (punycode hosts, ioc's URL rules), which is
// the form the engine's IOCs arrive in. ASCII domains, hashes and the rest
// are already in it after canon. A value ioc rejects (an internal TLD, say)
// is kept as canon made it.
func viaIOC(v string) string {
	t := ioc.Type("")
	switch {
	case strings.Contains(v, "://"):
		t = ioc.URL
	case !isASCII(v):
		t = ioc.Domain
		if strings.Contains(v, "@") {
			t = ioc.Email
		}
	default:
		return v
	}
	if n, err := ioc.Normalize(t, v); err == nil && n != "" {
		return canon(n)
	}
	return v
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// compileRegex accepts an RE2 pattern, written bare or PCRE-style between
// slashes with flags ("/^foo\.example$/i"). Only the i, m and s flags are
// understood; RE2 has no back-references or look-arounds, so such patterns
// are rejected (and skipped with a warning like any bad entry).
func compileRegex(s string) (*regexp.Regexp, error) {
	if len(s) >= 2 && s[0] == '/' {
		end := strings.LastIndexByte(s, '/')
		if end > 0 {
			flags := s[end+1:]
			s = s[1:end]
			if flags != "" {
				if strings.Trim(flags, "ims") != "" {
					return nil, fmt.Errorf("regex flags %q not supported (i, m, s only)", flags)
				}
				s = "(?" + flags + ")" + s
			}
		}
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("regex not supported by RE2: %w", err)
	}
	return re, nil
}

// typeBit is the bit of ioc type t in a list's type set.
func typeBit(t ioc.Type) uint32 {
	switch t { // the common types without a loop; the order of ioc.Types
	case ioc.IPv4:
		return 1 << 0
	case ioc.IPv6:
		return 1 << 1
	case ioc.Domain:
		return 1 << 2
	case ioc.URL:
		return 1 << 3
	}
	for i, k := range ioc.Types {
		if k == t {
			return 1 << i
		}
	}
	return 1 << 31
}

const allTypes = ^uint32(0)

// mispTypes maps MISP attribute types (a warninglist's matching_attributes)
// to the iocane types they cover.
var mispTypes = map[string][]ioc.Type{
	"ip-src": {ioc.IPv4, ioc.IPv6}, "ip-dst": {ioc.IPv4, ioc.IPv6},
	"ip-src|port": {ioc.IPv4, ioc.IPv6}, "ip-dst|port": {ioc.IPv4, ioc.IPv6},
	"domain|ip": {ioc.Domain, ioc.IPv4, ioc.IPv6},
	"hostname":  {ioc.Domain}, "domain": {ioc.Domain}, "hostname|port": {ioc.Domain},
	"url": {ioc.URL}, "uri": {ioc.URL}, "link": {ioc.URL},
	"email": {ioc.Email}, "email-src": {ioc.Email}, "email-dst": {ioc.Email},
	"target-email": {ioc.Email}, "email-reply-to": {ioc.Email}, "whois-registrant-email": {ioc.Email},
	"md5": {ioc.MD5}, "filename|md5": {ioc.MD5},
	"sha1": {ioc.SHA1}, "filename|sha1": {ioc.SHA1},
	"sha256": {ioc.SHA256}, "filename|sha256": {ioc.SHA256},
	"sha512": {ioc.SHA512}, "filename|sha512": {ioc.SHA512},
	"vulnerability": {ioc.CVE}, "AS": {ioc.ASN}, "btc": {ioc.BTC},
}

// typesOf is the type set for a warninglist's matching_attributes: every
// type when there are none.
func typesOf(attrs []string) uint32 {
	if len(attrs) == 0 {
		return allTypes
	}
	var bits uint32
	for _, a := range attrs {
		for _, t := range mispTypes[strings.TrimSpace(a)] {
			bits |= typeBit(t)
		}
	}
	return bits
}
