package jobs

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
)

const alertText = `Alert 4711: beacon from 185.220.101.47 to hxxp://evil-payload[.]xyz/stage2.bin
also seen: 185.220.101.47, evil-payload.xyz and 44d88612fea8a8f36de82e1278abb02f`

func collect(t *testing.T, q *SQLiteQueue, id string) []result.Result {
	t.Helper()
	var rs []result.Result
	if err := q.Results(context.Background(), id, func(r result.Result) error {
		rs = append(rs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestSubmitRunsToCompletion(t *testing.T) { backends(t, testSubmitRunsToCompletion) }

func testSubmitRunsToCompletion(t *testing.T, db string) {
	ctx := context.Background()
	f := newFake()
	h := newHarness(t, newEngine(t, f, 4, nil), db, Options{})
	j, existing, err := h.q.Submit(ctx, Spec{Source: "splunk", InputFormat: "text", Input: []byte(alertText),
		Alert: &AlertRef{System: "splunk", ID: "scheduler__admin__search__RMD5_at_1700000000_42"}})
	if err != nil || existing {
		t.Fatalf("submit: existing=%v err=%v", existing, err)
	}
	if j.State != Queued || j.ID == "" {
		t.Fatalf("submitted job = %+v", j)
	}
	fin := h.wait(t)
	if fin.ID != j.ID || fin.State != Completed {
		t.Fatalf("finished = %+v", fin)
	}
	got, err := h.q.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	rs := collect(t, h.q, j.ID)
	var values []string
	seen := map[ioc.IOC]bool{}
	for _, r := range rs {
		if seen[r.IOC] {
			t.Errorf("two results for %s", r.IOC)
		}
		seen[r.IOC] = true
		values = append(values, r.IOC.String())
	}
	want := []string{"domain:evil-payload.xyz", "ipv4:185.220.101.47", "md5:44d88612fea8a8f36de82e1278abb02f", "url:http://evil-payload.xyz/stage2.bin"}
	for _, w := range want {
		if !slices.Contains(values, w) {
			t.Errorf("no result for %s; got %v", w, values)
		}
	}
	if got.Counts.IOCs != len(rs) || got.Counts.Done != len(rs) || got.Attempts != 1 {
		t.Errorf("counts = %+v attempts %d, want %d IOCs done", got.Counts, got.Attempts, len(rs))
	}
	mal := 0
	for _, r := range rs {
		if r.Verdict == result.Malicious {
			mal++
		}
		if f.count(r.IOC) != 1 {
			t.Errorf("%s looked up %d times", r.IOC, f.count(r.IOC))
		}
	}
	if got.Counts.Malicious != mal || mal == 0 {
		t.Errorf("malicious count %d, results say %d", got.Counts.Malicious, mal)
	}
	if got.Alert == nil || got.Alert.ID != "scheduler__admin__search__RMD5_at_1700000000_42" || got.Source != "splunk" {
		t.Errorf("alert ref lost: %+v", got)
	}
	if got.StartedAt.IsZero() || got.FinishedAt.Before(got.StartedAt) {
		t.Errorf("timestamps: %+v", got)
	}
	h.obs.mu.Lock()
	if h.obs.submitted != 1 || h.obs.started != 1 || h.obs.finished != 1 {
		t.Errorf("observer heard %+v, want one of each", h.obs)
	}
	h.obs.mu.Unlock()
	if q, r, err := h.q.Depth(ctx); err != nil || q != 0 || r != 0 {
		t.Errorf("depth after completion = %d queued %d running (%v)", q, r, err)
	}
}

func TestIdempotencyKeyEnrichesOnce(t *testing.T) { backends(t, testIdempotencyKeyEnrichesOnce) }

func testIdempotencyKeyEnrichesOnce(t *testing.T, db string) {
	ctx := context.Background()
	f := newFake()
	h := newHarness(t, newEngine(t, f, 4, nil), db, Options{})
	spec := Spec{IdempotencyKey: "thehive:~41234", Source: "thehive", InputFormat: "text", Input: []byte(alertText)}

	var wg sync.WaitGroup
	ids := make([]string, 8)
	fresh := make([]bool, 8)
	for n := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, existing, err := h.q.Submit(ctx, spec)
			if err != nil {
				t.Error(err)
			}
			ids[n], fresh[n] = j.ID, !existing
		}()
	}
	wg.Wait()
	created := 0
	for n := range ids {
		if ids[n] != ids[0] {
			t.Fatalf("same key gave jobs %s and %s", ids[0], ids[n])
		}
		if fresh[n] {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d submissions reported a new job, want 1", created)
	}
	h.wait(t)
	j, existing, err := h.q.Submit(ctx, spec) // after completion too
	if err != nil || !existing || j.ID != ids[0] || j.State != Completed {
		t.Fatalf("resubmit after completion: %+v existing=%v err=%v", j, existing, err)
	}
	select {
	case extra := <-h.done:
		t.Fatalf("a second job ran: %+v", extra)
	default:
	}
	for i, n := range f.calls {
		if n != 1 {
			t.Errorf("%s looked up %d times", i, n)
		}
	}
}

func TestSubmitRejectsBadSpecs(t *testing.T) { backends(t, testSubmitRejectsBadSpecs) }

func testSubmitRejectsBadSpecs(t *testing.T, db string) {
	h := newHarness(t, nil, db, Options{})
	for name, s := range map[string]Spec{
		"empty input": {InputFormat: "text"},
		"format":      {InputFormat: "docx", Input: []byte("x")},
		"tlp":         {InputFormat: "text", TLP: "purple", Input: []byte("x")},
	} {
		if _, _, err := h.q.Submit(context.Background(), s); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := h.q.Get(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get unknown: %v", err)
	}
	if err := h.q.Results(context.Background(), "nope", func(result.Result) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("Results unknown: %v", err)
	}
	if err := h.q.Cancel(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Cancel unknown: %v", err)
	}
}

// A provider that never answers must not keep a job from ending: at the
// deadline the job completes, every IOC with a result in which the
// hanging source's look-up is deferred to the backlog (not failed), the
// result not final, and the job counts them.
func TestDeadlineEndsJobWithHangingProvider(t *testing.T) {
	backends(t, testDeadlineEndsJobWithHangingProvider)
}

func testDeadlineEndsJobWithHangingProvider(t *testing.T, db string) {
	ctx := context.Background()
	f := newFake()
	f.hang = true
	h := newHarness(t, newEngine(t, f, 2, nil), db, Options{})
	text, all := ips(40)
	j, _, err := h.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte(text), Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	fin := h.wait(t)
	if fin.ID != j.ID || fin.State != Completed {
		t.Fatalf("job = %+v, want completed", fin)
	}
	if !strings.Contains(fin.Error, "deadline") {
		t.Errorf("error note %q does not mention the deadline", fin.Error)
	}
	rs := collect(t, h.q, j.ID)
	if len(rs) != len(all) || fin.Counts.Done != len(all) {
		t.Fatalf("%d results, counts %+v, want %d", len(rs), fin.Counts, len(all))
	}
	got, err := h.q.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Counts.Deferred != len(all) || got.Deferred[fakeName] != len(all) {
		t.Errorf("deferred counts %d, %v; want %d for %s", got.Counts.Deferred, got.Deferred, len(all), fakeName)
	}
	if all, err := h.q.DeferredLookups(ctx); err != nil || all[fakeName] != len(rs) {
		t.Errorf("backlog by provider %v (%v), want %d for %s", all, err, len(rs), fakeName)
	}
	for _, r := range rs {
		s := r.Sources[0]
		if s.Provider != fakeName || s.Status != "rate_limited" || !s.Deferred || !strings.HasPrefix(s.Reason, "queued: "+fakeName+" budget, ETA ") {
			t.Errorf("%s: source %+v, want deferred", r.IOC, s)
		}
		if !r.Pending() {
			t.Errorf("%s: final = %v with a look-up deferred", r.IOC, r.Final)
		}
		if r.Verdict == result.Benign {
			t.Errorf("%s: a deferred look-up read as benign", r.IOC)
		}
	}
	if n := f.total.Load(); n > 2+8 {
		t.Errorf("%d calls made with 2 workers hanging", n)
	}
}

// Canceling a running job stops it: the look-ups in flight end, and no
// other IOC of the job reaches the provider.
func TestCancelRunningJob(t *testing.T) { backends(t, testCancelRunningJob) }

func testCancelRunningJob(t *testing.T, db string) {
	ctx := context.Background()
	f := newFake()
	f.hang = true
	f.entered = make(chan ioc.IOC, 64)
	const workers = 2
	h := newHarness(t, newEngine(t, f, workers, nil), db, Options{})
	text, _ := ips(30)
	j, _, err := h.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte(text)})
	if err != nil {
		t.Fatal(err)
	}
	for range workers {
		<-f.entered // both workers are inside a look-up
	}
	if g, _ := h.q.Get(ctx, j.ID); g.State != Running {
		t.Fatalf("state %s while looking up, want running", g.State)
	}
	if err := h.q.Cancel(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	fin := h.wait(t)
	if fin.ID != j.ID || fin.State != Canceled {
		t.Fatalf("finished = %+v, want canceled", fin)
	}
	if n := f.total.Load(); n != workers {
		t.Errorf("%d provider calls, want only the %d in flight at the cancel", n, workers)
	}
	if rs := collect(t, h.q, j.ID); len(rs) != 0 {
		t.Errorf("%d results stored for look-ups cut short", len(rs))
	}
	if err := h.q.Cancel(ctx, j.ID); !errors.Is(err, ErrFinished) {
		t.Errorf("second cancel: %v, want ErrFinished", err)
	}
}

// A job canceled while queued never runs.
func TestCancelQueuedJob(t *testing.T) { backends(t, testCancelQueuedJob) }

func testCancelQueuedJob(t *testing.T, db string) {
	ctx := context.Background()
	f := newFake()
	path := db
	idle := newHarness(t, nil, path, Options{}) // accepts, runs nothing
	j, _, err := idle.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte(alertText)})
	if err != nil {
		t.Fatal(err)
	}
	if q, _, _ := idle.q.Depth(ctx); q != 1 {
		t.Errorf("depth queued = %d, want 1", q)
	}
	if err := idle.q.Cancel(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if fin := idle.wait(t); fin.State != Canceled {
		t.Fatalf("reported %+v", fin)
	}
	idle.q.Close()

	h := newHarness(t, newEngine(t, f, 2, nil), path, Options{})
	j2, _, err := h.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte("evil-marker.xyz")})
	if err != nil {
		t.Fatal(err)
	}
	if fin := h.wait(t); fin.ID != j2.ID {
		t.Fatalf("the canceled job ran: %+v", fin)
	}
	if g, _ := h.q.Get(ctx, j.ID); g.State != Canceled {
		t.Errorf("canceled job is %s", g.State)
	}
	if n := f.total.Load(); n != 1 {
		t.Errorf("%d provider calls, want 1 (only the second job)", n)
	}
}

