package integrations

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/iocane/iocane/internal/httpx"
	"github.com/iocane/iocane/internal/provider"
)

// NewHTTPClient returns the client a sink sends with: the httpx chain with
// one attempt per request (the Dispatcher retries and counts), its circuit
// breaker, per-attempt timeout, response-size cap and same-host redirects.
// base replaces the transport (tests); nil means httpx's shared one.
func NewHTTPClient(name string, timeout time.Duration, base http.RoundTripper) *http.Client {
	return httpx.NewClient(httpx.Options{Name: name, MaxAttempts: 1, Timeout: timeout, Base: base, MaxBody: 1 << 20})
}

// StatusError is a destination's non-2xx answer. Body is a short excerpt,
// scrubbed of the sink's secrets.
type StatusError struct {
	Sink string
	Code int
	Body string
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("%s: http %d", e.Sink, e.Code)
	}
	return fmt.Sprintf("%s: http %d: %s", e.Sink, e.Code, e.Body)
}

// Retryable reports whether a retry may succeed: 5xx, 408, 425 and 429.
func (e *StatusError) Retryable() bool {
	return e.Code >= 500 || e.Code == http.StatusRequestTimeout || e.Code == http.StatusTooEarly || e.Code == http.StatusTooManyRequests
}

// Request is one call a sink makes.
type Request struct {
	Method string
	URL    string
	Header http.Header
	// JSON is marshalled as the body unless Body is set.
	JSON any
	Body []byte
	// ContentType defaults to application/json.
	ContentType string
}

// Call sends r and returns the answer when it is 2xx. Any other answer is
// a *StatusError, wrapped in ErrPermanent unless retryable (401 and 403
// wrap provider.ErrUnauthorized too). Transport errors are returned as
// they are (retried). Every error is scrubbed of secrets.
func Call(ctx context.Context, c *http.Client, sink string, r Request, secrets ...provider.Secret) (*provider.Response, error) {
	body := r.Body
	if body == nil && r.JSON != nil {
		var err error
		if body, err = json.Marshal(r.JSON); err != nil {
			return nil, Permanent(fmt.Errorf("%s: encoding the request: %w", sink, err))
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := provider.NewRequest(ctx, r.Method, r.URL, rd)
	if err != nil {
		return nil, Permanent(fmt.Errorf("%s: %w", sink, err))
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if body != nil {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	resp, err := provider.Do(c, req, secrets...)
	if err != nil {
		return nil, provider.Scrub(fmt.Errorf("%s: %w", sink, err), secrets...)
	}
	if resp.Code >= 200 && resp.Code < 300 {
		return resp, nil
	}
	se := &StatusError{Sink: sink, Code: resp.Code, Body: provider.RedactedExcerpt(resp.Body, 300, secrets...)}
	var out error = provider.Scrub(se, secrets...)
	switch {
	case resp.Code == http.StatusUnauthorized || resp.Code == http.StatusForbidden:
		out = Permanent(fmt.Errorf("%w: %w", provider.ErrUnauthorized, out))
	case !se.Retryable():
		out = Permanent(out)
	}
	return resp, out
}
