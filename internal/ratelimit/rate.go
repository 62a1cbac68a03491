// Package ratelimit keeps iocane inside each provider's published limits: a
// request rate ("4/m") paced by a token bucket, and calendar quotas
// ("500/d,15500/mo") counted in a store that may be shared by many workers.
//
// Limiters and quota stores are small interfaces with in-memory
// implementations here; persistent (SQLite) and shared (Redis)
// implementations plug in behind the same interfaces without changing a
// provider or the httpx transport chain.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate is a request rate: at most N requests every Per. The zero Rate means
// no limit.
type Rate struct {
	N   int
	Per time.Duration
}

// Unlimited reports whether r sets no limit.
func (r Rate) Unlimited() bool { return r.N <= 0 || r.Per <= 0 }

// Interval is the spacing between two requests at rate r (Per/N); zero when
// unlimited.
func (r Rate) Interval() time.Duration {
	if r.Unlimited() {
		return 0
	}
	return r.Per / time.Duration(r.N)
}

// String formats r the way ParseRate reads it: "4/m", "5/10s", "unlimited".
func (r Rate) String() string {
	if r.Unlimited() {
		return "unlimited"
	}
	for _, u := range rateUnits {
		if r.Per == u.d {
			return fmt.Sprintf("%d/%s", r.N, u.name)
		}
	}
	for _, u := range rateUnits {
		if r.Per%u.d == 0 {
			return fmt.Sprintf("%d/%d%s", r.N, r.Per/u.d, u.name)
		}
	}
	return fmt.Sprintf("%d/%dms", r.N, r.Per.Milliseconds()) // sub-millisecond periods round down
}

var rateUnits = []struct {
	name string
	d    time.Duration
}{
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
	{"ms", time.Millisecond},
}

// ParseRate reads a rate: "N/U" or "N/kU" where U is s, m, h or d (or ms),
// e.g. "4/m", "1/s", "5/10s". A fractional N is accepted and turned into one
// request per interval ("0.5/s" is 1/2s). "" and "unlimited" give the zero
// Rate (no limit).
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "unlimited") {
		return Rate{}, nil
	}
	bad := func(why string) (Rate, error) {
		return Rate{}, fmt.Errorf("ratelimit: bad rate %q: %s", s, why)
	}
	num, per, ok := strings.Cut(s, "/")
	if !ok {
		return bad(`want N/unit, e.g. "4/m" or "1/s"`)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n <= 0 || n > 1e9 {
		return bad("count must be a positive number")
	}
	per = strings.TrimSpace(per)
	i := 0
	for i < len(per) && per[i] >= '0' && per[i] <= '9' {
		i++
	}
	mult := int64(1)
	if i > 0 {
		mult, err = strconv.ParseInt(per[:i], 10, 64)
		if err != nil || mult <= 0 || mult > 1e6 {
			return bad("period multiplier must be a positive integer")
		}
	}
	var unit time.Duration
	for _, u := range rateUnits {
		if per[i:] == u.name {
			unit = u.d
		}
	}
	if unit == 0 {
		return bad("unit must be s, m, h or d")
	}
	if mult > int64(366*24*time.Hour/unit) {
		return bad("period longer than a year")
	}
	period := time.Duration(mult) * unit
	if float64(period)/n < float64(time.Microsecond) {
		return bad("rate too high: more than one request per microsecond")
	}
	if n == float64(int64(n)) {
		return Rate{N: int(n), Per: period}, nil
	}
	return Rate{N: 1, Per: time.Duration(float64(period) / n)}, nil
}

// Limiter paces requests. Wait blocks until the next request may be sent,
// or returns an error when ctx ends first (or would end before the turn
// comes). Implementations are safe for concurrent use.
type Limiter interface {
	Wait(ctx context.Context) error
}

