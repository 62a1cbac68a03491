package ratelimit

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Adaptive pacing: a limiter made by NewLimiter also listens to what the
// provider says about its budget (Adapt), so that a rate configured above
// what the provider allows settles near what it allows instead of
// meeting a 429 on every other request, and climbs back when the provider
// lifts its limit. The configured rate stays the ceiling.
//
//   - A 429 lowers the rate by DecreaseFactor (multiplicative decrease), at
//     most once per DecreaseHold, since the requests already in flight
//     answer 429 together; its Retry-After, if any, holds every turn until
//     then.
//   - Each answer that is not a 429 raises the rate by IncreasePerSecond of
//     the configured rate for each second since the last raise (additive
//     increase), back to the configured rate. The step grows with the time
//     since the last 429 (once per RampAfter), so a limit the provider has
//     lifted is left behind in about half a minute, while a limit still in
//     force is met about every ten seconds.
//   - X-RateLimit-Remaining / -Reset (AbuseIPDB, and most APIs) and
//     urlscan's X-Rate-Limit-Remaining / -Reset-After, for a window that
//     resets within BudgetHorizon: nothing left holds every turn until the
//     reset, and what is left is spread over the time to the reset. Longer
//     windows (a daily quota) are the quota's business, not the pace's.

// Adapter is a Limiter that adapts its pace to the provider's answers.
type Adapter interface {
	Adapt(f Feedback)
}

// Pacer is a Limiter that can say its current spacing between requests.
type Pacer interface {
	Interval() time.Duration
}

// Tuning of the adaptation.
const (
	DecreaseFactor    = 0.8
	DecreaseHold      = time.Second
	IncreasePerSecond = 0.01
	RampAfter         = 10 * time.Second
	BudgetHorizon     = 10 * time.Minute
	// maxSlowdown bounds how far 429s may slow the pace: 1/64 of the
	// configured rate.
	maxSlowdown = 64
)

// Feedback is what one answer said about the provider's budget.
type Feedback struct {
	// Throttled is a 429.
	Throttled bool
	// RetryAfter is the answer's Retry-After; 0 when absent.
	RetryAfter time.Duration
	// Budget is true when the answer gave Remaining and Reset.
	Budget    bool
	Remaining int
	Reset     time.Duration // from now
}

// FeedbackOf reads a response's status and rate-limit headers at now.
func FeedbackOf(resp *http.Response, now time.Time) Feedback {
	f := Feedback{Throttled: resp.StatusCode == http.StatusTooManyRequests}
	h := resp.Header
	f.RetryAfter, _ = ParseRetryAfter(h.Get("Retry-After"), now)
	rem := first(h, "X-RateLimit-Remaining", "X-Rate-Limit-Remaining", "RateLimit-Remaining")
	n, err := strconv.Atoi(strings.TrimSpace(rem))
	if rem == "" || err != nil || n < 0 {
		return f
	}
	if reset, ok := resetOf(h, now); ok {
		f.Budget, f.Remaining, f.Reset = true, n, reset
	}
	return f
}

// ParseRetryAfter reads Retry-After as delta-seconds or an HTTP-date
// (RFC 9110 10.2.3), capped at a year. A date in the past means no wait;
// ok is false for a missing or unreadable value. The retry transport, the
// adaptive pace and the mailbox's Graph client all read it here.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 63); err == nil {
		if secs > uint64(365*24*3600) { // absurd; certainly over any cap
			secs = 365 * 24 * 3600
		}
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(0, at.Sub(now)), true
}

// resetOf reads when the window resets: urlscan's X-Rate-Limit-Reset-After
// (seconds), or X-RateLimit-Reset as seconds from now, a Unix time, or an
// RFC 3339 time (urlscan's X-Rate-Limit-Reset).
func resetOf(h http.Header, now time.Time) (time.Duration, bool) {
	if v := first(h, "X-Rate-Limit-Reset-After", "RateLimit-Reset"); v != "" {
		if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && n >= 0 {
			return time.Duration(min(n, maxReset.Seconds()) * float64(time.Second)), true // 1e308 s would overflow
		}
	}
	v := strings.TrimSpace(first(h, "X-RateLimit-Reset", "X-Rate-Limit-Reset"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		if n > 1_000_000_000 { // a Unix time
			return min(max(time.Unix(n, 0).Sub(now), 0), maxReset), true
		}
		return time.Duration(n) * time.Second, true // n ≤ 1e9 s: no overflow
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return min(max(t.Sub(now), 0), maxReset), true
	}
	return 0, false
}

// maxReset bounds a reset read from a header: a year.
const maxReset = 366 * 24 * time.Hour

func first(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// Interval is the pacer's current spacing between turns.
func (p *pacer) Interval() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.interval
}

// pace returns the current spacing and the time before which no turn
// comes.
func (p *pacer) pace() (time.Duration, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.interval, p.notBefore
}

// Adapt takes one answer's feedback into the pace.
func (p *pacer) Adapt(f Feedback) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if f.RetryAfter > 0 && f.RetryAfter <= BudgetHorizon {
		p.notBefore = later(p.notBefore, now.Add(f.RetryAfter))
	}
	switch {
	case f.Throttled:
		if now.Sub(p.lastDecrease) >= DecreaseHold {
			p.interval = min(time.Duration(float64(p.interval)/DecreaseFactor), p.base*maxSlowdown)
			p.lastDecrease, p.lastIncrease = now, now
		}
	case f.Budget && f.Reset <= BudgetHorizon:
		if f.Remaining == 0 {
			p.notBefore = later(p.notBefore, now.Add(f.Reset))
		} else if spread := f.Reset / time.Duration(f.Remaining); spread > p.interval {
			p.interval = min(spread, p.base*maxSlowdown)
			p.lastIncrease = now
		} else {
			p.increase(now)
		}
	default:
		p.increase(now)
	}
}

// increase raises the rate by IncreasePerSecond of the configured rate per
// second since the last raise, up to the configured rate.
func (p *pacer) increase(now time.Time) {
	if p.interval <= p.base {
		p.lastIncrease = now
		return
	}
	dt := now.Sub(p.lastIncrease).Seconds()
	if dt <= 0 {
		return
	}
	baseRate := 1 / p.base.Seconds()
	ramp := max(1, now.Sub(p.lastDecrease).Seconds()/RampAfter.Seconds())
	r := 1/p.interval.Seconds() + baseRate*IncreasePerSecond*dt*ramp
	p.interval = max(time.Duration(float64(time.Second)/r), p.base)
	p.lastIncrease = now
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
