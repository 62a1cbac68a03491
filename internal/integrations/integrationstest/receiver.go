package integrationstest

// A generic webhook receiver.

import "net/http"

// Receiver is a fake generic webhook receiver: it records every POST and
// answers 204.
type Receiver struct{ *Fake }

// NewReceiver starts a receiver (no authentication: the body is signed).
func NewReceiver() *Receiver {
	return &Receiver{newFake("", func(string, http.Header) bool { return true }, func(_ *Fake, _ Request, w http.ResponseWriter) {
		w.WriteHeader(http.StatusNoContent)
	})}
}
