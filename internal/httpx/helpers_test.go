package httpx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// inProcess is a base transport that runs a handler in the calling
// goroutine: no sockets, so it works inside a testing/synctest bubble,
// where time only moves when every goroutine is blocked.
type inProcess struct {
	h    http.Handler
	sent atomic.Int64
}

func (p *inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		closeBody(req)
		return nil, err
	}
	p.sent.Add(1)
	sreq := req.Clone(req.Context())
	sreq.RequestURI = req.URL.RequestURI()
	if req.Body == nil {
		sreq.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, sreq)
	closeBody(req)
	if err := req.Context().Err(); err != nil {
		return nil, err // the handler saw the cancellation too
	}
	return rec.Result(), nil
}

// script answers with the given codes in turn (the last one repeats),
// with headers from hdr for the answer of the same index.
func script(codes []int, hdr func(i int, h http.Header)) http.Handler {
	var mu sync.Mutex
	n := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		code := codes[min(i, len(codes)-1)]
		if hdr != nil {
			hdr(i, w.Header())
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
}

type event struct {
	kind, provider, reason string
	code                   int
	err                    error
}

// recorder is an Observer that keeps what it hears.
type recorder struct {
	mu     sync.Mutex
	events []event
}

func (r *recorder) add(e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) Request(p string, code int, err error, _ time.Duration) {
	r.add(event{kind: "request", provider: p, code: code, err: err})
}
func (r *recorder) Retry(p, reason string) { r.add(event{kind: "retry", provider: p, reason: reason}) }
func (r *recorder) RateLimited(p string)   { r.add(event{kind: "ratelimited", provider: p}) }
func (r *recorder) BreakerState(p, from, to string) {
	r.add(event{kind: "breaker", provider: p, reason: from + ">" + to})
}

func (r *recorder) count(kind string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.kind == kind {
			n++
		}
	}
	return n
}

func (r *recorder) reasons(kind string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.kind == kind {
			out = append(out, e.reason)
		}
	}
	return out
}

// get sends a GET through c and reads the whole body.
func get(t *testing.T, c *http.Client, url string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(c, req)
}

func do(c *http.Client, req *http.Request) (*http.Response, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}
