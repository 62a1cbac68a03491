package httpx

import "context"

// Waits is told when a request starts and stops waiting for its turn: for
// the rate limiter, or before a retry (a 429's Retry-After, a back-off).
// A caller that bounds a look-up by the provider's answering time, not by
// the time its budget makes it wait, pauses its clock in between (see
// enrich's call deadline). Start and End come in pairs and may nest.
type Waits interface {
	WaitStart()
	WaitEnd()
}

type waitsKey struct{}

// WithWaits returns ctx carrying w, which every client built by NewClient
// tells about the waits of the requests made with ctx.
func WithWaits(ctx context.Context, w Waits) context.Context {
	return context.WithValue(ctx, waitsKey{}, w)
}

// waiting tells ctx's Waits, if any, that a wait begins, and returns the
// function that says it ended.
func waiting(ctx context.Context) func() {
	w, ok := ctx.Value(waitsKey{}).(Waits)
	if !ok {
		return func() {}
	}
	w.WaitStart()
	return w.WaitEnd
}
