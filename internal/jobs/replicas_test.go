package jobs

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
)

// ipsFrom returns n distinct public IPv4 addresses starting at the
// start-th, as text, one per line.
func ipsFrom(start, n int) (string, []ioc.IOC) {
	var b strings.Builder
	var out []ioc.IOC
	for i := start; i < start+n; i++ {
		v := fmt.Sprintf("46.%d.%d.%d", 10+i/(250*250), (i/250)%250, i%250+1)
		b.WriteString(v + "\n")
		out = append(out, ioc.IOC{Type: ioc.IPv4, Value: v})
	}
	return b.String(), out
}

// Two processes (two queues, two River clients, two pools) share one
// PostgreSQL queue: jobs submitted to either are each run once, by one of
// them, and each IOC of a job is looked up once.
func TestTwoProcessesShareOneQueue(t *testing.T) {
	ctx := context.Background()
	db := pgDatabase(t)
	f1, f2 := newFake(), newFake()
	a := newHarness(t, newEngine(t, f1, 4, nil), db, Options{Workers: 2})
	b := newHarness(t, newEngine(t, f2, 4, nil), db, Options{Workers: 2})

	const jobsEach, iocsEach = 20, 25
	type sub struct {
		id   string
		iocs []ioc.IOC
	}
	var (
		mu   sync.Mutex
		subs []sub
		wg   sync.WaitGroup
	)
	for n := range 2 * jobsEach {
		h := a
		if n%2 == 1 {
			h = b
		}
		wg.Go(func() {
			text, iocs := ipsFrom(n*iocsEach, iocsEach)
			j, existing, err := h.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte(text), IdempotencyKey: fmt.Sprintf("job-%d", n)})
			if err != nil || existing {
				t.Errorf("submit %d: existing=%v err=%v", n, existing, err)
				return
			}
			mu.Lock()
			subs = append(subs, sub{j.ID, iocs})
			mu.Unlock()
		})
	}
	wg.Wait()
	// The same keys again, through the other process: the jobs already
	// stored are returned.
	for n := range 2 * jobsEach {
		h := b
		if n%2 == 1 {
			h = a
		}
		if _, existing, err := h.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte("1.2.3.4"), IdempotencyKey: fmt.Sprintf("job-%d", n)}); err != nil || !existing {
			t.Errorf("resubmit %d elsewhere: existing=%v err=%v", n, existing, err)
		}
	}

	finished := map[string]int{}
	ran := map[string]int{}
	deadline := time.After(2 * time.Minute)
	for len(finished) < len(subs) {
		select {
		case j := <-a.done:
			finished[j.ID]++
			ran["a"]++
		case j := <-b.done:
			finished[j.ID]++
			ran["b"]++
		case <-deadline:
			t.Fatalf("%d of %d jobs finished", len(finished), len(subs))
		}
	}
	time.Sleep(200 * time.Millisecond) // a job run twice would report again by now
	for len(a.done)+len(b.done) > 0 {
		select {
		case j := <-a.done:
			finished[j.ID]++
		case j := <-b.done:
			finished[j.ID]++
		}
	}
	t.Logf("jobs run: %v", ran)
	if ran["a"] == 0 || ran["b"] == 0 {
		t.Errorf("one process ran every job: %v", ran)
	}
	for _, s := range subs {
		if finished[s.id] != 1 {
			t.Errorf("job %s reported finished %d times", s.id, finished[s.id])
		}
		j, err := a.q.Get(ctx, s.id)
		if err != nil || j.State != Completed || j.Counts.Done != iocsEach || j.Attempts != 1 {
			t.Errorf("job %s: %+v (%v)", s.id, j, err)
		}
		for _, i := range s.iocs {
			if n := f1.count(i) + f2.count(i); n != 1 {
				t.Errorf("%s looked up %d times", i, n)
			}
		}
	}
	if q, r, err := b.q.Depth(ctx); err != nil || q != 0 || r != 0 {
		t.Errorf("depth %d queued %d running (%v)", q, r, err)
	}
}

// A job canceled through one process while it runs in another stops
// there, and is reported once, by the process that ran it.
func TestCancelFromAnotherProcess(t *testing.T) {
	ctx := context.Background()
	db := pgDatabase(t)
	f := newFake()
	f.hang = true
	f.entered = make(chan ioc.IOC, 64)
	runner := newHarness(t, newEngine(t, f, 2, nil), db, Options{})
	other := newHarness(t, nil, db, Options{}) // accepts, runs nothing
	text, _ := ipsFrom(0, 10)
	j, _, err := other.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte(text)})
	if err != nil {
		t.Fatal(err)
	}
	<-f.entered
	if err := other.q.Cancel(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if fin := runner.wait(t); fin.ID != j.ID || fin.State != Canceled {
		t.Fatalf("runner reported %+v, want the job canceled", fin)
	}
	select {
	case extra := <-other.done:
		t.Errorf("the canceling process reported the running job too: %+v", extra)
	default:
	}
	if rs := collect(t, runner.q, j.ID); len(rs) != 0 {
		t.Errorf("%d results stored for look-ups cut short", len(rs))
	}
}