// NewLimiter returns an in-memory pacer for r: requests are spaced at least
// r.Interval() apart, measured between the moments they are actually let
// go, so a provider that counts N per period on its side never sees more
// than N in any period, whatever its window alignment. (A bucket with a
// burst of N would allow N at once and N more as it refills.)
//
// Turns are not booked in advance: a token bucket hands out future send
// times, so when the process stalls (a GC pause, a busy machine) every
// booked time passes at once and the waiters all send together, which a
// strict provider answers with 429s. Here one waiter at a time sleeps until
// its turn. Turns stay on a grid of r.Interval(), so a timer firing a
// little late (up to MaxCatchUp) is made up on the next turns rather than
// slowing the rate; after a longer stall, or when idle, the grid restarts
// from now, and the missed turns are lost rather than sent in a burst. The
// average rate never exceeds r. An unlimited r gives a Limiter that never
// waits.
func NewLimiter(r Rate) Limiter {
	if r.Unlimited() {
		return unlimited{}
	}
	return &pacer{base: r.Interval(), interval: r.Interval(), turn: make(chan struct{}, 1)}
}

// MaxCatchUp is how late a turn may be and still be made up on the grid:
// at 100 requests/s, at most 5 turns sent closer together than the
// interval. Providers that limit per second tolerate that much bunching;
// it keeps a loaded machine's timer jitter from slowing the rate.
const MaxCatchUp = 50 * time.Millisecond

type pacer struct {
	base time.Duration // the configured interval: never paced faster
	turn chan struct{} // a one-slot semaphore: the waiter holding it sleeps
	last time.Time     // the previous turn on the grid (guarded by turn)

	// What the provider said (adapt.go), guarded by mu.
	mu           sync.Mutex
	interval     time.Duration // the current spacing, base or wider
	notBefore    time.Time     // no turn before this (Retry-After, a spent window)
	lastDecrease time.Time
	lastIncrease time.Time
}

// Wait waits for the next turn. When the turn would come after ctx's
// deadline it returns at once with an error wrapping
// context.DeadlineExceeded, so callers can test for it as for any deadline.
func (p *pacer) Wait(ctx context.Context) error {
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("ratelimit: waiting for a turn: %w", ctx.Err())
	}
	defer func() { <-p.turn }()
	interval, notBefore := p.pace()
	next := p.last.Add(interval)
	if now := time.Now(); now.Sub(next) > MaxCatchUp {
		// Idle, or behind after a stall: start the grid afresh, so the
		// turns missed are not sent in a burst.
		next = now
	}
	if next.Before(notBefore) {
		next = notBefore
	}
	if d := time.Until(next); d > 0 {
		if dl, ok := ctx.Deadline(); ok && dl.Before(next) {
			return fmt.Errorf("ratelimit: next turn comes after the deadline: %w", context.DeadlineExceeded)
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("ratelimit: waiting for a turn: %w", ctx.Err())
		}
	}
	p.last = next
	return nil
}

type unlimited struct{}

func (unlimited) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ratelimit: %w", err)
	}
	return nil
}

// Limiters is a registry of named limiters, so that every client of one
// provider (two workers, two engines in one process) draws on one budget,
// like Benthos rate_limit resources. The zero value is ready to use and
// makes in-memory limiters; it is safe for concurrent use.
type Limiters struct {
	// New makes the limiter for a name the first time it is asked for.
	// Nil means NewLimiter(r); a Redis-backed registry sets its own.
	New func(name string, r Rate) Limiter

	mu sync.Mutex
	m  map[string]limiterEntry
}

type limiterEntry struct {
	rate Rate
	lim  Limiter
}

// ErrRateConflict is returned by Limiters.Get when a name is asked for with
// a rate other than the one it was made with.
var ErrRateConflict = errors.New("ratelimit: limiter already exists with another rate")

// Get returns the limiter registered under name, making it with rate r the
// first time. Asking again with another rate is an error: two budgets
// under one name would defeat sharing.
func (ls *Limiters) Get(name string, r Rate) (Limiter, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if e, ok := ls.m[name]; ok {
		if e.rate != r {
			return nil, fmt.Errorf("%w: %s is %s, asked for %s", ErrRateConflict, name, e.rate, r)
		}
		return e.lim, nil
	}
	newFn := ls.New
	if newFn == nil {
		newFn = func(_ string, r Rate) Limiter { return NewLimiter(r) }
	}
	lim := newFn(name, r)
	if ls.m == nil {
		ls.m = make(map[string]limiterEntry)
	}
	ls.m[name] = limiterEntry{rate: r, lim: lim}
	return lim, nil
}
