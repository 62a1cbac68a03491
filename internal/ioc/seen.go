package ioc

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
)

// Seen deduplicates IOCs within one run, exactly: two IOCs are the same
// when type and value are equal, never by hash alone. It is safe for
// concurrent use; the zero Seen is empty and ready. Set is the same without
// the lock, for one goroutine.
type Seen struct {
	mu  sync.Mutex
	set Set
}

// NewSeen returns an empty Seen.
func NewSeen() *Seen { return &Seen{} }

// Add records i and reports whether it was new.
func (s *Seen) Add(i IOC) bool {
	s.mu.Lock()
	ok := s.set.Add(i)
	s.mu.Unlock()
	return ok
}

// Len returns the number of distinct IOCs seen.
func (s *Seen) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.Len()
}

// Set is an exact set of IOCs for use by one goroutine (see Seen); the zero
// Set is empty and ready.
//
// Extraction adds every match to one (a million a second), so Set is an
// open-addressing hash table over an append-only byte arena rather than a
// Go map of IOC structs: one probe sequence per Add, no allocation per
// value, and nothing in it for the garbage collector to scan.
type Set struct {
	seed maphash.Seed
	// slots holds 0 for an empty slot, else the top seenTagBits bits of
	// the entry's hash and its reference plus one. An entry's home slot is
	// the top bits of its hash, so the table grows without re-hashing,
	// walking the old slots in order.
	slots []uint64
	shift uint // 64 - log2(len(slots))
	// chunks hold the entries back to back: the type's code (typeCode),
	// then uvarint len(value) and value. A reference is the chunk's index
	// shifted by seenChunkBits, plus the offset in it. Chunks are never
	// copied; an entry larger than seenChunk has a chunk of its own.
	chunks [][]byte
	n      int
	last   IOC    // the IOC last added: text often names one twice in a row
	sink   uint64 // AddAll's early loads land here, so that they are kept
}

const (
	seenOffBits   = 36 // references: 2^16 chunks of up to 1 MiB
	seenOffMask   = 1<<seenOffBits - 1
	seenTagBits   = 64 - seenOffBits
	seenMinBits   = 10
	seenChunkBits = 20
	seenChunk     = 1 << seenChunkBits
)

// Add records i and reports whether it was new.
func (s *Set) Add(i IOC) bool {
	if i == s.last && s.n > 0 {
		return false
	}
	s.last = i
	if s.slots == nil {
		s.init()
	}
	return s.addHashed(i, s.hash(i))
}

// hash returns i's hash under s's seed. The type is mixed in by its length
// and end bytes, which tell the known types apart, rather than hashed: a
// collision between types costs a probe, never a wrong answer (equal
// compares the type exactly).
func (s *Set) hash(i IOC) uint64 {
	h := maphash.String(s.seed, i.Value)
	if t := i.Type; t != "" {
		h ^= (uint64(len(t))<<16 | uint64(t[0])<<8 | uint64(t[len(t)-1])) * 0x9e3779b97f4a7c15
	}
	return h
}

// AddAll adds vals in order, as Add would one by one, and sets isNew[k]
// to whether vals[k] was new; isNew must be at least as long as vals.
//
// On a large set every Add waits for a cache miss on its slot and, for a
// value seen before, another on the stored copy it compares with. AddAll
// takes the values a group at a time: it first loads each one's home slot,
// then the stored copy of every entry whose tag matches, and only then adds
// them. The loads of a group do not depend on each other, so the processor
// overlaps their misses rather than waiting for one after another.
func (s *Set) AddAll(vals []IOC, isNew []bool) {
	if s.slots == nil {
		s.init()
	}
	const group = 32
	var hs [group]uint64
	isNew = isNew[:len(vals)]
	for len(vals) > 0 {
		n := min(len(vals), group)
		for k, v := range vals[:n] {
			hs[k] = s.hash(v)
		}
		// A loop of loads alone, so that the processor's window holds
		// them all at once.
		var sink uint64
		for _, h := range hs[:n] {
			sink += s.slots[h>>s.shift]
		}
		mask := uint64(len(s.slots) - 1)
		for _, h := range hs[:n] {
			tag := h >> seenOffBits << seenOffBits
			for p := h >> s.shift; ; p = (p + 1) & mask {
				e := s.slots[p]
				if e == 0 {
					break
				}
				if e&^seenOffMask == tag {
					ref := e&seenOffMask - 1
					sink += uint64(s.chunks[ref>>seenChunkBits][ref&(seenChunk-1)])
					break
				}
			}
		}
		s.sink = sink
		for k, v := range vals[:n] {
			if v == s.last && s.n > 0 {
				isNew[k] = false
				continue
			}
			s.last = v
			isNew[k] = s.addHashed(v, hs[k])
		}
		vals, isNew = vals[n:], isNew[n:]
	}
}

