package enrich

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/httpx"
)

// errCallDeadline is the cause of a look-up cut by its call deadline.
var errCallDeadline = fmt.Errorf("call deadline: %w", context.DeadlineExceeded)

// callClock bounds one look-up by the provider's answering time: its clock
// runs from the call until the answer, and stops while the request waits
// for its turn (the rate limiter, a 429's Retry-After, a back-off), which
// httpx reports through httpx.Waits. A look-up the budget postpones is
// therefore never failed as "deadline": the wait is bounded by the run's
// or the job's own deadline instead.
type callClock struct {
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	timer   *time.Timer
	left    time.Duration // time left on the clock when it last stopped
	since   time.Time     // when the clock last started
	waits   int           // waits in progress; the clock runs at 0
	stopped bool          // the look-up ended
}

// withCallDeadline returns ctx bounded by d of answering time and the
// function that releases it.
func withCallDeadline(ctx context.Context, d time.Duration) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	c := &callClock{cancel: cancel, left: d, since: time.Now()}
	c.timer = time.AfterFunc(d, func() { cancel(errCallDeadline) })
	return httpx.WithWaits(ctx, c), c.release
}

// WaitStart stops the clock.
func (c *callClock) WaitStart() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits++
	if c.waits == 1 && !c.stopped && c.timer.Stop() {
		c.left -= time.Since(c.since)
	}
}

// WaitEnd starts the clock again once no wait is left.
func (c *callClock) WaitEnd() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits--
	if c.waits == 0 && !c.stopped {
		c.since = time.Now()
		c.timer.Reset(max(c.left, 0))
	}
}

func (c *callClock) release() {
	c.mu.Lock()
	c.stopped = true
	c.timer.Stop()
	c.mu.Unlock()
	c.cancel(nil)
}
