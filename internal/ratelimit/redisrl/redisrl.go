// Package redisrl keeps rate limits and quota counters in Redis, so that
// several `iocane serve` replicas draw on one provider budget (issue 11).
//
// A Limiter is a GCRA limiter (github.com/go-redis/redis_rate: one Lua
// script, atomic in one Redis call) under the provider's name: N replicas
// together never exceed the rate, which is the fleet's total. A
// QuotaStore keeps each quota window's counter as a Redis integer (INCRBY,
// atomic), expiring a while after its window can have ended. Neither is
// wired into the pipeline yet; the fallback when Redis is unreachable (a
// local limiter at rate ÷ replicas) belongs with that wiring.
package redisrl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/iocane/iocane/internal/ratelimit"
)

// KeyPrefix prefixes every key iocane keeps in Redis.
const KeyPrefix = "iocane:"

// Limiter paces one provider's requests across every process sharing the
// Redis server.
type Limiter struct {
	rl    *redis_rate.Limiter
	key   string
	limit redis_rate.Limit
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// NewLimiter returns the fleet-wide limiter of provider name at rate r
// (burst 1: requests are spaced, never bunched). It does no I/O.
func NewLimiter(c *redis.Client, name string, r ratelimit.Rate) *Limiter {
	return &Limiter{rl: redis_rate.NewLimiter(c), key: KeyPrefix + "rate:" + name,
		limit: redis_rate.Limit{Rate: r.N, Period: r.Per, Burst: 1}}
}

// Wait waits for the fleet's next turn. A turn after ctx's deadline is an
// error wrapping context.DeadlineExceeded at once, as the in-process pacer
// does; a Redis failure is returned wrapped, for the caller to fall back.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		res, err := l.rl.Allow(ctx, l.key, l.limit)
		if err != nil {
			return fmt.Errorf("ratelimit: redis: %w", err)
		}
		if res.Allowed > 0 {
			return nil
		}
		wait := res.RetryAfter
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
			return fmt.Errorf("ratelimit: next turn comes after the deadline: %w", context.DeadlineExceeded)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("ratelimit: waiting for a turn: %w", ctx.Err())
		}
	}
}

// QuotaStore keeps quota counters in Redis.
type QuotaStore struct {
	c *redis.Client
	// TTL is how long a counter lives after its last change; it must
	// outlast the longest quota window. Default 400 days.
	TTL time.Duration
}

var _ ratelimit.QuotaStore = (*QuotaStore)(nil)

// NewQuotaStore returns a QuotaStore on c.
func NewQuotaStore(c *redis.Client) *QuotaStore { return &QuotaStore{c: c, TTL: 400 * 24 * time.Hour} }

// Add adds n to key atomically and returns the new count.
func (s *QuotaStore) Add(ctx context.Context, key string, n int64) (int64, error) {
	k := KeyPrefix + "quota:" + key
	pipe := s.c.TxPipeline()
	incr := pipe.IncrBy(ctx, k, n)
	pipe.Expire(ctx, k, s.TTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("quota %s: redis: %w", key, err)
	}
	return incr.Val(), nil
}

// Get returns the count of key, 0 when unknown.
func (s *QuotaStore) Get(ctx context.Context, key string) (int64, error) {
	n, err := s.c.Get(ctx, KeyPrefix+"quota:"+key).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("quota %s: redis: %w", key, err)
	}
	return n, nil
}