// The rescue test: a process running a job on PostgreSQL is SIGKILLed
// mid-job; another process, with RescueAfter 2s, finishes it once River's
// rescuer hands it over (River's leader lease of the dead process must
// lapse first: about 15 s). Look-ups answered before the kill are not
// repeated; only those in flight at the kill may be asked again.
const (
	rescueChildEnv = "IOCANE_JOBS_RESCUE_CHILD" // the database URL
	rescueWorkers  = 4
	rescueIOCs     = 200
	rescueHoldAt   = 100
	rescueAfter    = 2 * time.Second
)

// TestRescueChild is the process that dies: it runs the queue on the
// database until killed. It is skipped unless run by TestRescueAfterProcessDies.
func TestRescueChild(t *testing.T) {
	url := os.Getenv(rescueChildEnv)
	if url == "" {
		t.Skip("helper process for TestRescueAfterProcessDies")
	}
	ctx := context.Background()
	e := enrich.New(enrich.Options{Sources: []*enrich.Source{fakeSource(httpProvider{os.Getenv(crashURLEnv)}, rescueWorkers)}})
	e.Start(ctx)
	defer e.Close()
	done := make(chan Job, 1)
	o := pgPools(t, url)
	o.Engine, o.RescueAfter, o.FetchPollInterval, o.OnComplete = e, rescueAfter, 50*time.Millisecond, func(j Job) { done <- j }
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

func TestRescueAfterProcessDies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process and waits for River's rescuer")
	}
	ctx := context.Background()
	db := pgDatabase(t)
	api := &crashAPI{calls: map[string]int{}, answered: map[string]int{}, held: map[string]int{}, holdAt: rescueHoldAt}
	srv := httptest.NewServer(api)
	defer srv.Close()

	// This process accepts the job now and starts its workers after the
	// kill.
	done := make(chan Job, 4)
	o := pgPools(t, db)
	o.Engine = newEngine(t, httpProvider{srv.URL}, rescueWorkers, nil)
	o.RescueAfter, o.FetchPollInterval, o.OnComplete = rescueAfter, 50*time.Millisecond, func(j Job) { done <- j }
	q, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	text, all := ipsFrom(0, rescueIOCs)
	j, _, err := q.Submit(ctx, Spec{InputFormat: "text", Input: []byte(text)})
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestRescueChild$", "-test.v", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), rescueChildEnv+"="+db, crashURLEnv+"="+srv.URL)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the child to store the answered results", func() bool {
		answered, held := api.snapshot()
		g, err := q.Get(ctx, j.ID)
		return err == nil && held == rescueWorkers && g.State == Running && g.Counts.Done == answered
	})
	// Past RescueAfter while alive: the heartbeat keeps the child's own
	// rescuer off its job.
	time.Sleep(rescueAfter + time.Second)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if strings.Contains(out.String(), "child: job") {
		t.Fatalf("the child finished the job before the kill:\n%s", out)
	}
	mid, _ := q.Get(ctx, j.ID)
	answeredBefore, heldBefore := api.snapshot()
	t.Logf("killed: state %s, %d/%d done, %d answered, %d in flight, attempts %d", mid.State, mid.Counts.Done, mid.Counts.IOCs, answeredBefore, heldBefore, mid.Attempts)
	if mid.State != Running || mid.Attempts != 1 || mid.Counts.Done == 0 || mid.Counts.Done >= rescueIOCs {
		t.Fatalf("not killed mid-way in its first attempt: %+v", mid)
	}
	api.mu.Lock()
	api.holdAt = 0
	answeredIPs := map[string]bool{}
	for v := range api.answered {
		answeredIPs[v] = true
	}
	api.mu.Unlock()

	killed := time.Now()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var fin Job
	select {
	case fin = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the job was not rescued within 2 minutes")
	}
	t.Logf("rescued and finished %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	if fin.ID != j.ID || fin.State != Completed || fin.Counts.Done != rescueIOCs || fin.Attempts != 2 {
		t.Fatalf("after rescue: %+v", fin)
	}
	got := map[ioc.IOC]int{}
	if err := q.Results(ctx, j.ID, func(r result.Result) error { got[r.IOC]++; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, i := range all {
		if got[i] != 1 {
			t.Errorf("%s has %d results", i, got[i])
		}
	}
	api.checkCalls(t, all, answeredIPs, rescueWorkers)
}
