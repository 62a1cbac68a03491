package feeds

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/iocane/iocane/internal/store"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	feedsrc "github.com/iocane/iocane/internal/provider/feeds"
	"github.com/iocane/iocane/internal/tlp"
)

// miniTAXII is an API root (/api1/) with one collection whose objects
// endpoint honours added_after and answers in the TAXII 2.1 envelope.
type miniTAXII struct {
	mu      sync.Mutex
	objects []map[string]any // each with "_added"
}

const taxiiType = "application/taxii+json;version=2.1"

func (m *miniTAXII) add(o map[string]any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o["_added"] = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(len(m.objects)) * time.Millisecond)
	m.objects = append(m.objects, o)
}

func (m *miniTAXII) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", taxiiType)
	switch r.URL.Path {
	case "/api1/":
		json.NewEncoder(w).Encode(map[string]any{"title": "api1", "versions": []string{taxiiType}})
	case "/api1/collections/c1/":
		json.NewEncoder(w).Encode(map[string]any{"id": "c1", "title": "c1", "can_read": true, "can_write": false})
	case "/api1/collections/c1/objects/":
		m.mu.Lock()
		defer m.mu.Unlock()
		q := r.URL.Query()
		after, _ := time.Parse(time.RFC3339Nano, q.Get("added_after"))
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit <= 0 {
			limit = 1 << 30
		}
		start, _ := strconv.Atoi(q.Get("next")) // an offset, as the server chooses its tokens
		var out []any
		var last time.Time
		k, more := 0, false
		for _, o := range m.objects {
			at := o["_added"].(time.Time)
			if !at.After(after) {
				continue
			}
			if k < start {
				k++
				continue
			}
			if len(out) == limit {
				more = true
				break
			}
			c := map[string]any{}
			for key, v := range o {
				if key != "_added" {
					c[key] = v
				}
			}
			out = append(out, c)
			last = at
			k++
		}
		if !last.IsZero() {
			w.Header().Set("X-TAXII-Date-Added-Last", last.Format("2006-01-02T15:04:05.000000Z"))
		}
		env := map[string]any{"more": more, "objects": out}
		if more {
			env["next"] = strconv.Itoa(k)
		}
		json.NewEncoder(w).Encode(env)
	default:
		w.WriteHeader(404)
		json.NewEncoder(w).Encode(map[string]any{"title": "not found", "http_status": "404"})
	}
}

func indicator(id, pattern string, extra map[string]any) map[string]any {
	o := map[string]any{"type": "indicator", "spec_version": "2.1", "id": "indicator--" + id, "created": "2026-12-01T00:00:00.000Z",
		"modified": "2026-12-01T00:00:00.000Z", "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-12-01T00:00:00Z"}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

// TestSyncTAXIIFeed (issue 13, acceptance 3 at test size): a TAXII feed
// is synced into the store; a resumed sync fetches only what was added;
// a revoked indicator stops matching.
func TestSyncTAXIIFeed(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	fake := &miniTAXII{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	fake.add(indicator("11111111-1111-4111-8111-111111111111", "[ipv4-addr:value = '91.215.85.142']", map[string]any{"confidence": 85}))
	fake.add(indicator("22222222-2222-4222-8222-222222222222", "[domain-name:value = 'login-example-support.com']", nil))
	fake.add(map[string]any{"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--33333333-3333-4333-8333-333333333333", "value": "8.8.8.8"})

	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	s := &Syncer{Store: db, Now: func() time.Time { return now }}
	f := Feed{Name: "partner", Kind: KindTAXII, URL: srv.URL + "/api1/", Collection: "c1", Confidence: 70, TTL: 30 * 24 * time.Hour,
		MaxBody: 1 << 20, Level: tlp.Amber}
	r, err := s.Sync(ctx, f)
	if err != nil || r.Added != 2 {
		t.Fatalf("first sync %+v, %v (the SCO is not an indicator)", r, err)
	}
	st, _ := db.FeedState(ctx, "partner", now)
	if st.Cursor == "" || st.Held != 2 {
		t.Fatalf("state %+v", st)
	}

	fake.add(indicator("44444444-4444-4444-8444-444444444444", "[url:value = 'http://evil-payload.xyz/stage2.bin']", nil))
	fake.add(indicator("11111111-1111-4111-8111-111111111111", "[ipv4-addr:value = '91.215.85.142']", map[string]any{"revoked": true,
		"modified": "2026-12-03T00:00:00.000Z"}))
	now = now.Add(time.Hour)
	r, err = s.Sync(ctx, f)
	if err != nil || r.Read != 2 || r.Added != 1 || r.Removed != 1 {
		t.Fatalf("resumed sync %+v, %v: want only the 2 new objects read", r, err)
	}
	m := feedsrc.NewMatcher(func() time.Time { return now })
	if _, err := m.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	if f, _ := m.Lookup(ctx, ioc.IOC{Type: ioc.IPv4, Value: "91.215.85.142"}); f.Status != provider.StatusNotFound {
		t.Errorf("a revoked indicator still matches: %+v", f)
	}
	if f, _ := m.Lookup(ctx, ioc.IOC{Type: ioc.URL, Value: "http://evil-payload.xyz/stage2.bin"}); f.Status != provider.StatusOK || f.Summary != "on partner since 2026-12-04" {
		t.Errorf("the new indicator: %+v", f)
	}
}

// BenchmarkTAXIIIngest100k (issue 13, acceptance 3): a TAXII 2.1 server
// holds 100,000 indicators, served in pages of 1,000; one Sync reads them
// all into the store. It reports the time, indicators per second and the
// peak heap in use (sampled every 10 ms).
//
//	go test ./internal/feeds -run '^$' -bench TAXIIIngest100k -benchtime 1x
func BenchmarkTAXIIIngest100k(b *testing.B) {
	fake := &miniTAXII{}
	for k := range 100_000 {
		fake.add(indicator(fmt.Sprintf("%08x-0000-4000-8000-%012x", k, k), fmt.Sprintf("[ipv4-addr:value = '45.%d.%d.%d']", k>>16&255, k>>8&255, k&255), nil))
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	for b.Loop() {
		ctx := context.Background()
		db, err := store.Open(ctx, filepath.Join(b.TempDir(), "iocane.db"))
		if err != nil {
			b.Fatal(err)
		}
		f := Feed{Name: "big", Kind: KindTAXII, URL: srv.URL + "/api1/", Collection: "c1", Confidence: 70, TTL: time.Hour, MaxBody: 64 << 20}
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
				}
			}
		}()
		start := time.Now()
		r, err := (&Syncer{Store: db}).Sync(ctx, f)
		took := time.Since(start)
		close(stop)
		if err != nil || r.Added != 100_000 {
			b.Fatalf("%+v, %v", r, err)
		}
		st, _ := db.FeedState(ctx, "big", time.Now())
		if st.Held != 100_000 {
			b.Fatalf("held %d", st.Held)
		}
		db.Close()
		b.ReportMetric(took.Seconds(), "s/100k")
		b.ReportMetric(100_000/took.Seconds(), "indicators/s")
		b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "peak_heap_MiB")
	}
}
