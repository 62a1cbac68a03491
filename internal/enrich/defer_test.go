package enrich

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// Twelve IOCs of a server job at VirusTotal's free 4/min: the look-ups
// whose turn is within the horizon are made, the others come back deferred
// with their ETA; asked again when due (as the backlog does), every one
// ends not_found, none "deadline", about three minutes after the start.
// The CLI (no Defer) keeps waiting instead.
func TestTurnBeyondHorizonIsDeferredThenLands(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := pacedEngine(t, ratelimit.Rate{N: 4, Per: time.Minute}, &service{latency: 300 * time.Millisecond}, 30*time.Second)
		start := time.Now()
		var wg sync.WaitGroup
		rs := make([]result.Result, 12)
		for n := range rs {
			wg.Go(func() {
				rs[n] = e.Enrich(context.Background(), Item{IOC: ioc.IOC{Type: ioc.IPv4, Value: fmt.Sprintf("45.33.0.%d", n+1)}, TLP: tlp.Amber, Defer: true})
			})
		}
		wg.Wait()
		deferred := 0
		for n, r := range rs {
			s, _ := r.Source("vt")
			switch {
			case s.Deferred:
				deferred++
				if s.Status != "rate_limited" || !strings.HasPrefix(s.Reason, "queued: vt budget, ETA ") || !s.Until.After(start.Add(time.Minute)) || !r.Pending() {
					t.Errorf("IOC %d deferred as %+v (final %v)", n, s, r.Final)
				}
			case s.Status != "not_found" || r.Final != nil:
				t.Errorf("IOC %d: %s %q, final %v; want not_found or deferred", n, s.Status, s.Reason, r.Final)
			}
		}
		if deferred < 6 || deferred > 8 {
			t.Errorf("%d of 12 deferred at 4/min with a 1-minute horizon, want 7 or so", deferred)
		}
		// The backlog's part: ask again when due, until every one lands.
		for n := range rs {
			for {
				s, _ := rs[n].Source("vt")
				if !s.Deferred {
					break
				}
				time.Sleep(time.Until(s.Until))
				rs[n] = e.Revise(rs[n], e.Later(context.Background(), "vt", rs[n].IOC))
			}
			if s, _ := rs[n].Source("vt"); s.Status != "not_found" || rs[n].Pending() {
				t.Errorf("IOC %d ended %s %q (final %v), want not_found", n, s.Status, s.Reason, rs[n].Final)
			}
		}
		if d := time.Since(start); d > 3*time.Minute+15*time.Second {
			t.Errorf("the last look-up landed after %v, want about 3 minutes", d)
		}
	})
}

