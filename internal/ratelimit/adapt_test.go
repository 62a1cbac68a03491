package ratelimit

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"
)

func TestFeedbackOf(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	resp := func(code int, kv ...string) *http.Response {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	for _, c := range []struct {
		name string
		resp *http.Response
		want Feedback
	}{
		{"bare 429", resp(429), Feedback{Throttled: true}},
		{"429 with Retry-After seconds", resp(429, "Retry-After", "29"), Feedback{Throttled: true, RetryAfter: 29 * time.Second}},
		{"429 with Retry-After date", resp(429, "Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)), Feedback{Throttled: true, RetryAfter: 90 * time.Second}},
		{"AbuseIPDB: reset as a Unix time", resp(200, "X-RateLimit-Limit", "1000", "X-RateLimit-Remaining", "7", "X-RateLimit-Reset", "1796385660"),
			Feedback{Budget: true, Remaining: 7, Reset: time.Unix(1796385660, 0).Sub(now)}},
		{"urlscan: reset after seconds", resp(200, "X-Rate-Limit-Remaining", "24", "X-Rate-Limit-Reset", "2026-12-04T12:01:00.000Z", "X-Rate-Limit-Reset-After", "17"),
			Feedback{Budget: true, Remaining: 24, Reset: 17 * time.Second}},
		{"urlscan: reset time only", resp(200, "X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Reset", "2026-12-04T12:01:00.000Z"),
			Feedback{Budget: true, Remaining: 0, Reset: time.Minute}},
		{"remaining without a reset is no budget", resp(200, "X-RateLimit-Remaining", "3"), Feedback{}},
		{"garbage headers", resp(200, "X-RateLimit-Remaining", "many", "Retry-After", "soon"), Feedback{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := FeedbackOf(c.resp, now); got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestAdaptiveDecreaseAndRecovery: a 429 lowers the rate once per hold
// however many answer 429 together, answers that are not 429 raise it
// back additively, and never above the configured rate.
func TestAdaptiveDecreaseAndRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewLimiter(Rate{N: 20, Per: time.Second}).(*pacer)
		base := p.Interval()
		for range 5 {
			p.Adapt(Feedback{Throttled: true}) // in-flight requests all meet the limit
		}
		if got, want := p.Interval(), time.Duration(float64(base)/DecreaseFactor); got != want {
			t.Fatalf("after a burst of 429s: interval %v, want %v (one decrease)", got, want)
		}
		time.Sleep(DecreaseHold)
		p.Adapt(Feedback{Throttled: true})
		slow := p.Interval()
		if slow <= time.Duration(float64(base)/DecreaseFactor) {
			t.Fatalf("a 429 after the hold did not lower the rate again: %v", slow)
		}
		// 12.8/s after two decreases, back up to 20/s.
		time.Sleep(10 * time.Second)
		p.Adapt(Feedback{})
		if mid := p.Interval(); mid >= slow || mid <= base {
			t.Errorf("after 10 s of answers: interval %v, want between %v and %v", mid, base, slow)
		}
		time.Sleep(time.Minute)
		p.Adapt(Feedback{})
		if p.Interval() != base {
			t.Errorf("after a minute: interval %v, want the configured %v", p.Interval(), base)
		}
	})
}

// TestAdaptiveHoldsForRetryAfterAndSpentWindow: a Retry-After and a window
// with nothing left hold the next turn; what is left is spread over the
// time to the reset.
func TestAdaptiveHoldsForRetryAfterAndSpentWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		p := NewLimiter(Rate{N: 10, Per: time.Second}).(*pacer)
		p.Wait(ctx)
		p.Adapt(Feedback{Throttled: true, RetryAfter: 3 * time.Second})
		start := time.Now()
		p.Wait(ctx)
		if d := time.Since(start); d < 3*time.Second {
			t.Errorf("turn after %v, want the 3 s Retry-After", d)
		}
		p.Adapt(Feedback{Budget: true, Remaining: 0, Reset: 20 * time.Second})
		start = time.Now()
		p.Wait(ctx)
		if d := time.Since(start); d < 20*time.Second {
			t.Errorf("turn after %v with the window spent, want its 20 s reset", d)
		}
		p.Adapt(Feedback{Budget: true, Remaining: 6, Reset: 30 * time.Second})
		if got := p.Interval(); got != 5*time.Second {
			t.Errorf("6 left for 30 s: interval %v, want 5s", got)
		}
		p.Adapt(Feedback{Budget: true, Remaining: 0, Reset: 20 * time.Hour}) // a daily quota: the quota's business
		start = time.Now()
		p.Wait(ctx)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("a daily window held the pace for %v", d)
		}
	})
}

// FuzzFeedbackOf: no header a provider sends makes reading it panic or
// give a negative wait.
func FuzzFeedbackOf(f *testing.F) {
	f.Add(429, "29", "7", "1796385660", "")
	f.Add(429, "99999999999", "1", "999999999", "99999999999")
	f.Add(200, "", "24", "2026-12-04T12:01:00.000Z", "17")
	f.Add(200, "Wed, 21 Oct 2015 07:28:00 GMT", "-1", "9999999999999999999", "1e308")
	f.Fuzz(func(t *testing.T, code int, retryAfter, remaining, reset, resetAfter string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		h.Set("X-RateLimit-Remaining", remaining)
		h.Set("X-RateLimit-Reset", reset)
		h.Set("X-Rate-Limit-Reset-After", resetAfter)
		fb := FeedbackOf(&http.Response{StatusCode: code, Header: h}, time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
		if fb.RetryAfter < 0 || fb.Reset < 0 || fb.Remaining < 0 {
			t.Errorf("negative feedback %+v", fb)
		}
		p := NewLimiter(Rate{N: 10, Per: time.Second}).(*pacer)
		p.Adapt(fb)
		if p.Interval() < 100*time.Millisecond || p.Interval() > 100*time.Millisecond*maxSlowdown {
			t.Errorf("interval %v out of bounds after %+v", p.Interval(), fb)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"0":                                0,
		"2":                                2 * time.Second,
		" 120 ":                            2 * time.Minute,
		"Thu, 26 Nov 2026 12:00:30 GMT":    30 * time.Second,
		"Thu, 26 Nov 2026 11:00:00 GMT":    0,
		"Thursday, 26-Nov-26 12:01:00 GMT": time.Minute,
	} {
		got, ok := ParseRetryAfter(in, now)
		if !ok || got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "-1", "soon", "1.5"} {
		if _, ok := ParseRetryAfter(in, now); ok {
			t.Errorf("ParseRetryAfter(%q) accepted", in)
		}
	}
}
