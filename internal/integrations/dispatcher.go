package integrations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
)

// Defaults for Options.
const (
	DefaultMaxAttempts    = 6
	DefaultMaxElapsed     = 15 * time.Minute
	DefaultBackoffBase    = 2 * time.Second
	DefaultBackoffMax     = 2 * time.Minute
	DefaultAttemptTimeout = time.Minute
	DefaultConcurrency    = 4
	DefaultMaxResults     = 5000
)

// Observer hears of every finished delivery (a metric hook). Calls come
// from the dispatcher's goroutines and must not block.
type Observer interface {
	Delivered(o Outcome)
}

// Options configures a Dispatcher.
type Options struct {
	// Sinks are the destinations.
	Sinks []Sink
	// Queue reads the job and its results.
	Queue jobs.Queue
	// Store records outcomes and progress; nil keeps progress in memory
	// and outcomes only in logs (tests).
	Store *Store
	// Link returns where a job's full result can be read; nil for none.
	Link func(jobID string) string
	// MaxAttempts bounds the attempts per delivery, the first included.
	// Default 6.
	MaxAttempts int
	// MaxElapsed bounds the time from the first attempt to the start of
	// the last. Default 15 minutes.
	MaxElapsed time.Duration
	// BackoffBase and BackoffMax shape the backoff between attempts:
	// base·2^(n-1) capped at max, ±50 % jitter. Defaults 2 s and 2 min.
	BackoffBase, BackoffMax time.Duration
	// AttemptTimeout bounds one attempt. Default 1 minute.
	AttemptTimeout time.Duration
	// Concurrency bounds the attempts in flight per sink. Default 4.
	Concurrency int
	// MaxResults bounds the results loaded per job (a bulk API job may
	// hold a million). Default 5000; the rest are left out of deliveries,
	// and logged.
	MaxResults int
	// Observer hears of each outcome; nil for none.
	Observer Observer
	// Logger logs each outcome and failed attempt; nil discards.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Dispatcher delivers completed jobs to sinks. See the package doc.
type Dispatcher struct {
	o     Options
	log   *slog.Logger
	slots map[string]chan struct{}

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	mu       sync.Mutex
	closed   bool
	inflight map[[2]string]bool // job id, sink: deliveries running here
}

// New returns a Dispatcher; it validates and does no I/O.
func New(o Options) (*Dispatcher, error) {
	if o.Queue == nil {
		return nil, errors.New("integrations: Options.Queue is required")
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxElapsed <= 0 {
		o.MaxElapsed = DefaultMaxElapsed
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = DefaultAttemptTimeout
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxResults <= 0 {
		o.MaxResults = DefaultMaxResults
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{o: o, log: log, slots: map[string]chan struct{}{}, inflight: map[[2]string]bool{}}
	for _, s := range o.Sinks {
		if _, dup := d.slots[s.Name()]; dup {
			return nil, fmt.Errorf("integrations: sink %q configured twice", s.Name())
		}
		d.slots[s.Name()] = make(chan struct{}, o.Concurrency)
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d, nil
}

// Sinks returns the configured sinks.
func (d *Dispatcher) Sinks() []Sink { return d.o.Sinks }

// OnComplete is the jobs queue's completion hook (jobs.Options.OnComplete).
// It returns at once; delivery happens on the dispatcher's goroutines.
func (d *Dispatcher) OnComplete(j jobs.Job) { d.launch(j, false) }

// OnSettled is the jobs queue's hook for a completed job whose deferred
// look-ups have all landed (jobs.Options.OnSettled): when they changed a
// result, the job is delivered again as an update (Delivery.Update). It
// returns at once.
func (d *Dispatcher) OnSettled(j jobs.Job) { d.launch(j, true) }

// launch delivers a completed job, or its update, on a goroutine of its own.
func (d *Dispatcher) launch(j jobs.Job, update bool) {
	if j.State != jobs.Completed || len(d.o.Sinks) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		d.log.Warn("write-back: dispatcher closed, job not delivered (Resume delivers a pending one at the next start)", "job", j.ID, "update", update)
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.dispatch(d.ctx, j, nil, update)
	}()
}

// Dispatch delivers j to every applicable sink (only to the sinks named in
// only, when given) and waits for the outcomes. A sink that already has an
// outcome for j is skipped: a job is delivered once.
func (d *Dispatcher) Dispatch(ctx context.Context, j jobs.Job, only map[string]bool) []Outcome {
	return d.dispatch(ctx, j, only, false)
}

// dispatch delivers j, or its update: an update is made only when some
// result was revised, and is recorded under the job id + UpdateSuffix.
func (d *Dispatcher) dispatch(ctx context.Context, j jobs.Job, only map[string]bool, update bool) []Outcome {
	del, err := d.load(ctx, j)
	if err != nil {
		d.log.Error("write-back: cannot read the job's results; nothing delivered", "job", j.ID, "error", err)
		return nil
	}
	del.Update = update
	if update && !slices.ContainsFunc(del.Results, func(r result.Result) bool { return r.Revised != nil }) {
		d.log.Info("write-back: deferred look-ups landed and changed no result; no update", "job", j.ID)
		return nil
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		out []Outcome
	)
	for _, s := range d.o.Sinks {
		if only != nil && !only[s.Name()] {
			continue
		}
		if !applies(s, del) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if o, ok := d.deliver(ctx, s, del); ok {
				mu.Lock()
				out = append(out, o)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// applies asks s, recovering from a panic in a sink's rule code.
func applies(s Sink, d Delivery) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return s.Applies(d)
}

func (d *Dispatcher) load(ctx context.Context, j jobs.Job) (Delivery, error) {
	del := Delivery{Job: j}
	if d.o.Link != nil {
		del.Link = d.o.Link(j.ID)
	}
	errEnough := errors.New("enough")
	err := d.o.Queue.Results(ctx, j.ID, func(r result.Result) error {
		if len(del.Results) >= d.o.MaxResults {
			return errEnough
		}
		del.Results = append(del.Results, r)
		return nil
	})
	if errors.Is(err, errEnough) {
		d.log.Warn("write-back: job has more results than delivered", "job", j.ID, "delivered", d.o.MaxResults, "iocs", j.Counts.IOCs)
		err = nil
	}
	return del, err
}

// deliver runs one delivery with retries and records it; ok is false when
// the delivery had already been made.
func (d *Dispatcher) deliver(ctx context.Context, s Sink, del Delivery) (Outcome, bool) {
	o := Outcome{JobID: del.Job.ID, Sink: s.Name(), Kind: KindOf(s), State: StatePending, Received: del.Job.CreatedAt, StartedAt: d.o.Now()}
	if del.Update {
		o.JobID += UpdateSuffix
	}
	if a := del.Job.Alert; a != nil {
		o.AlertSystem, o.AlertID = a.System, a.ID
	}
	key := [2]string{o.JobID, o.Sink}
	d.mu.Lock()
	if d.inflight[key] {
		d.mu.Unlock()
		return Outcome{}, false // being delivered by another goroutine here
	}
	d.inflight[key] = true
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.inflight, key)
		d.mu.Unlock()
	}()
	var progress Progress = NewMemoryProgress()
	if st := d.o.Store; st != nil {
		prev, started, err := st.begin(ctx, o)
		if err != nil {
			d.log.Error("write-back: cannot record the delivery; delivering anyway", "job", o.JobID, "sink", o.Sink, "error", err)
		} else if !started {
			if prev.State != StatePending {
				return prev, false // delivered (or given up) before
			}
			o.Attempts, o.StartedAt = prev.Attempts, prev.StartedAt // a pending delivery resumed
		}
		progress = st.Progress(o.JobID, o.Sink)
	}
	slot := d.slots[s.Name()]
	first := o.Attempts
	held := false
	op := func() (struct{}, error) {
		select {
		case slot <- struct{}{}:
		case <-ctx.Done():
			return struct{}{}, backoff.Permanent(context.Cause(ctx))
		}
		actx, cancel := context.WithTimeout(WithProgress(ctx, progress), d.o.AttemptTimeout)
		err := safeDeliver(actx, s, del)
		cancel()
		<-slot
		o.Attempts++
		if errors.Is(err, ErrHeld) {
			held, err = true, nil
		}
		if err != nil {
			o.Error = err.Error()
			if d.o.Store != nil {
				if rerr := d.o.Store.attempt(context.WithoutCancel(ctx), o.JobID, o.Sink, o.Attempts, o.Error); rerr != nil {
					d.log.Warn("write-back: cannot record the attempt", "job", o.JobID, "sink", o.Sink, "error", rerr)
				}
			}
			if errors.Is(err, ErrPermanent) || errors.Is(err, provider.ErrUnauthorized) {
				return struct{}{}, backoff.Permanent(err)
			}
			d.log.Warn("write-back: attempt failed, will retry", "job", o.JobID, "sink", o.Sink, "attempt", o.Attempts, "error", err)
			return struct{}{}, err
		}
		o.Error = ""
		return struct{}{}, nil
	}
	b := &backoff.ExponentialBackOff{InitialInterval: d.o.BackoffBase, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: d.o.BackoffMax}
	_, err := backoff.Retry(ctx, op, backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(max(1, d.o.MaxAttempts-first))), backoff.WithMaxElapsedTime(d.o.MaxElapsed))
	o.Finished = d.o.Now()
	o.Retries = max(0, o.Attempts-1)
	switch {
	case err == nil && held:
		o.State, o.OK = StateHeld, true
	case err == nil:
		o.State, o.OK = StateOK, true
	default:
		o.State, o.Error = StateFailed, err.Error()
	}
	if ctx.Err() != nil && !o.OK {
		// Shutting down: leave it pending for Resume at the next start.
		d.log.Warn("write-back: interrupted; resumes at the next start", "job", o.JobID, "sink", o.Sink, "attempts", o.Attempts)
		o.State = StatePending
		return o, true
	}
	if d.o.Store != nil {
		if rerr := d.o.Store.finish(context.WithoutCancel(ctx), o); rerr != nil {
			d.log.Error("write-back: cannot record the outcome", "job", o.JobID, "sink", o.Sink, "error", rerr)
		}
	}
	attrs := []any{"job", o.JobID, "sink", o.Sink, "kind", o.Kind, "alert_system", o.AlertSystem, "alert", o.AlertID,
		"attempts", o.Attempts, "took_ms", o.Finished.Sub(o.Received).Milliseconds()}
	if o.OK {
		d.log.Info("write-back: delivered", attrs...)
	} else {
		d.log.Error("write-back: failed; the enrichment stays in the job's results", append(attrs, "error", o.Error)...)
	}
	if d.o.Observer != nil {
		d.o.Observer.Delivered(o)
	}
	return o, true
}

// safeDeliver turns a sink's panic into an error, so one sink cannot take
// the server down.
func safeDeliver(ctx context.Context, s Sink, d Delivery) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Permanent(fmt.Errorf("%s: panic: %v", s.Name(), r))
		}
	}()
	return s.Deliver(ctx, d)
}