// A job whose input yields nothing but an error fails at once, with the
// error visible, and is not retried.
func TestBadInputFailsVisibly(t *testing.T) { backends(t, testBadInputFailsVisibly) }

func testBadInputFailsVisibly(t *testing.T, db string) {
	ctx := context.Background()
	h := newHarness(t, newEngine(t, newFake(), 2, nil), db, Options{})
	j, _, err := h.q.Submit(ctx, Spec{InputFormat: "json", Input: []byte(`{"alert": "185.220.101.47`)})
	if err != nil {
		t.Fatal(err)
	}
	fin := h.wait(t)
	if fin.ID != j.ID || fin.State != Failed || !strings.Contains(fin.Error, "input") || fin.Attempts != 1 {
		t.Fatalf("job = %+v, want failed on its input after one attempt", fin)
	}
	if g, _ := h.q.Get(ctx, j.ID); g.State != Failed || g.Error == "" {
		t.Errorf("stored job = %+v", g)
	}
}

// Stop interrupts a running job and puts it back in the queue with what it
// stored; the next process completes it.
func TestStopRequeuesRunningJob(t *testing.T) { backends(t, testStopRequeuesRunningJob) }

func testStopRequeuesRunningJob(t *testing.T, db string) {
	ctx := context.Background()
	hang := newFake()
	hang.hang = true
	hang.entered = make(chan ioc.IOC, 64)
	h := newHarness(t, newEngine(t, hang, 2, nil), db, Options{})
	text, all := ips(10)
	j, _, err := h.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte(text)})
	if err != nil {
		t.Fatal(err)
	}
	<-hang.entered
	stopCtx, cancel := context.WithCancel(ctx)
	cancel() // do not wait for the job
	if err := h.q.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if g, _ := h.q.Get(ctx, j.ID); g.State != Queued {
		t.Fatalf("after Stop the job is %s, want queued", g.State)
	}
	select {
	case fin := <-h.done:
		t.Fatalf("an interrupted job was reported finished: %+v", fin)
	default:
	}
	h.q.Close()

	f := newFake()
	h2 := newHarness(t, newEngine(t, f, 2, nil), h.path, Options{})
	fin := h2.wait(t)
	if fin.ID != j.ID || fin.State != Completed || fin.Counts.Done != len(all) {
		t.Fatalf("after restart: %+v", fin)
	}
}

