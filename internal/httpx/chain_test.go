package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/iocane/iocane/internal/ratelimit"
)

func TestBreakerOpensAndHalfOpens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var healthy atomic.Bool
		base := &inProcess{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !healthy.Load() {
				w.WriteHeader(http.StatusInternalServerError)
			}
		})}
		obs := &recorder{}
		c := NewClient(Options{Name: "p", Base: base, Observer: obs})
		br := BreakerOf(c)
		// First call: 4 attempts, all 500, returned as the final 500.
		resp, _, err := get(t, c, fakeURL)
		if err != nil || resp.StatusCode != 500 || base.sent.Load() != 4 {
			t.Fatalf("first call: %v, %v after %d sends", resp, err, base.sent.Load())
		}
		// Second call: the 5th failure opens the breaker; the retry is refused.
		_, _, err = get(t, c, fakeURL)
		if !errors.Is(err, ErrCircuitOpen) || base.sent.Load() != 5 || br.State() != "open" {
			t.Fatalf("second call: %v after %d sends, breaker %s", err, base.sent.Load(), br.State())
		}
		// Third call: nothing is sent.
		start := time.Now()
		_, _, err = get(t, c, fakeURL)
		if !errors.Is(err, ErrCircuitOpen) || base.sent.Load() != 5 || time.Since(start) != 0 {
			t.Fatalf("open breaker: %v after %d sends in %v", err, base.sent.Load(), time.Since(start))
		}
		// After the cool-down it lets a probe through; success closes it.
		time.Sleep(DefaultBreakerCoolDown)
		if br.State() != "half-open" {
			t.Fatalf("after cool-down the breaker is %s", br.State())
		}
		healthy.Store(true)
		resp, _, err = get(t, c, fakeURL)
		if err != nil || resp.StatusCode != 200 || br.State() != "closed" {
			t.Fatalf("probe: %v, %v, breaker %s", resp, err, br.State())
		}
		if got := strings.Join(obs.reasons("breaker"), " "); got != "closed>open open>half-open half-open>closed" {
			t.Errorf("breaker changes %q", got)
		}
	})
}

func TestBreakerFailedProbeReopens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{502}, nil)}
		c := NewClient(Options{Name: "p", Base: base, MaxAttempts: 1, BreakerFailures: 2, BreakerCoolDown: 10 * time.Second})
		for range 2 {
			_, _, _ = get(t, c, fakeURL)
		}
		if s := BreakerOf(c).State(); s != "open" {
			t.Fatalf("breaker %s after 2 failures", s)
		}
		time.Sleep(10*time.Second + time.Millisecond) // gobreaker half-opens strictly after the cool-down
		resp, _, err := get(t, c, fakeURL)            // the probe fails
		if err != nil || resp.StatusCode != 502 || base.sent.Load() != 3 {
			t.Fatalf("probe: %v %v", resp, err)
		}
		if s := BreakerOf(c).State(); s != "open" {
			t.Errorf("breaker %s after a failed probe", s)
		}
	})
}

func TestBreakerIgnoresClientErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{404, 401, 403, 429, 404, 404, 404, 404, 404, 404}, nil)}
		c := NewClient(Options{Name: "p", Base: base, MaxAttempts: 1, BreakerFailures: 2})
		for range 10 {
			if _, _, err := get(t, c, fakeURL); err != nil {
				t.Fatal(err)
			}
		}
		if s := BreakerOf(c).State(); s != "closed" {
			t.Errorf("breaker %s after 4xx answers", s)
		}
		// Caller cancellations do not count either.
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for range 3 {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fakeURL, nil)
			_, _ = c.Transport.RoundTrip(req)
		}
		if s := BreakerOf(c).State(); s != "closed" {
			t.Errorf("breaker %s after cancellations", s)
		}
	})
}

func TestQuotaRefusesWithoutSending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble's clock starts at 2000-01-01 00:00 UTC.
		time.Sleep(20 * time.Hour)
		base := &inProcess{h: script([]int{200}, nil)}
		obs := &recorder{}
		q := ratelimit.NewQuota("vt", []ratelimit.Window{{N: 3, Period: ratelimit.Day}}, nil)
		c := NewClient(Options{Name: "vt", Base: base, Quota: q, Observer: obs})
		for i := range 3 {
			if _, _, err := get(t, c, fakeURL); err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
		}
		_, _, err := get(t, c, fakeURL)
		if !errors.Is(err, ErrQuotaExceeded) || !errors.Is(err, ratelimit.ErrQuotaExceeded) {
			t.Fatalf("4th request: %v, want ErrQuotaExceeded", err)
		}
		if base.sent.Load() != 3 {
			t.Errorf("sent %d, want 3", base.sent.Load())
		}
		if obs.count("ratelimited") != 1 || obs.count("retry") != 0 {
			t.Errorf("events %+v", obs.events)
		}
		if s := BreakerOf(c).State(); s != "closed" {
			t.Errorf("breaker %s after quota refusals", s)
		}
		time.Sleep(4 * time.Hour) // 00:00 UTC
		if _, _, err := get(t, c, fakeURL); err != nil {
			t.Fatalf("after midnight UTC: %v", err)
		}
		if base.sent.Load() != 4 {
			t.Errorf("sent %d, want 4", base.sent.Load())
		}
	})
}

func TestQuotaChargedPerAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{503, 503, 200}, nil)}
		q := ratelimit.NewQuota("p", []ratelimit.Window{{N: 2, Period: ratelimit.Day}}, nil)
		c := NewClient(Options{Name: "p", Base: base, Quota: q})
		_, _, err := get(t, c, fakeURL)
		if !errors.Is(err, ErrQuotaExceeded) || base.sent.Load() != 2 {
			t.Errorf("third attempt past a 2/d quota: %v after %d sends", err, base.sent.Load())
		}
	})
}

func TestLimiterPacesEveryAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{200}, nil)}
		c := NewClient(Options{Name: "p", Base: base, Limiter: ratelimit.NewLimiter(ratelimit.Rate{N: 5, Per: time.Second})})
		const n = 21
		start := time.Now()
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if _, _, err := get(t, c, fakeURL); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got, want := time.Since(start), (n-1)*time.Second/5; got != want {
			t.Errorf("%d requests at 5/s took %v, want %v", n, got, want)
		}

		// Retries wait their turn too: a 503 then 200 at 1/m takes a minute.
		base = &inProcess{h: script([]int{503, 200}, nil)}
		c = NewClient(Options{Name: "p", Base: base, Limiter: ratelimit.NewLimiter(ratelimit.Rate{N: 1, Per: time.Minute}), MaxElapsed: 2 * time.Minute})
		start = time.Now()
		if resp, _, err := get(t, c, fakeURL); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v", resp, err)
		}
		if got := time.Since(start); got != time.Minute {
			t.Errorf("retry at 1/m came after %v, want 1m", got)
		}
	})
}

func TestBodyTooLarge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 4096))
	}))
	defer srv.Close()
	tr := NewBaseTransport()
	defer tr.CloseIdleConnections()
	for _, tc := range []struct {
		max     int64
		wantErr bool
	}{{1024, true}, {4095, true}, {4096, false}, {0, false}} {
		c := NewClient(Options{Name: "p", Base: tr, MaxBody: tc.max})
		_, body, err := get(t, c, srv.URL)
		if tc.wantErr {
			if !errors.Is(err, ErrBodyTooLarge) || int64(len(body)) != tc.max {
				t.Errorf("MaxBody %d: read %d bytes, err %v; want %d bytes and ErrBodyTooLarge", tc.max, len(body), err, tc.max)
			}
		} else if err != nil || len(body) != 4096 {
			t.Errorf("MaxBody %d: read %d bytes, err %v", tc.max, len(body), err)
		}
	}
}

