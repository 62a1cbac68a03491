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
// store: PostgreSQL for a fleet, else the replica's SQLite file) while it
// does not. Every count Redis takes is mirrored to Local, so that the
// store holds the fleet's counts for the weekly report and, during an
// outage, each replica goes on from the fleet's count rather than from
// zero (on a shared PostgreSQL the fleet then shares one count through
// the outage; on SQLite files each replica may spend up to the quota less
// what the fleet had spent). Counts made in Local during an outage are not
// added to Redis afterwards.
type FallbackQuotaStore struct {
	Shared *QuotaStore
	Local  ratelimit.QuotaStore
}

var _ ratelimit.QuotaStore = (*FallbackQuotaStore)(nil)

// Add adds n to key in Redis, and mirrors it to Local; or in Local alone
// while Redis is unreachable. A mirror that fails costs the report a
// count, never the caller its answer.
func (s *FallbackQuotaStore) Add(ctx context.Context, key string, n int64) (int64, error) {
	c, err := s.Shared.Add(ctx, key, n)
	if errors.Is(err, redisx.ErrUnavailable) {
		return s.Local.Add(ctx, key, n)
	}
	if err == nil {
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mirrorTimeout)
		_, _ = s.Local.Add(mctx, key, n)
		cancel()
	}
	return c, err
}

// mirrorTimeout bounds mirroring a count to the store.
const mirrorTimeout = 2 * time.Second

// Get reads key from Redis, or from Local while Redis is unreachable.
func (s *FallbackQuotaStore) Get(ctx context.Context, key string) (int64, error) {
	c, err := s.Shared.Get(ctx, key)
	if errors.Is(err, redisx.ErrUnavailable) {
		return s.Local.Get(ctx, key)
	}
	return c, err
}
