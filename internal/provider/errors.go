package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/iocane/iocane/internal/httpx"
)

// Sentinel errors a Lookup may return (wrapped with %w). The engine turns
// them into a Finding with ErrorFinding.
var (
	// ErrUnauthorized means the provider rejected the credentials (401/403).
	ErrUnauthorized = errors.New("unauthorized: check the API key")
	// ErrRateLimited means the provider still answered 429 after the retries
	// the transport allows.
	ErrRateLimited = errors.New("rate limited by the provider")
	// ErrUnsupported means the provider does not handle this IOC type. The
	// engine never routes such a look-up; a Lookup returns it defensively.
	ErrUnsupported = errors.New("ioc type not supported")
	// ErrBadResponse means the body could not be understood (malformed JSON,
	// an unexpected shape).
	ErrBadResponse = errors.New("unexpected response")
)

// HTTPError is a non-success HTTP answer that the provider does not
// document as "not found". Body is a short, redacted excerpt.
type HTTPError struct {
	Code int
	Body string
}

func (e *HTTPError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("http status %d", e.Code)
	}
	return fmt.Sprintf("http status %d: %s", e.Code, e.Body)
}

// ErrorFinding turns a Lookup error into the Finding the output carries:
// quota and 429 exhaustion become rate_limited, everything else error, with a
// short reason.
func ErrorFinding(name string, err error) Finding {
	f := Finding{Provider: name, Status: StatusError, Reason: errText(err)}
	var ne net.Error
	switch {
	case errors.Is(err, httpx.ErrQuotaExceeded):
		f.Status, f.Reason, f.Postponed = StatusRateLimited, "quota spent", PostponedQuota
	case errors.Is(err, ErrRateLimited):
		f.Status, f.Reason, f.Postponed = StatusRateLimited, "rate limited by the provider (429)", PostponedThrottled
	case errors.Is(err, context.DeadlineExceeded):
		f.Reason = "deadline"
	case errors.Is(err, context.Canceled):
		f.Reason = "canceled"
	case errors.Is(err, httpx.ErrCircuitOpen):
		f.Reason, f.Postponed = "circuit open: provider failing, calls paused", PostponedCircuit
	case errors.Is(err, httpx.ErrBodyTooLarge):
		f.Reason = "response too large"
	case errors.Is(err, ErrUnauthorized):
		f.Reason = ErrUnauthorized.Error()
	case errors.As(err, &ne) && ne.Timeout():
		f.Reason = "timeout"
	}
	return f
}

// ErrNotConfigured is returned by a Spec's New when an optional source has
// nothing to work with (an allow-list with no files, GeoIP with no
// database). The engine reports the source as skipped, not as an error.
var ErrNotConfigured = errors.New("not configured")

// errText is an error's text without the method and URL that *url.Error
// puts in front ("Get \"https://…\": "): the provider is named already,
// and the URL adds nothing an analyst needs.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return Scrub(ue.Err).Error()
	}
	return err.Error()
}
