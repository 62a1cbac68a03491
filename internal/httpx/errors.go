package httpx

import (
	"errors"

	"github.com/iocane/iocane/internal/ratelimit"
)

// Errors the transport chain returns from RoundTrip (wrapped with %w).
var (
	// ErrQuotaExceeded means the provider's daily or monthly quota is spent;
	// no request was sent. It is ratelimit.ErrQuotaExceeded, so a
	// *ratelimit.ExceededError (which says when the window resets) matches it.
	ErrQuotaExceeded = ratelimit.ErrQuotaExceeded
	// ErrCircuitOpen means the breaker is open after repeated failures; no
	// request was sent.
	ErrCircuitOpen = errors.New("httpx: circuit open")
	// ErrBodyTooLarge is returned by the response body reader once the body
	// passes the size cap.
	ErrBodyTooLarge = errors.New("httpx: response body too large")
)
