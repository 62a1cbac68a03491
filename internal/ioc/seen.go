package ioc

import "sync"

// Seen deduplicates IOCs within one run. It is safe for concurrent use.
type Seen struct {
	mu sync.Mutex
	m  map[IOC]struct{}
}

// NewSeen returns an empty Seen.
func NewSeen() *Seen { return &Seen{m: make(map[IOC]struct{})} }

// Add records i and reports whether it was new.
func (s *Seen) Add(i IOC) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[IOC]struct{})
	}
	if _, ok := s.m[i]; ok {
		return false
	}
	s.m[i] = struct{}{}
	return true
}

// Len returns the number of distinct IOCs seen.
func (s *Seen) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
