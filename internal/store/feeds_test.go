package store

import (
	"context"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/ratelimit/ratelimittest"
)

// TestFeedFigures: the weekly report's per-feed figures: added and
// removed by syncs in the window, expired in it, and the server-job
// results and alerts the feed matched.
func TestFeedFigures(t *testing.T) { eachBackend(t, testFeedFigures) }

func testFeedFigures(t *testing.T, openDB func() *DB) {
	ctx := context.Background()
	db := openDB()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	in := func(v string, exp time.Time) FeedIndicator {
		return FeedIndicator{IOC: ioc.IOC{Type: ioc.IPv4, Value: v}, Confidence: 90, Expires: exp}
	}
	if _, _, err := db.SyncFeed(ctx, "feodo", []FeedIndicator{in("91.215.85.142", t0.Add(48*time.Hour)), in("185.220.101.47", t0.AddDate(0, 1, 0)),
		in("10.0.0.5", t0.Add(time.Hour))}, nil, true, FeedState{}, t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SyncFeed(ctx, "feodo", []FeedIndicator{in("91.215.85.142", t0.Add(72*time.Hour)), in("185.220.101.47", t0.AddDate(0, 1, 0))},
		nil, true, FeedState{}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	result := `{"ioc":{"type":"ipv4","value":"91.215.85.142"},"sources":[{"provider":"feeds","status":"ok","data":{"feeds":["feodo"]}},` +
		`{"provider":"virustotal","status":"ok","data":{"malicious":3}}]}`
	for _, j := range []struct{ id, alert string }{{"j1", `{"system":"splunk","id":"s1"}`}, {"j2", ""}} {
		var alert any
		if j.alert != "" {
			alert = j.alert
		}
		if _, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO jobs (id, source, alert, spec, input, state, created_at) VALUES (?, 'splunk', ?, '{}', ?, 'completed', ?)`),
			j.id, alert, []byte{}, t0.Add(2*time.Hour).UnixMilli()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO job_results (job_id, type, value, verdict, result) VALUES (?, 'ipv4', '91.215.85.142', 'malicious', ?)`),
			j.id, []byte(result)); err != nil {
			t.Fatal(err)
		}
	}
	figs, err := db.FeedFigures(ctx, t0.Add(-time.Hour), t0.AddDate(0, 0, 7))
	if err != nil {
		t.Fatal(err)
	}
	want := FeedFigure{Feed: "feodo", Added: 3, Removed: 1, Expired: 1, Matched: 2, Alerts: 1}
	if len(figs) != 1 || figs[0] != want {
		t.Errorf("figures %+v, want %+v", figs, want)
	}
}

// TestQuotaStoreConformance runs the QuotaStore suite every backend passes
// against the store's, on SQLite and PostgreSQL.
func TestQuotaStoreConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			db := openTestDB(t, b)()
			ratelimittest.QuotaStore(t, db.Quotas(), b)
		})
	}
}
