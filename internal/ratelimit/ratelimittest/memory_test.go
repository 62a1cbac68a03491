package ratelimittest

import (
	"testing"

	"github.com/iocane/iocane/internal/ratelimit"
)

func TestMemoryQuotaStore(t *testing.T) { QuotaStore(t, ratelimit.NewMemoryStore(), "mem") }

func TestMemoryLimiter(t *testing.T) {
	Limiter(t, func(t *testing.T, name string, r ratelimit.Rate) (a, b ratelimit.Limiter) {
		var ls ratelimit.Limiters
		a, err := ls.Get(name, r)
		if err != nil {
			t.Fatal(err)
		}
		b, err = ls.Get(name, r)
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	})
}
