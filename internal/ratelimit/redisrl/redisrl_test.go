package redisrl

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/ratelimit/ratelimittest"
	"github.com/iocane/iocane/internal/redisx/redistest"
)

// client connects to the machine's Redis (redistest: skipped without
// one, failed in CI).
func client(t *testing.T) *redis.Client { return redistest.Client(t, "") }

func TestRedisQuotaStore(t *testing.T) {
	ratelimittest.QuotaStore(t, NewQuotaStore(client(t)), "test")
}

// TestFleetSharesOneRate: three limiters under one name (three replicas)
// together stay within the rate: at 20/s, about 20 turns in a second
// across all of them, never the 60 that three local limiters would give.
func TestFleetSharesOneRate(t *testing.T) {
	c := client(t)
	name := "fleet-test-" + time.Now().Format("150405.000000000")
	rate := ratelimit.Rate{N: 20, Per: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var turns atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 3 {
		l := NewLimiter(c, name, rate)
		for range 4 { // workers per replica
			wg.Go(func() {
				for l.Wait(ctx) == nil && time.Since(start) < time.Second {
					turns.Add(1)
				}
			})
		}
	}
	wg.Wait()
	n := turns.Load()
	t.Logf("%d turns in a second across three replicas at 20/s", n)
	if n < 15 || n > 23 {
		t.Errorf("%d turns in a second across three replicas at 20/s", n)
	}
}

// TestLimiterDeadline: a turn beyond the context's deadline is refused at
// once with context.DeadlineExceeded, as the in-process pacer does.
func TestLimiterDeadline(t *testing.T) {
	l := NewLimiter(client(t), "deadline-test-"+time.Now().Format("150405.000000000"), ratelimit.Rate{N: 1, Per: time.Minute})
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := l.Wait(ctx); err == nil || !errorsIsDeadline(err) || time.Since(start) > 50*time.Millisecond {
		t.Errorf("a turn a minute away: %v after %v", err, time.Since(start))
	}
}

func errorsIsDeadline(err error) bool { return errors.Is(err, context.DeadlineExceeded) }

// TestRedisLimiterConformance: the limiter suite every backend passes,
// with each handle on a client of its own, as two replicas have.
func TestRedisLimiterConformance(t *testing.T) {
	ratelimittest.Limiter(t, func(t *testing.T, name string, r ratelimit.Rate) (a, b ratelimit.Limiter) {
		return NewLimiter(client(t), name, r), NewLimiter(client(t), name, r)
	})
}
