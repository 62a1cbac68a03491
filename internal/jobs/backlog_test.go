package jobs

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/result"
)

// paced asks p at most at its limiter's rate, as httpx paces a provider.
type paced struct {
	p   *fakeProvider
	lim ratelimit.Limiter
}

func (p paced) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	if err := p.lim.Wait(ctx); err != nil {
		return provider.Finding{}, err
	}
	return p.p.Lookup(ctx, i)
}

// pacedEngine is an engine whose one source runs at rate, deferring a
// look-up whose turn is further than horizon away.
func pacedEngine(t *testing.T, p *fakeProvider, rate ratelimit.Rate, horizon time.Duration) *enrich.Engine {
	t.Helper()
	s := fakeSource(paced{p, ratelimit.NewLimiter(rate)}, 1)
	s.Rate = rate
	e := enrich.New(enrich.Options{Sources: []*enrich.Source{s}, DeferHorizon: horizon})
	e.Start(context.Background())
	t.Cleanup(e.Close)
	return e
}

// A job whose look-ups the budget postpones completes with what it has,
// the rest deferred to the backlog; each deferred answer, when it lands,
// revises the stored result (verdict, score, counts, final) and the job's
// deferred count falls to 0, then OnSettled hears of the job once.
func TestDeferredLookupsLandAndReviseTheJob(t *testing.T) {
	backends(t, testDeferredLookupsLandAndReviseTheJob)
}

func testDeferredLookupsLandAndReviseTheJob(t *testing.T, db string) {
	ctx := context.Background()
	f := newFake()
	e := pacedEngine(t, f, ratelimit.Rate{N: 10, Per: time.Second}, 250*time.Millisecond)
	settled := make(chan Job, 4)
	hist := &memHistory{}
	h := newHarness(t, e, db, Options{BacklogPoll: 50 * time.Millisecond, OnSettled: func(j Job) { settled <- j }, History: hist})

	var lines []string
	for n := range 12 {
		lines = append(lines, fmt.Sprintf("evil-%d.badsite.com", n)) // the fake calls these malicious
	}
	j, _, err := h.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte(strings.Join(lines, "\n")), Alert: &AlertRef{System: "splunk", ID: "sid-1"}})
	if err != nil {
		t.Fatal(err)
	}
	fin := h.wait(t)
	first, err := h.q.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fin.State != Completed || fin.Counts.Done != 12 {
		t.Fatalf("job = %+v, want completed with 12 results", fin)
	}
	if fin.Counts.Deferred == 0 || fin.Counts.Malicious+fin.Counts.Deferred < 12 {
		t.Fatalf("counts at completion %+v: want some look-ups deferred, the others malicious", fin.Counts)
	}
	t.Logf("at completion: %d malicious, %d deferred (%v)", fin.Counts.Malicious, fin.Counts.Deferred, first.Deferred)

	var got Job
	select {
	case got = <-settled:
	case <-time.After(30 * time.Second):
		t.Fatal("the deferred look-ups never landed")
	}
	if got.ID != j.ID || got.Counts.Deferred != 0 || got.Counts.Malicious != 12 || got.Counts.Unknown != 0 || got.Counts.Done != 12 {
		t.Errorf("settled job %+v: want 12 malicious, none deferred", got)
	}
	revised := 0
	for _, r := range collect(t, h.q, j.ID) {
		s, _ := r.Source(fakeName)
		if r.Verdict != result.Malicious || s.Status != "ok" || s.Deferred || r.Pending() {
			t.Errorf("%s: %s, source %s %q deferred=%v final=%v", r.IOC, r.Verdict, s.Status, s.Reason, s.Deferred, r.Final)
		}
		if r.Revised != nil {
			revised++
			if r.Final == nil || !*r.Final || r.Revised.Verdict != result.Unknown || r.Revised.At.IsZero() {
				t.Errorf("%s: final %v, revised %+v: want final, revised from unknown", r.IOC, r.Final, *r.Revised)
			}
		}
	}
	if revised != fin.Counts.Deferred {
		t.Errorf("%d results revised, %d look-ups were deferred", revised, fin.Counts.Deferred)
	}
	// The IOC history has each result once from the job, and each
	// revision that moved a verdict.
	first12, revisions := hist.count("api"), hist.count("backlog")
	if first12 != 12 || revisions != revised {
		t.Errorf("history: %d job entries, %d revisions; want 12 and %d", first12, revisions, revised)
	}
	for _, r := range hist.all() {
		if r.Origin == "api" && (r.Alert != "splunk:sid-1" || r.Job != j.ID) {
			t.Errorf("job entry %+v", r)
		}
		if r.Origin == "backlog" && (r.Verdict != result.Malicious || !strings.Contains(r.Note, "revised when "+fakeName) || r.Alert != "") {
			t.Errorf("revision entry %+v", r)
		}
	}
	for _, l := range lines {
		if n := f.count(ioc.IOC{Type: ioc.Domain, Value: l}); n != 1 {
			t.Errorf("%s asked %d times, want once", l, n)
		}
	}
	select {
	case j := <-settled:
		t.Errorf("settled twice: %+v", j)
	case <-time.After(200 * time.Millisecond):
	}
}