// Resume delivers again the deliveries a process that died left pending.
// Call it once at start, after the queue is open.
func (d *Dispatcher) Resume(ctx context.Context) error {
	if d.o.Store == nil {
		return nil
	}
	pending, err := d.o.Store.Pending(ctx)
	if err != nil {
		return err
	}
	byJob := map[string]map[string]bool{}
	var order []string
	for _, p := range pending {
		if byJob[p.JobID] == nil {
			byJob[p.JobID] = map[string]bool{}
			order = append(order, p.JobID)
		}
		byJob[p.JobID][p.Sink] = true
	}
	for _, id := range order {
		jobID, update := strings.CutSuffix(id, UpdateSuffix)
		j, err := d.o.Queue.Get(ctx, jobID)
		if err != nil {
			d.log.Warn("write-back: pending delivery of a job that cannot be read", "job", id, "error", err)
			continue
		}
		only := byJob[id]
		d.log.Info("write-back: resuming deliveries left pending", "job", id, "sinks", len(only))
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			return nil
		}
		d.wg.Add(1)
		d.mu.Unlock()
		go func() {
			defer d.wg.Done()
			d.dispatch(d.ctx, j, only, update)
		}()
	}
	return nil
}

// Close stops taking jobs and waits for deliveries in flight until ctx
// ends; then it interrupts them (they stay pending and Resume continues
// them at the next start).
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
		d.cancel()
		<-done
		return fmt.Errorf("integrations: deliveries interrupted: %w", ctx.Err())
	}
}
