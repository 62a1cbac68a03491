package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/console"
	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	_ "github.com/iocane/iocane/internal/output/all" // every export format
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/store"
	"github.com/iocane/iocane/internal/tlp"
)

// Tokens of the test console: admin has every scope, reader only read.
const (
	adminToken  = "admin-secret-0123456789abcdef"
	readerToken = "reader-secret-0123456789abcdef"
)

// providerNames are the fake sources, named as the real ones so the page
// is as wide as a real one.
var providerNames = []string{"virustotal", "abuseipdb", "shodan", "greynoise", "otx", "misp", "threatfox",
	"urlhaus", "urlscan", "safebrowsing", "passivetotal", "malwarebazaar"}

// fakeProvider answers at once: malicious for values holding "evil", a
// hostile summary for values holding "hostile", not found otherwise.
type fakeProvider struct{ name string }

func (f fakeProvider) Lookup(_ context.Context, i ioc.IOC) (provider.Finding, error) {
	link := "https://intel.example/" + f.name + "/" + url.PathEscape(i.Value)
	switch {
	case strings.Contains(i.Value, "evil"):
		return provider.Finding{Status: provider.StatusOK, Malicious: 0.95, Summary: "known bad: 42 engines flag it",
			Link: link, Data: map[string]any{"detections": 42.0, "family": "qakbot"}}, nil
	case strings.Contains(i.Value, "hostile"):
		return provider.Finding{Status: provider.StatusOK, Malicious: 0.2, Summary: `<script>alert("summary")</script>`,
			Link: "javascript:alert(1)", Data: map[string]any{"note": `<img src=x onerror=alert(2)>`}}, nil
	}
	return provider.Finding{Status: provider.StatusNotFound, Link: link}, nil
}

// clock is a settable clock for session expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a console on a real store and job queue whose engine asks the
// fake providers.
type env struct {
	URL     string
	Queue   *jobs.SQLiteQueue
	Console *console.Console
	Clock   *clock
	done    chan jobs.Job
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "iocane.db"))
	if err != nil {
		t.Fatal(err)
	}
	w, r, err := db.QueuePools()
	if err != nil {
		t.Fatal(err)
	}
	var sources []*enrich.Source
	types := []ioc.Type{ioc.IPv4, ioc.IPv6, ioc.Domain, ioc.URL, ioc.MD5, ioc.SHA1, ioc.SHA256}
	for _, n := range providerNames {
		sources = append(sources, &enrich.Source{
			Spec:     provider.Spec{Name: n, Types: types, MaxTLP: tlp.Amber, TTL: time.Hour, NotFoundTTL: time.Hour, Reliability: provider.ReliabilityB},
			Provider: fakeProvider{n}, MaxTLP: tlp.Amber, Workers: 8, Rate: ratelimit.Rate{N: 100000, Per: time.Second},
		})
	}
	eng := enrich.New(enrich.Options{Sources: sources, Cache: db.Cache(), Skipped: map[string]string{"feeds": "not configured"}})
	eng.Start(ctx)
	e := &env{Clock: &clock{t: time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)}, done: make(chan jobs.Job, 64)}
	q, err := jobs.Open(ctx, jobs.Options{DB: w, Reader: r, Engine: eng, Results: db, FetchPollInterval: 50 * time.Millisecond,
		OnComplete: func(j jobs.Job) { e.done <- j }})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		q.Stop(ctx)
		q.Close()
		eng.Close()
		r.Close()
		w.Close()
		db.Close()
	})
	tokens := map[string]console.Identity{
		adminToken:  {Name: "soc-admin", Scopes: []string{console.ScopeAdmin}},
		readerToken: {Name: "soc-reader", Scopes: []string{console.ScopeRead}},
	}
	c, err := console.New(console.Options{
		Auth:    func(s string) (console.Identity, bool) { id, ok := tokens[s]; return id, ok },
		Jobs:    q,
		Preview: eng.Preview,
		Latest: func(ctx context.Context, i ioc.IOC) (result.Result, bool, error) {
			res, err := db.LatestResult(ctx, string(i.Type), i.Value)
			return res, err == nil, nil
		},
		Providers: func(context.Context) ([]provider.State, error) {
			return []provider.State{
				{Name: "virustotal", Configured: true, Rate: "4/min", Quota: []provider.QuotaWindow{{Period: "d", Limit: 500, Used: 470, Remaining: 30, ResetsAt: "2026-12-05T00:00:00Z"}}},
				{Name: "shodan", Configured: false, Reason: "no API key", Quota: []provider.QuotaWindow{}},
			}, nil
		},
		Health: func() map[string]console.ProviderHealth {
			return map[string]console.ProviderHealth{"virustotal": {Breaker: "open", Errors: 3, RateLimited: 7}}
		},
		DefaultTLP: tlp.Amber,
		Now:        e.Clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Queue, e.Console = q, c
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

// client is a browser-like HTTP client: a cookie jar, and redirects
// followed.
func client(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// signIn signs a new client in with token.
func (e *env) signIn(t testing.TB, token string) *http.Client {
	t.Helper()
	c := client(t)
	resp, body := e.post(t, c, "/ui/login", url.Values{"token": {token}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Sign out") {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	return c
}

func (e *env) get(t testing.TB, c *http.Client, path string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(e.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (e *env) post(t testing.TB, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(e.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// waitJob waits for a job to finish (a bound against a hang, not a timing
// assertion).
func (e *env) waitJob(t testing.TB) jobs.Job {
	t.Helper()
	select {
	case j := <-e.done:
		return j
	case <-time.After(2 * time.Minute):
		t.Fatal("no job finished within 2 minutes")
		return jobs.Job{}
	}
}

var draftRE = regexp.MustCompile(`name="draft" value="([^"]+)"`)

// draftOf returns the draft id of a preview page.
func draftOf(t testing.TB, page string) string {
	t.Helper()
	m := draftRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no draft in the preview:\n%s", page)
	}
	return m[1]
}

// ips returns n distinct public IPv4 addresses, one per line.
func ips(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "45.%d.%d.%d\n", 10+i/(250*250), (i/250)%250, i%250+1)
	}
	return b.String()
}
