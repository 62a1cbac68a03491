package ratelimittest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ratelimit"
)

// NewLimiters makes two handles on the limiter of name at rate r that
// must share one budget: two Limiters.Get in one process, or two processes'
// limiters on one Redis.
type NewLimiters func(t *testing.T, name string, r ratelimit.Rate) (a, b ratelimit.Limiter)

// Limiter checks a limiter backend: it paces at its rate, two handles on
// one name share the rate rather than each having it, other names are
// independent, and a canceled wait returns at once. The timings are lower
// bounds only (a loaded machine can only make them slower), so the suite
// never fails for being slow.
func Limiter(t *testing.T, newLimiters NewLimiters) {
	ctx := context.Background()
	name := func(s string) string { return fmt.Sprintf("conformance-%s-%d", s, time.Now().UnixNano()) }
	const n = 10
	r := ratelimit.Rate{N: 50, Per: time.Second} // 20 ms apart
	// spent is how long n waits take, shared between a and b.
	spent := func(a, b ratelimit.Limiter) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for i := range n {
			l := a
			if i%2 == 1 {
				l = b
			}
			wg.Go(func() {
				if err := l.Wait(ctx); err != nil {
					t.Errorf("Wait: %v", err)
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	t.Run("HandlesShareOneRate", func(t *testing.T) {
		a, b := newLimiters(t, name("shared"), r)
		// n turns 20 ms apart take at least (n-1) × 20 ms, minus a turn of
		// slack for where the first falls; two private budgets would take
		// half that.
		if d, least := spent(a, b), time.Duration(n-2)*r.Interval(); d < least {
			t.Errorf("%d waits on two handles took %s; one shared rate takes at least %s", n, d, least)
		}
	})
	t.Run("NamesAreIndependent", func(t *testing.T) {
		a, _ := newLimiters(t, name("one"), r)
		_, b := newLimiters(t, name("two"), r)
		start := time.Now()
		if err := a.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("first turns of two names took %s", d)
		}
	})
	t.Run("CanceledWaitReturns", func(t *testing.T) {
		slow := ratelimit.Rate{N: 1, Per: time.Hour}
		a, _ := newLimiters(t, name("cancel"), slow)
		if err := a.Wait(ctx); err != nil { // the first turn is free
			t.Fatal(err)
		}
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := a.Wait(cctx); err == nil {
			t.Fatal("a second turn within the hour was given")
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("a canceled wait returned after %s", d)
		}
	})
}
