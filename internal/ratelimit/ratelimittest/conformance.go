// Package ratelimittest holds the conformance suite every QuotaStore
// backend passes: the in-memory one, the SQLite store's and Redis's. The
// same test, run against each, is what lets replicas swap one for another.
package ratelimittest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ratelimit"
)

// QuotaStore checks s: counts start at 0, Add is atomic under concurrent
// callers (and returns the new count), a negative Add gives back, keys are
// independent, and a Quota over s never overspends when many take at once.
// prefix keeps the test's keys apart from others in a shared backend.
func QuotaStore(t *testing.T, s ratelimit.QuotaStore, prefix string) {
	ctx := context.Background()
	key := func(k string) string { return fmt.Sprintf("%s:%d:%s", prefix, time.Now().UnixNano(), k) }
	t.Run("StartsAtZero", func(t *testing.T) {
		if n, err := s.Get(ctx, key("fresh")); err != nil || n != 0 {
			t.Fatalf("Get of an unknown key = %d, %v", n, err)
		}
	})
	t.Run("AddReturnsTheNewCount", func(t *testing.T) {
		k := key("add")
		for want := int64(1); want <= 3; want++ {
			if n, err := s.Add(ctx, k, 1); err != nil || n != want {
				t.Fatalf("Add = %d, %v; want %d", n, err, want)
			}
		}
		if n, err := s.Add(ctx, k, -2); err != nil || n != 1 {
			t.Fatalf("giving back 2 = %d, %v; want 1", n, err)
		}
		if n, err := s.Get(ctx, k); err != nil || n != 1 {
			t.Fatalf("Get = %d, %v; want 1", n, err)
		}
		if n, _ := s.Get(ctx, key("other")); n != 0 {
			t.Fatalf("another key counts %d", n)
		}
	})
	t.Run("AtomicUnderConcurrency", func(t *testing.T) {
		k := key("race")
		var wg sync.WaitGroup
		seen := make([]int64, 200)
		for i := range seen {
			wg.Go(func() {
				n, err := s.Add(ctx, k, 1)
				if err != nil {
					t.Error(err)
				}
				seen[i] = n
			})
		}
		wg.Wait()
		got := map[int64]bool{}
		for _, n := range seen {
			got[n] = true
		}
		if n, _ := s.Get(ctx, k); n != 200 || len(got) != 200 {
			t.Fatalf("200 concurrent Adds: count %d, %d distinct results (want 200 and 200)", n, len(got))
		}
	})
	t.Run("QuotaNeverOverspends", func(t *testing.T) {
		q := ratelimit.NewQuota(key("quota"), []ratelimit.Window{{N: 25, Period: ratelimit.Day}}, s)
		var wg sync.WaitGroup
		var mu sync.Mutex
		taken := 0
		for range 100 {
			wg.Go(func() {
				if q.Take(ctx) == nil {
					mu.Lock()
					taken++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if taken != 25 {
			t.Fatalf("%d of 100 concurrent takes went through a quota of 25", taken)
		}
	})
}
