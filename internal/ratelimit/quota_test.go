package ratelimit

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestParseQuota(t *testing.T) {
	tests := []struct {
		in   string
		want []Window
	}{
		{"500/d", []Window{{500, Day}}},
		{"500/d,15500/mo", []Window{{500, Day}, {15500, Month}}},
		{"15500/mo, 500/d , 40/h", []Window{{40, Hour}, {500, Day}, {15500, Month}}},
		{"", nil},
		{"unlimited", nil},
	}
	for _, tt := range tests {
		got, err := ParseQuota(tt.in)
		if err != nil {
			t.Errorf("ParseQuota(%q): %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseQuota(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParseQuota(%q) = %v, want %v", tt.in, got, tt.want)
			}
		}
		if again, err := ParseQuota(FormatQuota(got)); err != nil || len(again) != len(got) {
			t.Errorf("round trip of %q: %v, %v", FormatQuota(got), again, err)
		}
	}
	for in, want := range map[string]string{
		"500/x":       `ratelimit: bad quota "500/x": unit must be h, d or mo`,
		"500/m":       "unit must be h, d or mo",
		"500":         "want N/unit",
		"0/d":         "count must be a positive integer",
		"1.5/d":       "count must be a positive integer",
		"5/d,6/d":     "more than one daily window",
		"500/d,,1/mo": `bad quota ""`,
	} {
		_, err := ParseQuota(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseQuota(%q) error = %v, want it to contain %q", in, err, want)
		}
	}
}

func FuzzParseQuota(f *testing.F) {
	for _, s := range []string{"500/d", "500/d,15500/mo", "1/h", "unlimited"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ws, err := ParseQuota(s)
		if err != nil {
			return
		}
		for _, w := range ws {
			if w.N <= 0 || w.Period < Hour || w.Period > Month {
				t.Fatalf("ParseQuota(%q) = %v", s, ws)
			}
		}
		if _, err := ParseQuota(FormatQuota(ws)); err != nil {
			t.Fatalf("FormatQuota(%v) = %q does not parse: %v", ws, FormatQuota(ws), err)
		}
	})
}

func TestWindows(t *testing.T) {
	at := time.Date(2026, 11, 26, 13, 45, 10, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		p         Period
		key       string
		start, at time.Time
	}{
		{Hour, "vt:h:2026-11-26T12", time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC)},
		{Day, "vt:d:2026-11-26", time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
		{Month, "vt:mo:2026-11", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		w := Window{N: 1, Period: tt.p}
		if got := w.Key("vt", at); got != tt.key {
			t.Errorf("%v key = %q, want %q", tt.p, got, tt.key)
		}
		if got := tt.p.Start(at); !got.Equal(tt.start) {
			t.Errorf("%v start = %v, want %v", tt.p, got, tt.start)
		}
		if got := tt.p.End(at); !got.Equal(tt.at) {
			t.Errorf("%v end = %v, want %v", tt.p, got, tt.at)
		}
	}
	// December rolls over into January.
	dec := time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)
	if got := Month.End(dec); !got.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("month end of %v = %v", dec, got)
	}
}

// TestQuotaDailyReset runs in a synctest bubble, whose clock starts at
// 2000-01-01 00:00:00 UTC: three requests pass, the fourth is refused, and
// the count resets at the next 00:00 UTC.
func TestQuotaDailyReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		time.Sleep(15 * time.Hour) // 15:00 UTC
		q := NewQuota("vt", []Window{{3, Day}}, nil)
		for i := range 3 {
			if err := q.Take(ctx); err != nil {
				t.Fatalf("take %d: %v", i+1, err)
			}
		}
		err := q.Take(ctx)
		if !errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("4th take = %v, want ErrQuotaExceeded", err)
		}
		var ee *ExceededError
		if !errors.As(err, &ee) || !ee.ResetsAt.Equal(time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("exceeded error = %#v", err)
		}
		if want := "quota exceeded: vt daily quota of 3 requests is spent, resets 2000-01-02T00:00:00Z"; err.Error() != want {
			t.Errorf("error text = %q, want %q", err, want)
		}
		u, err := q.Usage(ctx)
		if err != nil || len(u) != 1 || u[0].Used != 3 || u[0].Remaining != 0 || u[0].Limit != 3 {
			t.Fatalf("usage = %+v, %v", u, err)
		}

		time.Sleep(9*time.Hour - time.Second) // 23:59:59
		if err := q.Take(ctx); !errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("take at 23:59:59 = %v, want ErrQuotaExceeded", err)
		}
		time.Sleep(time.Second) // 00:00:00 the next day
		if err := q.Take(ctx); err != nil {
			t.Fatalf("take after midnight UTC: %v", err)
		}
		u, _ = q.Usage(ctx)
		if u[0].Used != 1 || u[0].Remaining != 2 {
			t.Errorf("usage after reset = %+v", u)
		}
	})
}

