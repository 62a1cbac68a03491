package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/cache"
	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/store"
)

// The crash test (issue 5, acceptance 2) runs the queue in a child process
// (this test binary again, switched by crashChildEnv), SIGKILLs it mid-job
// and restarts it on the same database.
const (
	crashChildEnv = "IOCANE_JOBS_CRASH_CHILD" // the database path
	crashURLEnv   = "IOCANE_JOBS_CRASH_URL"   // the fake provider's base URL
	crashWorkers  = 8                         // the provider's worker pool in the child
	crashIOCs     = 2000
	crashHoldAt   = 1000 // requests after this one are held until the kill
)

// httpProvider asks the parent's fake API: GET /lookup?ip=V answers
// {"malicious": bool}.
type httpProvider struct{ base string }

func (p httpProvider) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/lookup?ip="+url.QueryEscape(i.Value), nil)
	if err != nil {
		return provider.Finding{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return provider.Finding{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return provider.Finding{}, fmt.Errorf("status %d", resp.StatusCode)
	}
	var body struct{ Malicious bool }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return provider.Finding{}, err
	}
	if body.Malicious {
		return provider.Finding{Status: provider.StatusOK, Malicious: 0.95, Summary: "known bad"}, nil
	}
	return provider.Finding{Status: provider.StatusNotFound}, nil
}

// TestCrashChild is the child process: the store, an engine with the
// store's cache (as iocane serve builds it), and the queue, working until
// one job completes. It is skipped unless run by TestCrashResume.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("helper process for TestCrashResume")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := enrich.New(enrich.Options{
		Sources: []*enrich.Source{fakeSource(httpProvider{os.Getenv(crashURLEnv)}, crashWorkers)},
		Cache:   cache.Layered{Front: cache.NewMemory(10_000), Back: st.Cache()},
	})
	e.Start(ctx)
	defer e.Close()
	done := make(chan Job, 1)
	o := pools(t, path)
	o.Engine, o.Results, o.OnComplete = e, st, func(j Job) { done <- j }
	q, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	j := <-done
	fmt.Printf("child: job %s %s\n", j.ID, j.State)
}

// crashAPI is the fake provider API: it counts calls per IP, and once
// holding, keeps every new request waiting until the client goes away.
type crashAPI struct {
	mu       sync.Mutex
	calls    map[string]int
	answered map[string]int
	held     map[string]int
	total    int
	holdAt   int // 0: never hold
}

func (a *crashAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("ip")
	a.mu.Lock()
	a.calls[v]++
	a.total++
	hold := a.holdAt > 0 && a.total > a.holdAt
	if hold {
		a.held[v]++
	}
	a.mu.Unlock()
	if hold {
		<-r.Context().Done() // the client dies with the child
		return
	}
	a.mu.Lock()
	a.answered[v]++
	a.mu.Unlock()
	fmt.Fprintf(w, `{"malicious": %v}`, strings.HasSuffix(v, ".7"))
}

func (a *crashAPI) snapshot() (answered, held int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, n := range a.answered {
		answered += n
	}
	for _, n := range a.held {
		held += n
	}
	return answered, held
}

