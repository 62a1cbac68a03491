package ratelimit

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want Rate
		str  string
	}{
		{"4/m", Rate{4, time.Minute}, "4/m"},
		{"1/s", Rate{1, time.Second}, "1/s"},
		{" 5 / s ", Rate{5, time.Second}, "5/s"},
		{"5/10s", Rate{5, 10 * time.Second}, "5/10s"},
		{"100/h", Rate{100, time.Hour}, "100/h"},
		{"1000/d", Rate{1000, 24 * time.Hour}, "1000/d"},
		{"2/90s", Rate{2, 90 * time.Second}, "2/90s"},
		{"3/2m", Rate{3, 2 * time.Minute}, "3/2m"},
		{"0.5/s", Rate{1, 2 * time.Second}, "1/2s"},
		{"10/500ms", Rate{10, 500 * time.Millisecond}, "10/500ms"},
		{"", Rate{}, "unlimited"},
		{"unlimited", Rate{}, "unlimited"},
		{"Unlimited", Rate{}, "unlimited"},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if err != nil {
			t.Errorf("ParseRate(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseRate(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if got.String() != tt.str {
			t.Errorf("ParseRate(%q).String() = %q, want %q", tt.in, got.String(), tt.str)
		}
		if again, err := ParseRate(got.String()); err != nil || again != got {
			t.Errorf("round trip of %q: %+v, %v", got.String(), again, err)
		}
	}
}

func TestParseRateErrors(t *testing.T) {
	tests := map[string]string{
		"4/x":        `ratelimit: bad rate "4/x": unit must be s, m, h or d`,
		"4":          `ratelimit: bad rate "4": want N/unit`,
		"0/s":        `ratelimit: bad rate "0/s": count must be a positive number`,
		"-1/s":       "count must be a positive number",
		"a/s":        "count must be a positive number",
		"4/0s":       "period multiplier must be a positive integer",
		"4/m/s":      "unit must be",
		"4/":         "unit must be",
		"1e9/ms":     "rate too high",
		"2000/ms":    "rate too high",
		"1/1000000d": "period longer than a year",
	}
	for in, want := range tests {
		_, err := ParseRate(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRate(%q) error = %v, want it to contain %q", in, err, want)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"4/m", "5/10s", "0.5/s", "unlimited", "1/500ms", "9/9d", "1000/ms", "1e9/ms", "1e6/1000000d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if r.Unlimited() {
			return
		}
		if r.N <= 0 || r.Per <= 0 || r.Interval() <= 0 {
			t.Fatalf("ParseRate(%q) = %+v: not positive", s, r)
		}
		if _, err := ParseRate(r.String()); err != nil {
			t.Fatalf("ParseRate(%q).String() = %q does not parse: %v", s, r.String(), err)
		}
	})
}

// TestLimiterPacing checks that n requests at 5/s take (n-1)/5 s: the first
// goes at once (burst 1), the others one interval apart.
func TestLimiterPacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := NewLimiter(Rate{5, time.Second})
		const n = 11
		start := time.Now()
		var times []time.Duration
		for range n {
			if err := lim.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
			times = append(times, time.Since(start))
		}
		if got, want := time.Since(start), (n-1)*time.Second/5; got != want {
			t.Errorf("%d requests at 5/s took %v, want %v", n, got, want)
		}
		for i := 1; i < len(times); i++ {
			if gap := times[i] - times[i-1]; gap < 200*time.Millisecond-time.Microsecond {
				t.Errorf("gap %d = %v, want 200ms", i, gap)
			}
		}
	})
}

func TestLimiterConcurrentNeverBursts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := NewLimiter(Rate{4, time.Minute})
		var mu sync.Mutex
		var at []time.Time
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if err := lim.Wait(t.Context()); err != nil {
					t.Error(err)
				}
				mu.Lock()
				at = append(at, time.Now())
				mu.Unlock()
			})
		}
		wg.Wait()
		// 8 requests at 4/m: the last one 7*15 s after the first, and no
		// minute holds more than 4.
		start := time.Now().Add(-105 * time.Second)
		for _, a := range at {
			if a.Before(start) {
				t.Fatalf("request at %v, before %v", a, start)
			}
		}
		for _, a := range at {
			inMinute := 0
			for _, b := range at {
				if !b.Before(a) && b.Before(a.Add(time.Minute)) {
					inMinute++
				}
			}
			if inMinute > 4 {
				t.Errorf("%d requests in the minute from %v", inMinute, a)
			}
		}
	})
}

func TestLimiterDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := NewLimiter(Rate{1, time.Minute})
		if err := lim.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		start := time.Now()
		err := lim.Wait(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait past the deadline = %v, want DeadlineExceeded", err)
		}
		if time.Since(start) != 0 {
			t.Errorf("Wait slept %v before giving up", time.Since(start))
		}

		ctx, cancel = context.WithCancel(t.Context())
		cancel()
		if err := NewLimiter(Rate{}).Wait(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("unlimited Wait on a canceled ctx = %v", err)
		}
	})
}

func TestLimitersShareByName(t *testing.T) {
	var ls Limiters
	r := Rate{4, time.Minute}
	a, err := ls.Get("virustotal", r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ls.Get("virustotal", r)
	c, _ := ls.Get("shodan", Rate{1, time.Second})
	if a != b {
		t.Error("two Gets of one name gave two limiters")
	}
	if a == c {
		t.Error("two names share a limiter")
	}
	if _, err := ls.Get("virustotal", Rate{500, time.Minute}); !errors.Is(err, ErrRateConflict) {
		t.Errorf("Get with another rate = %v, want ErrRateConflict", err)
	}
	synctest.Test(t, func(t *testing.T) {
		var ls Limiters
		w1, _ := ls.Get("p", Rate{1, time.Second})
		w2, _ := ls.Get("p", Rate{1, time.Second})
		start := time.Now()
		for range 2 {
			_ = w1.Wait(t.Context())
			_ = w2.Wait(t.Context())
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("4 turns shared by two workers at 1/s took %v, want 3s", got)
		}
	})
}
