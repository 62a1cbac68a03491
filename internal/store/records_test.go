package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/runstats"
)

// TestRunsRoundTrip: what RecordRun keeps is what the weekly report reads
// back (Runs), window bounds and run order included, and the quota
// counters it lists by prefix.
func TestRunsRoundTrip(t *testing.T) { eachBackend(t, testRunsRoundTrip) }

func testRunsRoundTrip(t *testing.T, openDB func() *DB) {
	ctx := context.Background()
	db := openDB()
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	first := runstats.Run{Kind: "cli", Input: "alerts.txt", StartedAt: t0, FinishedAt: t0.Add(time.Minute),
		IOCs: map[string]map[result.Verdict]int64{"ipv4": {result.Malicious: 2, result.Benign: 1}, "domain": {result.Unknown: 4}},
		Sources: []runstats.Source{
			{Provider: "virustotal", Status: "ok", Cached: false, Count: 3, LatencyMS: 420, Hist: []int64{0, 1, 2}},
			{Provider: "virustotal", Status: "ok", Cached: true, Count: 4},
		},
		HTTP: []runstats.HTTP{{Provider: "virustotal", Requests: 5, HTTP429: 1, Retries: 2}},
	}
	second := runstats.Run{Kind: "job", Input: "splunk", StartedAt: t0.Add(time.Hour), FinishedAt: t0.Add(2 * time.Hour),
		IOCs: map[string]map[result.Verdict]int64{"sha256": {result.Suspicious: 1}}}
	outside := runstats.Run{Kind: "cli", Input: "old.txt", StartedAt: t0.AddDate(0, 0, -8), FinishedAt: t0.AddDate(0, 0, -8)}
	var ids []int64
	for _, r := range []runstats.Run{first, second, outside} {
		id, err := db.RecordRun(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if ids[0] <= 0 || ids[1] <= ids[0] || ids[2] <= ids[1] {
		t.Fatalf("run ids %v, want increasing", ids)
	}
	runs, err := db.Runs(ctx, t0.Add(-time.Hour), t0.AddDate(0, 0, 7))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID != ids[0] || runs[1].ID != ids[1] {
		t.Fatalf("runs %+v", runs)
	}
	got := runs[0]
	if got.Kind != "cli" || got.Input != "alerts.txt" || !got.StartedAt.Equal(t0) || !got.FinishedAt.Equal(t0.Add(time.Minute)) ||
		!reflect.DeepEqual(got.IOCs, first.IOCs) || !reflect.DeepEqual(got.HTTP, first.HTTP) {
		t.Errorf("run %+v", got)
	}
	if len(got.Sources) != 2 || got.Sources[0].Cached || !got.Sources[1].Cached || got.Sources[0].LatencyMS != 420 ||
		!reflect.DeepEqual(got.Sources[0].Hist, []int64{0, 1, 2}) || got.Sources[1].Count != 4 {
		t.Errorf("sources %+v", got.Sources)
	}
	if len(runs[1].Sources) != 0 || runs[1].IOCs["sha256"][result.Suspicious] != 1 {
		t.Errorf("second run %+v", runs[1])
	}

	qs := db.Quotas()
	for _, k := range []string{"virustotal:d:2026-11-23", "virustotal:d:2026-11-24", "shodan:m:2026-11"} {
		if _, err := qs.Add(ctx, k, 7); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := qs.Counts(ctx, "virustotal:"); err != nil || len(c) != 2 || c["virustotal:d:2026-11-24"] != 7 {
		t.Errorf("counts %v, %v", c, err)
	}
	if c, _ := qs.Counts(ctx, ""); len(c) != 3 {
		t.Errorf("all counts %v", c)
	}
}

// TestLatestResult: the latest result per IOC replaces the previous one.
func TestLatestResult(t *testing.T) { eachBackend(t, testLatestResult) }

func testLatestResult(t *testing.T, openDB func() *DB) {
	ctx := context.Background()
	db := openDB()
	i := ioc.IOC{Type: ioc.Domain, Value: "evil-payload.xyz"}
	if _, err := db.LatestResult(ctx, string(i.Type), i.Value); !errors.Is(err, ErrNotFound) {
		t.Fatalf("never stored: %v", err)
	}
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, r := range []result.Result{
		{IOC: i, Verdict: result.Unknown, EnrichedAt: t0},
		{IOC: i, Verdict: result.Malicious, Score: 91, Reasons: []string{"c2"}, EnrichedAt: t0.Add(time.Hour)},
	} {
		if err := db.PutResult(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	r, err := db.LatestResult(ctx, string(i.Type), i.Value)
	if err != nil || r.Verdict != result.Malicious || r.Score != 91 || !r.EnrichedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("latest %+v, %v", r, err)
	}
}

// TestHeldNotifications: a channel's held alerts come back oldest first,
// a re-held alert keeps its place with its new entry, and released ones
// are gone, across a restart.
func TestHeldNotifications(t *testing.T) { eachBackend(t, testHeldNotifications) }

func testHeldNotifications(t *testing.T, openDB func() *DB) {
	ctx := context.Background()
	db := openDB()
	for _, h := range []struct{ ch, key, entry string }{
		{"slack", "a", "a1"}, {"slack", "b", "b1"}, {"email", "a", "other channel"}, {"slack", "c", "c1"}, {"slack", "a", "a2"},
	} {
		if err := db.Hold(ctx, h.ch, h.key, []byte(h.entry)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db = openDB()
	held := func() []string {
		t.Helper()
		bs, err := db.Held(ctx, "slack")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range bs {
			out = append(out, string(b))
		}
		return out
	}
	if got := held(); !reflect.DeepEqual(got, []string{"a2", "b1", "c1"}) {
		t.Errorf("held %q", got)
	}
	if err := db.Release(ctx, "slack", []string{"b", "missing"}); err != nil {
		t.Fatal(err)
	}
	if got := held(); !reflect.DeepEqual(got, []string{"a2", "c1"}) {
		t.Errorf("after release %q", got)
	}
	if bs, _ := db.Held(ctx, "email"); len(bs) != 1 {
		t.Errorf("email held %d", len(bs))
	}
}

// TestFeedSyncState: a sync's new indicators, a 304 touch that extends
// expiry, a failure that keeps them, and the state `iocane feeds list`
// shows.
func TestFeedSyncState(t *testing.T) { eachBackend(t, testFeedSyncState) }

func testFeedSyncState(t *testing.T, openDB func() *DB) {
	ctx := context.Background()
	db := openDB()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	a := FeedIndicator{IOC: ioc.IOC{Type: ioc.IPv4, Value: "91.215.85.142"}, Confidence: 80, Expires: t0.Add(time.Hour)}
	added, gone, err := db.SyncFeed(ctx, "feodo", []FeedIndicator{a}, nil, false, FeedState{ETag: `"v1"`}, t0)
	if err != nil || len(added) != 1 || gone != 0 {
		t.Fatalf("first sync: %v %d %v", added, gone, err)
	}
	if added, _, _ := db.SyncFeed(ctx, "feodo", []FeedIndicator{a}, nil, false, FeedState{ETag: `"v2"`}, t0.Add(time.Minute)); len(added) != 0 {
		t.Errorf("a known indicator counted as new: %v", added)
	}
	if err := db.TouchFeed(ctx, "feodo", 3*time.Hour, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.FeedFailed(ctx, "feodo", "http 503", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	st, err := db.FeedState(ctx, "feodo", t0.Add(2*time.Hour))
	if err != nil || st.ETag != `"v2"` || st.Held != 1 || st.LastError != "http 503" || !st.LastSync.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("state %+v, %v", st, err)
	}
	var n int
	if err := db.FeedIndicators(ctx, t0.Add(2*time.Hour), func(fi FeedIndicator) {
		n++
		if !fi.FirstSeen.Equal(t0) || !fi.Expires.Equal(t0.Add(2*time.Minute+3*time.Hour)) {
			t.Errorf("indicator %+v", fi)
		}
	}); err != nil || n != 1 {
		t.Errorf("indicators %d, %v", n, err)
	}
}