// The backlog is durable: deferred look-ups left by a process that
// stopped are made by the next one, and alerts' look-ups go before bulk.
func TestBacklogSurvivesRestartAlertsFirst(t *testing.T) {
	backends(t, testBacklogSurvivesRestartAlertsFirst)
}

func testBacklogSurvivesRestartAlertsFirst(t *testing.T, db string) {
	ctx := context.Background()
	f := newFake()
	f.hang = true // the first process never gets an answer: everything is deferred
	path := db
	e1 := pacedEngine(t, f, ratelimit.Rate{N: 1000, Per: time.Second}, time.Minute)
	h1 := newHarness(t, e1, path, Options{BacklogPoll: time.Hour})
	bulk, _, err := h1.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte("evil-bulk-1.badsite.com\nevil-bulk-2.badsite.com"), Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h1.wait(t)
	alert, _, err := h1.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte("evil-alert.badsite.com"), Timeout: 200 * time.Millisecond,
		Alert: &AlertRef{System: "splunk", ID: "sid-2"}})
	if err != nil {
		t.Fatal(err)
	}
	h1.wait(t)
	for _, id := range []string{bulk.ID, alert.ID} {
		if j, _ := h1.q.Get(ctx, id); j.Counts.Deferred == 0 {
			t.Fatalf("job %s: nothing deferred (%+v)", id, j.Counts)
		}
	}
	h1.q.Close()

	// The next process: one look-up at a time, in the order the backlog
	// gives them.
	f2 := newFake()
	f2.entered = make(chan ioc.IOC, 8)
	e2 := pacedEngine(t, f2, ratelimit.Rate{N: 1000, Per: time.Second}, time.Minute)
	var mu sync.Mutex
	var settledIDs []string
	h2 := newHarness(t, e2, path, Options{BacklogPoll: 20 * time.Millisecond, OnSettled: func(j Job) {
		mu.Lock()
		settledIDs = append(settledIDs, j.ID)
		mu.Unlock()
	}})
	firstAsked := <-f2.entered
	if firstAsked.Value != "evil-alert.badsite.com" {
		t.Errorf("first deferred look-up made: %s, want the alert's", firstAsked.Value)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := h2.q.Get(ctx, bulk.ID)
		a, _ := h2.q.Get(ctx, alert.ID)
		if b.Counts.Deferred == 0 && a.Counts.Deferred == 0 {
			if b.Counts.Malicious != 2 || a.Counts.Malicious != 1 {
				t.Errorf("after the backlog: bulk %+v, alert %+v", b.Counts, a.Counts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlog not worked: bulk %+v, alert %+v", b.Counts, a.Counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(settledIDs) != 2 {
		t.Errorf("settled %v, want both jobs once", settledIDs)
	}
}

// Pruning a job drops its deferred look-ups.
func TestPruneDropsDeferredLookups(t *testing.T) { backends(t, testPruneDropsDeferredLookups) }

func testPruneDropsDeferredLookups(t *testing.T, db string) {
	ctx := context.Background()
	f := newFake()
	e := pacedEngine(t, f, ratelimit.Rate{N: 1, Per: time.Hour}, time.Minute)
	h := newHarness(t, e, db, Options{BacklogPoll: time.Hour})
	text, _ := ips(5)
	j, _, err := h.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte(text)})
	if err != nil {
		t.Fatal(err)
	}
	fin := h.wait(t)
	if fin.Counts.Deferred < 4 {
		t.Fatalf("counts %+v: at 1/h, want at least 4 of 5 deferred", fin.Counts)
	}
	if n, err := h.q.Prune(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	var left int
	if err := h.q.w.QueryRowContext(ctx, h.q.dialect.Rebind(`SELECT count(*) FROM deferred_lookups WHERE job_id = ?`), j.ID).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d deferred look-ups left after the job was pruned (%v)", left, err)
	}
}

// memHistory records what the queue keeps in the IOC history.
type memHistory struct {
	mu   sync.Mutex
	recs []history.Record
}

func (m *memHistory) RecordHistory(_ context.Context, recs []history.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, recs...)
	return nil
}

func (m *memHistory) all() []history.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]history.Record(nil), m.recs...)
}

func (m *memHistory) count(origin string) int {
	n := 0
	for _, r := range m.all() {
		if r.Origin == origin {
			n++
		}
	}
	return n
}
