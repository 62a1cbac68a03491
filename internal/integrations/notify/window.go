package notify

import (
	"context"
	"time"
)

// storm is a channel's storm window: at most n sends in any span of per,
// counted by this process (*window, the default) or by the fleet, in
// Redis (redisWindow). The notifier's mutex serializes calls.
type storm interface {
	// take takes up to want sends at now and returns how many the window
	// allows (0 to want).
	take(ctx context.Context, now time.Time, want int) int
	// next is when the next send will be allowed (now when one is).
	next(ctx context.Context, now time.Time) time.Time
}

// window is a sliding-window limit: at most n sends in any span of per.
// n or per of zero is no limit. Not safe for concurrent use.
type window struct {
	n    int
	per  time.Duration
	sent []time.Time // oldest first
}

var _ storm = (*window)(nil)

func (w *window) unlimited() bool { return w.n <= 0 || w.per <= 0 }

func (w *window) take(_ context.Context, now time.Time, want int) int {
	if w.unlimited() {
		return max(want, 0)
	}
	k := max(min(want, w.available(now)), 0)
	w.record(now, k)
	return k
}

// record counts k sends at now, whether the window allows them or not
// (sends the fleet's window allowed, when this window is its fallback).
func (w *window) record(now time.Time, k int) {
	if w.unlimited() {
		return
	}
	w.prune(now)
	for range k {
		w.sent = append(w.sent, now)
	}
}

// available is the number of sends allowed at now.
func (w *window) available(now time.Time) int {
	if w.unlimited() {
		return int(^uint(0) >> 1)
	}
	w.prune(now)
	return w.n - len(w.sent)
}

func (w *window) next(_ context.Context, now time.Time) time.Time {
	if w.available(now) > 0 {
		return now
	}
	// The send that must leave the window for one more to fit.
	return w.sent[len(w.sent)-w.n].Add(w.per)
}

func (w *window) prune(now time.Time) {
	i := 0
	for i < len(w.sent) && now.Sub(w.sent[i]) >= w.per {
		i++
	}
	w.sent = append(w.sent[:0], w.sent[i:]...)
}
