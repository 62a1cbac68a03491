package lists

import (
	"hash/maphash"
	"math/rand/v2"
)

// table holds every exact entry but IP addresses (see cidrTable) and every
// domain suffix in one open-addressed hash table (linear probing) of
// 64-bit keys, each with the ref of the list(s) it is on. A slot is 16 bytes,
// four to a cache line, so a probe is one memory read where a Go map's is
// three or four (directory, table, control word, slot); the table holds no
// pointer, so the garbage collector never scans it; and it grows by
// doubling while loading, at most 70% full.
//
// A key is a keyed 64-bit hash of the entry (see keys), never the entry
// itself, so a look-up reads no entry bytes. Two distinct values share a key
// with probability 2^-64: with a million entries, a look-up of a value on no
// list finds a false hit with probability about 10^-13. (IP addresses are
// compared whole, in the CIDR tables.)
type table struct {
	slots []slot
	mask  uint64
	n     int
	f     filter
}

type slot struct {
	k uint64 // 0: empty
	r ref
}

// keys makes the table's keys: a hash/maphash seed and a salt, chosen per
// Matcher so that nobody can aim list entries or queries at one slot.
type keys struct {
	seed   maphash.Seed
	suffix uint64
}

func newKeys() keys {
	return keys{seed: maphash.MakeSeed(), suffix: rand.Uint64()}
}

// nonZero keeps 0 free to mark an empty slot.
func nonZero(k uint64) uint64 {
	if k == 0 {
		return 0x9e3779b97f4a7c15
	}
	return k
}

// str is the key of an exact string entry.
func (ks *keys) str(s string) uint64 { return nonZero(maphash.String(ks.seed, s)) }

// suffixOf is the key of a domain-suffix entry whose string key is k, so
// that a name's exact and suffix look-ups hash it once.
func (ks *keys) suffixOf(k uint64) uint64 { return nonZero(mix(k ^ ks.suffix)) }

// get returns the ref stored under k.
func (t *table) get(k uint64) (ref, bool) {
	if t.n == 0 || !t.f.mayHave(k) {
		return 0, false
	}
	for i := k & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.k == k {
			return s.r, true
		}
		if s.k == 0 {
			return 0, false
		}
	}
}

// slot returns k's slot, inserting it (ref unset) if it is new, and whether
// it is new.
func (t *table) slot(k uint64) (*slot, bool) {
	if (t.n+1)*10 > len(t.slots)*7 {
		t.grow()
	}
	for i := k & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.k == k {
			return s, false
		}
		if s.k == 0 {
			s.k = k
			t.n++
			return s, true
		}
	}
}

func (t *table) grow() {
	old := t.slots
	size := max(2*len(old), 1024)
	t.slots, t.mask = make([]slot, size), uint64(size-1)
	for _, s := range old {
		if s.k == 0 {
			continue
		}
		i := s.k & t.mask
		for t.slots[i].k != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = s
	}
}

// buildFilter fills the Bloom filter once every key is in.
func (t *table) buildFilter() {
	t.f = newFilter(t.n)
	for _, s := range t.slots {
		if s.k != 0 {
			t.f.add(s.k)
		}
	}
}