// Grow makes room for about n more values without the table growing, as a
// hint: a caller that expects many values saves the work of growing to
// them one doubling at a time.
func (s *Set) Grow(n int) {
	if s.slots == nil {
		s.init()
	}
	if s.n == 0 {
		// Nothing to move: make the table at its size at once.
		bits := uint(seenMinBits)
		for n*4 >= 3<<bits && bits < seenTagBits-1 {
			bits++
		}
		if 1<<bits > len(s.slots) {
			s.slots = make([]uint64, 1<<bits)
			s.shift = 64 - bits
		}
		return
	}
	for (s.n+n)*4 >= len(s.slots)*3 && 64-s.shift < seenTagBits {
		s.grow()
	}
}

// init makes the empty table and picks the hash seed.
func (s *Set) init() {
	s.seed = maphash.MakeSeed()
	s.slots = make([]uint64, 1<<seenMinBits)
	s.shift = 64 - seenMinBits
}

// Has reports whether i was added, without adding it.
func (s *Set) Has(i IOC) bool {
	if s.n == 0 {
		return false
	}
	_, found := s.find(i, s.hash(i))
	return found
}

// addHashed is Add for i, whose hash is h.
func (s *Set) addHashed(i IOC, h uint64) bool {
	p, found := s.find(i, h)
	if found {
		return false
	}
	s.slots[p] = h>>seenOffBits<<seenOffBits | (s.store(i) + 1)
	s.n++
	if s.n*4 >= len(s.slots)*3 {
		s.grow()
	}
	return true
}

// find probes for i, whose hash is h: it returns i's slot and true, or the
// empty slot that ends the probe, where i belongs, and false.
func (s *Set) find(i IOC, h uint64) (uint64, bool) {
	mask := uint64(len(s.slots) - 1)
	tag := h >> seenOffBits << seenOffBits
	for p := h >> s.shift; ; p = (p + 1) & mask {
		e := s.slots[p]
		if e == 0 {
			return p, false
		}
		if e&^seenOffMask == tag && s.equal(e&seenOffMask-1, i) {
			return p, true
		}
	}
}

// typeCode numbers the known types from 1 in an entry's first byte; 0
// means the type's name follows, as uvarint length and bytes.
func typeCode(t Type) byte {
	switch t {
	case IPv4:
		return 1
	case IPv6:
		return 2
	case Domain:
		return 3
	case URL:
		return 4
	case Email:
		return 5
	case MD5:
		return 6
	case SHA1:
		return 7
	case SHA256:
		return 8
	case SHA512:
		return 9
	case CVE:
		return 10
	case ASN:
		return 11
	case BTC:
		return 12
	}
	return 0
}

// store appends i to the last chunk, or to a new one, and returns its
// reference.
func (s *Set) store(i IOC) uint64 {
	need := 1 + 2*binary.MaxVarintLen64 + len(i.Type) + len(i.Value)
	k := len(s.chunks) - 1
	if k < 0 || len(s.chunks[k])+need > cap(s.chunks[k]) || len(s.chunks[k]) >= seenChunk {
		if len(s.chunks) == seenOffMask>>seenChunkBits {
			panic("ioc: Set holds more than 64 GiB")
		}
		s.chunks = append(s.chunks, make([]byte, 0, max(seenChunk, need)))
		k++
	}
	c := s.chunks[k]
	ref := uint64(k)<<seenChunkBits | uint64(len(c))
	code := typeCode(i.Type)
	c = append(c, code)
	if code == 0 {
		c = binary.AppendUvarint(c, uint64(len(i.Type)))
		c = append(c, i.Type...)
	}
	c = binary.AppendUvarint(c, uint64(len(i.Value)))
	s.chunks[k] = append(c, i.Value...)
	return ref
}

// equal reports whether the entry with reference ref is i.
func (s *Set) equal(ref uint64, i IOC) bool {
	a := s.chunks[ref>>seenChunkBits]
	off := int(ref & (seenChunk - 1))
	code := a[off]
	off++
	if code != typeCode(i.Type) {
		return false
	}
	if code == 0 {
		n, k := binary.Uvarint(a[off:])
		off += k
		if string(a[off:off+int(n)]) != string(i.Type) {
			return false
		}
		off += int(n)
	}
	n, k := binary.Uvarint(a[off:])
	off += k
	return string(a[off:off+int(n)]) == i.Value
}

// grow doubles the table. A slot's tag holds the top bits of its hash, so
// its new home is known without the arena.
func (s *Set) grow() {
	if 64-s.shift >= seenTagBits {
		panic("ioc: Set holds too many values")
	}
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	s.shift--
	mask := uint64(len(s.slots) - 1)
	// Start after an empty old slot, so that no cluster that wrapped
	// around the end is split.
	start := 0
	for old[start] != 0 {
		start++
	}
	for k := range old {
		e := old[(start+k)&(len(old)-1)]
		if e == 0 {
			continue
		}
		p := e >> s.shift
		for s.slots[p] != 0 {
			p = (p + 1) & mask
		}
		s.slots[p] = e
	}
}

// Len returns the number of distinct IOCs added.
func (s *Set) Len() int { return s.n }
