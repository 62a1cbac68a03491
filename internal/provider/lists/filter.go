package lists

import "math/bits"

// filter is a one-hash Bloom filter in front of a large map. Most map probes
// a look-up makes miss (the other kinds of entry, the parents in a suffix
// walk, the half of the queries that hit nothing), and a miss in a map of a
// million entries is a cache miss, ~100 ns. The filter keeps 16 bits an entry
// (2 MB for a million), small enough to stay in cache, so a probe it rules out
// costs a few ns; it lets through about 1 in 16 misses (1-e^(-1/16)), and
// never a hit.
type filter struct {
	words []uint64
	shift uint // 64 - log2(len(words)*64)
}

// newFilter sizes a filter for n entries.
func newFilter(n int) filter {
	size := 1 << 10 // bits
	for size < 16*n {
		size <<= 1
	}
	return filter{words: make([]uint64, size/64), shift: uint(64 - bits.TrailingZeros(uint(size)))}
}

func (f *filter) add(h uint64) {
	i := h >> f.shift
	f.words[i>>6] |= 1 << (i & 63)
}

// mayHave reports false when h was surely never added. A zero filter (not
// built) says true.
func (f *filter) mayHave(h uint64) bool {
	if f.words == nil {
		return true
	}
	i := h >> f.shift
	return f.words[i>>6]&(1<<(i&63)) != 0
}

// mix spreads a number's bits over 64 (the murmur3 finaliser).
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func (k key128) filterHash() uint64 { return k.b }

func (a u128) filterHash() uint64 { return mix(a.hi ^ mix(a.lo)) }

func ip4Hash(x uint32) uint64 { return mix(uint64(x)) }
