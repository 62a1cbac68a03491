// Package redisrl keeps rate limits and quota counters in Redis, so that
// several `iocane serve` replicas draw on one provider budget (issue 11).
//
// A Limiter is a GCRA limiter (github.com/go-redis/redis_rate: one Lua
// script, atomic in one Redis call) under the provider's name: N replicas
// together never exceed the rate, which is the fleet's total. A
// QuotaStore keeps each quota window's counter as a Redis integer (INCRBY,
// atomic), expiring a while after its window can have ended.
//
// pipeline.Open wires them when redis.url is set, each behind a fallback
// (fallback.go): while Redis is unreachable a FallbackLimiter paces with a
// local limiter at the rate × redis.fallback_share, and a
// FallbackQuotaStore counts in the replica's SQLite file, so an outage
// never means unlimited sending. Every Redis call is bounded and reported
// to a redisx.Health, which logs the outage once and probes for recovery.
package redisrl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/redisx"
)

// KeyPrefix prefixes every key iocane keeps in Redis.
const KeyPrefix = redisx.KeyPrefix

// Limiter paces one provider's requests across every process sharing the
// Redis server.
type Limiter struct {
	rl    *redis_rate.Limiter
	key   string
	limit redis_rate.Limit
	// Health bounds each Redis call and records whether Redis answers;
	// nil bounds calls by redisx.DefaultTimeout and records nothing.
	Health *redisx.Health
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
// does; a Redis failure is returned wrapping redisx.ErrUnavailable, for
// the caller to fall back.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		var res *redis_rate.Result
		err := l.Health.Call(ctx, func(ctx context.Context) error {
			var err error
			res, err = l.rl.Allow(ctx, l.key, l.limit)
			return err
		})
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
	// Health bounds each Redis call and records whether Redis answers;
	// nil bounds calls by redisx.DefaultTimeout and records nothing.
	Health *redisx.Health
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
	var incr *redis.IntCmd
	err := s.Health.Call(ctx, func(ctx context.Context) error {
		pipe := s.c.TxPipeline()
		incr = pipe.IncrBy(ctx, k, n)
		pipe.Expire(ctx, k, s.TTL)
		_, err := pipe.Exec(ctx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("quota %s: redis: %w", key, err)
	}
	return incr.Val(), nil
}

// Get returns the count of key, 0 when unknown.
func (s *QuotaStore) Get(ctx context.Context, key string) (int64, error) {
	var n int64
	err := s.Health.Call(ctx, func(ctx context.Context) error {
		var err error
		n, err = s.c.Get(ctx, KeyPrefix+"quota:"+key).Int64()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("quota %s: redis: %w", key, err)
	}
	return n, nil
}
