package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/store"
	"github.com/iocane/iocane/internal/tlp"
)

// fakeQueue is an in-memory jobs.Queue that keeps what it was given.
type fakeQueue struct {
	mu      sync.Mutex
	jobs    map[string]*jobs.Job
	specs   map[string]jobs.Spec
	keys    map[string]string
	results map[string][]result.Result
	fail    error
	n       int
}

func newFakeQueue() *fakeQueue {
	return &fakeQueue{jobs: map[string]*jobs.Job{}, specs: map[string]jobs.Spec{}, keys: map[string]string{}, results: map[string][]result.Result{}}
}

func (q *fakeQueue) Submit(_ context.Context, s jobs.Spec) (jobs.Job, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return jobs.Job{}, false, q.fail
	}
	if s.IdempotencyKey != "" {
		if id, ok := q.keys[s.IdempotencyKey]; ok {
			return *q.jobs[id], true, nil
		}
	}
	q.n++
	j := &jobs.Job{ID: fmt.Sprintf("job-%d", q.n), State: jobs.Queued, Source: s.Source, Alert: s.Alert, CreatedAt: time.Unix(1_800_000_000, 0).UTC()}
	q.jobs[j.ID], q.specs[j.ID] = j, s
	if s.IdempotencyKey != "" {
		q.keys[s.IdempotencyKey] = j.ID
	}
	return *j, false, nil
}

func (q *fakeQueue) Get(_ context.Context, id string) (jobs.Job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	j, ok := q.jobs[id]
	if !ok {
		return jobs.Job{}, jobs.ErrNotFound
	}
	return *j, nil
}

func (q *fakeQueue) Results(_ context.Context, id string, fn func(result.Result) error) error {
	q.mu.Lock()
	rs, ok := q.results[id]
	_, known := q.jobs[id]
	q.mu.Unlock()
	if !ok && !known {
		return jobs.ErrNotFound
	}
	for _, r := range rs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (q *fakeQueue) Cancel(_ context.Context, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	j, ok := q.jobs[id]
	if !ok {
		return jobs.ErrNotFound
	}
	j.State = jobs.Canceled
	return nil
}

// DeferredLookups is the backlog's count by provider (jobs.SQLiteQueue).
func (q *fakeQueue) DeferredLookups(context.Context) (map[string]int, error) {
	return map[string]int{"virustotal": 7}, nil
}

func (q *fakeQueue) Depth(context.Context) (int, int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, j := range q.jobs {
		if !j.State.Terminal() {
			n++
		}
	}
	return n, 0, nil
}

func (q *fakeQueue) spec(id string) jobs.Spec {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.specs[id]
}

// fakeEngine calls an IOC malicious when its value contains "evil".
type fakeEngine struct{}

func (fakeEngine) Enrich(_ context.Context, it enrich.Item) result.Result {
	r := result.Result{IOC: it.IOC, TLP: it.TLP, Verdict: result.Unknown, EnrichedAt: time.Unix(1_800_000_000, 0).UTC(), Context: it.Context}
	if strings.Contains(it.IOC.Value, "evil") {
		r.Verdict, r.Score = result.Malicious, 90
	}
	r.Sources = []result.Source{{Provider: "fake", Status: "ok"}}
	return r
}

// fakeStore keeps results in a map.
type fakeStore struct {
	mu      sync.Mutex
	results map[string]result.Result
	down    error
}

func (s *fakeStore) Ping(context.Context) error { return s.down }
func (s *fakeStore) LatestResult(_ context.Context, typ, value string) (result.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.results[typ+":"+value]
	if !ok {
		return r, store.ErrNotFound
	}
	return r, nil
}
func (s *fakeStore) PutResult(_ context.Context, r result.Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.results == nil {
		s.results = map[string]result.Result{}
	}
	s.results[r.IOC.String()] = r
	return nil
}
func (s *fakeStore) PurgeCache(context.Context, string, time.Duration) (int64, error) { return 3, nil }

// Test tokens. Their values must never appear in a log.
const (
	adminSecret  = "adm-5f0c9e1d7b2a4c68a1e3"
	ingestSecret = "ing-0b7d2e4f6a8c1e3d5f79"
	readSecret   = "rd-9a8b7c6d5e4f3a2b1c0d"
	hookSecret   = "whk-1e2d3c4b5a69788796a5"
)

// harness is a server over fakes with a captured log.
type harness struct {
	t     *testing.T
	srv   *Server
	q     *fakeQueue
	store *fakeStore
	log   *bytes.Buffer
	now   time.Time
}

func newHarness(t *testing.T, mod func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, q: newFakeQueue(), store: &fakeStore{}, log: &bytes.Buffer{}, now: time.Unix(1_800_000_000, 0)}
	o := Options{
		Engine: fakeEngine{}, Queue: h.q, Store: h.store, DefaultTLP: tlp.Amber,
		Tokens: []Token{
			NewToken("admin", adminSecret, AllScopes...),
			NewToken("splunk-prod", ingestSecret, ScopeIngest),
			NewToken("dashboard", readSecret, ScopeRead),
		},
		WebhookSecret: []byte(hookSecret),
		Logger:        slog.New(slog.NewJSONHandler(&lockedWriter{w: h.log}, nil)),
		Now:           func() time.Time { return h.now },
		Providers:     func(context.Context) ([]provider.State, error) { return []provider.State{{Name: "virustotal"}}, nil },
		ProviderNames: []string{"virustotal", "abuseipdb"},
	}
	if mod != nil {
		mod(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	return h
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// req is one request to send.
type req struct {
	method, path, token, ctype, body string
	header                           map[string]string
	sign                             bool
}

func (h *harness) do(r req) *httptest.ResponseRecorder {
	h.t.Helper()
	hr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	if r.sign {
		ts := fmt.Sprint(h.now.Unix())
		hr.Header.Set(HeaderTimestamp, ts)
		hr.Header.Set(HeaderSignature, Sign([]byte(hookSecret), ts, []byte(r.body)))
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(w, hr)
	return w
}

var _ http.Handler = http.HandlerFunc(nil)

func itemOf(t *testing.T, v string) enrich.Item {
	t.Helper()
	i, err := ioc.Parse(v)
	if err != nil {
		t.Fatal(err)
	}
	return enrich.Item{IOC: i, TLP: tlp.Amber}
}