// Prune deletes finished jobs older than its time, with their results;
// newer ones and those not finished stay, and an idempotency key of a
// pruned job makes a new job. With Options.Retention the running queue
// prunes by itself.
func TestPruneFinishedJobs(t *testing.T) { backends(t, testPruneFinishedJobs) }

func testPruneFinishedJobs(t *testing.T, db string) {
	ctx := context.Background()
	f := newFake()
	h := newHarness(t, newEngine(t, f, 2, nil), db, Options{})
	old, _, err := h.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte("evil-old.xyz"), IdempotencyKey: "k-old"})
	if err != nil {
		t.Fatal(err)
	}
	h.wait(t)
	cut := time.Now().Add(time.Millisecond)
	time.Sleep(5 * time.Millisecond) // finished_at is in milliseconds
	recent, _, err := h.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte("evil-recent.xyz")})
	if err != nil {
		t.Fatal(err)
	}
	h.wait(t)

	// The queue with workers stops first, or it would pick up the job
	// meant to stay queued.
	h.q.Close()
	idle := newHarness(t, nil, h.path, Options{}) // accepts, runs nothing
	queued, _, err := idle.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte("evil-queued.xyz")})
	if err != nil {
		t.Fatal(err)
	}

	n, err := idle.q.Prune(ctx, cut)
	if err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want the one old job", n, err)
	}
	if _, err := idle.q.Get(ctx, old.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("old job: %v, want ErrNotFound", err)
	}
	if err := idle.q.Results(ctx, old.ID, func(result.Result) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("old job's results: %v, want ErrNotFound", err)
	}
	var rows int
	if err := idle.q.r.QueryRowContext(ctx, idle.q.dialect.Rebind(`SELECT count(*) FROM job_results WHERE job_id = ?`), old.ID).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d result rows left for the pruned job (%v)", rows, err)
	}
	if j, err := idle.q.Get(ctx, recent.ID); err != nil || j.State != Completed || len(collect(t, idle.q, recent.ID)) == 0 {
		t.Errorf("recent job: %+v, %v; want it completed with its results", j, err)
	}
	if j, err := idle.q.Get(ctx, queued.ID); err != nil || j.State != Queued {
		t.Errorf("queued job: %+v, %v; want it kept", j, err)
	}
	again, existing, err := idle.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte("evil-old.xyz"), IdempotencyKey: "k-old"})
	if err != nil || existing || again.ID == old.ID {
		t.Errorf("resubmitted key of a pruned job: %+v existing=%v err=%v; want a new job", again, existing, err)
	}

	// A queue with a retention prunes on its own, at start and then every
	// interval: here everything finished is older than a nanosecond.
	idle.q.Close()
	h2 := newHarness(t, newEngine(t, f, 2, nil), h.path, Options{Retention: time.Nanosecond, PruneInterval: 20 * time.Millisecond})
	h2.wait(t) // the queued job runs
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left int
		if err := h2.q.r.QueryRowContext(ctx, h2.q.dialect.Rebind(`SELECT count(*) FROM jobs WHERE state IN (?, ?, ?)`), Completed, Failed, Canceled).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d finished jobs left 30s after start with a retention of 1ns", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A feed's background job (feeds: enrich: true) runs behind the jobs
// queued after it.
func TestFeedJobsRunLast(t *testing.T) { backends(t, testFeedJobsRunLast) }

func testFeedJobsRunLast(t *testing.T, db string) {
	ctx := context.Background()
	path := db
	idle := newHarness(t, nil, path, Options{}) // accepts, runs nothing
	feed, _, err := idle.q.Submit(ctx, Spec{Source: FeedSource, InputFormat: "text", Input: []byte("evil-feed-1.xyz")})
	if err != nil {
		t.Fatal(err)
	}
	api, _, err := idle.q.Submit(ctx, Spec{Source: "api", InputFormat: "text", Input: []byte("evil-api-1.xyz")})
	if err != nil {
		t.Fatal(err)
	}
	idle.q.Close()
	h := newHarness(t, newEngine(t, newFake(), 1, nil), path, Options{Workers: 1})
	first, second := h.wait(t), h.wait(t)
	if first.ID != api.ID || second.ID != feed.ID {
		t.Errorf("ran %s (%s) then %s (%s): want the API job first", first.ID, first.Source, second.ID, second.Source)
	}
}
