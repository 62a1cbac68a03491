package httpx

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/iocane/iocane/internal/ratelimit"
)

// strictFake is a provider that allows exactly 5 requests/s: a GCRA token
// bucket with burst 1 refilling every 200 ms. A request may arrive up to
// tolerance before its slot (network and scheduling jitter); one that comes
// earlier gets 429 with Retry-After. The long-run rate it admits is exactly
// 5/s and no two admitted requests are closer than interval-tolerance.
type strictFake struct {
	interval, tolerance time.Duration

	mu       sync.Mutex
	tat      time.Time // theoretical arrival time of the next request
	admitted []time.Time
	refused  int
}

func (f *strictFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	f.mu.Lock()
	if now.Before(f.tat.Add(-f.tolerance)) {
		f.refused++
		wait := f.tat.Add(-f.tolerance).Sub(now)
		f.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		http.Error(w, `{"error":"rate limited"}`, http.StatusTooManyRequests)
		return
	}
	f.tat = later(f.tat, now).Add(f.interval)
	f.admitted = append(f.admitted, now)
	f.mu.Unlock()
	_, _ = io.WriteString(w, `{"data":{"attributes":{"reputation":0}}}`)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// maxInWindow returns the most admitted requests in any half-open window
// [t, t+d).
func maxInWindow(ts []time.Time, d time.Duration) int {
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= d {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// minGap returns the shortest time between two admitted requests.
func minGap(ts []time.Time) time.Duration {
	gap := time.Duration(math.MaxInt64)
	for i := 1; i < len(ts); i++ {
		gap = min(gap, ts[i].Sub(ts[i-1]))
	}
	return gap
}

type countingObserver struct {
	nopObserver
	sent, seen429 atomic.Int64
}

func (o *countingObserver) Request(_ string, code int, _ error, _ time.Duration) {
	o.sent.Add(1)
	if code == http.StatusTooManyRequests {
		o.seen429.Add(1)
	}
}

// BenchmarkRateLimitedFanout is issue 3's acceptance 3: 200 goroutines look
// up through one client configured to 5/s, against a fake that allows
// exactly 5/s, for 20 s of real time. It reports achieved ÷ allowed
// ("ratio", the steady rate between the first and last admitted request
// over 5/s) and the 429s the fake sent (must be 0). max/1s and min-gap-ms
// describe arrivals at the fake: the client's turns are exactly 200 ms
// apart, and arrival jitter of a few milliseconds can put a sixth arrival
// in some 1-s window, which the fake's 100 ms tolerance admits, as a real
// provider's accounting must.
func BenchmarkRateLimitedFanout(b *testing.B) {
	const (
		workers  = 200
		allowed  = 5.0 // requests per second
		duration = 20 * time.Second
	)
	for range b.N {
		fake := &strictFake{interval: time.Second / allowed, tolerance: 100 * time.Millisecond}
		srv := httptest.NewServer(fake)
		tr := NewBaseTransport()
		obs := &countingObserver{}
		c := NewClient(Options{
			Name:     "fake",
			Limiter:  ratelimit.NewLimiter(ratelimit.Rate{N: 5, Per: time.Second}),
			Base:     tr,
			Observer: obs,
		})
		ctx, cancel := context.WithCancel(b.Context())
		var ok, failed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		stop := time.AfterFunc(duration, cancel)
		for range workers {
			wg.Go(func() {
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v3/ip_addresses/192.0.2.1", nil)
					resp, body, err := do(c, req)
					switch {
					case err == nil && resp.StatusCode == http.StatusOK && len(body) > 0:
						ok.Add(1)
					case ctx.Err() == nil:
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		stop.Stop()
		cancel()
		srv.Close()
		tr.CloseIdleConnections()

		fake.mu.Lock()
		adm, refused := fake.admitted, fake.refused
		fake.mu.Unlock()
		ratio := 0.0
		if len(adm) > 1 {
			achieved := float64(len(adm)-1) / adm[len(adm)-1].Sub(adm[0]).Seconds()
			ratio = achieved / allowed
		}
		b.ReportMetric(ratio, "ratio")
		b.ReportMetric(float64(refused), "429s")
		b.ReportMetric(float64(len(adm))/elapsed.Seconds(), "req/s")
		b.ReportMetric(float64(len(adm)), "admitted")
		b.ReportMetric(float64(maxInWindow(adm, time.Second)), "max/1s")
		b.ReportMetric(float64(minGap(adm).Microseconds())/1000, "min-gap-ms")
		b.Logf("%d workers for %v: fake admitted %d (%d ok to the client, %d failed), refused %d; client sent %d, saw %d 429s; ratio %.4f",
			workers, elapsed.Round(time.Millisecond), len(adm), ok.Load(), failed.Load(), refused, obs.sent.Load(), obs.seen429.Load(), ratio)
		if refused != 0 || obs.seen429.Load() != 0 || ratio < 0.95 {
			b.Errorf("acceptance 3 not met: %d 429s, ratio %.4f", refused, ratio)
		}
	}
}

// TestStrictFakeJudges checks the benchmark's judge: in fake time, a client
// paced at the fake's 5/s is never refused, one paced at 6/s is.
func TestStrictFakeJudges(t *testing.T) {
	for _, tc := range []struct {
		rate        ratelimit.Rate
		wantRefused bool
	}{
		{ratelimit.Rate{N: 5, Per: time.Second}, false},
		{ratelimit.Rate{N: 6, Per: time.Second}, true},
	} {
		synctest.Test(t, func(t *testing.T) {
			fake := &strictFake{interval: 200 * time.Millisecond, tolerance: 100 * time.Millisecond}
			c := NewClient(Options{Name: "fake", Base: &inProcess{h: fake}, Limiter: ratelimit.NewLimiter(tc.rate), MaxAttempts: 1})
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					for range 3 {
						if _, _, err := get(t, c, fakeURL); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			if got := fake.refused > 0; got != tc.wantRefused {
				t.Errorf("client at %v: fake refused %d of 60", tc.rate, fake.refused)
			}
		})
	}
}
