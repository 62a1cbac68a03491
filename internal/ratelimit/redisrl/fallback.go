package redisrl

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/redisx"
)

// FallbackLimiter paces with the fleet's shared limiter while Redis
// answers, and with a local limiter at a share of the rate while it does
// not (a Redis call failed or timed out, and no probe is due; see
// redisx.Health). Each replica then sends at most rate × share, so N
// replicas with a share of 1/N together stay within the rate; there is
// never a moment without a limit.
type FallbackLimiter struct {
	shared ratelimit.Limiter
	local  ratelimit.Limiter
}

var (
	_ ratelimit.Limiter = (*FallbackLimiter)(nil)
	_ ratelimit.Adapter = (*FallbackLimiter)(nil)
)

// NewFallbackLimiter returns a limiter that waits on shared (which
// returns an error wrapping redisx.ErrUnavailable when Redis is down) and
// falls back to a local limiter at r × share. share is in (0,1]; an
// unlimited r gives the local limiter alone.
func NewFallbackLimiter(shared ratelimit.Limiter, r ratelimit.Rate, share float64) *FallbackLimiter {
	return &FallbackLimiter{shared: shared, local: ratelimit.NewLimiter(Share(r, share))}
}

// Share returns r × share: as many requests over a period 1/share times
// longer (20/s × 1/3 is 20/3s).
func Share(r ratelimit.Rate, share float64) ratelimit.Rate {
	if r.Unlimited() || share <= 0 || share >= 1 {
		return r
	}
	return ratelimit.Rate{N: r.N, Per: time.Duration(math.Round(float64(r.Per) / share))}
}

// Wait waits for a turn from the fleet's limiter, or from the local one
// while Redis is unreachable.
func (f *FallbackLimiter) Wait(ctx context.Context) error {
	err := f.shared.Wait(ctx)
	if errors.Is(err, redisx.ErrUnavailable) {
		return f.local.Wait(ctx)
	}
	return err
}

// Adapt passes a provider's answer to the local limiter, so that 429s
// slow it during an outage as they slow a process alone.
func (f *FallbackLimiter) Adapt(fb ratelimit.Feedback) {
	if a, ok := f.local.(ratelimit.Adapter); ok {
		a.Adapt(fb)
	}
}

// FallbackQuotaStore counts in Redis while it answers and in Local (the
// replica's SQLite file) while it does not. During an outage each replica
// spends at most the quota as its own file counts it, never an unlimited
// amount; counts made there are not added to Redis's afterwards, so the
// fleet may overspend a window by what the replicas spent during the
// outage, at most one quota each.
type FallbackQuotaStore struct {
	Shared *QuotaStore
	Local  ratelimit.QuotaStore
}

var _ ratelimit.QuotaStore = (*FallbackQuotaStore)(nil)

// Add adds n to key in Redis, or in Local while Redis is unreachable.
func (s *FallbackQuotaStore) Add(ctx context.Context, key string, n int64) (int64, error) {
	c, err := s.Shared.Add(ctx, key, n)
	if errors.Is(err, redisx.ErrUnavailable) {
		return s.Local.Add(ctx, key, n)
	}
	return c, err
}

// Get reads key from Redis, or from Local while Redis is unreachable.
func (s *FallbackQuotaStore) Get(ctx context.Context, key string) (int64, error) {
	c, err := s.Shared.Get(ctx, key)
	if errors.Is(err, redisx.ErrUnavailable) {
		return s.Local.Get(ctx, key)
	}
	return c, err
}
