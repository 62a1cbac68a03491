package httpx

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

const fakeURL = "https://api.example.test/v1/lookup?key=SECRET-KEY-123"

func TestRetry503TwiceThen200(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{503, 503, 200}, nil)}
		obs := &recorder{}
		c := NewClient(Options{Name: "p", Base: base, Observer: obs})
		resp, body, err := get(t, c, fakeURL)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || string(body) != `{"ok":true}` {
			t.Errorf("got %d %q", resp.StatusCode, body)
		}
		if got := base.sent.Load(); got != 3 {
			t.Errorf("sent %d requests, want 3", got)
		}
		if got := obs.reasons("retry"); len(got) != 2 || got[0] != "5xx" {
			t.Errorf("retries = %v, want two 5xx", got)
		}
	})
}

func TestRetryAfterSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{429, 200}, func(i int, h http.Header) {
			if i == 0 {
				h.Set("Retry-After", "2")
			}
		})}
		obs := &recorder{}
		c := NewClient(Options{Name: "p", Base: base, Observer: obs})
		start := time.Now()
		resp, _, err := get(t, c, fakeURL)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v, %v", resp, err)
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("waited %v, want exactly 2s", got)
		}
		if obs.count("ratelimited") != 1 || obs.reasons("retry")[0] != "429" {
			t.Errorf("events = %+v", obs.events)
		}
	})
}

func TestRetryAfterHTTPDate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{503, 200}, func(i int, h http.Header) {
			if i == 0 {
				h.Set("Retry-After", time.Now().Add(3*time.Second).UTC().Format(http.TimeFormat))
			}
		})}
		c := NewClient(Options{Name: "p", Base: base})
		start := time.Now()
		resp, _, err := get(t, c, fakeURL)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v, %v", resp, err)
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("waited %v, want 3s", got)
		}
	})
}

func TestRetryAfterBeyondCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{429, 200}, func(_ int, h http.Header) { h.Set("Retry-After", "29241") })}
		c := NewClient(Options{Name: "p", Base: base})
		start := time.Now()
		resp, _, err := get(t, c, fakeURL)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 429 || time.Since(start) != 0 || base.sent.Load() != 1 {
			t.Errorf("got %d after %v and %d requests, want 429 at once after 1", resp.StatusCode, time.Since(start), base.sent.Load())
		}
	})
}

// TestRetryAfterCap separates the Retry-After cap from MaxElapsed: 90 s is
// over the default 60-s cap, and within a raised one.
func TestRetryAfterCap(t *testing.T) {
	for _, tc := range []struct {
		cap      time.Duration
		wantWait time.Duration
		wantCode int
	}{{0, 0, 429}, {2 * time.Minute, 90 * time.Second, 200}} {
		synctest.Test(t, func(t *testing.T) {
			base := &inProcess{h: script([]int{429, 200}, func(_ int, h http.Header) { h.Set("Retry-After", "90") })}
			c := NewClient(Options{Name: "p", Base: base, MaxElapsed: 10 * time.Minute, MaxRetryAfter: tc.cap})
			start := time.Now()
			resp, _, err := get(t, c, fakeURL)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantCode || time.Since(start) != tc.wantWait {
				t.Errorf("cap %v: got %d after %v, want %d after %v", tc.cap, resp.StatusCode, time.Since(start), tc.wantCode, tc.wantWait)
			}
		})
	}
}

func TestRetryAfterBeyondDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{429, 200}, func(_ int, h http.Header) { h.Set("Retry-After", "10") })}
		c := NewClient(Options{Name: "p", Base: base})
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fakeURL, nil)
		start := time.Now()
		resp, _, err := do(c, req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 429 || time.Since(start) != 0 {
			t.Errorf("got %d after %v, want 429 at once", resp.StatusCode, time.Since(start))
		}
	})
}

func TestPersistent429StopsAfterMaxAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{429}, func(_ int, h http.Header) { h.Set("Retry-After", "1") })}
		obs := &recorder{}
		c := NewClient(Options{Name: "p", Base: base, Observer: obs})
		start := time.Now()
		resp, _, err := get(t, c, fakeURL)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 429 {
			t.Errorf("status %d, want the final 429", resp.StatusCode)
		}
		if got := base.sent.Load(); got != DefaultMaxAttempts {
			t.Errorf("sent %d, want %d", got, DefaultMaxAttempts)
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("took %v, want 3s", got)
		}
		if obs.count("ratelimited") != 4 || obs.count("retry") != 3 {
			t.Errorf("events = %+v", obs.events)
		}
		// A persistent 429 is the provider's answer, not a failure: the
		// breaker stays closed.
		if s := BreakerOf(c).State(); s != "closed" {
			t.Errorf("breaker %s after 429s", s)
		}
	})
}

