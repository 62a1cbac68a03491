package report

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/runstats"
	"github.com/iocane/iocane/internal/store"
)

// The synthetic fortnight: the report runs on Monday 2026-11-30 08:00 UTC,
// so the window is [11-23 08:00, 11-30 08:00) and the previous one
// [11-16 08:00, 11-23 08:00).
var seedNow = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// hist builds a histogram over runstats.LatencyBuckets from bucket index → count.
func hist(cells map[int]int64) []int64 {
	h := make([]int64, len(runstats.LatencyBuckets))
	for i, n := range cells {
		h[i] = n
	}
	return h
}

type verdicts = map[result.Verdict]int64

func src(p, status string, cached bool, n int64, h map[int]int64) runstats.Source {
	return runstats.Source{Provider: p, Status: status, Cached: cached, Count: n, Hist: hist(h)}
}

// seedRuns is every run of the fortnight, plus one just outside each end.
var seedRuns = []runstats.Run{
	// Current window.
	{Kind: "cli", Input: "edge.txt", StartedAt: at("2026-11-23T08:00:00Z"), // the window's first instant: in
		IOCs: map[string]verdicts{"email": {result.Unknown: 1}}},
	{Kind: "cli", Input: "alerts.txt", StartedAt: at("2026-11-24T10:00:00Z"),
		IOCs: map[string]verdicts{
			"ipv4":   {result.Malicious: 3, result.Benign: 2},
			"domain": {result.Suspicious: 1, result.Unknown: 4},
		},
		Sources: []runstats.Source{
			src("virustotal", "ok", false, 4, map[int]int64{4: 4}),        // ≤100 ms
			src("virustotal", "not_found", false, 2, map[int]int64{5: 2}), // ≤250 ms
			src("virustotal", "ok", true, 4, map[int]int64{0: 4}),
			src("abuseipdb", "ok", false, 3, map[int]int64{2: 3}),     // ≤25 ms
			src("abuseipdb", "error", false, 1, map[int]int64{12: 1}), // > 30 s
		},
		HTTP: []runstats.HTTP{
			{Provider: "virustotal", Requests: 8, HTTP429: 1, Retries: 2},
			{Provider: "abuseipdb", Requests: 5, HTTP429: 0, Retries: 1},
		}},
	{Kind: "job", Input: "splunk", StartedAt: at("2026-11-26T12:00:00Z"),
		IOCs: map[string]verdicts{
			"sha256": {result.Malicious: 2},
			"url":    {result.Malicious: 1, result.Unknown: 2},
		},
		Sources: []runstats.Source{
			src("virustotal", "ok", false, 4, map[int]int64{5: 2, 6: 2}), // ≤250, ≤500 ms
			src("virustotal", "rate_limited", false, 1, map[int]int64{0: 1}),
		},
		HTTP: []runstats.HTTP{{Provider: "virustotal", Requests: 5, HTTP429: 2, Retries: 1}}},
	{Kind: "job", Input: "api", StartedAt: at("2026-11-29T23:30:00Z"),
		IOCs: map[string]verdicts{"ipv4": {result.Benign: 5}},
		Sources: []runstats.Source{
			src("virustotal", "skipped", false, 5, map[int]int64{0: 5}),
			src("abuseipdb", "ok", true, 5, map[int]int64{0: 5}),
		}},
	{Kind: "cli", Input: "late.txt", StartedAt: seedNow, // the window's end: out
		IOCs:    map[string]verdicts{"ipv4": {result.Malicious: 100}},
		Sources: []runstats.Source{src("virustotal", "ok", false, 100, map[int]int64{0: 100})}},

	// Previous window.
	{Kind: "cli", Input: "old.txt", StartedAt: at("2026-11-18T09:00:00Z"),
		IOCs: map[string]verdicts{
			"ipv4":   {result.Malicious: 2, result.Benign: 6},
			"domain": {result.Unknown: 2},
		},
		Sources: []runstats.Source{
			src("virustotal", "ok", false, 8, map[int]int64{3: 8}), // ≤50 ms
			src("virustotal", "ok", true, 2, map[int]int64{0: 2}),
			src("abuseipdb", "ok", false, 2, map[int]int64{1: 2}), // ≤10 ms
		}},
	{Kind: "job", Input: "splunk", StartedAt: at("2026-11-20T14:00:00Z"),
		IOCs: map[string]verdicts{"url": {result.Malicious: 2}}},
	{Kind: "cli", Input: "ancient.txt", StartedAt: at("2026-11-16T07:59:59Z"), // before the previous window: out
		IOCs: map[string]verdicts{"ipv4": {result.Malicious: 50}}},
}

