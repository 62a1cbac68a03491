package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Period is a calendar quota window in UTC.
type Period int

// The quota windows. Each starts at a calendar boundary in UTC, as
// VirusTotal documents: hourly on the hour, daily at 00:00 UTC, monthly on
// the 1st at 00:00 UTC.
const (
	Hour Period = iota + 1
	Day
	Month
)

// String returns the unit ParseQuota reads: "h", "d" or "mo".
func (p Period) String() string {
	switch p {
	case Hour:
		return "h"
	case Day:
		return "d"
	case Month:
		return "mo"
	}
	return "period(" + strconv.Itoa(int(p)) + ")"
}

// Adjective returns "hourly", "daily" or "monthly", for messages and tables.
func (p Period) Adjective() string {
	switch p {
	case Hour:
		return "hourly"
	case Day:
		return "daily"
	case Month:
		return "monthly"
	}
	return p.String()
}

// Start returns the start of the window holding t.
func (p Period) Start(t time.Time) time.Time {
	t = t.UTC()
	switch p {
	case Hour:
		return t.Truncate(time.Hour)
	case Day:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// End returns the start of the window after the one holding t: the moment
// the count resets.
func (p Period) End(t time.Time) time.Time {
	s := p.Start(t)
	switch p {
	case Hour:
		return s.Add(time.Hour)
	case Day:
		return s.AddDate(0, 0, 1)
	case Month:
		return s.AddDate(0, 1, 0)
	}
	return s
}

func (p Period) stamp(t time.Time) string {
	s := p.Start(t)
	switch p {
	case Hour:
		return s.Format("2006-01-02T15")
	case Month:
		return s.Format("2006-01")
	}
	return s.Format("2006-01-02")
}

// Window is one quota: at most N requests per calendar Period.
type Window struct {
	N      int64
	Period Period
}

// String formats w the way ParseQuota reads it, e.g. "500/d".
func (w Window) String() string { return fmt.Sprintf("%d/%s", w.N, w.Period) }

// Key returns the store key counting name's requests in the window holding
// t, e.g. "virustotal:d:2026-11-26". Keys are unique per window, so a
// store may expire a key once its window has ended.
func (w Window) Key(name string, t time.Time) string {
	return name + ":" + w.Period.String() + ":" + w.Period.stamp(t)
}

// ParseQuota reads a comma-separated list of windows, e.g. "500/d" or
// "500/d,15500/mo"; units are h, d and mo. "" and "unlimited" give no
// windows. Windows come back ordered hour, day, month.
func ParseQuota(s string) ([]Window, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "unlimited") {
		return nil, nil
	}
	var ws []Window
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		bad := func(why string) ([]Window, error) {
			return nil, fmt.Errorf("ratelimit: bad quota %q: %s", part, why)
		}
		num, unit, ok := strings.Cut(part, "/")
		if !ok {
			return bad(`want N/unit, e.g. "500/d" or "15500/mo"`)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || n <= 0 {
			return bad("count must be a positive integer")
		}
		var p Period
		switch strings.TrimSpace(unit) {
		case "h":
			p = Hour
		case "d":
			p = Day
		case "mo":
			p = Month
		default:
			return bad("unit must be h, d or mo (per-minute limits are rates, not quotas)")
		}
		if slices.ContainsFunc(ws, func(w Window) bool { return w.Period == p }) {
			return bad("more than one " + p.Adjective() + " window")
		}
		ws = append(ws, Window{N: n, Period: p})
	}
	slices.SortFunc(ws, func(a, b Window) int { return int(a.Period - b.Period) })
	return ws, nil
}

// FormatQuota formats windows the way ParseQuota reads them.
func FormatQuota(ws []Window) string {
	if len(ws) == 0 {
		return "unlimited"
	}
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.String()
	}
	return strings.Join(parts, ",")
}

// ErrQuotaExceeded means a quota window is spent; the request was not sent.
// httpx.ErrQuotaExceeded is the same value.
var ErrQuotaExceeded = errors.New("quota exceeded")

// ExceededError says which window is spent and when it resets. It matches
// ErrQuotaExceeded with errors.Is.
type ExceededError struct {
	Name     string
	Window   Window
	ResetsAt time.Time
}

func (e *ExceededError) Error() string {
	return fmt.Sprintf("%s: %s %s quota of %d requests is spent, resets %s", ErrQuotaExceeded, e.Name,
		e.Window.Period.Adjective(), e.Window.N, e.ResetsAt.UTC().Format(time.RFC3339))
}

// Unwrap returns ErrQuotaExceeded.
func (e *ExceededError) Unwrap() error { return ErrQuotaExceeded }

// QuotaStore holds quota counters by key. Add adds n (which may be
// negative, to give back) and returns the new count; Get returns the count,
// 0 for an unknown key. Implementations are safe for concurrent use and
// Add is atomic: in memory now, SQLite and Redis later.
type QuotaStore interface {
	Add(ctx context.Context, key string, n int64) (int64, error)
	Get(ctx context.Context, key string) (int64, error)
}

