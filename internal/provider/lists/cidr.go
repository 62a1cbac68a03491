package lists

import (
	"encoding/binary"
	"net/netip"
	"slices"
)

// cidrTable finds every network that contains an address with one binary
// search. Networks (CIDR prefixes) are laminar: two are either nested or
// disjoint. So the address space splits into sorted elementary intervals,
// each covered by the same networks, and each interval stores only the
// innermost of them; every network stores its parent (the next enclosing
// one). A look-up is a binary search over interval starts, then a walk up
// the parent chain, one step per matching network.
//
// Memory: per network a prefix, a parent and a ref (about 36 bytes); per
// interval (at most two per network) a 16-byte start and a 4-byte index.
type cidrTable struct {
	starts   []u128   // interval starts, ascending; starts[0] is 0
	starts32 []uint32 // the same as 32-bit numbers, for IPv4 (half the cache lines)
	// bucket16[b] is the first interval whose start's top 16 bits are >= b
	// (IPv4 only): it narrows the binary search to the few intervals of
	// one /16, one or two cache misses instead of a dozen.
	bucket16 []uint32
	inner    []int32 // innermost network of each interval, -1 for none
	nets     []netip.Prefix
	parent   []int32
	refs     []ref

	building map[netip.Prefix]ref
}

// u128 is an address as a 128-bit number (IPv4 in the low 32 bits).
type u128 struct{ hi, lo uint64 }

func (a u128) lo32() uint32 { return uint32(a.lo) }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

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

// put records that p is on list id (m shares the multi-list table).
func (t *cidrTable) put(m *Matcher, p netip.Prefix, id uint16) bool {
	if t.building == nil {
		t.building = map[netip.Prefix]ref{}
	}
	return put(m, t.building, p, id)
}

// build turns the collected networks into the interval table. max is the
// last address of the family's space.
func (t *cidrTable) build(max u128) {
	t.nets = make([]netip.Prefix, 0, len(t.building))
	for p := range t.building {
		t.nets = append(t.nets, p)
	}
	// By first address, then wider first, so a parent precedes its children.
	slices.SortFunc(t.nets, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	t.refs = make([]ref, len(t.nets))
	t.parent = make([]int32, len(t.nets))
	for i, p := range t.nets {
		t.refs[i] = t.building[p]
	}
	t.building = nil
	t.starts, t.inner = []u128{{}}, []int32{-1}
	emit := func(start u128, inner int32) {
		n := len(t.starts) - 1
		if t.starts[n] == start {
			t.inner[n] = inner
			return
		}
		if t.inner[n] == inner {
			return
		}
		t.starts, t.inner = append(t.starts, start), append(t.inner, inner)
	}
	top := func(stack []int32) int32 {
		if len(stack) == 0 {
			return -1
		}
		return stack[len(stack)-1]
	}
	var stack []int32
	lasts := make([]u128, len(t.nets))
	for i, p := range t.nets {
		first, last := rangeOf(p)
		lasts[i] = last
		for len(stack) > 0 && lasts[top(stack)].less(first) {
			end := lasts[top(stack)]
			stack = stack[:len(stack)-1]
			emit(end.plusOne(), top(stack))
		}
		t.parent[i] = top(stack)
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
	t.starts, t.inner = slices.Clip(t.starts), slices.Clip(t.inner)
	if max.hi == 0 && max.lo <= 1<<32-1 {
		t.starts32 = make([]uint32, len(t.starts))
		for i, s := range t.starts {
			t.starts32[i] = s.lo32()
		}
		t.starts = nil
		t.bucket16 = make([]uint32, 1<<16+1)
		i := 0
		for b := range t.bucket16 {
			for i < len(t.starts32) && int(t.starts32[i]>>16) < b {
				i++
			}
			t.bucket16[b] = uint32(i)
		}
	}
}

// lookup returns the innermost network containing a, or -1.
func (t *cidrTable) lookup(a netip.Addr) int32 {
	if len(t.nets) == 0 {
		return -1
	}
	x := toU128(a)
	if t.starts32 != nil {
		x := x.lo32()
		// starts32[lo] <= x < starts32[hi]: the interval before the /16's
		// first one (or 0), up to the next /16's first one.
		lo, hi := int(t.bucket16[x>>16]), int(t.bucket16[x>>16+1])
		lo = max(lo-1, 0)
		for hi-lo > 1 {
			mid := int(uint(lo+hi) >> 1)
			if x < t.starts32[mid] {
				hi = mid
			} else {
				lo = mid
			}
		}
		return t.inner[lo]
	}
	// Largest i with starts[i] <= x; starts[0] is 0, so i >= 0.
	lo, hi := 0, len(t.starts)
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		if x.less(t.starts[mid]) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return t.inner[lo]
}
