package lists

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"
)

// cidrTable finds every network that contains an address, and the address
// itself when it is an exact entry, with one search. Exact addresses are
// kept as single-address networks marked exact, so an IP look-up reads one
// structure. Networks (CIDR prefixes) are laminar: two are either nested or
// disjoint (or equal: an exact entry and a /32 network entry).
// So the address space splits into sorted elementary intervals, each covered
// by the same networks, and each interval stores only the innermost of them;
// every network stores its parent (the next enclosing one). A look-up finds
// the interval that holds the address, then walks up the parent chain, one
// step per matching network.
//
// The search reads few cache lines. An interval's start and its innermost
// network sit side by side (iv4, iv6). For IPv4, bucket16 jumps straight to
// the intervals of the address's /16 (usually one line of them). IPv6 lists
// crowd into a few parts of the space (2000::/3, fc00::/7), so bucket6 does
// the same with the 16 bits that follow the prefix all the starts share.
//
// Memory: per network or address 32 bytes (no pointer: the garbage
// collector skips them); per interval (at most two per network) 8 bytes for
// IPv4, 24 for IPv6.
type cidrTable struct {
	v4  bool // an IPv4 table
	iv4 []ival4
	// bucket16[b] is the first interval whose start's top 16 bits are >= b.
	bucket16 []uint32
	iv6      []ival6
	// Every start but the first (0) begins with the top shift6 bits of
	// pre6; bucket6[b] is the first of them whose next 16 bits are >= b.
	shift6  uint
	pre6    u128
	bucket6 []uint32
	nets    []cidrNet

	building map[netKey]ref
}

type netKey struct {
	p     netip.Prefix
	exact bool
}

// ival4 and ival6 are an interval: its first address and its innermost
// network (an index into nets, -1 for none).
type ival4 struct {
	start uint32
	inner int32
}

type ival6 struct {
	start u128
	inner int32
}

// cidrNet is one network (or exact address) with the next one enclosing it
// (-1 for none) and the list(s) it is on.
type cidrNet struct {
	first  u128 // its first address
	parent int32
	ref    ref
	bits   uint8 // its prefix length
	exact  bool  // an exact address entry, not a network
}

// addr is c's first address.
func (t *cidrTable) addr(c *cidrNet) netip.Addr {
	if t.v4 {
		x := c.first.lo32()
		return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], c.first.hi)
	binary.BigEndian.PutUint64(b[8:], c.first.lo)
	return netip.AddrFrom16(b)
}

// u128 is an address as a 128-bit number (IPv4 in the low 32 bits).
type u128 struct{ hi, lo uint64 }

func (a u128) lo32() uint32 { return uint32(a.lo) }

func (a u128) less(b u128) bool { return a.lessBit(b) != 0 }

func (a u128) xor(b u128) u128 { return u128{a.hi ^ b.hi, a.lo ^ b.lo} }

func (a u128) leadingZeros() int {
	if a.hi != 0 {
		return bits.LeadingZeros64(a.hi)
	}
	return 64 + bits.LeadingZeros64(a.lo)
}

// shl and shr shift a by n < 128 bits.
func (a u128) shl(n uint) u128 {
	if n >= 64 {
		return u128{a.lo << (n - 64), 0}
	}
	return u128{a.hi<<n | a.lo>>(64-n), a.lo << n}
}

func (a u128) shr(n uint) u128 {
	if n >= 64 {
		return u128{0, a.hi >> (n - 64)}
	}
	return u128{a.hi >> n, a.lo>>n | a.hi<<(64-n)}
}

// top is a's top n bits (n <= 128), as a number.
func (a u128) top(n uint) u128 {
	if n == 0 {
		return u128{}
	}
	return a.shr(128 - n)
}

// lessBit is 1 when a < b, else 0, without a branch: the borrow of a - b.
func (a u128) lessBit(b u128) uint64 {
	_, borrow := bits.Sub64(a.lo, b.lo, 0)
	_, borrow = bits.Sub64(a.hi, b.hi, borrow)
	return borrow
}

func (a u128) plusOne() u128 {
	a.lo++
	if a.lo == 0 {
		a.hi++
	}
	return a
}

func toU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// rangeOf is the first and last address of p (masked), as numbers.
func rangeOf(p netip.Prefix) (first, last u128) {
	first = toU128(p.Addr())
	host := p.Addr().BitLen() - p.Bits()
	switch {
	case host >= 128:
		return first, u128{^uint64(0), ^uint64(0)}
	case host >= 64:
		return first, u128{first.hi | (1<<(host-64) - 1), ^uint64(0)}
	default:
		return first, u128{first.hi, first.lo | (1<<host - 1)}
	}
}

// put records that p (an exact address when exact) is on list id (m keeps
// the multi-list refs).
func (t *cidrTable) put(m *Matcher, p netip.Prefix, exact bool, id uint16) bool {
	if t.building == nil {
		t.building = map[netKey]ref{}
	}
	k := netKey{p, exact}
	r, ok := t.building[k]
	added := m.addRef(&r, !ok, id)
	t.building[k] = r
	return added
}

