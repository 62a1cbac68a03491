package pipeline

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
)

// TestAnalystVerdictExpires (issue 15, acceptance 2): an analyst's benign
// verdict on a known-bad IP settles it with no provider call while it is
// in force, and once it expires (fake time) the providers' verdict
// returns, with the analyst's as the previous one.
func TestAnalystVerdictExpires(t *testing.T) {
	f := fakeintel.New(fakeintel.Options{})
	f.Start()
	t.Cleanup(f.Close)
	var clock atomic.Pointer[time.Time]
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	clock.Store(&t0)
	now := func() time.Time { return *clock.Load() }
	rt := newRuntime(t, f, filepath.Join(t.TempDir(), "iocane.db"), enrich.Options{IOCTimeout: 30 * time.Second, Now: now})
	bad := fakeintel.MaliciousIP
	ctx := context.Background()
	v := history.Verdict{IOC: bad, Verdict: result.Benign, Reason: "our pentest box", By: "soc-lead", SetAt: t0,
		Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := rt.db.SetVerdict(ctx, v); err != nil {
		t.Fatal(err)
	}

	r := rt.engine.Enrich(ctx, amber(bad))
	if r.Verdict != result.Benign || r.Confidence != 100 || r.Reasons[0] != "analyst (soc-lead): benign until 2027-01-01: our pentest box" {
		t.Fatalf("while in force: %s %d %q", r.Verdict, r.Confidence, r.Reasons)
	}
	if n := f.TotalCalls(); n != 0 {
		t.Errorf("%d provider calls for an IOC an analyst settled", n)
	}
	for _, s := range r.Sources {
		if s.Provider == history.AnalystSource && s.Status != "ok" || s.Provider != history.AnalystSource && s.Status == "skipped" && s.Reason != "settled by an analyst verdict" && s.Reason != "no API key" {
			t.Errorf("source %s: %s %q", s.Provider, s.Status, s.Reason)
		}
	}
	if strings.Count(strings.Join(r.Reasons, "\n"), "analyst (") != 1 {
		t.Errorf("the analyst is named more than once: %q", r.Reasons)
	}
	rt.db.RecordHistory(ctx, []history.Record{history.EntryOf(r, "cli", "", "")})

	later := time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)
	clock.Store(&later)
	r = rt.engine.Enrich(ctx, amber(bad))
	if r.Verdict != result.Malicious || r.PreviousVerdict != result.Benign || !r.Changed() {
		t.Fatalf("after expiry: %s (previous %q), %q", r.Verdict, r.PreviousVerdict, r.Reasons)
	}
	if f.TotalCalls() == 0 {
		t.Error("no provider asked after the verdict expired")
	}
	for _, s := range r.Reasons {
		if strings.Contains(s, "analyst") {
			t.Errorf("an expired verdict still gives a reason: %q", s)
		}
	}
}

// TestCLIRunKeepsHistory: `iocane enrich` keeps each result in the IOC's
// history, and the next run's result says what the last one was.
func TestCLIRunKeepsHistory(t *testing.T) {
	_, rt := newFakeRuntime(t)
	run := func() result.Result {
		var got result.Result
		_, err := rt.p.Run(context.Background(), RunOptions{Values: []ioc.IOC{fakeintel.MaliciousIP}, Write: func(r result.Result) error { got = r; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	first := run()
	second := run()
	if !first.FirstSeen.IsZero() || second.PreviousVerdict != first.Verdict || second.FirstSeen.IsZero() || second.Changed() {
		t.Errorf("first %v/%q, second %v/%q", first.FirstSeen, first.PreviousVerdict, second.FirstSeen, second.PreviousVerdict)
	}
	rep, err := rt.db.HistoryReport(context.Background(), fakeintel.MaliciousIP, 10, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.History) != 2 || rep.History[0].Origin != "cli" || len(rep.Sightings) != 0 || len(rep.History[0].Sources) == 0 {
		t.Errorf("history %+v", rep)
	}
}

// TestNoHistory: with NoHistory a run keeps nothing and its results say
// nothing of the past, but an analyst verdict still settles the IOC.
func TestNoHistory(t *testing.T) {
	f := fakeintel.New(fakeintel.Options{})
	f.Start()
	t.Cleanup(f.Close)
	path := filepath.Join(t.TempDir(), "iocane.db")
	p, err := Open(context.Background(), Options{ConfigPath: writeEmptyConfig(t), DBPath: path, Environ: f.Env(), NoHistory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	p.Store.SetVerdict(ctx, history.Verdict{IOC: fakeintel.MaliciousIP, Verdict: result.Benign, Reason: "lab", By: "soc-lead", SetAt: time.Now()})
	var got []result.Result
	for range 2 {
		if _, err := p.Run(ctx, RunOptions{Values: []ioc.IOC{fakeintel.MaliciousIP, fakeintel.MaliciousDomain},
			Write: func(r result.Result) error { got = append(got, r); return nil }}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range got {
		if !r.FirstSeen.IsZero() || r.PreviousVerdict != "" {
			t.Errorf("%s knows its past with NoHistory", r.IOC)
		}
		if r.IOC == fakeintel.MaliciousIP && r.Verdict != result.Benign {
			t.Errorf("analyst verdict ignored with NoHistory: %s", r.Verdict)
		}
	}
	if rep, _ := p.Store.HistoryReport(ctx, fakeintel.MaliciousDomain, 10, time.Now()); len(rep.History) != 0 {
		t.Errorf("NoHistory kept %d entries", len(rep.History))
	}
}