// A spent quota and an open breaker defer a look-up until the quota resets
// or the breaker lets its probe through, without asking the provider.
func TestQuotaAndBreakerDefer(t *testing.T) {
	now := time.Date(2026, 12, 4, 14, 30, 0, 0, time.UTC)
	f := &fake{name: "vt"}
	s := src("vt", false, tlp.Amber, f)
	s.Quota = ratelimit.NewQuota("vt", []ratelimit.Window{{N: 1, Period: ratelimit.Day}}, nil)
	s.Quota.Now = func() time.Time { return now }
	if err := s.Quota.Take(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, Options{Sources: []*Source{s}, Only: []string{"vt"}, Now: func() time.Time { return now }})
	r := e.Enrich(context.Background(), Item{IOC: public, TLP: tlp.Amber, Defer: true})
	got, _ := r.Source("vt")
	if !got.Deferred || got.Reason != "queued: vt quota spent, ETA 2026-12-05 00:00Z" || !got.Until.Equal(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("spent quota: %+v", got)
	}
	if f.calls.Load() != 0 {
		t.Errorf("the provider was asked %d times with its quota spent", f.calls.Load())
	}

	// A breaker opened by five failed connections.
	client := httpx.NewClient(httpx.Options{Name: "vt", Base: failing{}, MaxElapsed: time.Millisecond})
	for range 5 {
		req, _ := http.NewRequest(http.MethodGet, "http://vt.invalid/", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	b := &fake{name: "vt"}
	s2 := src("vt", false, tlp.Amber, b)
	s2.Breaker = httpx.BreakerOf(client)
	if !s2.Breaker.Open() {
		t.Fatal("the breaker did not open")
	}
	e2 := newEngine(t, Options{Sources: []*Source{s2}, Only: []string{"vt"}})
	r = e2.Enrich(context.Background(), Item{IOC: public, TLP: tlp.Amber, Defer: true})
	got, _ = r.Source("vt")
	if !got.Deferred || !strings.HasPrefix(got.Reason, "queued: vt circuit open, ETA ") || time.Until(got.Until) <= 0 || time.Until(got.Until) > httpx.DefaultBreakerCoolDown {
		t.Errorf("open breaker: %+v", got)
	}
	if b.calls.Load() != 0 {
		t.Errorf("the provider was asked %d times with its breaker open", b.calls.Load())
	}
	// Without Defer (the CLI), the look-up is made as before.
	r = e2.Enrich(context.Background(), Item{IOC: public, TLP: tlp.Amber})
	if got, _ := r.Source("vt"); got.Deferred || r.Final != nil {
		t.Errorf("CLI look-up deferred: %+v", got)
	}
}

type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

// A quota refusal or a 429 that outlasted the retries, met during the
// call, defers the look-up too.
func TestPostponedAnswerIsDeferred(t *testing.T) {
	for _, err := range []error{fmt.Errorf("vt: %w", httpx.ErrQuotaExceeded), fmt.Errorf("vt: %w", provider.ErrRateLimited)} {
		f := &fake{name: "vt", answer: func(ioc.IOC) (provider.Finding, error) { return provider.Finding{}, err }}
		e := newEngine(t, Options{Sources: []*Source{src("vt", false, tlp.Amber, f)}, Only: []string{"vt"}})
		r := e.Enrich(context.Background(), Item{IOC: public, TLP: tlp.Amber, Defer: true})
		if s, _ := r.Source("vt"); !s.Deferred || s.Status != "rate_limited" || time.Until(s.Until) <= 0 {
			t.Errorf("%v: %+v, want deferred", err, s)
		}
		r = e.Enrich(context.Background(), Item{IOC: ioc.IOC{Type: ioc.IPv4, Value: "45.33.9.9"}, TLP: tlp.Amber})
		if s, _ := r.Source("vt"); s.Deferred || s.Status != "rate_limited" {
			t.Errorf("%v without Defer: %+v, want rate_limited as before", err, s)
		}
	}
}

// Revise puts a landed answer into a result: the score is computed again,
// the result is final, and Revised keeps what it said before.
func TestReviseRescores(t *testing.T) {
	now := time.Date(2026, 12, 4, 14, 30, 0, 0, time.UTC)
	e := New(Options{Now: func() time.Time { return now }})
	pending := false
	r := result.Result{IOC: public, Verdict: result.Unknown, Score: 0, Final: &pending,
		Sources: []result.Source{{Provider: "virustotal", Status: "rate_limited", Reason: "queued: virustotal budget, ETA 14:32Z", Deferred: true, Until: now}}}
	r = e.Revise(r, provider.Finding{Provider: "virustotal", Status: provider.StatusOK, Malicious: 0.95, Summary: "30/94 engines"})
	if r.Verdict.Rank() <= result.Unknown.Rank() || r.Score == 0 || r.Pending() || r.Final == nil || r.Revised == nil || r.Revised.Verdict != result.Unknown || !r.Revised.At.Equal(now) {
		t.Errorf("revised: %s %d final=%v revised=%+v", r.Verdict, r.Score, r.Final, r.Revised)
	}
	if len(r.Sources) != 1 || r.Sources[0].Deferred || r.Sources[0].Summary != "30/94 engines" || len(r.Reasons) == 0 {
		t.Errorf("sources %+v, reasons %v", r.Sources, r.Reasons)
	}
}

type slowPacer time.Duration

func (p slowPacer) Interval() time.Duration { return time.Duration(p) }

// TestTurnAtFollowsTheAdaptedPace: a provider that slowed the pace with its
// 429s dates a deferred look-up by that pace, never faster than the rate.
func TestTurnAtFollowsTheAdaptedPace(t *testing.T) {
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	s := &Source{Rate: ratelimit.Rate{N: 10, Per: time.Second}}
	if got := s.turnAt(5, now); !got.Equal(now.Add(500 * time.Millisecond)) {
		t.Errorf("configured pace: %v", got.Sub(now))
	}
	s.Pacer = slowPacer(200 * time.Millisecond)
	if got := s.turnAt(5, now); !got.Equal(now.Add(time.Second)) {
		t.Errorf("adapted pace: %v, want 1s", got.Sub(now))
	}
	s.Pacer = slowPacer(time.Millisecond)
	if got := s.turnAt(5, now); !got.Equal(now.Add(500 * time.Millisecond)) {
		t.Errorf("a pacer faster than the rate: %v", got.Sub(now))
	}
}
