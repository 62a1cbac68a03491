package enrich

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/iocane/iocane/internal/httpx"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/tlp"
)

// paced is a provider that asks an in-memory HTTP service through the
// client every provider uses (httpx: retries, breaker, rate limit), so the
// waits it makes are the real ones.
type paced struct {
	client *http.Client
}

func (p *paced) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://vt.invalid/"+i.Value, nil)
	resp, err := p.client.Do(req)
	if err != nil {
		return provider.Finding{}, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return provider.Finding{Status: provider.StatusError, Reason: resp.Status}, nil
	}
	return provider.Finding{Status: provider.StatusNotFound}, nil
}

// service answers after latency; the first answer for a value listed in
// busy is a 429 with Retry-After.
type service struct {
	latency    time.Duration
	retryAfter string
	mu         sync.Mutex
	busy       map[string]bool
}

func (s *service) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case <-time.After(s.latency):
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	s.mu.Lock()
	v := strings.TrimPrefix(req.URL.Path, "/")
	tooMany := s.busy[v]
	delete(s.busy, v)
	s.mu.Unlock()
	resp := &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: req}
	if tooMany {
		resp.StatusCode = http.StatusTooManyRequests
		resp.Header.Set("Retry-After", s.retryAfter)
	}
	return resp, nil
}

func pacedEngine(t *testing.T, rate ratelimit.Rate, svc *service, timeout time.Duration) *Engine {
	p := &paced{client: httpx.NewClient(httpx.Options{Name: "vt", Limiter: ratelimit.NewLimiter(rate), Base: svc, MaxRetryAfter: time.Minute, MaxElapsed: 2 * time.Minute, Timeout: time.Minute})}
	s := src("vt", false, tlp.Amber, p)
	s.Rate = rate
	return newEngine(t, Options{Sources: []*Source{s}, Only: []string{"vt"}, IOCTimeout: timeout})
}

// TestRateWaitIsNotTheDeadline is issue 17's first acceptance point on fake
// time: twelve IOCs at VirusTotal's free 4/min with the server's 30 s
// per-IOC timeout all end not_found, none "deadline", about three minutes
// in (before, eleven of twelve waited past 30 s for their turn and failed).
func TestRateWaitIsNotTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pacedEngine(t, ratelimit.Rate{N: 4, Per: time.Minute}, &service{latency: 300 * time.Millisecond}, 30*time.Second)
		start := time.Now()
		var wg sync.WaitGroup
		statuses := make([]string, 12)
		for n := range statuses {
			wg.Go(func() {
				r := e.Enrich(context.Background(), Item{IOC: ioc.IOC{Type: ioc.IPv4, Value: fmt.Sprintf("45.33.0.%d", n+1)}, TLP: tlp.Amber})
				s, _ := r.Source("vt")
				statuses[n] = s.Status + " " + s.Reason
			})
		}
		wg.Wait()
		for n, s := range statuses {
			if s != "not_found " {
				t.Errorf("IOC %d: %q, want not_found", n, s)
			}
		}
		if d := time.Since(start); d < 2*time.Minute || d > 3*time.Minute+time.Second {
			t.Errorf("12 look-ups at 4/min took %v, want about 2m45s", d)
		}
	})
}

// The call deadline still bounds a provider that does not answer, and a
// 429's Retry-After, a wait, does not count against it.
func TestCallDeadlineCountsAnsweringTimeOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pacedEngine(t, ratelimit.Rate{}, &service{latency: 45 * time.Second}, 30*time.Second)
		start := time.Now()
		r := e.Enrich(context.Background(), Item{IOC: public, TLP: tlp.Amber})
		if s, _ := r.Source("vt"); s.Status != "error" || s.Reason != "deadline" {
			t.Errorf("a 45 s answer under a 30 s deadline: %s %q, want error deadline", s.Status, s.Reason)
		}
		if d := time.Since(start); d != 30*time.Second {
			t.Errorf("cut after %v, want 30s", d)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		svc := &service{latency: 10 * time.Second, retryAfter: "40", busy: map[string]bool{public.Value: true}}
		e := pacedEngine(t, ratelimit.Rate{}, svc, 30*time.Second)
		start := time.Now()
		r := e.Enrich(context.Background(), Item{IOC: public, TLP: tlp.Amber})
		if s, _ := r.Source("vt"); s.Status != "not_found" {
			t.Errorf("10 s, a 40 s Retry-After, 10 s under a 30 s deadline: %s %q, want not_found", s.Status, s.Reason)
		}
		if d := time.Since(start); d != time.Minute {
			t.Errorf("answered after %v, want 1m", d)
		}
	})
}