// TestRealServer503TwiceThen200 runs the chain over a real socket and the
// real base transport (with a millisecond backoff, so no timing matters).
func TestRealServer503TwiceThen200(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"data":"ok"}`)
	}))
	defer srv.Close()
	tr := NewBaseTransport()
	defer tr.CloseIdleConnections()
	c := NewClient(Options{Name: "p", Base: tr, BackoffBase: time.Millisecond, BackoffMax: 2 * time.Millisecond})
	resp, body, err := get(t, c, srv.URL+"/x?key=SECRET")
	if err != nil || resp.StatusCode != 200 || string(body) != `{"data":"ok"}` || n.Load() != 3 {
		t.Fatalf("got %v %q %v after %d requests", resp, body, err, n.Load())
	}
}

func TestErrorsCarryNoURL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &inProcess{h: script([]int{500}, nil)}
		q := ratelimit.NewQuota("p", []ratelimit.Window{{N: 4, Period: ratelimit.Day}}, nil)
		c := NewClient(Options{Name: "p", Base: base, Quota: q, MaxAttempts: 1, BreakerFailures: 3})
		var errs []error
		for range 6 {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fakeURL, nil)
			req.Header.Set("X-Apikey", "SECRET-HEADER")
			resp, err := c.Transport.RoundTrip(req)
			if err != nil {
				errs = append(errs, err)
			} else {
				discard(resp)
			}
		}
		q2 := ratelimit.NewQuota("p", []ratelimit.Window{{N: 1, Period: ratelimit.Day}}, nil)
		_ = q2.Take(t.Context())
		c2 := NewClient(Options{Name: "p", Base: base, Quota: q2})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fakeURL, nil)
		if _, err := c2.Transport.RoundTrip(req); err != nil {
			errs = append(errs, err)
		}
		if len(errs) < 2 {
			t.Fatalf("want circuit-open and quota errors, got %v", errs)
		}
		for _, err := range errs {
			if s := err.Error(); strings.Contains(s, "SECRET") || strings.Contains(s, "example.test") || strings.Contains(s, "lookup") {
				t.Errorf("error text %q carries the URL or a header", s)
			}
		}
	})
}

func TestRedirectsStayOnHost(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("redirect followed to another host with key %q", r.Header.Get("X-Apikey"))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/steal", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/final", http.StatusFound)
		default:
			_, _ = io.WriteString(w, "final")
		}
	}))
	defer srv.Close()
	tr := NewBaseTransport()
	defer tr.CloseIdleConnections()
	c := NewClient(Options{Name: "p", Base: tr})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/away", nil)
	req.Header.Set("X-Apikey", "SECRET")
	if _, _, err := do(c, req); !errors.Is(err, errRedirect) {
		t.Errorf("cross-host redirect: %v", err)
	}
	if _, body, err := get(t, c, srv.URL+"/here"); err != nil || string(body) != "final" {
		t.Errorf("same-host redirect: %q %v", body, err)
	}
}

// TestBreakerCancelledProbeFreesTheSlot: a half-open probe whose caller
// gives up says nothing about the provider, and the next request may probe.
func TestBreakerCancelledProbeFreesTheSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var healthy atomic.Bool
		base := &inProcess{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !healthy.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		})}
		c := NewClient(Options{Name: "p", Base: base, MaxAttempts: 1, BreakerFailures: 1, BreakerCoolDown: time.Second,
			Limiter: ratelimit.NewLimiter(ratelimit.Rate{N: 1, Per: 10 * time.Second})})
		_, _, _ = get(t, c, fakeURL) // opens the breaker
		time.Sleep(2 * time.Second)
		// The probe waits for its turn (8 s more) and its caller gives up.
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fakeURL, nil)
		if _, err := c.Transport.RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("probe: %v", err)
		}
		if s := BreakerOf(c).State(); s != "half-open" {
			t.Fatalf("breaker %s after a cancelled probe", s)
		}
		healthy.Store(true)
		resp, _, err := get(t, c, fakeURL)
		if err != nil || resp.StatusCode != 200 || BreakerOf(c).State() != "closed" {
			t.Fatalf("second probe: %v %v, breaker %s", resp, err, BreakerOf(c).State())
		}
		if BreakerOf(http.DefaultClient) != nil || BreakerOf(nil) != nil {
			t.Error("BreakerOf a foreign client is not nil")
		}
	})
}

// TestBreakerHalfOpenCallersWaitForTheProbe: callers that arrive while the
// half-open probe is in flight wait for it and then go through when it
// succeeds; none is failed with ErrCircuitOpen (a recovered provider had
// 56 % of a new job's look-ups refused). When the probe fails they are
// refused, since the breaker is open again.
func TestBreakerHalfOpenCallersWaitForTheProbe(t *testing.T) {
	for _, recovered := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			var healthy atomic.Bool
			release := make(chan struct{})
			var probes atomic.Int64
			base := &inProcess{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !healthy.Load() {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				if probes.Add(1) == 1 {
					<-release // the probe is slow
				}
			})}
			c := NewClient(Options{Name: "p", Base: base, MaxAttempts: 1, BreakerFailures: 2, BreakerCoolDown: 10 * time.Second})
			for range 2 {
				_, _, _ = get(t, c, fakeURL)
			}
			time.Sleep(10*time.Second + time.Millisecond)
			healthy.Store(true)
			if !recovered {
				healthy.Store(false)
				probes.Store(0)
				base.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					<-release
					w.WriteHeader(http.StatusBadGateway)
				})
			}
			errs := make(chan error, 21)
			for range 21 {
				go func() {
					resp, _, err := get(t, c, fakeURL)
					if err == nil && resp.StatusCode != 200 {
						err = errors.New(resp.Status)
					}
					errs <- err
				}()
			}
			synctest.Wait() // one probe in flight, twenty callers waiting
			close(release)
			var open, other int
			for range 21 {
				switch err := <-errs; {
				case errors.Is(err, ErrCircuitOpen):
					open++
				case err != nil:
					other++
				}
			}
			if recovered && (open != 0 || other != 0 || BreakerOf(c).State() != "closed") {
				t.Errorf("recovered: %d refused as circuit open, %d other errors, breaker %s; want all through", open, other, BreakerOf(c).State())
			}
			if !recovered && (open != 20 || other != 1) {
				t.Errorf("probe failed: %d refused, %d other errors; want 20 refused and the probe's 502", open, other)
			}
		})
	}
}