func Test429WithoutRetryAfterBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{429, 200}, nil)}
		c := NewClient(Options{Name: "p", Base: base, BackoffBase: time.Second})
		start := time.Now()
		resp, _, err := get(t, c, fakeURL)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v, %v", resp, err)
		}
		if d := time.Since(start); d < 500*time.Millisecond || d >= 1500*time.Millisecond {
			t.Errorf("backed off %v, want 1s ± 50%%", d)
		}
	})
}

func TestMaxElapsedBoundsRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{503}, nil)}
		c := NewClient(Options{Name: "p", Base: base, MaxAttempts: 100, BackoffBase: time.Second, BackoffMax: time.Second, MaxElapsed: 5 * time.Second, BreakerFailures: 100})
		start := time.Now()
		resp, _, err := get(t, c, fakeURL)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 503 || time.Since(start) > 5*time.Second {
			t.Errorf("got %d after %v", resp.StatusCode, time.Since(start))
		}
		if n := base.sent.Load(); n < 5 || n > 11 {
			t.Errorf("sent %d within 5s of 0.5-1s backoffs", n)
		}
	})
}

func TestCancelStopsRetryAfterWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{429, 200}, func(_ int, h http.Header) { h.Set("Retry-After", "30") })}
		c := NewClient(Options{Name: "p", Base: base})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fakeURL, nil)
		start := time.Now()
		_, _, err := do(c, req)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if got := time.Since(start); got != time.Second {
			t.Errorf("returned after %v, want 1s", got)
		}
		if base.sent.Load() != 1 {
			t.Errorf("sent %d", base.sent.Load())
		}
	})
}

func TestAttemptTimeoutRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		calls := 0
		base := &inProcess{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls++
			n := calls
			mu.Unlock()
			if n == 1 {
				<-r.Context().Done() // hang until the attempt times out
				return
			}
			_, _ = io.WriteString(w, "ok")
		})}
		obs := &recorder{}
		c := NewClient(Options{Name: "p", Base: base, Timeout: 5 * time.Second, Observer: obs})
		start := time.Now()
		resp, body, err := get(t, c, fakeURL)
		if err != nil || string(body) != "ok" {
			t.Fatalf("got %v %q, %v", resp, body, err)
		}
		if d := time.Since(start); d < 5*time.Second || d > 6*time.Second {
			t.Errorf("took %v, want the 5s timeout plus a short backoff", d)
		}
		if r := obs.reasons("retry"); len(r) != 1 || r[0] != "timeout" {
			t.Errorf("retries %v", r)
		}
	})
}

func TestAttemptTimeoutError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })}
		c := NewClient(Options{Name: "p", Base: base, Timeout: 5 * time.Second, MaxAttempts: 2})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fakeURL, nil)
		_, err := c.Transport.RoundTrip(req)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %#v, want a timeout net.Error", err)
		}
		if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "example.test") {
			t.Errorf("error text carries the URL: %q", err)
		}
		if base.sent.Load() != 2 {
			t.Errorf("sent %d, want 2", base.sent.Load())
		}
	})
}

func TestPOSTRetriedOnlyWhenAllowed(t *testing.T) {
	for _, tc := range []struct {
		name      string
		retryPOST bool
		body      func() io.Reader
		wantSent  int64
	}{
		{"not allowed", false, func() io.Reader { return strings.NewReader(`{"query":"search_ioc"}`) }, 1},
		{"rewindable", true, func() io.Reader { return strings.NewReader(`{"query":"search_ioc"}`) }, 3},
		{"buffered", true, func() io.Reader {
			return io.MultiReader(strings.NewReader(`{"query":`), strings.NewReader(`"search_ioc"}`))
		}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var bodies []string
				inner := script([]int{502, 503, 200}, nil)
				base := &inProcess{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					mu.Lock()
					bodies = append(bodies, string(b))
					mu.Unlock()
					inner.ServeHTTP(w, r)
				})}
				c := NewClient(Options{Name: "threatfox", Base: base, RetryPOST: tc.retryPOST})
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, fakeURL, tc.body())
				resp, _, err := do(c, req)
				if err != nil {
					t.Fatal(err)
				}
				if base.sent.Load() != tc.wantSent {
					t.Fatalf("sent %d, want %d (final status %d)", base.sent.Load(), tc.wantSent, resp.StatusCode)
				}
				for i, b := range bodies {
					if b != `{"query":"search_ioc"}` {
						t.Errorf("attempt %d body %q", i+1, b)
					}
				}
			})
		})
	}
}
