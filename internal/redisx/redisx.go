// Package redisx connects a scaled-out iocane to Redis (issue 11): the
// redis config section, the client, and Health, which every user of one
// client reports to, so that an outage is seen once for all of them.
//
// Redis holds what replicas must share at request speed: rate limits and
// quota counters (ratelimit/redisrl), a cache layer (cache/rediscache),
// the look-up leases that keep one provider call per IOC in flight across
// the fleet (Leases) and the webhook replay marks (Replays). Every call is
// bounded by Health.Timeout (500 ms); a call that fails or times out marks
// Redis down, which is logged once and exported as
// iocane_backend_up{backend="redis"} 0, and each user falls back to what a
// process alone would do: a local limiter at a share of the rate, the
// SQLite quota counters, a cache miss, a look-up without a lease, the
// SQLite replay marks. While down, Redis is probed again at most once per
// Health.ProbeEvery (1 s) by whichever call comes next; the first that
// succeeds logs the recovery once and sets the gauge back to 1. Circuit
// breakers stay per process.
package redisx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iocane/iocane/internal/backend"
)

// KeyPrefix prefixes every key iocane keeps in Redis (redisrl.KeyPrefix
// is the same).
const KeyPrefix = "iocane:"

// Name is the backend's name in logs and in iocane_backend_up.
const Name = "redis"

// Defaults of Health.
const (
	DefaultTimeout    = 500 * time.Millisecond
	DefaultProbeEvery = time.Second
)

// ErrUnavailable wraps the error of a Redis call that failed for want of
// Redis (refused, timed out, reset), or that was not made because Redis is
// down and no probe was due: the caller falls back.
var ErrUnavailable = errors.New("redis unavailable")

// NewClient returns a client for s's URL, with every timeout short enough
// that an outage costs a request at most Health.Timeout, and no retries
// (a failed call falls back at once instead). It does no I/O.
func NewClient(s Settings) (*redis.Client, error) {
	o, err := s.URL.Options()
	if err != nil {
		return nil, fmt.Errorf("redis.url: %w", err)
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = DefaultTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultTimeout
	}
	if o.PoolTimeout == 0 {
		o.PoolTimeout = DefaultTimeout
	}
	if o.DialerRetries == 0 {
		o.DialerRetries = 1
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = -1
	}
	o.ContextTimeoutEnabled = true
	return redis.NewClient(o), nil
}

// Health is Redis's state as its users see it. The zero value is ready to
// use; a nil *Health bounds calls by DefaultTimeout and records nothing.
type Health struct {
	// Logger receives one warning per outage and one line per recovery;
	// nil discards.
	Logger *slog.Logger
	// Status receives iocane_backend_up{backend="redis"}; nil for none.
	Status *backend.Status
	// Timeout bounds each call; default DefaultTimeout.
	Timeout time.Duration
	// ProbeEvery is how often a call is let through while Redis is down;
	// default DefaultProbeEvery.
	ProbeEvery time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu        sync.Mutex
	down      bool
	since     time.Time // start of the current outage
	nextProbe time.Time
}

// Call runs f, one Redis call, bounded by Timeout, and records whether
// Redis answered. redis.Nil (no such key) is an answer. A failure is
// returned wrapping ErrUnavailable, unless ctx itself ended, which says
// nothing of Redis. While Redis is down and no probe is due, f is not run
// and ErrUnavailable is returned at once.
func (h *Health) Call(ctx context.Context, f func(ctx context.Context) error) error {
	if !h.usable() {
		return ErrUnavailable
	}
	cctx, cancel := context.WithTimeout(ctx, h.timeout())
	err := f(cctx)
	cancel()
	switch {
	case err == nil, errors.Is(err, redis.Nil):
		h.up()
		return err
	case ctx.Err() != nil:
		return err
	}
	h.failed(err)
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// Up reports whether Redis answered the last call.
func (h *Health) Up() bool {
	if h == nil {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.down
}

// Start records that Redis is in use, up until a call says otherwise, so
// that the gauge shows from the start.
func (h *Health) Start() {
	if h != nil && h.Status != nil {
		h.Status.Set(Name, h.Up())
	}
}

func (h *Health) timeout() time.Duration {
	if h == nil || h.Timeout <= 0 {
		return DefaultTimeout
	}
	return h.Timeout
}

func (h *Health) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// usable reports whether to call Redis now: always while it is up; while
// it is down, once per ProbeEvery.
func (h *Health) usable() bool {
	if h == nil {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down {
		return true
	}
	now := h.now()
	if now.Before(h.nextProbe) {
		return false
	}
	h.nextProbe = now.Add(h.probeEvery())
	return true
}

func (h *Health) probeEvery() time.Duration {
	if h.ProbeEvery <= 0 {
		return DefaultProbeEvery
	}
	return h.ProbeEvery
}

func (h *Health) failed(err error) {
	if h == nil {
		return
	}
	h.mu.Lock()
	if h.down {
		h.mu.Unlock()
		return
	}
	h.down, h.since = true, h.now()
	h.nextProbe = h.since.Add(h.probeEvery())
	h.mu.Unlock()
	if h.Status != nil {
		h.Status.Set(Name, false)
	}
	if h.Logger != nil {
		// err names the address at most (dial tcp 127.0.0.1:6379: ...), never the password.
		h.Logger.Warn("backend unreachable: falling back to local limits, quota counters and cache until it answers",
			"backend", Name, "error", err.Error())
	}
}

func (h *Health) up() {
	if h == nil {
		return
	}
	h.mu.Lock()
	if !h.down {
		h.mu.Unlock()
		return
	}
	h.down = false
	outage := h.now().Sub(h.since)
	h.mu.Unlock()
	if h.Status != nil {
		h.Status.Set(Name, true)
	}
	if h.Logger != nil {
		h.Logger.Info("backend recovered: shared limits, quota counters and cache are back", "backend", Name,
			"outage", outage.Round(time.Millisecond).String())
	}
}
