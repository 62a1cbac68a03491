package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/iocane/iocane/internal/ratelimit"
)

// notSentError marks an error raised before the request left: a limiter
// wait that failed or a quota refusal.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

func isNotSent(err error) bool {
	var ns *notSentError
	return errors.As(err, &ns)
}

// closeBody closes the request body of a request that will not be sent, as
// the RoundTripper contract asks.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// limitTransport waits for the limiter before every attempt.
type limitTransport struct {
	name string
	lim  Limiter
	next http.RoundTripper
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	done := waiting(req.Context())
	err := t.lim.Wait(req.Context())
	done()
	if err != nil {
		closeBody(req)
		return nil, &notSentError{fmt.Errorf("%s: rate limit: %w", t.name, err)}
	}
	resp, err := t.next.RoundTrip(req)
	if a, ok := t.lim.(ratelimit.Adapter); ok && err == nil {
		// What the provider says of its budget paces the next requests
		// (ratelimit/adapt.go).
		a.Adapt(ratelimit.FeedbackOf(resp, time.Now()))
	}
	return resp, err
}

// quotaTransport charges the quota for every request about to be sent.
type quotaTransport struct {
	name  string
	quota Quota
	obs   Observer
	next  http.RoundTripper
}

func (t *quotaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.quota.Take(req.Context()); err != nil {
		closeBody(req)
		if errors.Is(err, ErrQuotaExceeded) {
			t.obs.RateLimited(t.name)
		}
		return nil, &notSentError{fmt.Errorf("%s: %w", t.name, err)}
	}
	return t.next.RoundTrip(req)
}

// sendTransport sends one attempt under its own timeout, reports it to the
// observer and caps the response body.
type sendTransport struct {
	name    string
	timeout time.Duration
	maxBody int64
	obs     Observer
	now     func() time.Time
	next    http.RoundTripper
}

func (t *sendTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	start := t.now()
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	d := t.now().Sub(start)
	if err != nil {
		// Tell an attempt that timed out from a caller that gave up.
		if ctx.Err() == context.DeadlineExceeded && req.Context().Err() == nil {
			err = &timeoutError{d: t.timeout}
		}
		cancel()
		t.obs.Request(t.name, 0, err, d)
		return nil, err
	}
	t.obs.Request(t.name, resp.StatusCode, nil, d)
	resp.Body = &capBody{rc: resp.Body, left: t.maxBody, max: t.maxBody, cancel: cancel, ctx: ctx, parent: req.Context(), timeout: t.timeout}
	return resp, nil
}

// timeoutError is an attempt that ran out of time. It is a net.Error with
// Timeout true and matches context.DeadlineExceeded.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string   { return fmt.Sprintf("httpx: attempt timed out after %v", e.d) }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }
func (e *timeoutError) Unwrap() error   { return context.DeadlineExceeded }

// capBody fails reads past max bytes with ErrBodyTooLarge and ends the
// attempt's timeout when closed.
type capBody struct {
	rc      io.ReadCloser
	left    int64
	max     int64
	cancel  context.CancelFunc
	ctx     context.Context
	parent  context.Context
	timeout time.Duration
}

func (b *capBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("over %d bytes: %w", b.max, ErrBodyTooLarge)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n + int(b.left), fmt.Errorf("over %d bytes: %w", b.max, ErrBodyTooLarge)
	}
	if err != nil && err != io.EOF && b.ctx.Err() == context.DeadlineExceeded && b.parent.Err() == nil {
		err = &timeoutError{d: b.timeout}
	}
	return n, err
}

func (b *capBody) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}
