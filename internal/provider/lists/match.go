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
func (m *Matcher) Match(i ioc.IOC) []Hit {
	if m == nil || len(m.lists) == 0 {
		return nil
	}
	bit := typeBit(i.Type)
	var hits []Hit
	raw := strings.TrimSpace(i.Value)
	if a, ok := parseIP(raw); ok {
		hits = m.matchIP(hits, bit, a, false)
		if len(m.subs) > 0 || len(m.regexes) > 0 {
			hits = m.scan(hits, bit, a.Unmap().WithZone("").String())
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
			return m.Match(ioc.IOC{Type: i.Type, Value: a.String()})
		}
	}
	hits = m.matchString(hits, bit, v, false)
	if strings.Contains(v, "://") || strings.Contains(v, "@") {
		if h := hostOf(v); h != "" {
			if a, ok := parseIP(h); ok {
				hits = m.matchIP(hits, bit, a, true)
			} else {
				hits = m.matchString(hits, bit, h, true)
				hits = m.matchSuffix(hits, bit, h, true)
			}
		}
	} else if m.tldSuffix || strings.IndexByte(v, '.') >= 0 {
		hits = m.matchSuffix(hits, bit, v, false)
	}
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

func (m *Matcher) matchString(hits []Hit, bit uint32, v string, viaHost bool) []Hit {
	if len(m.exact) == 0 {
		return hits
	}
	k := m.key(v)
	if !m.exactF.mayHave(k.filterHash()) {
		return hits
	}
	if r, ok := m.exact[k]; ok {
		hits = m.appendRef(hits, bit, r, v, KindString, viaHost)
	}
	return hits
}

// matchSuffix walks d's labels from the right: d itself, then d without its
// first label, and so on, one map look-up each.
func (m *Matcher) matchSuffix(hits []Hit, bit uint32, d string, viaHost bool) []Hit {
	if len(m.suffix) == 0 {
		return hits
	}
	for s := d; s != ""; {
		dot := strings.IndexByte(s, '.')
		if dot < 0 && !m.tldSuffix && s != d {
			break // no single-label suffix is loaded
		}
		if k := m.key(s); m.suffixF.mayHave(k.filterHash()) {
			if r, ok := m.suffix[k]; ok {
				hits = m.appendRef(hits, bit, r, s, KindHostname, viaHost)
			}
		}
		if dot < 0 {
			break
		}
		s = s[dot+1:]
	}
	return hits
}

func (m *Matcher) matchIP(hits []Hit, bit uint32, a netip.Addr, viaHost bool) []Hit {
	a = a.Unmap().WithZone("")
	var r ref
	var ok bool
	if a.Is4() {
		if x := toU128(a).lo32(); m.ips4F.mayHave(ip4Hash(x)) {
			r, ok = m.ips4[x]
		}
	} else {
		if x := toU128(a); m.ips6F.mayHave(x.filterHash()) {
			r, ok = m.ips6[x]
		}
	}
	if ok {
		hits = m.appendRef(hits, bit, r, a.String(), KindString, viaHost)
	}
	t := &m.cidr4
	if a.Is6() {
		t = &m.cidr6
	}
	for n := t.lookup(a); n >= 0; n = t.parent[n] {
		hits = m.appendRef(hits, bit, t.refs[n], t.nets[n].String(), KindCIDR, viaHost)
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
