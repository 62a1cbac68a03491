package notify

import (
	"container/list"
	"time"
)

// seen is a bounded LRU of alert keys with a TTL: the alerts a channel has
// notified (or holds for a digest). It is not safe for concurrent use; the
// notifier's mutex guards it.
type seen struct {
	max int
	ttl time.Duration
	ll  *list.List // front = most recent; values are *seenEntry
	m   map[string]*list.Element
}

type seenEntry struct {
	key string
	at  time.Time
}

func newSeen(max int, ttl time.Duration) *seen {
	return &seen{max: max, ttl: ttl, ll: list.New(), m: make(map[string]*list.Element)}
}

// has reports whether key was added less than ttl before now.
func (s *seen) has(key string, now time.Time) bool {
	el, ok := s.m[key]
	if !ok {
		return false
	}
	if now.Sub(el.Value.(*seenEntry).at) >= s.ttl {
		s.ll.Remove(el)
		delete(s.m, key)
		return false
	}
	s.ll.MoveToFront(el)
	return true
}

// add remembers key from now, evicting the least recently used keys over
// the bound.
func (s *seen) add(key string, now time.Time) {
	if el, ok := s.m[key]; ok {
		el.Value.(*seenEntry).at = now
		s.ll.MoveToFront(el)
		return
	}
	s.m[key] = s.ll.PushFront(&seenEntry{key: key, at: now})
	for s.ll.Len() > s.max {
		old := s.ll.Back()
		s.ll.Remove(old)
		delete(s.m, old.Value.(*seenEntry).key)
	}
}

// remove forgets key (a send that failed, so a retry may try again).
func (s *seen) remove(key string) {
	if el, ok := s.m[key]; ok {
		s.ll.Remove(el)
		delete(s.m, key)
	}
}

func (s *seen) len() int { return s.ll.Len() }