// build turns the collected networks into the interval table. max is the
// last address of the family's space.
func (t *cidrTable) build(max u128) {
	nets := make([]netKey, 0, len(t.building))
	for k := range t.building {
		nets = append(nets, k)
	}
	// By first address, then wider first, so a parent precedes its
	// children; an exact address after the equal /32 (or /128) network, so
	// that it is the innermost and its hit comes first.
	slices.SortFunc(nets, func(a, b netKey) int {
		if c := a.p.Addr().Compare(b.p.Addr()); c != 0 {
			return c
		}
		if c := a.p.Bits() - b.p.Bits(); c != 0 {
			return c
		}
		if a.exact == b.exact {
			return 0
		}
		if b.exact {
			return -1
		}
		return 1
	})
	t.v4 = max.hi == 0 && max.lo <= 1<<32-1
	t.nets = make([]cidrNet, len(nets))
	for i, k := range nets {
		t.nets[i] = cidrNet{first: toU128(k.p.Addr()), bits: uint8(k.p.Bits()), exact: k.exact, ref: t.building[k]}
	}
	t.building = nil
	starts, inner := []u128{{}}, []int32{-1}
	emit := func(start u128, in int32) {
		n := len(starts) - 1
		if starts[n] == start {
			inner[n] = in
			return
		}
		if inner[n] == in {
			return
		}
		starts, inner = append(starts, start), append(inner, in)
	}
	top := func(stack []int32) int32 {
		if len(stack) == 0 {
			return -1
		}
		return stack[len(stack)-1]
	}
	var stack []int32
	lasts := make([]u128, len(nets))
	for i, k := range nets {
		first, last := rangeOf(k.p)
		lasts[i] = last
		for len(stack) > 0 && lasts[top(stack)].less(first) {
			end := lasts[top(stack)]
			stack = stack[:len(stack)-1]
			emit(end.plusOne(), top(stack))
		}
		t.nets[i].parent = top(stack)
		emit(first, int32(i))
		stack = append(stack, int32(i))
	}
	for len(stack) > 0 {
		end := lasts[top(stack)]
		stack = stack[:len(stack)-1]
		if end != max {
			emit(end.plusOne(), top(stack))
		}
	}
	if t.v4 {
		t.iv4 = make([]ival4, len(starts))
		for i, s := range starts {
			t.iv4[i] = ival4{s.lo32(), inner[i]}
		}
		t.bucket16 = make([]uint32, 1<<16+1)
		i := 0
		for b := range t.bucket16 {
			for i < len(t.iv4) && int(t.iv4[i].start>>16) < b {
				i++
			}
			t.bucket16[b] = uint32(i)
		}
		return
	}
	t.iv6 = make([]ival6, len(starts))
	for i, s := range starts {
		t.iv6[i] = ival6{s, inner[i]}
	}
	if len(starts) > 1 {
		d := starts[1].xor(starts[len(starts)-1])
		t.shift6 = uint(min(d.leadingZeros(), 112))
		t.pre6 = starts[1].top(t.shift6)
	}
	t.bucket6 = make([]uint32, 1<<16+1)
	i := 1
	for b := range t.bucket6 {
		for i < len(starts) && int(t.window6(starts[i])) < b {
			i++
		}
		t.bucket6[b] = uint32(i)
	}
}

// lookup4 returns the innermost network containing IPv4 address x, or -1.
// Its searches are branch-free (a step adds half or nothing, by arithmetic):
// a branch on random addresses would be mispredicted every other step.
func (t *cidrTable) lookup4(x uint32) int32 {
	if len(t.nets) == 0 {
		return -1
	}
	// The interval before the /16's first one (or 0), whose start is <= x,
	// up to the next /16's first one, whose start is > x.
	base, n := int(t.bucket16[x>>16]), int(t.bucket16[x>>16+1])
	base = max(base-1, 0)
	n -= base
	for n > 1 { // the answer is in [base, base+n)
		half := n >> 1
		// 1 when start <= x: start - x - 1 is then negative.
		le := (uint64(t.iv4[base+half].start) - uint64(x) - 1) >> 63
		base += half * int(le)
		n -= half
	}
	return t.iv4[base].inner
}

// lookup6 returns the innermost network containing IPv6 address x, or -1.
func (t *cidrTable) lookup6(x u128) int32 {
	if len(t.nets) == 0 {
		return -1
	}
	switch p := x.top(t.shift6); {
	case p.less(t.pre6): // below every start but 0
		return t.iv6[0].inner
	case t.pre6.less(p): // above every start
		return t.iv6[len(t.iv6)-1].inner
	}
	w := t.window6(x)
	base, n := int(t.bucket6[w])-1, int(t.bucket6[w+1])
	n -= base
	for n > 1 {
		half := n >> 1
		base += half * int(1-x.lessBit(t.iv6[base+half].start))
		n -= half
	}
	return t.iv6[base].inner
}

// window6 is the 16 bits of x after the top shift6.
func (t *cidrTable) window6(x u128) uint32 { return uint32(x.shl(t.shift6).hi >> 48) }
