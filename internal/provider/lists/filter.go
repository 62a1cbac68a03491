package lists

import "math/bits"

// filter is a blocked Bloom filter in front of the hash table: two bits in
// one 64-bit word per key. Most probes a look-up makes miss (the other kinds
// of entry, the parents in a suffix walk, the half of the queries that hit
// nothing), and a miss in a table of a million entries is a cache miss. The
// filter keeps 16 bits an entry (2 MB for a million), small enough to stay in
// a core's cache, so a probe it rules out costs one cached read; it lets
// through about 1 in 70 misses ((1-e^(-1/8))^2, a little more for the
// blocking), and never a hit.
type filter struct {
	words []uint64
	shift uint // 64 - log2(len(words))
}

// newFilter sizes a filter for n entries.
func newFilter(n int) filter {
	words := 16
	for words*64 < 16*n {
		words <<= 1
	}
	return filter{words: make([]uint64, words), shift: uint(64 - bits.TrailingZeros(uint(words)))}
}

// mask is the two bits of k in its word. The word comes from k's top bits,
// the bits from its middle ones and the table slot from its low ones, so the
// three are independent.
func filterMask(k uint64) uint64 {
	return 1<<(k>>24&63) | 1<<(k>>30&63)
}

func (f *filter) add(k uint64) {
	f.words[k>>f.shift] |= filterMask(k)
}

// mayHave reports false when k was surely never added. A zero filter (not
// built) says true.
func (f *filter) mayHave(k uint64) bool {
	if f.words == nil {
		return true
	}
	m := filterMask(k)
	return f.words[k>>f.shift]&m == m
}

// mix spreads a number's bits over 64 (the murmur3 finaliser). It is a
// bijection: distinct inputs give distinct outputs.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
