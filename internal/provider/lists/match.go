package lists

import (
	"net/netip"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

// Match returns every entry i matches, in no particular order beyond this:
// exact hits first, then suffixes, networks, substrings and regexes. Lists
// whose matching_attributes exclude i's type are left out. It allocates only
// when something matches.
//
// The engine's IOCs arrive in package ioc's canonical form. For an IPv4
// address, a domain, a file hash or a URL in that form, checked in one pass
// over the value, Match goes straight to the tables; any other value is first
// brought to the canonical form the lists were loaded in (see canon).
func (m *Matcher) Match(i ioc.IOC) []Hit {
	if m == nil || len(m.lists) == 0 {
		return nil
	}
	bit := typeBit(i.Type)
	switch v := i.Value; i.Type {
	case ioc.IPv4:
		if x, ok := parseIPv4(v); ok {
			return m.scanAndDedupe(m.matchIPv4(nil, bit, x, v, false), bit, v)
		}
	case ioc.Domain, ioc.MD5, ioc.SHA1, ioc.SHA256, ioc.SHA512:
		if isCanonName(v) {
			return m.scanAndDedupe(m.matchName(nil, bit, v, false), bit, v)
		}
	case ioc.URL:
		if h, ok := urlHost(v); ok {
			hits := m.matchString(nil, bit, v, false)
			return m.scanAndDedupe(m.matchHost(hits, bit, h), bit, v)
		}
	}
	return m.matchAny(bit, i.Value)
}

// matchAny is Match for a value in any form.
func (m *Matcher) matchAny(bit uint32, raw string) []Hit {
	raw = strings.TrimSpace(raw)
	if a, ok := parseIP(raw); ok {
		a = a.Unmap().WithZone("")
		hits := m.matchIP(nil, bit, a, false)
		if len(m.subs) > 0 || len(m.regexes) > 0 {
			hits = m.scan(hits, bit, a.String())
		}
		return dedupe(hits)
	}
	if raw == "" {
		return nil
	}
	v := canonFast(raw)
	if v == "" {
		return nil
	}
	if v != raw {
		if a, ok := parseIP(v); ok { // a defanged address: "192.0.2[.]1"
			return m.matchAny(bit, a.String())
		}
	}
	var hits []Hit
	if strings.Contains(v, "://") || strings.Contains(v, "@") {
		hits = m.matchString(hits, bit, v, false)
		if h := hostOf(v); h != "" {
			hits = m.matchHost(hits, bit, h)
		}
	} else {
		hits = m.matchName(hits, bit, v, false)
	}
	return m.scanAndDedupe(hits, bit, v)
}

func (m *Matcher) scanAndDedupe(hits []Hit, bit uint32, v string) []Hit {
	if len(m.subs) > 0 || len(m.regexes) > 0 {
		hits = m.scan(hits, bit, v)
	}
	return dedupe(hits)
}

// appendRef appends a hit for every list r names whose types include bit.
func (m *Matcher) appendRef(hits []Hit, bit uint32, r ref, entry string, k Kind, viaHost bool) []Hit {
	if r >= 0 {
		return m.appendHit(hits, bit, uint16(r), entry, k, viaHost)
	}
	for _, id := range m.multi[-r-1] {
		hits = m.appendHit(hits, bit, id, entry, k, viaHost)
	}
	return hits
}

func (m *Matcher) appendHit(hits []Hit, bit uint32, id uint16, entry string, k Kind, viaHost bool) []Hit {
	l := &m.lists[id]
	if l.types&bit == 0 {
		return hits
	}
	h := Hit{List: l.label, Entry: entry, Kind: k, TLP: l.tlp, Weight: l.weight, ViaHost: viaHost}
	if len(m.comments) > 0 {
		h.Comment = m.comments[commentKey{id, entry}]
	}
	return append(hits, h)
}

// matchString looks v up as an exact entry.
func (m *Matcher) matchString(hits []Hit, bit uint32, v string, viaHost bool) []Hit {
	if r, ok := m.tab.get(m.keys.str(v)); ok {
		hits = m.appendRef(hits, bit, r, v, KindString, viaHost)
	}
	return hits
}

// matchName looks d up as an exact entry, then walks its labels from the
// right for domain suffixes: d itself, then d without its first label, and
// so on, probing only the suffixes whose label count some suffix entry has.
func (m *Matcher) matchName(hits []Hit, bit uint32, d string, viaHost bool) []Hit {
	k := m.keys.str(d)
	if r, ok := m.tab.get(k); ok {
		hits = m.appendRef(hits, bit, r, d, KindString, viaHost)
	}
	if m.suffixLabels == 0 {
		return hits
	}
	n := labels(d)
	for s := d; m.suffixLabels&(labelBit(n)<<1-1) != 0; n-- {
		if m.suffixLabels&labelBit(n) != 0 {
			if len(s) != len(d) {
				k = m.keys.str(s)
			}
			if r, ok := m.tab.get(m.keys.suffixOf(k)); ok {
				hits = m.appendRef(hits, bit, r, s, KindHostname, viaHost)
			}
		}
		dot := strings.IndexByte(s, '.')
		if dot < 0 {
			break
		}
		s = s[dot+1:]
	}
	return hits
}

// matchHost matches the host of a URL or an e-mail address (canonical).
func (m *Matcher) matchHost(hits []Hit, bit uint32, h string) []Hit {
	if x, ok := parseIPv4(h); ok {
		return m.matchIPv4(hits, bit, x, h, true)
	}
	if a, ok := parseIP(h); ok {
		return m.matchIP(hits, bit, a, true)
	}
	return m.matchName(hits, bit, h, true)
}

func (m *Matcher) matchIP(hits []Hit, bit uint32, a netip.Addr, viaHost bool) []Hit {
	a = a.Unmap().WithZone("")
	x := toU128(a)
	if a.Is4() {
		return m.matchIPv4(hits, bit, x.lo32(), "", viaHost)
	}
	return m.matchNets(hits, bit, &m.cidr6, m.cidr6.lookup6(x), "", viaHost)
}

// matchIPv4 matches IPv4 address x; s is its canonical text, or "".
func (m *Matcher) matchIPv4(hits []Hit, bit uint32, x uint32, s string, viaHost bool) []Hit {
	return m.matchNets(hits, bit, &m.cidr4, m.cidr4.lookup4(x), s, viaHost)
}

// matchNets appends entry n (the exact address, or the innermost network)
// and every network enclosing it. s is the address's canonical text, or "".
func (m *Matcher) matchNets(hits []Hit, bit uint32, t *cidrTable, n int32, s string, viaHost bool) []Hit {
	for n >= 0 {
		c := &t.nets[n]
		if c.exact {
			if s == "" {
				s = t.addr(c).String()
			}
			hits = m.appendRef(hits, bit, c.ref, s, KindString, viaHost)
		} else {
			p := netip.PrefixFrom(t.addr(c), int(c.bits))
			hits = m.appendRef(hits, bit, c.ref, p.String(), KindCIDR, viaHost)
		}
		n = c.parent
	}
	return hits
}

// scan checks every substring and regex entry: O(entries × len(v)).
func (m *Matcher) scan(hits []Hit, bit uint32, v string) []Hit {
	lv := strings.ToLower(v)
	for _, p := range m.subs {
		if strings.Contains(lv, p.s) {
			hits = m.appendHit(hits, bit, p.id, p.s, KindSubstring, false)
		}
	}
	for _, p := range m.regexes {
		if p.re.MatchString(v) {
			hits = m.appendHit(hits, bit, p.id, p.src, KindRegex, false)
		}
	}
	return hits
}

// dedupe drops repeated (list, entry) pairs, keeping the first.
func dedupe(hits []Hit) []Hit {
	if len(hits) < 2 {
		return hits
	}
	out := hits[:1]
	for _, h := range hits[1:] {
		dup := false
		for _, o := range out {
			if o.List == h.List && o.Entry == h.Entry {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, h)
		}
	}
	return out
}
