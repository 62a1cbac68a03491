package notify

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// dedupe is the set of alerts a channel has notified (or holds for a
// digest): this process's (localDedupe, the default) or the fleet's, in
// Redis (redisDedupe). It is safe for concurrent use.
type dedupe interface {
	// claim adds key at now and reports whether it was absent: the caller
	// notifies the alert.
	claim(ctx context.Context, key string, now time.Time) bool
	// forget removes key after a send failed at now, so that a retry
	// notifies.
	forget(ctx context.Context, key string, now time.Time)
	// restored claims key in this process only and reports whether it was
	// absent here: an alert a previous process held for a digest, which
	// the fleet already counts as notified.
	restored(key string, now time.Time) bool
}

// localDedupe is the dedupe of a process alone: a seen LRU under a mutex.
type localDedupe struct {
	mu sync.Mutex
	s  *seen
}

var _ dedupe = (*localDedupe)(nil)

func newLocalDedupe(max int, ttl time.Duration) *localDedupe {
	return &localDedupe{s: newSeen(max, ttl)}
}

func (d *localDedupe) claim(_ context.Context, key string, now time.Time) bool {
	return d.restored(key, now)
}

func (d *localDedupe) restored(key string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.s.has(key, now) {
		return false
	}
	d.s.add(key, now)
	return true
}

func (d *localDedupe) forget(_ context.Context, key string, _ time.Time) {
	d.mu.Lock()
	d.s.remove(key)
	d.mu.Unlock()
}

// mark adds key at now, present or not.
func (d *localDedupe) mark(key string, now time.Time) {
	d.mu.Lock()
	d.s.add(key, now)
	d.mu.Unlock()
}

// drop removes key and reports whether it was there.
func (d *localDedupe) drop(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.s.m[key]
	d.s.remove(key)
	return ok
}

// seen is a bounded LRU of alert keys with a TTL: the alerts a channel has
// notified (or holds for a digest). It is not safe for concurrent use;
// localDedupe's mutex guards it.
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
