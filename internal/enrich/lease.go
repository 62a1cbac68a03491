package enrich

import (
	"context"
	"time"

	"github.com/iocane/iocane/internal/cache"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

// Leases keeps one look-up of a provider × IOC in flight across processes
// that share a cache (replicas on one Redis: redisx.Leases). Within a
// process the Source's flight map already collapses callers; a lease
// extends that to the fleet. Acquire takes the lease named key for ttl,
// ok=false when another process holds it; release frees it if it is still
// the caller's. An error means the backend did not answer: the look-up is
// made without a lease, as by a process alone.
type Leases interface {
	Acquire(ctx context.Context, key string, ttl time.Duration) (release func(), ok bool, err error)
}

// Lease timing. A holder renews its lease while it works (redisx.Leases),
// so the TTL only bounds how long a dead holder keeps others waiting.
const (
	// LeaseTTL is a lease's life without renewal when look-ups have no
	// IOCTimeout; with one it is the timeout plus LeaseMargin.
	LeaseTTL    = 30 * time.Second
	LeaseMargin = 5 * time.Second
	// LeasePoll is how often a process waiting on another's lease looks
	// for the answer in the shared cache.
	LeasePoll = 50 * time.Millisecond
)

func (s *Source) leaseTTL() time.Duration {
	if s.callTimeout > 0 {
		return s.callTimeout + LeaseMargin
	}
	return LeaseTTL
}

// callOnce makes the look-up of i and caches the answer, holding the
// fleet's lease on provider × IOC when there are Leases: a process that
// finds the lease taken waits for the holder's answer to reach the cache
// and uses it (marked cached), or takes the lease when the holder lets it
// go without a cacheable answer, or dies and its lease expires. After
// taking the lease the cache is read once more, as the previous holder
// may have answered since this process missed it. The lease is released
// after the answer is cached, so a waiter that finds it free finds the
// answer too.
func (s *Source) callOnce(ctx context.Context, i ioc.IOC) provider.Finding {
	if s.leases == nil || s.cache == nil {
		f := s.call(ctx, i)
		s.store(i, f)
		return f
	}
	key := s.Spec.Name + ":" + string(i.Type) + ":" + i.Value
	for {
		release, ok, err := s.leases.Acquire(ctx, key, s.leaseTTL())
		if err != nil {
			f := s.call(ctx, i)
			s.store(i, f)
			return f
		}
		if ok {
			defer release()
			if f, hit := s.fromCache(ctx, i); hit {
				return f
			}
			f := s.call(ctx, i)
			s.store(i, f)
			return f
		}
		t := time.NewTimer(LeasePoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return gaveUp(s.Spec.Name, ctx.Err())
		}
		if f, hit := s.fromCache(ctx, i); hit {
			return f
		}
	}
}

// fromCache reads another process's answer about i, marked cached.
func (s *Source) fromCache(ctx context.Context, i ioc.IOC) (provider.Finding, bool) {
	e, ok, err := s.cache.Get(ctx, cache.Key{Provider: s.Spec.Name, IOC: i})
	if err != nil || !ok {
		return provider.Finding{}, false
	}
	f := e.Finding
	f.Provider, f.Cached = s.Spec.Name, true
	return f, true
}
