package jobs

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/cache"
	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/store"
	"github.com/iocane/iocane/internal/tlp"
)

// fakeName is the test provider's name.
const fakeName = "fakeintel"

// fakeProvider is an in-process provider: it counts calls per IOC and
// answers "malicious" for values containing "evil", not_found otherwise.
// With hang set, every call waits for its context; entered hears of each
// call as it starts.
type fakeProvider struct {
	mu      sync.Mutex
	calls   map[ioc.IOC]int
	total   atomic.Int64
	hang    bool
	entered chan ioc.IOC
}

func newFake() *fakeProvider { return &fakeProvider{calls: map[ioc.IOC]int{}} }

func (f *fakeProvider) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	f.mu.Lock()
	f.calls[i]++
	f.mu.Unlock()
	f.total.Add(1)
	if f.entered != nil {
		f.entered <- i
	}
	if f.hang {
		<-ctx.Done()
		return provider.Finding{}, ctx.Err()
	}
	return answer(i), nil
}

func answer(i ioc.IOC) provider.Finding {
	if strings.Contains(i.Value, "evil") {
		return provider.Finding{Provider: fakeName, Status: provider.StatusOK, Malicious: 0.95, Summary: "known bad"}
	}
	return provider.Finding{Provider: fakeName, Status: provider.StatusNotFound}
}

func (f *fakeProvider) count(i ioc.IOC) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[i]
}

// fakeSource wraps p as an external source for every common IOC type.
func fakeSource(p provider.Provider, workers int) *enrich.Source {
	types := []ioc.Type{ioc.IPv4, ioc.IPv6, ioc.Domain, ioc.URL, ioc.MD5, ioc.SHA1, ioc.SHA256}
	return &enrich.Source{
		Spec: provider.Spec{Name: fakeName, Types: types, MaxTLP: tlp.Amber, TTL: time.Hour, NotFoundTTL: time.Hour,
			Reliability: provider.ReliabilityB},
		Provider: p, MaxTLP: tlp.Amber, Workers: workers, Rate: ratelimit.Rate{N: 1000, Per: time.Second},
	}
}

// newEngine starts an engine on p with the given cache (nil for none).
func newEngine(t testing.TB, p provider.Provider, workers int, c cache.Cache) *enrich.Engine {
	t.Helper()
	e := enrich.New(enrich.Options{Sources: []*enrich.Source{fakeSource(p, workers)}, Cache: c})
	e.Start(context.Background())
	t.Cleanup(e.Close)
	return e
}

// harness is a started queue with a channel of finished jobs.
type harness struct {
	q    *SQLiteQueue
	done chan Job
	path string
	obs  *recorder
}

// recorder is an Observer that counts events.
type recorder struct {
	mu                           sync.Mutex
	submitted, started, finished int
	existing                     int
}

func (r *recorder) JobSubmitted(_ string, existing bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.submitted++
	if existing {
		r.existing++
	}
}

func (r *recorder) JobStarted(Job, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started++
}

func (r *recorder) JobFinished(Job, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished++
}

func newHarness(t testing.TB, e *enrich.Engine, path string, o Options) *harness {
	t.Helper()
	h := &harness{done: make(chan Job, 16), path: path, obs: &recorder{}}
	o.Observer = h.obs
	if h.path == "" {
		h.path = filepath.Join(t.TempDir(), "iocane.db")
	}
	po := openPools(t, h.path)
	o.Dialect, o.DB, o.Reader, o.Pool, o.Engine = po.Dialect, po.DB, po.Reader, po.Pool, e
	o.OnComplete = func(j Job) { h.done <- j }
	o.FetchPollInterval = 50 * time.Millisecond
	q, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	h.q = q
	if e != nil {
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// wait returns the next finished job, failing after a generous bound
// (a safety net against a hang, not a timing assertion).
func (h *harness) wait(t testing.TB) Job {
	t.Helper()
	select {
	case j := <-h.done:
		return j
	case <-time.After(60 * time.Second):
		t.Fatal("no job finished within 60s")
		return Job{}
	}
}

// ips returns n distinct public IPv4 addresses as text, one per line.
func ips(n int) (string, []ioc.IOC) {
	var b strings.Builder
	var out []ioc.IOC
	for i := range n {
		v := fmt.Sprintf("45.%d.%d.%d", 10+i/(250*250), (i/250)%250, i%250+1)
		b.WriteString(v + "\n")
		out = append(out, ioc.IOC{Type: ioc.IPv4, Value: v})
	}
	return b.String(), out
}

// pools opens the store at path, which creates the queue's tables, and the
// queue's pools on it, closed when the test ends (after the queue, whose
// cleanup is registered later).
func pools(t testing.TB, path string) Options {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	w, r, err := db.QueuePools()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close(); db.Close() })
	return Options{DB: w, Reader: r}
}
