package enrich

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iocane/iocane/internal/cache"
	"github.com/iocane/iocane/internal/httpx"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/tlp"
)

// Source is one built provider with its own queue and worker pool, so that a
// slow, tightly limited provider never holds back the others.
type Source struct {
	Spec     provider.Spec
	Provider provider.Provider
	// MaxTLP is the configured ceiling (at most the Spec's).
	MaxTLP tlp.Level
	// Workers is the pool size; Start derives it from the rate when zero.
	Workers int
	// Rate is the configured request rate, used to size the pool.
	Rate ratelimit.Rate
	// Logger, when set, gets a debug line per look-up (never a credential:
	// reasons are scrubbed, see provider.Scrub).
	Logger *slog.Logger
	// Quota and Breaker, when set, are the provider's budget and circuit
	// breaker, read (never charged) to tell when a deferrable look-up
	// cannot be made now (see blocked).
	Quota   *ratelimit.Quota
	Breaker *httpx.Breaker
	// Pacer, when set, is the provider's limiter, whose current spacing
	// (slowed by the provider's 429s, see ratelimit/adapt.go) dates a
	// turn; without it the configured Rate does.
	Pacer ratelimit.Pacer

	// cache receives every cacheable answer from the worker that got it,
	// before the worker takes its next look-up: an answer is persisted
	// before anyone sees it, so a crash loses at most the look-ups in
	// flight (one per worker), never an answer already given.
	cache cache.Cache
	now   func() time.Time
	// callTimeout bounds each look-up's answering time (Options.IOCTimeout).
	callTimeout time.Duration
	// leases keeps one look-up per IOC in flight across processes
	// (Options.Leases); nil for none.
	leases Leases

	queue  chan *task
	mu     sync.Mutex
	flight map[ioc.IOC]*call
	depth  atomic.Int64
	wg     sync.WaitGroup
}

type task struct {
	ctx context.Context
	ioc ioc.IOC
	c   *call
}

// call is one look-up shared by everyone who asked for the same IOC while it
// was in flight.
type call struct {
	done chan struct{}
	f    provider.Finding
}

// poolSize sizes a worker pool to a rate: enough workers to keep the rate
// busy at one second of latency each, between 1 and 64.
func poolSize(r ratelimit.Rate) int {
	if r.Unlimited() {
		return 16
	}
	perSec := float64(r.N) / r.Per.Seconds()
	return max(1, min(64, int(math.Ceil(perSec))))
}

// start launches the workers; they stop when ctx ends or stop is called.
func (s *Source) start(ctx context.Context) {
	if s.Workers <= 0 {
		s.Workers = poolSize(s.Rate)
	}
	s.queue = make(chan *task, 4*s.Workers)
	s.flight = map[ioc.IOC]*call{}
	for range s.Workers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.work(ctx)
		}()
	}
}

func (s *Source) stop() {
	close(s.queue)
	s.wg.Wait()
}

// QueueDepth is the number of look-ups waiting or running.
func (s *Source) QueueDepth() int { return int(s.depth.Load()) }

// lookup asks the provider about i, joining a look-up already in flight for
// the same IOC. It returns when the answer arrives or ctx ends. With a
// horizon, a look-up whose rate turn, behind those queued, comes after
// the horizon or ctx's deadline is not queued: it comes back deferred
// (see defer.go). The place in the queue is taken and tested in one step,
// so a burst of callers never all see the queue empty.
func (s *Source) lookup(ctx context.Context, i ioc.IOC, horizon time.Duration, now time.Time) provider.Finding {
	s.mu.Lock()
	c, joined := s.flight[i]
	if !joined {
		c = &call{done: make(chan struct{})}
		s.flight[i] = c
	}
	s.mu.Unlock()
	if !joined {
		n := s.depth.Add(int64(1))
		if at, late := s.turnLate(ctx, n, now, horizon); late {
			s.finish(i, c, deferredFinding(s.Spec.Name, provider.PostponedTurn, at, now))
			return c.f
		}
		select {
		case s.queue <- &task{ctx: ctx, ioc: i, c: c}:
		case <-ctx.Done():
			s.finish(i, c, gaveUp(s.Spec.Name, ctx.Err()))
		}
	}
	select {
	case <-c.done:
		return c.f
	case <-ctx.Done():
		return gaveUp(s.Spec.Name, ctx.Err())
	}
}

// gaveUp is the finding of a look-up whose asker stopped waiting before
// its turn: nothing was asked, so it can be asked later.
func gaveUp(name string, err error) provider.Finding {
	f := deadlineFinding(name, err)
	f.Postponed = provider.PostponedTurn
	return f
}

