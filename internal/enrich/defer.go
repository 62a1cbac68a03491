package enrich

// Deferred look-ups. A server job's IOC (Item.Defer) never fails because
// the budget said "not now": a look-up that cannot be made before the job's
// deadline, or within the horizon (the rate turn is far away, a quota
// window is spent until it resets, the circuit breaker is open, the
// provider still answers 429), comes back deferred: status rate_limited,
// reason "queued: virustotal budget, ETA 14:32Z", and the time it is due.
// The job keeps it in its durable backlog and asks again through Later,
// then Revise puts the answer into the stored result. The CLI does not
// defer: it waits, bounded by its run deadline.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/score"
)

// DefaultDeferHorizon is how far away a rate turn may be before a
// deferrable look-up is deferred rather than queued (Options.DeferHorizon).
const DefaultDeferHorizon = time.Minute

// Waits after which a postponed look-up is due again when its source
// cannot say: a 429 that outlasted the retries, a breaker with no cool-down
// known, a quota whose reset could not be read.
const (
	throttledRetry = time.Minute
	unknownRetry   = 30 * time.Second
)

// blocked reports whether s cannot make a look-up now, and when it could:
// its breaker is open, or a quota window is spent.
func (s *Source) blocked(ctx context.Context) (provider.Postponement, time.Time) {
	if s.Breaker != nil {
		if at := s.Breaker.ReadyAt(); !at.IsZero() {
			return provider.PostponedCircuit, at
		}
	}
	if at := s.quotaReset(ctx); !at.IsZero() {
		return provider.PostponedQuota, at
	}
	return provider.NotPostponed, time.Time{}
}

// turnLate reports whether the rate turn of the look-up at place n in the
// source's queue comes after ctx's deadline or the horizon, and when it
// comes. It never is for an unlimited source or a zero horizon.
func (s *Source) turnLate(ctx context.Context, n int64, now time.Time, horizon time.Duration) (time.Time, bool) {
	if horizon <= 0 || s.Rate.Unlimited() {
		return time.Time{}, false
	}
	at := s.turnAt(n, now)
	limit := now.Add(horizon)
	if dl, ok := ctx.Deadline(); ok && dl.Before(limit) {
		limit = dl
	}
	return at, at.After(limit)
}

// turnAt is when the rate turn of the look-up at place n in the source's
// queue comes: n intervals from now, at the pace the provider allows now.
func (s *Source) turnAt(n int64, now time.Time) time.Time {
	interval := s.Rate.Interval()
	if s.Pacer != nil {
		interval = max(interval, s.Pacer.Interval())
	}
	return now.Add(time.Duration(n) * interval)
}

// lookupOrDefer is lookup for a deferrable look-up: deferred at once when
// the breaker or the quota says no, or when its turn is beyond horizon or
// ctx's deadline, and deferred when the answer was postponed.
func (s *Source) lookupOrDefer(ctx context.Context, i ioc.IOC, horizon time.Duration, now time.Time) provider.Finding {
	if why, at := s.blocked(ctx); why != provider.NotPostponed {
		return deferredFinding(s.Spec.Name, why, at, now)
	}
	return s.deferPostponed(ctx, s.lookup(ctx, i, horizon, now), now)
}

// quotaReset returns when the last spent quota window of s resets, the
// zero time when none is spent.
func (s *Source) quotaReset(ctx context.Context) time.Time {
	if s.Quota == nil {
		return time.Time{}
	}
	usage, err := s.Quota.Usage(ctx)
	if err != nil {
		return time.Time{}
	}
	var at time.Time
	for _, u := range usage {
		if u.Remaining <= 0 && u.ResetsAt.After(at) {
			at = u.ResetsAt
		}
	}
	return at
}

// deferPostponed turns a look-up that was postponed, not answered, into a
// deferred one due when the budget allows again; other findings are
// returned as they are.
func (s *Source) deferPostponed(ctx context.Context, f provider.Finding, now time.Time) provider.Finding {
	var at time.Time
	switch f.Postponed {
	case provider.NotPostponed:
		return f
	case provider.PostponedTurn:
		at = s.turnAt(s.depth.Load()+1, now)
	case provider.PostponedQuota:
		at = s.quotaReset(context.WithoutCancel(ctx))
	case provider.PostponedCircuit:
		if s.Breaker != nil {
			at = s.Breaker.ReadyAt()
		}
	case provider.PostponedThrottled:
		at = now.Add(throttledRetry)
	}
	if !at.After(now) {
		at = now.Add(unknownRetry)
	}
	return deferredFinding(s.Spec.Name, f.Postponed, at, now)
}

