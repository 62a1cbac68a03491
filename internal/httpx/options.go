package httpx

import (
	"context"
	"net/http"
	"time"
)

// Defaults for the zero fields of Options.
const (
	DefaultMaxAttempts      = 4
	DefaultMaxElapsed       = 30 * time.Second
	DefaultMaxRetryAfter    = 60 * time.Second
	DefaultTimeout          = 20 * time.Second
	DefaultMaxBody          = 8 << 20
	DefaultBackoffBase      = 500 * time.Millisecond
	DefaultBackoffMax       = 10 * time.Second
	DefaultBreakerFailures  = 5
	DefaultBreakerCoolDown  = 30 * time.Second
	DefaultMaxRedirects     = 5
	maxBufferedRequestBody  = 4 << 20
	maxDrainDiscardedBodies = 64 << 10
)

// Limiter paces requests; ratelimit.Limiter satisfies it.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Quota counts requests against a provider's quota; *ratelimit.Quota
// satisfies it. Take returns an error matching ErrQuotaExceeded when a
// window is spent.
type Quota interface {
	Take(ctx context.Context) error
}

// Observer is told what the chain does, for metrics and logs. Calls come
// from the requesting goroutines and must be quick and concurrency-safe.
type Observer interface {
	// Request is called once per request actually sent (every attempt),
	// with the status code (0 on a transport error), the error and the
	// time to the response headers.
	Request(provider string, code int, err error, d time.Duration)
	// Retry is called before each retry, with the reason: "429", "5xx",
	// "timeout" or "reset".
	Retry(provider string, reason string)
	// RateLimited is called for each 429 the provider answers and each
	// request the quota refuses.
	RateLimited(provider string)
}

// BreakerObserver may also be implemented by an Observer to hear of circuit
// breaker state changes ("closed", "half-open", "open").
type BreakerObserver interface {
	BreakerState(provider string, from, to string)
}

// Options configures NewClient. Every zero field takes its default.
type Options struct {
	// Name is the provider name, used in errors, metrics and the breaker.
	Name string
	// Limiter paces every attempt, retries included. Nil means no limit.
	Limiter Limiter
	// Quota is charged once for every request actually sent, retries
	// included. Nil means no quota.
	Quota Quota
	// MaxAttempts bounds the attempts per request, the first included.
	// Default 4; 1 disables retries.
	MaxAttempts int
	// MaxElapsed bounds the time from the first attempt to the start of the
	// last one. Default 30 s.
	MaxElapsed time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits out; a
	// longer one ends the retries and the 429 goes back to the caller.
	// Default 60 s.
	MaxRetryAfter time.Duration
	// BackoffBase and BackoffMax shape the exponential backoff after 5xx,
	// timeouts and resets: base·2^(n-1), capped at max, with ±50 % jitter.
	// Defaults 500 ms and 10 s.
	BackoffBase, BackoffMax time.Duration
	// Timeout bounds each attempt, from sending to the end of reading the
	// body. Default 20 s.
	Timeout time.Duration
	// MaxBody caps a response body: reading past it fails with
	// ErrBodyTooLarge. Default 8 MiB.
	MaxBody int64
	// RetryPOST allows retrying POST and PATCH requests. Off by default,
	// since they may not be idempotent; turn it on for read-only query
	// APIs (abuse.ch, ThreatFox, MISP restSearch, Safe Browsing). The body
	// is rewound with req.GetBody, or buffered when that is unset.
	RetryPOST bool
	// Breaker is the circuit breaker; nil means a new one from
	// BreakerFailures and BreakerCoolDown. Pass one to read its state.
	Breaker *Breaker
	// BreakerFailures is the run of consecutive failures (5xx, timeouts,
	// transport errors) that opens the breaker. Default 5.
	BreakerFailures int
	// BreakerCoolDown is how long the breaker stays open before letting
	// one probe through (half-open). Default 30 s.
	BreakerCoolDown time.Duration
	// Base is the transport that sends; nil means a shared http.Transport
	// with dial, TLS and header timeouts (see NewBaseTransport).
	Base http.RoundTripper
	// Observer hears of requests, retries and 429s; nil is fine.
	Observer Observer
	// Now and Sleep are the clock, for tests; nil means time.Now and a
	// timer that honours ctx. Tests under testing/synctest need neither.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "http"
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxElapsed <= 0 {
		o.MaxElapsed = DefaultMaxElapsed
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.BreakerFailures <= 0 {
		o.BreakerFailures = DefaultBreakerFailures
	}
	if o.BreakerCoolDown <= 0 {
		o.BreakerCoolDown = DefaultBreakerCoolDown
	}
	if o.Base == nil {
		o.Base = defaultBase
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

type nopObserver struct{}

func (nopObserver) Request(string, int, error, time.Duration) {}
func (nopObserver) Retry(string, string)                      {}
func (nopObserver) RateLimited(string)                        {}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