// TestCrashResume: 2,000 IOCs as one job; the worker process is SIGKILLed
// mid-way and restarted on the same database; the job completes. Asserted:
//   - the job ends completed with 2,000 IOCs done, and Results gives
//     exactly one result per IOC of the input, none missing or extra;
//   - every look-up the API answered before the kill is never repeated:
//     the restart skips IOCs with a stored result, and for those whose
//     result was lost (the test deletes half of them, as if their batch
//     had not been written) the engine answers from the store's cache;
//   - the only IOCs asked twice are those whose request was in flight
//     (held, unanswered) at the kill — at most the provider's worker pool
//     (8) — and each of those at most twice.
func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "iocane.db")
	api := &crashAPI{calls: map[string]int{}, answered: map[string]int{}, held: map[string]int{}, holdAt: crashHoldAt}
	srv := httptest.NewServer(api)
	defer srv.Close()

	// Accept the job in this process, without workers.
	text, all := ips(crashIOCs)
	for n := 0; n < len(all); n += 10 {
		text += all[n].Value + "\n" // duplicates are enriched once
	}
	q, err := Open(ctx, pools(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	j, _, err := q.Submit(ctx, Spec{Source: "api", InputFormat: "text", Input: []byte(text)})
	if err != nil {
		t.Fatal(err)
	}

	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v", "-test.timeout=5m")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path, crashURLEnv+"="+srv.URL)
		cmd.Stdout, cmd.Stderr = &lockedBuffer{}, &lockedBuffer{}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}

	// First run: wait until the API holds the workers' requests and every
	// answered look-up has its result stored, then SIGKILL.
	first := child()
	waitFor(t, "first run to store the answered results", func() bool {
		answered, held := api.snapshot()
		g, err := q.Get(ctx, j.ID)
		return err == nil && held == crashWorkers && g.State == Running && g.Counts.Done == answered
	})
	if err := first.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = first.Wait()
	mid, _ := q.Get(ctx, j.ID)
	answeredBefore, heldBefore := api.snapshot()
	t.Logf("killed: state %s, %d/%d done, %d answered, %d in flight", mid.State, mid.Counts.Done, mid.Counts.IOCs, answeredBefore, heldBefore)
	if mid.State != Running || mid.Counts.Done == 0 || mid.Counts.Done >= crashIOCs {
		t.Fatalf("not killed mid-way: %+v", mid)
	}
	// Results computed but not yet written when a process dies are
	// redone; their look-ups must come from the store's cache. Drop the
	// stored results of about half the answered IOCs to make that happen.
	dropped := dropResults(t, q, j.ID)
	if dropped == 0 {
		t.Fatal("no stored result dropped")
	}
	api.mu.Lock()
	api.holdAt = 0
	answeredIPs := map[string]bool{}
	for v := range api.answered {
		answeredIPs[v] = true
	}
	api.mu.Unlock()

	// Second run on the same database: the job is picked up and completes.
	second := child()
	werr := make(chan error, 1)
	go func() { werr <- second.Wait() }()
	select {
	case err := <-werr:
		if err != nil {
			t.Fatalf("restarted child: %v\n%s", err, second.Stderr)
		}
	case <-time.After(3 * time.Minute):
		second.Process.Kill()
		t.Fatalf("restarted child did not finish the job\n%s", second.Stdout)
	}

	fin, err := q.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fin.State != Completed || fin.Counts.IOCs != crashIOCs || fin.Counts.Done != crashIOCs || fin.Attempts != 2 {
		t.Fatalf("after restart: %+v", fin)
	}
	got := map[ioc.IOC]int{}
	cached := 0
	if err := q.Results(ctx, j.ID, func(r result.Result) error {
		got[r.IOC]++
		if len(r.Sources) > 0 && r.Sources[0].Cached {
			cached++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if cached != dropped {
		t.Errorf("%d results answered from the cache, want the %d dropped", cached, dropped)
	}
	if len(got) != crashIOCs {
		t.Errorf("%d IOCs have results, want %d", len(got), crashIOCs)
	}
	for _, i := range all {
		if got[i] != 1 {
			t.Errorf("%s has %d results", i, got[i])
		}
	}

	api.checkCalls(t, all, answeredIPs, crashWorkers)
}

// checkCalls checks that each IOC answered before the kill (answered) was
// asked once, each one in flight at the kill at most twice, every other
// once, and that no more were asked twice than workers can hold in flight.
func (api *crashAPI) checkCalls(t *testing.T, all []ioc.IOC, answered map[string]bool, workers int) {
	t.Helper()
	api.mu.Lock()
	defer api.mu.Unlock()
	twice := 0
	for _, i := range all {
		n := api.calls[i.Value]
		switch {
		case answered[i.Value] && n != 1:
			t.Errorf("%s: answered before the kill, yet asked %d times", i, n)
		case api.held[i.Value] > 0 && n > 2:
			t.Errorf("%s: in flight at the kill, asked %d times", i, n)
		case api.held[i.Value] == 0 && n != 1:
			t.Errorf("%s: asked %d times", i, n)
		}
		if n == 2 {
			twice++
		}
	}
	t.Logf("calls: %d for %d IOCs; %d asked twice (in flight at the kill)", api.total, len(all), twice)
	if twice > workers {
		t.Errorf("%d IOCs asked twice, more than the %d that can be in flight", twice, workers)
	}
}

// dropResults deletes the stored results of IPs ending in an even digit,
// as if their batch had not been written before the crash, and fixes the
// counts to match. It returns how many it deleted.
func dropResults(t *testing.T, q *SQLiteQueue, id string) int {
	t.Helper()
	res, err := q.w.Exec(`DELETE FROM job_results WHERE job_id = ? AND substr(value, -1) IN ('0', '2', '4', '6', '8')`, id)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := res.RowsAffected()
	if _, err := q.w.Exec(`UPDATE jobs SET
		done = (SELECT count(*) FROM job_results WHERE job_id = jobs.id),
		malicious = (SELECT count(*) FROM job_results WHERE job_id = jobs.id AND verdict = 'malicious'),
		suspicious = (SELECT count(*) FROM job_results WHERE job_id = jobs.id AND verdict = 'suspicious'),
		benign = (SELECT count(*) FROM job_results WHERE job_id = jobs.id AND verdict = 'benign'),
		unknown = (SELECT count(*) FROM job_results WHERE job_id = jobs.id AND verdict = 'unknown')
		WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// waitFor polls cond until it holds (a bound against a hang, not a timing
// assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuffer is an io.Writer safe for a child's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
