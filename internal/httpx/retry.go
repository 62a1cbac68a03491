package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/iocane/iocane/internal/ratelimit"
)

// retryTransport sends a request up to maxAttempts times: after a 429 it
// waits out Retry-After (capped), after a 5xx, a timeout or a reset it backs
// off exponentially with jitter. It gives up, returning the last answer as
// is, when the next wait would pass maxElapsed, ctx's deadline or the
// Retry-After cap.
type retryTransport struct {
	o       Options
	breaker *Breaker
	next    http.RoundTripper
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	retryable := t.o.MaxAttempts > 1 && (idempotent(req.Method) || t.o.RetryPOST)
	getBody := req.GetBody
	if retryable && hasBody(req) && getBody == nil {
		req, getBody, retryable = bufferBody(req)
	}
	start := t.o.Now()
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			r = req.Clone(ctx)
			if hasBody(req) {
				body, err := getBody()
				if err != nil {
					return nil, fmt.Errorf("%s: rewinding the request body: %w", t.o.Name, err)
				}
				r.Body = body
			}
		}
		resp, err := t.next.RoundTrip(r)
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			t.o.Observer.RateLimited(t.o.Name)
		}
		if !retryable || attempt >= t.o.MaxAttempts || ctx.Err() != nil {
			return resp, err
		}
		reason, wait, ok := t.decide(resp, err, attempt)
		if !ok {
			return resp, err
		}
		at := t.o.Now().Add(wait)
		if at.Sub(start) > t.o.MaxElapsed {
			return resp, err
		}
		if dl, ok := ctx.Deadline(); ok && !at.Before(dl) {
			return resp, err
		}
		discard(resp)
		t.o.Observer.Retry(t.o.Name, reason)
		done := waiting(ctx)
		err = t.o.Sleep(ctx, wait)
		done()
		if err != nil {
			return nil, fmt.Errorf("%s: waiting to retry: %w", t.o.Name, err)
		}
	}
}

// decide says whether an attempt's outcome is worth retrying, why, and
// after how long.
func (t *retryTransport) decide(resp *http.Response, err error, attempt int) (reason string, wait time.Duration, ok bool) {
	if err != nil {
		switch {
		case isNotSent(err), errors.Is(err, ErrCircuitOpen):
			return "", 0, false
		case isTimeout(err):
			return "timeout", t.backoff(attempt), true
		case isReset(err):
			return "reset", t.backoff(attempt), true
		}
		return "", 0, false
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		reason = "429"
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		reason = "5xx"
	default:
		return "", 0, false
	}
	if ra, ok := ratelimit.ParseRetryAfter(resp.Header.Get("Retry-After"), t.o.Now()); ok {
		if ra > t.o.MaxRetryAfter {
			return "", 0, false
		}
		return reason, ra, true
	}
	return reason, t.backoff(attempt), true
}

// backoff is base·2^(attempt-1), capped at BackoffMax, with ±50 % jitter.
func (t *retryTransport) backoff(attempt int) time.Duration {
	d := t.o.BackoffBase
	for i := 1; i < attempt && d < t.o.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, t.o.BackoffMax)
	d = d/2 + rand.N(d) // [d/2, 3d/2)
	return min(d, t.o.BackoffMax)
}

func idempotent(method string) bool {
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

func hasBody(req *http.Request) bool { return req.Body != nil && req.Body != http.NoBody }

// bufferBody reads a body that cannot be rewound into memory so that it can
// be resent. A body over maxBufferedRequestBody is sent once, unbuffered.
func bufferBody(req *http.Request) (*http.Request, func() (io.ReadCloser, error), bool) {
	buf, err := io.ReadAll(io.LimitReader(req.Body, maxBufferedRequestBody+1))
	r := req.Clone(req.Context())
	if err != nil || len(buf) > maxBufferedRequestBody {
		// Send what was read and the rest, once; the error, if any, shows
		// up when the transport reads the body.
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), errReader{err}, req.Body), req.Body}
		return r, nil, false
	}
	_ = req.Body.Close()
	getBody := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	r.Body, _ = getBody()
	r.GetBody = getBody
	r.ContentLength = int64(len(buf))
	return r, getBody, true
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}

// discard drains a little of a response that is thrown away, so its
// connection can be reused, and closes it.
func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainDiscardedBodies))
	_ = resp.Body.Close()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
