package feeds

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/store"
)

// mispFeed serves testdata/misp as a MISP feed directory, counting the
// files asked for; fail makes every answer a 500.
type mispFeed struct {
	mu    sync.Mutex
	asked []string
	fail  bool
}

func (m *mispFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.asked = append(m.asked, r.URL.Path)
	fail := m.fail
	m.mu.Unlock()
	if fail {
		http.Error(w, "oops", 500)
		return
	}
	http.ServeFile(w, r, filepath.Join("testdata", "misp", filepath.Base(r.URL.Path)))
}

// TestSyncMISPFeed (issue 13, acceptance 4 for MISP): the manifest, then
// each event; a deleted attribute is not held; a second sync asks for no
// event; a 500 keeps the indicators and records the error.
func TestSyncMISPFeed(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	mf := &mispFeed{}
	srv := httptest.NewServer(mf)
	defer srv.Close()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	s := &Syncer{Store: db, Now: func() time.Time { return now }}
	f := Feed{Name: "circl", Kind: KindMISP, URL: srv.URL + "/feed-osint/", Confidence: 80, TTL: 30 * 24 * time.Hour, MaxBody: 1 << 20}
	r, err := s.Sync(ctx, f)
	if err != nil || r.Added != 4 {
		t.Fatalf("first sync %+v, %v", r, err)
	}
	var held []string
	db.FeedIndicators(ctx, now, func(fi store.FeedIndicator) { held = append(held, fi.IOC.String()) })
	slices.Sort(held)
	want := []string{"domain:login-micros0ft-verify.net", "ipv4:185.220.101.47", "ipv4:91.215.85.142", "url:http://login-micros0ft-verify.net/o365/"}
	if !slices.Equal(held, want) {
		t.Errorf("held %v, want %v (the deleted attribute not among them)", held, want)
	}
	mf.mu.Lock()
	mf.asked = nil
	mf.mu.Unlock()
	now = now.Add(time.Hour)
	if r, err := s.Sync(ctx, f); err != nil || r.Read != 0 {
		t.Fatalf("second sync %+v, %v", r, err)
	}
	if len(mf.asked) != 1 || !strings.HasSuffix(mf.asked[0], "manifest.json") {
		t.Errorf("second sync asked for %v, want the manifest only", mf.asked)
	}
	mf.fail = true
	if _, err := s.Sync(ctx, f); err == nil || !strings.Contains(err.Error(), "http 500") {
		t.Errorf("a failing feed: %v", err)
	}
	if st, _ := db.FeedState(ctx, "circl", now); st.Held != 4 || st.LastError == "" {
		t.Errorf("after the failure: held %d, error %q", st.Held, st.LastError)
	}
}
