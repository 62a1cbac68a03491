package report

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	_ "time/tzdata" // Europe/Paris on any machine

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/runstats"
	"github.com/iocane/iocane/internal/store"
)

func TestParseSchedule(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	good := map[string]Schedule{
		"mon 08:00":              {Weekday: time.Monday, Hour: 8, Loc: time.UTC},
		"Monday 08:00":           {Weekday: time.Monday, Hour: 8, Loc: time.UTC},
		"daily 06:30":            {Daily: true, Hour: 6, Minute: 30, Loc: time.UTC},
		"fri 17:05 Europe/Paris": {Weekday: time.Friday, Hour: 17, Minute: 5, Loc: paris},
		"sun 00:00":              {Weekday: time.Sunday, Loc: time.UTC},
	}
	for in, want := range good {
		got, err := ParseSchedule(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
			back, err := ParseSchedule(got.String())
			assert.NoError(t, err)
			assert.Equal(t, got, back, "round trip of %q", got.String())
		}
	}
	for _, in := range []string{"", "mon", "monx 08:00", "mo 08:00", "mon 8", "mon 24:00", "mon 08:60", "mon 08:0", "mon 08:00 Mars/Olympus", "mon 08:00 UTC extra"} {
		_, err := ParseSchedule(in)
		assert.Error(t, err, "%q", in)
	}
}

func TestScheduleNext(t *testing.T) {
	mon8, _ := ParseSchedule("mon 08:00")
	daily, _ := ParseSchedule("daily 06:30")
	paris, _ := ParseSchedule("mon 08:00 Europe/Paris")
	tests := []struct {
		s        Schedule
		from, to string
	}{
		{mon8, "2026-11-26T18:00:00Z", "2026-11-30T08:00:00Z"}, // Thursday → Monday
		{mon8, "2026-11-30T07:59:59Z", "2026-11-30T08:00:00Z"},
		{mon8, "2026-11-30T08:00:00Z", "2026-12-07T08:00:00Z"}, // strictly after
		{daily, "2026-11-26T06:29:00Z", "2026-11-26T06:30:00Z"},
		{daily, "2026-11-26T06:30:00Z", "2026-11-27T06:30:00Z"},
		{paris, "2026-11-26T18:00:00Z", "2026-11-30T07:00:00Z"}, // CET is UTC+1
		{paris, "2026-06-26T18:00:00Z", "2026-06-29T06:00:00Z"}, // CEST is UTC+2
	}
	for _, tt := range tests {
		assert.Equal(t, at(tt.to), tt.s.Next(at(tt.from)).UTC(), "%s after %s", tt.s, tt.from)
	}
}

// memSource is a Source in memory, for tests in a synctest bubble.
type memSource struct{ runs []store.Run }

func (m memSource) Runs(_ context.Context, from, to time.Time) ([]store.Run, error) {
	var out []store.Run
	for _, r := range m.runs {
		if !r.StartedAt.Before(from) && r.StartedAt.Before(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (memSource) QuotaCounts(context.Context, string) (map[string]int64, error) { return nil, nil }

// TestSchedulerFakeClock runs the scheduler on synctest's fake clock, which
// starts on Saturday 2000-01-01 00:00 UTC: the Monday 08:00 report comes
// at 2000-01-03 08:00 exactly, covers the week before, and comes again a
// week later even after a failed send.
func TestSchedulerFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		require.Equal(t, time.Saturday, start.UTC().Weekday())
		src := memSource{runs: []store.Run{{Run: runstats.Run{Kind: "cli", StartedAt: start.Add(time.Hour),
			IOCs: map[string]map[result.Verdict]int64{"ipv4": {result.Malicious: 3}}}}}}
		sched, err := ParseSchedule("mon 08:00")
		require.NoError(t, err)

		var (
			mu     sync.Mutex
			sent   []Rendered
			errs   []error
			failed bool
		)
		s := &Scheduler{
			Schedule: sched, Source: src,
			Senders: []Sender{func(_ context.Context, r Rendered) error {
				mu.Lock()
				defer mu.Unlock()
				sent = append(sent, r)
				if len(sent) == 2 {
					failed = true
					return errors.New("mail server down")
				}
				return nil
			}},
			OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() },
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()

		monday := time.Date(2000, 1, 3, 8, 0, 0, 0, time.UTC)
		time.Sleep(monday.Sub(start) - time.Second)
		synctest.Wait()
		mu.Lock()
		assert.Empty(t, sent, "nothing before Monday 08:00")
		mu.Unlock()

		time.Sleep(time.Second)
		synctest.Wait()
		mu.Lock()
		require.Len(t, sent, 1)
		assert.Equal(t, monday, sent[0].At.UTC())
		assert.Contains(t, string(sent[0].JSON), `"total": 3`)
		assert.True(t, strings.HasPrefix(string(sent[0].HTML), "<!DOCTYPE html>"))
		assert.Contains(t, string(sent[0].Markdown), "| IOCs processed | 3 |")
		mu.Unlock()

		time.Sleep(7 * 24 * time.Hour) // the failing send
		synctest.Wait()
		time.Sleep(7 * 24 * time.Hour)
		synctest.Wait()
		mu.Lock()
		require.Len(t, sent, 3)
		assert.True(t, failed)
		assert.Equal(t, monday.AddDate(0, 0, 7), sent[1].At.UTC())
		assert.Equal(t, monday.AddDate(0, 0, 14), sent[2].At.UTC())
		require.Len(t, errs, 1)
		assert.ErrorContains(t, errs[0], "mail server down")
		assert.Contains(t, string(sent[2].JSON), `"total": 0`, "the third week is empty")
		mu.Unlock()

		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
	})
}

func TestDirSender(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports")
	r, err := Render(t.Context(), StoreSource(seedStore(t)), Options{Quotas: seedQuotas}, seedNow)
	require.NoError(t, err)
	require.NoError(t, DirSender(dir)(t.Context(), r))
	for _, ext := range []string{".html", ".md", ".json"} {
		b, err := os.ReadFile(filepath.Join(dir, "iocane-report-2026-11-30"+ext))
		require.NoError(t, err)
		assert.NotEmpty(t, b)
	}
}