// deferredFinding is a look-up put off until at.
func deferredFinding(name string, why provider.Postponement, at, now time.Time) provider.Finding {
	what := "budget"
	switch why {
	case provider.PostponedQuota:
		what = "quota spent"
	case provider.PostponedCircuit:
		what = "circuit open"
	case provider.PostponedThrottled:
		what = "429s"
	}
	return provider.Finding{Provider: name, Status: provider.StatusRateLimited, Postponed: why, Deferred: true,
		Until: at.UTC(), Reason: fmt.Sprintf("queued: %s %s, ETA %s", name, what, etaText(at, now))}
}

// etaText writes at to the minute, in UTC, with the date when it is not
// today's.
func etaText(at, now time.Time) string {
	at, now = at.UTC(), now.UTC()
	if at.YearDay() == now.YearDay() && at.Year() == now.Year() {
		return at.Format("15:04Z")
	}
	return at.Format("2006-01-02 15:04Z")
}

func (e *Engine) horizon() time.Duration {
	if e.opts.DeferHorizon > 0 {
		return e.opts.DeferHorizon
	}
	return DefaultDeferHorizon
}

// errGone is the answer to a deferred look-up of a provider this process
// no longer has (its key was removed since).
var errGone = errors.New("provider no longer configured: deferred look-up dropped")

// Later makes a deferred look-up of provider name for i: from the cache
// when it holds an answer, else from the provider when its budget allows
// now, else deferred again (Finding.Deferred, due at Finding.Until).
func (e *Engine) Later(ctx context.Context, name string, i ioc.IOC) provider.Finding {
	s := e.sources[name]
	if s == nil {
		return provider.ErrorFinding(name, errGone)
	}
	if f, ok := e.cached(ctx, name, i); ok {
		f.Cached = true
		return f
	}
	return s.lookupOrDefer(ctx, i, e.horizon(), e.opts.Now())
}

// Capacity is how many deferred look-ups of provider name are worth having
// in flight at once: its worker pool.
func (e *Engine) Capacity(name string) int {
	if s := e.sources[name]; s != nil && s.Workers > 0 {
		return s.Workers
	}
	return 1
}

// Revise puts f, the answer of a deferred look-up, into r: the source is
// replaced, the score, verdict and reasons are computed again, Final says
// whether any look-up is still deferred, and Revised keeps the verdict and
// score r had before its first change.
func (e *Engine) Revise(r result.Result, f provider.Finding) result.Result {
	before := result.Revision{Verdict: r.Verdict, Score: r.Score}
	src := sourceOf(f, f.Cached)
	r.Sources = slices.Clone(r.Sources)
	if n := slices.IndexFunc(r.Sources, func(s result.Source) bool { return s.Provider == f.Provider }); n >= 0 {
		r.Sources[n] = src
	} else {
		r.Sources = append(r.Sources, src)
	}
	score.Score(e.opts.Policy, score.FromSources(r.Sources, e.reliability)).Apply(&r)
	final := !slices.ContainsFunc(r.Sources, func(s result.Source) bool { return s.Deferred })
	r.Final = &final
	if r.Verdict != before.Verdict || r.Score != before.Score {
		if r.Revised == nil {
			r.Revised = &before
		}
		r.Revised.At = e.opts.Now().UTC()
	}
	return r
}

// sourceOf is a finding as a result's source.
func sourceOf(f provider.Finding, cached bool) result.Source {
	return result.Source{
		Provider: f.Provider, Status: string(f.Status), Reason: f.Reason, Cached: cached || f.Cached,
		LatencyMS: f.Latency.Milliseconds(), Summary: f.Summary, Link: f.Link, Data: f.Data, Tags: f.Tags,
		Malicious: f.Malicious, Benign: f.Benign, Deferred: f.Deferred, Until: f.Until,
	}
}
