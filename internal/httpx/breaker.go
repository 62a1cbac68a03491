package httpx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Breaker is a provider's circuit breaker (sony/gobreaker): after a run of
// consecutive failures it opens and the chain answers ErrCircuitOpen
// without sending; after the cool-down it lets one probe through
// (half-open), and closes again when the probe succeeds. Callers that come
// while the probe is in flight wait for its outcome, within their own
// deadline: they go on when it closes the breaker, and are refused only
// when it opens it again. A recovered provider is not failed for being
// asked by many at once.
//
// Failures are 5xx answers (500, 502, 503, 504 and the rest), timeouts and
// transport errors. Answers that say nothing about the provider's health
// count as successes: 2xx, 3xx and 4xx, including 401, 404 and 429.
// Cancellations by the caller and quota refusals are not counted at all.
type Breaker struct {
	cb *gobreaker.TwoStepCircuitBreaker[struct{}]

	coolDown time.Duration

	mu       sync.Mutex
	wake     chan struct{} // closed, and replaced, when a probe ends or the state changes
	openedAt time.Time     // when it last opened
}

// NewBreaker returns a breaker that opens after failures consecutive
// failures and half-opens after coolDown (defaults 5 and 30 s when zero).
// onChange, if not nil, hears of every state change.
func NewBreaker(name string, failures int, coolDown time.Duration, onChange func(from, to string)) *Breaker {
	if failures <= 0 {
		failures = DefaultBreakerFailures
	}
	if coolDown <= 0 {
		coolDown = DefaultBreakerCoolDown
	}
	st := gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     coolDown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(failures) },
		IsExcluded:  func(err error) bool { return errors.Is(err, errNotCounted) },
	}
	b := &Breaker{wake: make(chan struct{}), coolDown: coolDown}
	st.OnStateChange = func(_ string, from, to gobreaker.State) {
		if to == gobreaker.StateOpen {
			b.mu.Lock()
			b.openedAt = time.Now()
			b.mu.Unlock()
		}
		b.broadcast()
		if onChange != nil {
			onChange(from.String(), to.String())
		}
	}
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](st)
	return b
}

// allow admits a request, waiting while a half-open probe is in flight. It
// returns the function that records the request's outcome, or an error
// wrapping gobreaker.ErrOpenState, or the context's error.
func (b *Breaker) allow(ctx context.Context) (func(error), error) {
	for {
		b.mu.Lock()
		wake := b.wake
		b.mu.Unlock()
		probe := b.cb.State() == gobreaker.StateHalfOpen
		done, err := b.cb.Allow()
		switch {
		case err == nil && probe:
			return func(outcome error) { done(outcome); b.broadcast() }, nil
		case err == nil:
			return done, nil
		case !errors.Is(err, gobreaker.ErrTooManyRequests):
			return nil, err
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// broadcast wakes the callers waiting in allow.
func (b *Breaker) broadcast() {
	b.mu.Lock()
	close(b.wake)
	b.wake = make(chan struct{})
	b.mu.Unlock()
}

// State returns "closed", "half-open" or "open".
func (b *Breaker) State() string { return b.cb.State().String() }

// ReadyAt returns when an open breaker lets its next probe through; the
// zero time when it is not open.
func (b *Breaker) ReadyAt() time.Time {
	if !b.Open() {
		return time.Time{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.openedAt.Add(b.coolDown)
}

// Open reports whether the breaker is refusing requests now.
func (b *Breaker) Open() bool { return b.cb.State() == gobreaker.StateOpen }

var (
	errFailure    = errors.New("failure")
	errNotCounted = errors.New("not counted")
)

// BreakerOf returns the breaker of a client made by NewClient, or nil.
func BreakerOf(c *http.Client) *Breaker {
	if c == nil {
		return nil
	}
	if t, ok := c.Transport.(*retryTransport); ok {
		return t.breaker
	}
	return nil
}

// breakerTransport refuses requests while the breaker is open and records
// each attempt's outcome.
type breakerTransport struct {
	name    string
	breaker *Breaker
	next    http.RoundTripper
}

func (t *breakerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	done, err := t.breaker.allow(req.Context())
	if err != nil {
		closeBody(req)
		if errors.Is(err, gobreaker.ErrOpenState) {
			return nil, fmt.Errorf("%s: %w", t.name, ErrCircuitOpen)
		}
		return nil, &notSentError{fmt.Errorf("%s: waiting for the circuit breaker's probe: %w", t.name, err)}
	}
	resp, err := t.next.RoundTrip(req)
	done(breakerOutcome(req, resp, err))
	return resp, err
}

func breakerOutcome(req *http.Request, resp *http.Response, err error) error {
	switch {
	case err == nil && resp.StatusCode >= 500:
		return errFailure
	case err == nil:
		return nil
	case req.Context().Err() != nil, isNotSent(err):
		// The caller gave up, or nothing was sent: no news about the provider.
		return errNotCounted
	}
	return errFailure
}
