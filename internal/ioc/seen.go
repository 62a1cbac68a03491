package ioc

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
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
	// chunks hold the entries back to back: uvarint len(type), type,
	// uvarint len(value), value. A reference is the chunk's index shifted
	// by seenChunkBits, plus the offset in it. Chunks are never copied;
	// an entry larger than seenChunk has a chunk of its own.
	chunks [][]byte
	n      int
	last   IOC // the IOC last added: text often names one twice in a row
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
		s.seed = maphash.MakeSeed()
		s.slots = make([]uint64, 1<<seenMinBits)
		s.shift = 64 - seenMinBits
	}
	h := maphash.String(s.seed, i.Value) ^ bits.RotateLeft64(maphash.String(s.seed, string(i.Type)), 29)
	mask := uint64(len(s.slots) - 1)
	tag := h >> seenOffBits << seenOffBits
	for p := h >> s.shift; ; p = (p + 1) & mask {
		e := s.slots[p]
		if e == 0 {
			s.slots[p] = tag | (s.store(i) + 1)
			s.n++
			if s.n*4 >= len(s.slots)*3 {
				s.grow()
			}
			return true
		}
		if e&^seenOffMask == tag && s.equal(e&seenOffMask-1, i) {
			return false
		}
	}
}

// store appends i to the last chunk, or to a new one, and returns its
// reference.
func (s *Set) store(i IOC) uint64 {
	need := 2*binary.MaxVarintLen64 + len(i.Type) + len(i.Value)
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
	c = binary.AppendUvarint(c, uint64(len(i.Type)))
	c = append(c, i.Type...)
	c = binary.AppendUvarint(c, uint64(len(i.Value)))
	s.chunks[k] = append(c, i.Value...)
	return ref
}

// equal reports whether the entry with reference ref is i.
func (s *Set) equal(ref uint64, i IOC) bool {
	a := s.chunks[ref>>seenChunkBits]
	off := int(ref & (seenChunk - 1))
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