// finish gives a counted look-up its answer. The queue depth drops first,
// so that whoever sees the answer never sees it still queued (the final
// progress line read "queued: virustotal 1" after the last result).
func (s *Source) finish(i ioc.IOC, c *call, f provider.Finding) {
	s.depth.Add(int64(-1))
	s.mu.Lock()
	if s.flight[i] == c {
		delete(s.flight, i)
	}
	s.mu.Unlock()
	c.f = f
	close(c.done)
}

func (s *Source) work(ctx context.Context) {
	b, batching := s.Provider.(provider.Batcher)
	for t := range s.queue {
		if !batching || b.MaxBatch() <= 1 {
			f := s.callOnce(t.ctx, t.ioc)
			s.finish(t.ioc, t.c, f)
			continue
		}
		batch := []*task{t}
	fill:
		for len(batch) < b.MaxBatch() {
			select {
			case more, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, more)
			default:
				break fill
			}
		}
		s.callBatch(ctx, b, batch)
	}
}

// call makes one look-up, unless the asker has already given up: a look-up
// nobody waits for would spend quota for nothing.
func (s *Source) call(ctx context.Context, i ioc.IOC) provider.Finding {
	if err := ctx.Err(); err != nil {
		return gaveUp(s.Spec.Name, err)
	}
	if s.callTimeout > 0 {
		var release func()
		ctx, release = withCallDeadline(ctx, s.callTimeout)
		defer release()
	}
	start := time.Now()
	f, err := s.Provider.Lookup(ctx, i)
	switch {
	case context.Cause(ctx) == errCallDeadline && (err != nil || f.Status == provider.StatusError):
		f = deadlineFinding(s.Spec.Name, errCallDeadline)
	case err != nil && ctx.Err() != nil && context.Cause(ctx) != errCallDeadline:
		f = gaveUp(s.Spec.Name, ctx.Err()) // the asker stopped waiting: no answer, no failure
	case err != nil:
		f = provider.ErrorFinding(s.Spec.Name, err)
	}
	f.Provider = s.Spec.Name
	f.Latency = time.Since(start)
	if s.Logger != nil {
		s.Logger.Debug("lookup", "provider", f.Provider, "ioc", i.String(), "status", f.Status, "reason", f.Reason, "latency", f.Latency)
	}
	return f
}

func (s *Source) callBatch(ctx context.Context, b provider.Batcher, batch []*task) {
	live := batch[:0:0]
	for _, t := range batch {
		if err := t.ctx.Err(); err != nil {
			s.finish(t.ioc, t.c, gaveUp(s.Spec.Name, err))
			continue
		}
		live = append(live, t)
	}
	if len(live) == 0 {
		return
	}
	is := make([]ioc.IOC, len(live))
	for n, t := range live {
		is[n] = t.ioc
	}
	bctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	start := time.Now()
	fs, err := b.LookupBatch(bctx, is)
	d := time.Since(start)
	for n, t := range live {
		var f provider.Finding
		switch {
		case err != nil:
			f = provider.ErrorFinding(s.Spec.Name, err)
		case n < len(fs):
			f = fs[n]
		default:
			f = provider.ErrorFinding(s.Spec.Name, errors.New("batch answer too short"))
		}
		f.Provider, f.Latency = s.Spec.Name, d
		s.store(t.ioc, f)
		s.finish(t.ioc, t.c, f)
	}
}

// store caches an answer with the provider's TTL for its outcome (a
// not-found answer expires sooner).
func (s *Source) store(i ioc.IOC, f provider.Finding) {
	if s.cache == nil || !cache.Cacheable(f) {
		return
	}
	ttl := s.Spec.TTL
	if f.Status == provider.StatusNotFound {
		ttl = s.Spec.NotFoundTTL
	}
	if ttl <= 0 {
		return
	}
	now := time.Now()
	if s.now != nil {
		now = s.now()
	}
	err := s.cache.Put(context.Background(), cache.Key{Provider: s.Spec.Name, IOC: i}, cache.Entry{Finding: f, StoredAt: now, ExpiresAt: now.Add(ttl)})
	if err != nil && s.Logger != nil {
		s.Logger.Warn("cache write failed: the answer will be asked for again next time", "provider", s.Spec.Name, "err", err)
	}
}

func deadlineFinding(name string, err error) provider.Finding {
	f := provider.ErrorFinding(name, err)
	if errors.Is(err, context.DeadlineExceeded) {
		f.Reason = "deadline"
	}
	return f
}