var seedQuota = map[string]int64{
	"virustotal:d:2026-11-22":    7, // previous window only
	"virustotal:d:2026-11-23":    3, // the day both windows touch
	"virustotal:d:2026-11-24":    10,
	"virustotal:d:2026-11-26":    6,
	"virustotal:d:2026-11-30":    3,
	"virustotal:mo:2026-11":      120,
	"virustotal:mo:2026-10":      999, // neither window
	"virustotal:h:2026-11-24T10": 50,  // no hourly quota configured: ignored
	"abuseipdb:d:2026-11-24":     8,
	"greynoise:d:2026-11-25":     4, // quota spent, no run recorded
}

var seedQuotas = map[string][]ratelimit.Window{
	"virustotal": {{N: 500, Period: ratelimit.Day}, {N: 15500, Period: ratelimit.Month}},
	"abuseipdb":  {{N: 1000, Period: ratelimit.Day}},
	"greynoise":  {{N: 50, Period: ratelimit.Day}},
	"shodan":     {{N: 100, Period: ratelimit.Month}}, // configured, never used: absent
}

// seedDeliveries is what the integrations dispatcher would have recorded.
var seedDeliveries = []Delivery{
	// Current window.
	{JobID: "j1", Sink: "thehive", OK: true, Attempts: 4, Received: at("2026-11-26T12:00:00Z"), Finished: at("2026-11-26T12:00:02Z")},
	{JobID: "j1", Sink: "slack", Notify: true, OK: true, Attempts: 1, Received: at("2026-11-26T12:00:00Z"), Finished: at("2026-11-26T12:00:01Z")},
	{JobID: "j2", Sink: "splunk", OK: true, Attempts: 1, Received: at("2026-11-27T09:00:00Z"), Finished: at("2026-11-27T09:00:00.5Z")},
	{JobID: "j2", Sink: "thehive", OK: true, Attempts: 1, Received: at("2026-11-27T09:00:00Z"), Finished: at("2026-11-27T09:00:01Z")},
	{JobID: "j3", Sink: "thehive", OK: false, Attempts: 5, Received: at("2026-11-28T09:00:00Z"), Finished: at("2026-11-28T09:10:00Z")},
	{JobID: "j4", Sink: "splunk", OK: true, Attempts: 1, Received: at("2026-11-28T10:00:00Z"), Finished: at("2026-11-28T10:00:08Z")},
	{JobID: "j4", Sink: "teams", Notify: true, OK: false, Attempts: 2, Received: at("2026-11-28T10:00:00Z"), Finished: at("2026-11-28T10:00:09Z")},
	// Previous window.
	{JobID: "j0", Sink: "thehive", OK: true, Attempts: 1, Received: at("2026-11-19T10:00:00Z"), Finished: at("2026-11-19T10:00:03Z")},
}

func fakeDeliveries(_ context.Context, from, to time.Time) ([]Delivery, bool, error) {
	var out []Delivery
	for _, d := range seedDeliveries {
		if !d.Finished.Before(from) && d.Finished.Before(to) {
			out = append(out, d)
		}
	}
	return out, true, nil
}

// seedStore writes the fortnight to a new SQLite store through the store's
// own APIs, as CLI runs and jobs do.
func seedStore(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "iocane.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, r := range seedRuns {
		r.FinishedAt = r.StartedAt.Add(time.Minute)
		if _, err := db.RecordRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for k, n := range seedQuota {
		if _, err := db.Quotas().Add(ctx, k, n); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func seedReport(t *testing.T) *Report {
	t.Helper()
	r, err := Build(context.Background(), StoreSource(seedStore(t)), Options{
		Now: seedNow, Quotas: seedQuotas, Deliveries: fakeDeliveries,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