func TestQuotaMonthlyWithDaily(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	store := NewMemoryStore()
	q := &Quota{Name: "vt", Windows: []Window{{2, Day}, {3, Month}}, Store: store, Now: func() time.Time { return now }}
	ctx := context.Background()
	mustTake := func(ok bool) {
		t.Helper()
		err := q.Take(ctx)
		if ok && err != nil {
			t.Fatalf("at %v: %v", now, err)
		}
		if !ok && !errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("at %v: %v, want ErrQuotaExceeded", now, err)
		}
	}
	mustTake(true)
	mustTake(true)
	mustTake(false) // daily spent
	now = now.AddDate(0, 0, 1)
	mustTake(true)
	mustTake(false) // monthly spent; the daily count must be given back
	if got, _ := store.Get(ctx, "vt:d:2026-11-30"); got != 1 {
		t.Errorf("daily count after a monthly refusal = %d, want 1", got)
	}
	u, _ := q.Usage(ctx)
	if u[1].Remaining != 0 || !u[1].ResetsAt.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("monthly usage = %+v", u[1])
	}
	now = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	mustTake(true)
}

func TestQuotaConcurrentNeverOverspends(t *testing.T) {
	q := NewQuota("p", []Window{{50, Day}, {70, Month}}, nil)
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 20 {
				if q.Take(t.Context()) == nil {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if ok.Load() != 50 {
		t.Errorf("%d takes passed a 50/d quota", ok.Load())
	}
}

type failingStore struct{ MemoryStore }

func (*failingStore) Add(context.Context, string, int64) (int64, error) {
	return 0, errors.New("store down")
}

func TestQuotaStoreError(t *testing.T) {
	q := NewQuota("p", []Window{{5, Day}}, &failingStore{MemoryStore: *NewMemoryStore()})
	err := q.Take(t.Context())
	if err == nil || errors.Is(err, ErrQuotaExceeded) || !strings.Contains(err.Error(), "store down") {
		t.Errorf("take with a failing store = %v", err)
	}
	var nilQ *Quota
	if err := nilQ.Take(t.Context()); err != nil {
		t.Errorf("nil quota take = %v", err)
	}
}

// TestQuotaLowOncePerWindow (issue 14, acceptance 4): OnLow is called
// exactly once per window when under 10 % is left, by whichever of two
// processes sharing the store crosses it, and again in the next window.
func TestQuotaLowOncePerWindow(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	store := NewMemoryStore()
	var calls []WindowUsage
	onLow := func(_ context.Context, name string, u WindowUsage) {
		if name != "virustotal" {
			t.Errorf("name %q", name)
		}
		calls = append(calls, u)
	}
	ws := []Window{{N: 100, Period: Day}}
	a, b := NewQuota("virustotal", ws, store), NewQuota("virustotal", ws, store)
	for _, q := range []*Quota{a, b} {
		q.Now, q.OnLow = func() time.Time { return now }, onLow
	}
	for i := range 90 {
		if err := []*Quota{a, b}[i%2].Take(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(calls) != 0 {
		t.Fatalf("called with 10 of 100 left: %+v", calls)
	}
	for i := range 10 { // 9 left after the 91st; both processes keep taking
		[]*Quota{a, b}[i%2].Take(ctx)
	}
	if len(calls) != 1 || calls[0].Remaining != 9 || calls[0].Limit != 100 || !calls[0].ResetsAt.Equal(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("calls %+v, want one at 9 left", calls)
	}
	a.Take(ctx) // refused: spent
	now = now.Add(24 * time.Hour)
	for range 95 {
		b.Take(ctx)
	}
	if len(calls) != 2 {
		t.Errorf("next window: %d calls, want 2 in all", len(calls))
	}
}
