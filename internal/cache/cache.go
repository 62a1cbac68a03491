// Package cache keeps provider answers so that no quota is spent twice. A
// Cache maps provider × IOC type × value to the Finding the provider gave,
// with an expiry chosen per provider and per outcome (a not-found answer
// expires sooner than a found one). Only ok and not_found answers are
// cached: an error, a skip or a rate limit is never a reason not to ask again.
//
// Layered puts a bounded in-memory cache (otter) in front of a persistent one
// (the SQLite store; Redis when scaled out), so a hot IOC costs no I/O.
package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

// Key names one cached answer.
type Key struct {
	Provider string
	IOC      ioc.IOC
}

// Entry is a cached answer.
type Entry struct {
	Finding   provider.Finding
	StoredAt  time.Time
	ExpiresAt time.Time
}

// Cache stores answers. Get returns ok=false for a missing or expired entry.
type Cache interface {
	Get(ctx context.Context, k Key) (e Entry, ok bool, err error)
	Put(ctx context.Context, k Key, e Entry) error
}

// Cacheable reports whether an answer should be kept.
func Cacheable(f provider.Finding) bool {
	return f.Status == provider.StatusOK || f.Status == provider.StatusNotFound
}

// record is the stored form of a Finding: unlike its JSON output form, it
// keeps the signals.
type record struct {
	Status    provider.Status `json:"status"`
	Reason    string          `json:"reason,omitempty"`
	Malicious float64         `json:"malicious,omitempty"`
	Benign    float64         `json:"benign,omitempty"`
	Summary   string          `json:"summary,omitempty"`
	Link      string          `json:"link,omitempty"`
	Data      map[string]any  `json:"data,omitempty"`
	Tags      []string        `json:"tags,omitempty"`
	LatencyNS int64           `json:"latency_ns,omitempty"`
}

// Encode serialises a Finding for a persistent cache (the raw body is not kept).
func Encode(f provider.Finding) ([]byte, error) {
	return json.Marshal(record{f.Status, f.Reason, f.Malicious, f.Benign, f.Summary, f.Link, f.Data, f.Tags, int64(f.Latency)})
}

// Decode is the inverse of Encode.
func Decode(name string, b []byte) (provider.Finding, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return provider.Finding{}, fmt.Errorf("cache: corrupt entry for %s: %w", name, err)
	}
	return provider.Finding{Provider: name, Status: r.Status, Reason: r.Reason, Malicious: r.Malicious, Benign: r.Benign,
		Summary: r.Summary, Link: r.Link, Data: r.Data, Tags: r.Tags, Latency: time.Duration(r.LatencyNS)}, nil
}

// Memory is a bounded in-process cache.
type Memory struct {
	c   *otter.Cache[Key, Entry]
	now func() time.Time
}

// NewMemory returns a Memory holding at most max entries.
func NewMemory(max int) *Memory {
	m := &Memory{now: time.Now}
	m.c = otter.Must(&otter.Options[Key, Entry]{
		MaximumSize: max,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[Key, Entry]) time.Duration {
			return max1(e.Value.ExpiresAt.Sub(m.now()))
		}),
	})
	return m
}

func max1(d time.Duration) time.Duration {
	if d < time.Nanosecond {
		return time.Nanosecond
	}
	return d
}

// Get returns a live entry.
func (m *Memory) Get(_ context.Context, k Key) (Entry, bool, error) {
	e, ok := m.c.GetIfPresent(k)
	if !ok || !m.now().Before(e.ExpiresAt) {
		return Entry{}, false, nil
	}
	return e, true, nil
}

// Put stores an entry.
func (m *Memory) Put(_ context.Context, k Key, e Entry) error {
	m.c.Set(k, e)
	return nil
}

// Purge drops the entries of provider (every provider when ""), only
// those stored longer than olderThan ago when it is positive, as the
// store's purge does, so that a purge is not undone by this layer.
func (m *Memory) Purge(provider string, olderThan time.Duration) {
	if provider == "" && olderThan <= 0 {
		m.c.InvalidateAll()
		return
	}
	cut := m.now().Add(-olderThan)
	for k, e := range m.c.All() {
		if (provider == "" || k.Provider == provider) && (olderThan <= 0 || e.StoredAt.Before(cut)) {
			m.c.Invalidate(k)
		}
	}
}

// Layered reads Front first, then Back (filling Front on a Back hit), and
// writes both.
type Layered struct {
	Front, Back Cache
}

// Get returns the entry from the nearest layer that has it.
func (l Layered) Get(ctx context.Context, k Key) (Entry, bool, error) {
	if e, ok, err := l.Front.Get(ctx, k); err == nil && ok {
		return e, true, nil
	}
	e, ok, err := l.Back.Get(ctx, k)
	if err != nil || !ok {
		return Entry{}, false, err
	}
	_ = l.Front.Put(ctx, k, e)
	return e, true, nil
}

// Put writes through to both layers.
func (l Layered) Put(ctx context.Context, k Key, e Entry) error {
	_ = l.Front.Put(ctx, k, e)
	return l.Back.Put(ctx, k, e)
}
