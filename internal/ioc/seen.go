package ioc

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"sync"
)

// Seen deduplicates IOCs within one run, exactly: two IOCs are the same
// when type and value are equal, never by hash alone. It is safe for
// concurrent use; the zero Seen is empty and ready.
//
// Extraction calls Add for every match (a million a second), so Seen is an
// open-addressing hash set over an append-only byte arena rather than a Go
// map of IOC structs: one probe sequence per Add, no allocation per value,
// and nothing in it for the garbage collector to scan.
type Seen struct {
	mu   sync.Mutex
	seed maphash.Seed
	// slots holds 0 for an empty slot, else the top seenTagBits bits of
	// the entry's hash and its arena offset plus one. An entry's home slot
	// is the top bits of its hash, so the table grows without re-hashing,
	// walking the old slots in order.
	slots []uint64
	shift uint // 64 - log2(len(slots))
	// arena holds the entries back to back: uvarint len(type), type,
	// uvarint len(value), value.
	arena []byte
	n     int
}

const (
	seenOffBits = 36 // arena offsets up to 64 GiB
	seenOffMask = 1<<seenOffBits - 1
	seenTagBits = 64 - seenOffBits
	seenMinBits = 10
)

// NewSeen returns an empty Seen.
func NewSeen() *Seen { return &Seen{} }

// Add records i and reports whether it was new.
func (s *Seen) Add(i IOC) bool {
	s.mu.Lock()
	ok := s.add(i)
	s.mu.Unlock()
	return ok
}

func (s *Seen) add(i IOC) bool {
	if s.slots == nil {
		s.seed = maphash.MakeSeed()
		s.slots = make([]uint64, 1<<seenMinBits)
		s.shift = 64 - seenMinBits
		s.arena = make([]byte, 0, 64<<10)
	}
	h := maphash.String(s.seed, i.Value) ^ bits.RotateLeft64(maphash.String(s.seed, string(i.Type)), 29)
	mask := uint64(len(s.slots) - 1)
	tag := h >> seenOffBits << seenOffBits
	for p := h >> s.shift; ; p = (p + 1) & mask {
		e := s.slots[p]
		if e == 0 {
			off := uint64(len(s.arena))
			if off >= seenOffMask {
				panic("ioc: Seen holds more than 64 GiB")
			}
			s.arena = binary.AppendUvarint(s.arena, uint64(len(i.Type)))
			s.arena = append(s.arena, i.Type...)
			s.arena = binary.AppendUvarint(s.arena, uint64(len(i.Value)))
			s.arena = append(s.arena, i.Value...)
			s.slots[p] = tag | (off + 1)
			s.n++
			if s.n*4 >= len(s.slots)*3 {
				s.grow()
			}
			return true
		}
		if e&^seenOffMask == tag && s.equal(int(e&seenOffMask)-1, i) {
			return false
		}
	}
}

// equal reports whether the entry at arena offset off is i.
func (s *Seen) equal(off int, i IOC) bool {
	a := s.arena
	n, k := binary.Uvarint(a[off:])
	off += k
	if string(a[off:off+int(n)]) != string(i.Type) {
		return false
	}
	off += int(n)
	n, k = binary.Uvarint(a[off:])
	off += k
	return string(a[off:off+int(n)]) == i.Value
}

// grow doubles the table. A slot's tag holds the top bits of its hash, so
// its new home is known without the arena.
func (s *Seen) grow() {
	if 64-s.shift >= seenTagBits {
		panic("ioc: Seen holds too many values")
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

// Len returns the number of distinct IOCs seen.
func (s *Seen) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}
