package feeds

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/store"
	"github.com/iocane/iocane/internal/tlp"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadListFormats(t *testing.T) {
	for _, c := range []struct {
		name string
		feed Feed
		file string
		want []string
	}{
		{"urlhaus csv, column named in the commented header", Feed{Kind: KindCSV, Column: "url", Comment: "#"}, "urlhaus_recent.csv",
			[]string{"url:http://115.55.231.60:44239/bin.sh", "url:http://evil-payload.xyz/stage2.bin", "url:https://login-example-support.com/invoice.doc"}},
		{"feodo csv, column named in the header row", Feed{Kind: KindCSV, Column: "dst_ip", Comment: "#"}, "feodo_ipblocklist.csv",
			[]string{"ipv4:185.220.101.47", "ipv4:91.215.85.142", "ipv4:10.0.0.5"}},
		{"feodo csv, column by number", Feed{Kind: KindCSV, Column: "2", Comment: "#"}, "feodo_ipblocklist.csv",
			[]string{"ipv4:185.220.101.47", "ipv4:91.215.85.142", "ipv4:10.0.0.5"}},
		{"text list", Feed{Kind: KindText, Comment: "#"}, "ip_list.txt",
			[]string{"ipv4:45.155.205.233", "ipv4:91.215.85.142", "domain:login-example-support.com"}},
		{"text list of one type", Feed{Kind: KindText, Comment: "#", Type: "ipv4"}, "ip_list.txt",
			[]string{"ipv4:45.155.205.233", "ipv4:91.215.85.142"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			_, err := readList(c.feed, strings.NewReader(string(fixture(t, c.file))), func(i ioc.IOC) error { got = append(got, i.String()); return nil })
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
	if _, err := readList(Feed{Kind: KindText, Comment: "#"}, strings.NewReader("<html><body>502 Bad Gateway</body></html>"), func(ioc.IOC) error { return nil }); err != ErrNoIndicators {
		t.Errorf("an HTML error page: %v, want ErrNoIndicators", err)
	}
	if _, err := readList(Feed{Kind: KindCSV, Column: "nope", Comment: "#"}, strings.NewReader("a,b\n1.2.3.4,x\n"), func(ioc.IOC) error { return nil }); err == nil {
		t.Error("a missing column was not an error")
	}
}

// feedServer serves body with an ETag, answers 304 to a matching
// If-None-Match, and can be told to fail.
type feedServer struct {
	mu     sync.Mutex
	body   string
	status int
	gets   int
}

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	if f.status != 0 {
		w.WriteHeader(f.status)
		w.Write([]byte("upstream error"))
		return
	}
	etag := `"` + strings.Repeat("x", len(f.body)%7+1) + `"`
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Write([]byte(f.body))
}

func (f *feedServer) set(body string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body, f.status = body, status
}

// TestSyncListFeed (issue 13, acceptance 4 for CSV): a sync holds the
// feed's indicators, an unchanged feed answers 304 and keeps them alive, a
// dropped line is removed, and a 500 or a garbage page keeps the previous
// indicators and records the error.
func TestSyncListFeed(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	fs := &feedServer{body: string(fixture(t, "feodo_ipblocklist.csv"))}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	s := &Syncer{Store: db, Now: func() time.Time { return now }}
	f := Feed{Name: "feodo", Kind: KindCSV, URL: srv.URL, Column: "dst_ip", Comment: "#", Confidence: 90, TTL: 24 * time.Hour,
		MaxBody: 1 << 20, Level: tlp.Green}

	r, err := s.Sync(ctx, f)
	if err != nil || r.Read != 3 || r.Added != 3 || r.Removed != 0 {
		t.Fatalf("first sync %+v, %v", r, err)
	}
	now = now.Add(time.Hour)
	if r, err := s.Sync(ctx, f); err != nil || !r.NotModified {
		t.Fatalf("unchanged feed: %+v, %v", r, err)
	}
	fs.set(strings.Replace(fs.body, `"2026-11-21 03:45:55","10.0.0.5","443","offline","2026-11-30","Pikabot"`+"\n", "", 1), 0)
	now = now.Add(time.Hour)
	if r, err := s.Sync(ctx, f); err != nil || r.Removed != 1 || r.Added != 0 || r.Read != 2 {
		t.Fatalf("a line dropped: %+v, %v", r, err)
	}
	for _, bad := range []struct {
		body   string
		status int
		why    string
	}{{"", 500, "http 500"}, {"<html>maintenance</html>", 0, "not in the header"}, {"#only\n#comments\n", 0, "no indicator"}} {
		fs.set(bad.body, bad.status)
		now = now.Add(time.Hour)
		if _, err := s.Sync(ctx, f); err == nil || !strings.Contains(err.Error(), bad.why) {
			t.Errorf("%q: %v", bad.why, err)
		}
		st, _ := db.FeedState(ctx, "feodo", now)
		if st.Held != 2 || !strings.Contains(st.LastError, bad.why) || st.ErrorAt.IsZero() {
			t.Errorf("after %q: held %d, error %q", bad.why, st.Held, st.LastError)
		}
	}
	// Held indicators expire a ttl after they were last seen.
	var live []string
	db.FeedIndicators(ctx, now, func(fi store.FeedIndicator) { live = append(live, fi.IOC.Value) })
	slices.Sort(live)
	if !slices.Equal(live, []string{"185.220.101.47", "91.215.85.142"}) {
		t.Errorf("live %v", live)
	}
	live = nil
	db.FeedIndicators(ctx, now.Add(48*time.Hour), func(fi store.FeedIndicator) { live = append(live, fi.IOC.Value) })
	if len(live) != 0 {
		t.Errorf("expired still live: %v", live)
	}
}

func TestSyncCapsTheBody(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	big := strings.Repeat("45.155.205.233\n", 10_000)
	srv := httptest.NewServer(&feedServer{body: big})
	defer srv.Close()
	f := Feed{Name: "big", Kind: KindText, URL: srv.URL, Comment: "#", Confidence: 75, TTL: time.Hour, MaxBody: 1000}
	if _, err := (&Syncer{Store: db}).Sync(ctx, f); err == nil || !strings.Contains(err.Error(), "max_body") {
		t.Errorf("oversized feed: %v", err)
	}
}

// FuzzReadList: no feed body makes the list reader panic, and what it
// reads are valid IOCs.
func FuzzReadList(f *testing.F) {
	for _, name := range []string{"urlhaus_recent.csv", "feodo_ipblocklist.csv", "ip_list.txt"} {
		f.Add(fixture(f, name), "url")
	}
	f.Add([]byte("\"unterminated,1.2.3.4\n#\n"), "")
	f.Fuzz(func(t *testing.T, body []byte, column string) {
		for _, kind := range []string{KindCSV, KindText} {
			_, _ = readList(Feed{Kind: kind, Column: column, Comment: "#"}, strings.NewReader(string(body)), func(i ioc.IOC) error {
				if !i.Type.Valid() || i.Value == "" {
					t.Errorf("invalid IOC %+v", i)
				}
				return nil
			})
		}
	})
}

// openStore opens a store in the test's temporary directory.
func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "iocane.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
