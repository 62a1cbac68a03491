package integrations

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/store"
)

// fakeQueue serves jobs and results from memory.
type fakeQueue struct {
	jobs.Queue
	mu      sync.Mutex
	jobs    map[string]jobs.Job
	results map[string][]result.Result
}

func newFakeQueue() *fakeQueue {
	return &fakeQueue{jobs: map[string]jobs.Job{}, results: map[string][]result.Result{}}
}

func (q *fakeQueue) add(j jobs.Job, rs ...result.Result) jobs.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs[j.ID] = j
	q.results[j.ID] = rs
	return j
}

func (q *fakeQueue) Get(_ context.Context, id string) (jobs.Job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	j, ok := q.jobs[id]
	if !ok {
		return jobs.Job{}, jobs.ErrNotFound
	}
	return j, nil
}

func (q *fakeQueue) Results(_ context.Context, id string, fn func(result.Result) error) error {
	q.mu.Lock()
	rs := q.results[id]
	q.mu.Unlock()
	for _, r := range rs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// fakeSink fails the first failures attempts with err, recording each.
type fakeSink struct {
	name     string
	failures int
	err      error
	applies  bool

	mu       sync.Mutex
	attempts int
	at       []time.Time
	landed   []Delivery
}

func (s *fakeSink) Name() string          { return s.name }
func (s *fakeSink) Applies(Delivery) bool { return s.applies }
func (s *fakeSink) Deliver(ctx context.Context, d Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	s.at = append(s.at, time.Now())
	if s.attempts <= s.failures {
		return s.err
	}
	s.landed = append(s.landed, d)
	return nil
}

func testJob(id string) jobs.Job {
	return jobs.Job{ID: id, State: jobs.Completed, Source: "thehive", CreatedAt: time.Now().Add(-time.Second),
		Alert: &jobs.AlertRef{System: "thehive", ID: "~4096"}}
}

func testResult(v result.Verdict) result.Result {
	return result.Result{IOC: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}, Verdict: v, Score: 87, Reasons: []string{"virustotal: 12/94"}}
}

func TestRetryBackoffThenLands(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newFakeQueue()
		j := q.add(testJob("j1"), testResult(result.Malicious))
		s := &fakeSink{name: "thehive", failures: 3, err: errors.New("http 503"), applies: true}
		var got []Outcome
		var mu sync.Mutex
		d, err := New(Options{Sinks: []Sink{s}, Queue: q, BackoffBase: time.Second, BackoffMax: 10 * time.Second,
			Observer: observerFunc(func(o Outcome) { mu.Lock(); got = append(got, o); mu.Unlock() })})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		d.OnComplete(j) // returns at once
		if time.Since(start) != 0 {
			t.Fatal("OnComplete blocked")
		}
		if err := d.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if s.attempts != 4 || len(s.landed) != 1 {
			t.Fatalf("attempts %d, landed %d; want 4 and 1", s.attempts, len(s.landed))
		}
		// Exponential: waits of about 1s, 2s, 4s (±50 %).
		for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
			gap := s.at[i+1].Sub(s.at[i])
			if gap < want/2 || gap > want*3/2 {
				t.Errorf("wait %d = %v, want about %v", i+1, gap, want)
			}
		}
		if len(got) != 1 || !got[0].OK || got[0].Attempts != 4 || got[0].Retries != 3 || got[0].Kind != KindWriteBack ||
			got[0].AlertID != "~4096" || got[0].Received.IsZero() {
			t.Errorf("outcome %+v", got)
		}
	})
}

type observerFunc func(Outcome)

func (f observerFunc) Delivered(o Outcome) { f(o) }

func TestPermanentAndBoundedAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newFakeQueue()
		j := q.add(testJob("j2"), testResult(result.Malicious))
		perm := &fakeSink{name: "splunk", failures: 99, err: Permanent(errors.New("http 400")), applies: true}
		down := &fakeSink{name: "xsoar", failures: 99, err: errors.New("http 502"), applies: true}
		skip := &fakeSink{name: "webhook", applies: false}
		d, _ := New(Options{Sinks: []Sink{perm, down, skip}, Queue: q, MaxAttempts: 5})
		outs := d.Dispatch(context.Background(), j, nil)
		if perm.attempts != 1 || down.attempts != 5 || skip.attempts != 0 {
			t.Errorf("attempts: permanent %d (want 1), down %d (want 5), not applicable %d (want 0)", perm.attempts, down.attempts, skip.attempts)
		}
		if len(outs) != 2 {
			t.Fatalf("outcomes %+v", outs)
		}
		for _, o := range outs {
			if o.OK || o.State != StateFailed || o.Error == "" {
				t.Errorf("outcome %+v, want failed with the error", o)
			}
		}
	})
}

func TestFailedAndCanceledJobsAreNotDelivered(t *testing.T) {
	q := newFakeQueue()
	s := &fakeSink{name: "thehive", applies: true}
	d, _ := New(Options{Sinks: []Sink{s}, Queue: q})
	for _, st := range []jobs.State{jobs.Failed, jobs.Canceled} {
		j := testJob("x")
		j.State = st
		d.OnComplete(j)
	}
	d.Close(context.Background())
	if s.attempts != 0 {
		t.Errorf("attempts %d", s.attempts)
	}
}

