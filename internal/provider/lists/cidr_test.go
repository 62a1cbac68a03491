package lists

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// TestCIDRTableAgainstScan compares the interval table with a plain scan over
// every network, for random nested, adjacent and duplicate prefixes
// (including /0 and host routes) in both families.
func TestCIDRTableAgainstScan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for round := 0; round < 20; round++ {
		m := newMatcher()
		var nets []netip.Prefix
		addr := func(six bool) netip.Addr {
			if six {
				var b [16]byte
				b[0] = 0x20
				if round%2 == 1 { // several parts of the space, far apart
					b[0] = [...]byte{0x00, 0x20, 0xfd, 0xff}[r.IntN(4)]
				}
				for i := 1; i < 16; i++ {
					b[i] = byte(r.IntN(4)) // few distinct values: lots of nesting
				}
				return netip.AddrFrom16(b)
			}
			return netip.AddrFrom4([4]byte{byte(r.IntN(4)), byte(r.IntN(4)), byte(r.IntN(4)), byte(r.IntN(4))})
		}
		for i := 0; i < 200; i++ {
			six := r.IntN(2) == 0
			a := addr(six)
			p := netip.PrefixFrom(a, r.IntN(a.BitLen()+1)).Masked()
			if round == 0 && i == 0 {
				p = netip.MustParsePrefix("0.0.0.0/0")
			}
			if round == 0 && i == 1 {
				p = netip.MustParsePrefix("::/0")
			}
			m.addPrefix(uint16(r.IntN(3)), p)
			if !slices.Contains(nets, p) {
				nets = append(nets, p)
			}
		}
		for id := 0; id < 3; id++ {
			m.lists = append(m.lists, list{label: string(rune('a' + id)), types: allTypes, weight: 1})
		}
		if err := m.finish(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2000; i++ {
			a := addr(r.IntN(2) == 0)
			if r.IntN(8) == 0 { // anywhere: below, above or between the lists' parts
				var b [16]byte
				for j := range b {
					b[j] = byte(r.IntN(256))
				}
				a = netip.AddrFrom16(b)
			}
			var want []string
			for _, p := range nets {
				if p.Contains(a) {
					want = append(want, p.String())
				}
			}
			var got []string
			for _, h := range m.matchIP(nil, allTypes, a, false) {
				if !slices.Contains(got, h.Entry) {
					got = append(got, h.Entry)
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("round %d: %v in %v, want %v", round, a, got, want)
			}
		}
	}
}

func TestCIDRTableEdges(t *testing.T) {
	m := newMatcher()
	m.lists = []list{{label: "x", types: allTypes, weight: 1}}
	for _, s := range []string{"255.255.255.255/32", "255.255.255.0/24", "0.0.0.0/32", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "8000::/1"} {
		m.addPrefix(0, netip.MustParsePrefix(s))
	}
	_ = m.finish()
	for a, n := range map[string]int{
		"255.255.255.255": 2, "255.255.255.254": 1, "255.255.254.255": 0, "0.0.0.0": 1, "0.0.0.1": 0,
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": 2, "8000::": 1, "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": 0, "::": 0,
	} {
		if got := len(m.matchIP(nil, allTypes, netip.MustParseAddr(a), false)); got != n {
			t.Errorf("%s: %d hits, want %d", a, got, n)
		}
	}
}
