package ioc

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// TestInternalIPv4FastPath checks Internal's quick answer for IPv4 against
// the prefix table, over random addresses and every first octet.
func TestInternalIPv4FastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for k := 0; k < 200_000; k++ {
		a := netip.AddrFrom4([4]byte{byte(k % 256), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		gotOK, gotWhy := Internal(IOC{IPv4, a.String()})
		wantOK, wantWhy := addrInternal(a)
		if gotOK != wantOK || gotWhy != wantWhy {
			t.Fatalf("Internal(%s) = %v, %q; want %v, %q", a, gotOK, gotWhy, wantOK, wantWhy)
		}
	}
	for _, s := range []string{"1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "1.2.3.4 ", "1.2.3.1234"} {
		if _, ok := ipv4Octets(s); ok {
			t.Errorf("ipv4Octets(%q) accepted", s)
		}
	}
}

// TestBuiltinTLD checks the quick filter knows the last label of every
// built-in internal and reserved name, in any case.
func TestBuiltinTLD(t *testing.T) {
	for _, s := range append(append([]string{}, internalTLDs...), reservedNames...) {
		l := s[strings.LastIndexByte(s, '.')+1:]
		if !builtinTLD(l) || !builtinTLD(strings.ToUpper(l)) {
			t.Errorf("builtinTLD(%q) = false; Internal would miss %q", l, s)
		}
	}
	if ok, why := Internal(IOC{Domain, "DC.Corp."}); !ok || why != "internal domain" {
		t.Errorf("Internal(DC.Corp.) = %v, %q", ok, why)
	}
}