// MemoryStore is an in-process QuotaStore. Its counts are lost on exit.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]int64
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: make(map[string]int64)} }

// Add adds n to key and returns the new count.
func (s *MemoryStore) Add(_ context.Context, key string, n int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] += n
	return s.m[key], nil
}

// Get returns the count of key.
func (s *MemoryStore) Get(_ context.Context, key string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key], nil
}

// Quota counts one provider's requests against its windows. Every window
// must have room for a request to go; a spent window refuses it.
type Quota struct {
	// Name prefixes the store keys: the provider name.
	Name string
	// Windows are the limits, e.g. from ParseQuota. None means unlimited.
	Windows []Window
	// Store holds the counters; share one store (and name) to share a
	// budget between workers.
	Store QuotaStore
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnLow, when set, is called once per window (across processes
	// sharing the store) when a request leaves less than LowShare of the
	// window; the store keeps the mark, so a restart does not call it
	// again. Set it before the first Take.
	OnLow func(ctx context.Context, name string, u WindowUsage)
}

// LowShare is the share of a quota window below which Quota.OnLow is
// called: 10 % left.
const LowShare = 0.10

// NewQuota returns a Quota for name over windows counted in store (a new
// MemoryStore when nil).
func NewQuota(name string, windows []Window, store QuotaStore) *Quota {
	if store == nil {
		store = NewMemoryStore()
	}
	return &Quota{Name: name, Windows: windows, Store: store}
}

func (q *Quota) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

// Take counts one request in every window, or returns an *ExceededError
// (matching ErrQuotaExceeded) and counts nothing when a window is spent.
// Counting is add-then-check, giving back on refusal, so concurrent takers
// sharing a store can never overspend; at the very edge one may be refused
// while another's give-back is in flight. A nil Quota allows everything.
func (q *Quota) Take(ctx context.Context) error {
	if q == nil || len(q.Windows) == 0 {
		return nil
	}
	if q.Store == nil {
		return errors.New("ratelimit: quota has no store")
	}
	now := q.now()
	taken := make([]string, 0, len(q.Windows))
	giveBack := func() {
		bg := context.WithoutCancel(ctx)
		for _, k := range taken {
			_, _ = q.Store.Add(bg, k, -1) // best effort: an error here only over-counts
		}
	}
	for _, w := range q.Windows {
		key := w.Key(q.Name, now)
		// A cheap read first, so a spent quota costs one read per refusal.
		used, err := q.Store.Get(ctx, key)
		if err == nil && used >= w.N {
			giveBack()
			return q.exceeded(w, now)
		}
		used, err = q.Store.Add(ctx, key, 1)
		if err != nil {
			giveBack()
			return fmt.Errorf("ratelimit: counting %s quota: %w", q.Name, err)
		}
		taken = append(taken, key)
		if used > w.N {
			giveBack()
			return q.exceeded(w, now)
		}
	}
	if q.OnLow != nil {
		q.checkLow(ctx, now)
	}
	return nil
}

// checkLow calls OnLow for each window now under LowShare that has not
// been marked: the mark is a counter in the store beside the window's, so
// one caller in the fleet sees 1.
func (q *Quota) checkLow(ctx context.Context, now time.Time) {
	for _, w := range q.Windows {
		key := w.Key(q.Name, now)
		used, err := q.Store.Get(ctx, key)
		if err != nil || float64(w.N-used) >= LowShare*float64(w.N) {
			continue
		}
		if n, err := q.Store.Add(ctx, "low:"+key, 1); err != nil || n != 1 {
			continue
		}
		q.OnLow(ctx, q.Name, WindowUsage{Period: w.Period, Limit: w.N, Used: used, Remaining: max(0, w.N-used), ResetsAt: w.Period.End(now)})
	}
}

func (q *Quota) exceeded(w Window, now time.Time) error {
	return &ExceededError{Name: q.Name, Window: w, ResetsAt: w.Period.End(now)}
}

// WindowUsage is one window's state, for the `iocane providers` table.
type WindowUsage struct {
	Period    Period
	Limit     int64
	Used      int64
	Remaining int64
	ResetsAt  time.Time
}

// Usage returns the state of every window now.
func (q *Quota) Usage(ctx context.Context) ([]WindowUsage, error) {
	if q == nil || len(q.Windows) == 0 {
		return nil, nil
	}
	if q.Store == nil {
		return nil, errors.New("ratelimit: quota has no store")
	}
	now := q.now()
	out := make([]WindowUsage, 0, len(q.Windows))
	for _, w := range q.Windows {
		used, err := q.Store.Get(ctx, w.Key(q.Name, now))
		if err != nil {
			return nil, fmt.Errorf("ratelimit: reading %s quota: %w", q.Name, err)
		}
		out = append(out, WindowUsage{
			Period:    w.Period,
			Limit:     w.N,
			Used:      used,
			Remaining: max(0, w.N-used),
			ResetsAt:  w.Period.End(now),
		})
	}
	return out, nil
}