func TestStoreRecordsOnceAndResumes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "iocane.db")
	st := testStore(t, path)
	q := newFakeQueue()
	j := q.add(testJob("j3"), testResult(result.Malicious))
	s := &fakeSink{name: "thehive", failures: 2, err: errors.New("http 503"), applies: true}
	d, _ := New(Options{Sinks: []Sink{s}, Queue: q, Store: st, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond})
	d.OnComplete(j)
	d.OnComplete(j) // a second completion of the same job: delivered once
	d.Close(ctx)
	if len(s.landed) != 1 {
		t.Fatalf("landed %d times", len(s.landed))
	}
	o, err := st.Outcome(ctx, "j3", "thehive")
	if err != nil || !o.OK || o.Attempts != 3 || o.Retries != 2 || o.Finished.Before(o.Received) || o.AlertSystem != "thehive" {
		t.Fatalf("outcome %+v, %v", o, err)
	}
	outs, recorded, err := ReadOutcomes(ctx, path, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil || !recorded || len(outs) != 1 || outs[0].Attempts != 3 {
		t.Fatalf("ReadOutcomes %+v %v %v", outs, recorded, err)
	}

	// A pending row (a process died mid-delivery) is resumed.
	j4 := q.add(testJob("j4"), testResult(result.Malicious))
	if _, _, err := st.begin(ctx, Outcome{JobID: j4.ID, Sink: "thehive", Kind: KindWriteBack, StartedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := st.Progress(j4.ID, "thehive").Mark(ctx, "observable:ipv4:185.220.101.47", "obs1"); err != nil {
		t.Fatal(err)
	}
	s2 := &fakeSink{name: "thehive", applies: true}
	d2, _ := New(Options{Sinks: []Sink{s2}, Queue: q, Store: st})
	if err := d2.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	d2.Close(ctx)
	if len(s2.landed) != 1 || s2.landed[0].Job.ID != "j4" {
		t.Fatalf("resume delivered %+v", s2.landed)
	}
	if o, _ := st.Outcome(ctx, "j4", "thehive"); !o.OK {
		t.Errorf("resumed outcome %+v", o)
	}
	if _, recorded, _ := ReadOutcomes(ctx, filepath.Join(t.TempDir(), "empty.db"), time.Time{}, time.Now()); recorded {
		t.Error("a store without the table reports outcomes as recorded")
	}
}

func TestStepSkipsMarked(t *testing.T) {
	ctx := WithProgress(context.Background(), NewMemoryProgress())
	n := 0
	do := func() (string, error) { n++; return "id1", nil }
	for range 3 {
		v, err := Step(ctx, "comment", do)
		if err != nil || v != "id1" {
			t.Fatal(v, err)
		}
	}
	if n != 1 {
		t.Errorf("step ran %d times", n)
	}
	if _, err := Step(ctx, "x", func() (string, error) { return "", errors.New("boom") }); err == nil {
		t.Error("error lost")
	}
	if _, ok, _ := ProgressFrom(ctx).Done(ctx, "x"); ok {
		t.Error("a failed step was marked")
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("http 400")
	err := Permanent(base)
	if !errors.Is(err, ErrPermanent) || !errors.Is(err, base) || err.Error() != "http 400" {
		t.Errorf("%v", err)
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
}

// testStore opens the store at path (which creates the write-back tables)
// and the outcome record on its writer, closed when the test ends.
func testStore(t *testing.T, path string) *Store {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := db.OpenWriter()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); db.Close() })
	return NewStore(w)
}

// A sink that accepts a delivery for later (a notification held for a
// digest) is recorded as held, not ok, and is not retried.
func TestHeldDeliveryRecordedAsHeld(t *testing.T) {
	ctx := context.Background()
	st := testStore(t, filepath.Join(t.TempDir(), "iocane.db"))
	q := newFakeQueue()
	j := q.add(testJob("j9"), testResult(result.Malicious))
	s := &fakeSink{name: "slack", failures: 1, err: fmt.Errorf("slack: %w", ErrHeld), applies: true}
	d, _ := New(Options{Sinks: []Sink{s}, Queue: q, Store: st, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond})
	d.OnComplete(j)
	d.Close(ctx)
	o, err := st.Outcome(ctx, "j9", "slack")
	if err != nil || o.State != StateHeld || !o.OK || o.Attempts != 1 || o.Error != "" {
		t.Fatalf("outcome %+v, %v; want held after one attempt", o, err)
	}
}

// A job settled after its deferred look-ups landed is delivered again as
// an update, recorded under its own id, when a result was revised; when
// nothing changed there is no update.
func TestSettledJobDeliveredAsUpdate(t *testing.T) {
	ctx := context.Background()
	st := testStore(t, filepath.Join(t.TempDir(), "iocane.db"))
	q := newFakeQueue()
	s := &fakeSink{name: "thehive", applies: true}
	d, _ := New(Options{Sinks: []Sink{s}, Queue: q, Store: st})

	unchanged := q.add(testJob("j5"), testResult(result.Malicious))
	d.OnComplete(unchanged)
	d.OnSettled(unchanged) // deferred answers that changed nothing
	revised := testResult(result.Malicious)
	revised.Revised = &result.Revision{Verdict: result.Unknown, Score: 22, At: time.Now()}
	j := q.add(testJob("j6"), revised)
	d.OnComplete(j)
	d.OnSettled(j)
	d.Close(ctx)

	var updates, firsts int
	for _, del := range s.landed {
		if del.Update {
			updates++
			if del.Job.ID != "j6" || del.Results[0].Revised == nil {
				t.Errorf("update %+v", del)
			}
		} else {
			firsts++
		}
	}
	if firsts != 2 || updates != 1 {
		t.Fatalf("%d first deliveries and %d updates, want 2 and 1", firsts, updates)
	}
	for _, id := range []string{"j6", "j6" + UpdateSuffix} {
		if o, err := st.Outcome(ctx, id, "thehive"); err != nil || !o.OK {
			t.Errorf("outcome of %s: %+v, %v", id, o, err)
		}
	}
	if _, err := st.Outcome(ctx, "j5"+UpdateSuffix, "thehive"); err == nil {
		t.Error("an update recorded for a job whose deferred answers changed nothing")
	}
}
