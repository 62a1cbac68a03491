package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/feeds"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// TestFeedsSourceSpendsNoQuota (issue 13, acceptance 5): after `feeds
// sync`, an IOC a feed holds comes back with source feeds naming the feed;
// with tiering on, a feed of confidence 95 settles it, and the fake
// providers see no call for it.
func TestFeedsSourceSpendsNoQuota(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "feeds", "testdata", "feodo_ipblocklist.csv"))
	if err != nil {
		t.Fatal(err)
	}
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(body) }))
	t.Cleanup(feed.Close)
	cfg := filepath.Join(t.TempDir(), "iocane.yaml")
	yaml := fmt.Sprintf("feeds:\n  - {name: feodo, kind: csv, url: %q, column: dst_ip, confidence: 95, tlp: green}\ntiering: on\n", feed.URL)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	f := fakeintel.New(fakeintel.Options{})
	f.Start()
	t.Cleanup(f.Close)
	p, err := Open(context.Background(), Options{ConfigPath: cfg, DBPath: filepath.Join(t.TempDir(), "iocane.db"), Environ: f.Env(),
		Engine: enrich.Options{IOCTimeout: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rs, err := p.SyncFeeds(context.Background(), "", slog.New(slog.DiscardHandler))
	if err != nil || len(rs) != 1 || rs[0].Added != 3 {
		t.Fatalf("sync: %+v, %v", rs, err)
	}
	c2 := ioc.IOC{Type: ioc.IPv4, Value: "91.215.85.142"}
	r := p.Engine.Enrich(context.Background(), enrich.Item{IOC: c2, TLP: tlp.Amber})
	s, ok := r.Source("feeds")
	if !ok || s.Status != "ok" || !strings.HasPrefix(s.Summary, "on feodo since ") || s.Malicious != 0.95 {
		t.Fatalf("feeds source: %+v", s)
	}
	if r.Verdict != result.Malicious {
		t.Errorf("verdict %s (%q)", r.Verdict, r.Reasons)
	}
	if p, ok := f.Saw(c2.Value); ok {
		t.Errorf("%s reached %s though a feed settled it", c2.Value, p)
	}
	for _, src := range r.Sources {
		if src.Status == "skipped" && !strings.HasPrefix(src.Reason, "tiering: verdict settled by feeds") {
			t.Errorf("%s skipped: %q", src.Provider, src.Reason)
		}
	}
	// An IOC no feed holds is not_found in feeds and asks the providers.
	other := p.Engine.Enrich(context.Background(), enrich.Item{IOC: ioc.IOC{Type: ioc.IPv4, Value: "45.155.205.233"}, TLP: tlp.Amber})
	if s, _ := other.Source("feeds"); s.Status != "not_found" {
		t.Errorf("an IOC no feed holds: %+v", s)
	}
}

type specQueue struct {
	jobs.Queue
	specs []jobs.Spec
}

func (q *specQueue) Submit(_ context.Context, s jobs.Spec) (jobs.Job, bool, error) {
	q.specs = append(q.specs, s)
	return jobs.Job{ID: "job-1"}, false, nil
}

// TestFeedEnrichJob: enrich: true queues a sync's new indicators as one
// job of source feed (which runs behind the others), marked with the
// feed's TLP and keyed by the sync.
func TestFeedEnrichJob(t *testing.T) {
	q := &specQueue{}
	f := feeds.Feed{Name: "feodo", Enrich: true, Level: tlp.Green}
	r := feeds.Result{New: []ioc.IOC{{Type: ioc.IPv4, Value: "91.215.85.142"}, {Type: ioc.URL, Value: "http://evil-payload.xyz/stage2.bin"}}}
	at := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	if _, err := submitFeedJob(context.Background(), q, f, r, at); err != nil {
		t.Fatal(err)
	}
	s := q.specs[0]
	if s.Source != jobs.FeedSource || s.TLP != "green" || s.IdempotencyKey != "feed:feodo:1796374800000" ||
		string(s.Input) != "91.215.85.142\nhttp://evil-payload.xyz/stage2.bin\n" {
		t.Errorf("spec %+v input %q", s, s.Input)
	}
}
