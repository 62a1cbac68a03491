package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/iocane/iocane/internal/dbx"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// Causes of a job's context ending, told apart with context.Cause.
var (
	errCanceled = errors.New("job canceled")
	errDeadline = errors.New("job deadline reached")
)

// worker is River's side of a job: everything else is in the jobs row.
type worker struct {
	river.WorkerDefaults[enrichArgs]
	q *RiverQueue
}

func (w *worker) Work(ctx context.Context, rj *river.Job[enrichArgs]) error {
	if u, ok := ctx.Value(untimedKey{}).(context.Context); ok {
		ctx = u // River's timeout is for its rescuer only (Timeout)
	}
	w.q.beat(rj.ID, true)
	defer w.q.beat(rj.ID, false)
	return w.q.run(ctx, rj.Args.JobID, rj.Attempt, rj.MaxAttempts)
}

// Timeout is River's job timeout: none on SQLite (the client's -1). On
// PostgreSQL it is RescueAfter, because River's rescuer leaves alone a job
// without a timeout; the job's own deadline is the worker's (Spec.Timeout),
// so Work runs under the context from before River applied its timeout
// (untimed), and jobs running longer than RescueAfter only draw River's
// "job appears to be stuck" warning. The heartbeat (rescue.go) keeps the
// rescuer off the jobs of live processes.
func (w *worker) Timeout(*river.Job[enrichArgs]) time.Duration {
	if w.q.dialect == dbx.Postgres {
		return w.q.opts.RescueAfter
	}
	return 0
}

// Middleware hands Work the job's context from outside River's timeout, on
// PostgreSQL (see Timeout).
func (w *worker) Middleware(*rivertype.JobRow) []rivertype.WorkerMiddleware {
	if w.q.dialect == dbx.Postgres {
		return []rivertype.WorkerMiddleware{&untimed{}}
	}
	return nil
}

// untimed is a worker middleware: River runs it before it applies the job
// timeout, and it keeps that context (canceled by Stop and by a cancel from
// another process, with no deadline) for Work.
type untimed struct{ river.MiddlewareDefaults }

type untimedKey struct{}

func (*untimed) Work(ctx context.Context, _ *rivertype.JobRow, doInner func(context.Context) error) error {
	return doInner(context.WithValue(ctx, untimedKey{}, ctx))
}

// run is one attempt of a job. It resumes from the results already stored
// (a job re-run after a crash enriches only the IOCs without one; the
// engine's cache answers the look-ups that finished before the crash).
func (q *RiverQueue) run(ctx context.Context, id string, attempt, maxAttempts int) error {
	var (
		specJSON []byte
		in       storedInput
		spec     Spec
	)
	err := q.w.QueryRowContext(ctx, q.dialect.Rebind(`SELECT spec, input, input_encoding FROM jobs WHERE id = ?`), id).Scan(&specJSON, &in.b, &in.enc)
	if errors.Is(err, sql.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("%w: %s", ErrNotFound, id))
	}
	if err != nil {
		return fmt.Errorf("jobs: load %s: %w", id, err)
	}
	if err := json.Unmarshal(specJSON, &spec); err != nil {
		return q.fail(ctx, id, fmt.Errorf("corrupt job spec: %w", err))
	}

	// Registered before the job is marked running, so a Cancel that sees
	// the job running always finds it here (see Cancel).
	cctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	q.mu.Lock()
	q.running[id] = stop
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		delete(q.running, id)
		q.mu.Unlock()
	}()

	res, err := q.w.ExecContext(ctx,
		q.dialect.Rebind(`UPDATE jobs SET state = ?, attempts = ?, started_at = coalesce(started_at, ?) WHERE id = ? AND state IN (?, ?)`),
		Running, attempt, q.now().UnixMilli(), id, Queued, Running)
	if err != nil {
		return fmt.Errorf("jobs: start %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Canceled before it started; whoever canceled reports it.
		if errors.Is(context.Cause(cctx), errCanceled) {
			q.report(ctx, id)
		}
		return nil
	}
	if q.opts.Observer != nil {
		if j, err := q.Get(ctx, id); err == nil {
			q.opts.Observer.JobStarted(j, q.now().Sub(j.CreatedAt))
		}
	}

	timeout := spec.Timeout
	if timeout <= 0 {
		timeout = q.opts.DefaultTimeout
	}
	jctx, cancel := context.WithTimeoutCause(cctx, timeout, errDeadline)
	defer cancel()

	// The input is read twice, and its items are never all held at once:
	// a first pass counts the IOCs (the job shows done/total from the
	// start), the second streams them to the engine as they are read.
	total, inErr := countItems(cctx, spec, in)
	if total == 0 && inErr != nil && jctx.Err() == nil {
		return q.fail(ctx, id, fmt.Errorf("input: %w", inErr))
	}
	done, err := q.doneSet(ctx, id)
	if err != nil {
		return q.retry(ctx, id, attempt, maxAttempts, err)
	}
	if _, err := q.w.ExecContext(ctx, q.dialect.Rebind(`UPDATE jobs SET iocs = ? WHERE id = ? AND iocs < ?`), total, id, total); err != nil {
		return q.retry(ctx, id, attempt, maxAttempts, fmt.Errorf("jobs: %w", err))
	}

	prio := 1 // bulk
	if spec.Alert != nil {
		prio = 0 // an alert's deferred look-ups go first
	}
	alert := ""
	if a := spec.Alert; a != nil {
		alert = a.System + ":" + a.ID
	}
	wr := q.newWriter(id, prio, cmp.Or(spec.Source, "api"), alert)
	defer wr.close()
	// pending holds the items handed to the engine whose result is not
	// written yet, late the items read after the deadline: both still get
	// a result when the deadline cuts the run.
	var (
		mu      sync.Mutex
		pending = map[ioc.IOC]enrich.Item{}
		late    []enrich.Item
	)
	feed := make(chan enrich.Item)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(feed)
		// Read under cctx, not jctx: after the deadline the rest of the
		// input is still read, into late; a cancel or a shutdown stops it.
		_ = readItems(cctx, spec, in, func(it enrich.Item) error {
			if done[it.IOC] {
				return nil // stored by an earlier attempt
			}
			it.Defer = true // the budget postpones a look-up: the backlog makes it later
			if jctx.Err() != nil {
				late = append(late, it)
				return nil
			}
			mu.Lock()
			pending[it.IOC] = it
			mu.Unlock()
			select {
			case feed <- it:
			case <-jctx.Done():
				mu.Lock()
				delete(pending, it.IOC)
				mu.Unlock()
				late = append(late, it)
			}
			return nil
		})
	}()
	runErr := q.opts.Engine.Run(jctx, feed, func(r result.Result) error {
		if c := context.Cause(jctx); c != nil && !errors.Is(c, errDeadline) {
			return nil // canceled or shutting down: drop what was cut short
		}
		mu.Lock()
		delete(pending, r.IOC)
		mu.Unlock()
		return wr.add(r)
	}, enrich.RunOptions{})
	cause := context.Cause(jctx)
	if runErr != nil && cause == nil {
		stop(nil) // a write failed: stop the reader before waiting for it
	}
	<-readDone

	switch {
	case errors.Is(cause, errCanceled):
		wr.close()
		q.report(context.WithoutCancel(ctx), id)
		return river.JobCancel(errCanceled)
	case errors.Is(cause, river.ErrJobCancelledRemotely):
		// Canceled through another process (PostgreSQL): River told this
		// one, which ran the job and reports it.
		wr.close()
		q.report(context.WithoutCancel(ctx), id)
		return river.JobCancel(errCanceled)
	case ctx.Err() != nil:
		// The process is stopping: keep what was stored and put the job
		// back without spending an attempt.
		wctx, c := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer c()
		wr.close()
		_, _ = q.w.ExecContext(wctx, q.dialect.Rebind(`UPDATE jobs SET state = ? WHERE id = ? AND state = ?`), Queued, id, Running)
		return river.JobSnooze(0)
	case runErr != nil && cause == nil:
		return q.retry(ctx, id, attempt, maxAttempts, runErr) // a write failed
	}

	var note string
	if errors.Is(cause, errDeadline) {
		// Every IOC still gets a result: the engine, given the expired
		// context, answers from local sources and the cache and defers
		// every other look-up to the backlog, as for the look-ups that
		// were waiting for their turn when the deadline came.
		cut := append(late, slices.Collect(maps.Values(pending))...)
		for _, it := range cut { // read with Defer set
			if err := wr.add(q.opts.Engine.Enrich(jctx, it)); err != nil {
				return q.retry(ctx, id, attempt, maxAttempts, err)
			}
		}
		note = fmt.Sprintf("deadline %s reached: look-ups not made are deferred to the backlog (%d IOCs not looked up in time)", timeout, len(cut))
	}
	if inErr != nil && jctx.Err() == nil {
		note = joinNote(note, "input: "+inErr.Error())
	}
	if err := wr.close(); err != nil {
		return q.retry(ctx, id, attempt, maxAttempts, err)
	}
	return q.finish(ctx, id, Completed, note)
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// intakeOf returns the intake of the job's input: each IOC once, with the
// job's marking (TLP:AMBER when none), or the item's own when stricter.
func intakeOf(s Spec) (*enrich.Intake, error) {
	level := tlp.Default
	if s.TLP != "" {
		l, err := tlp.MustParse(s.TLP)
		if err != nil {
			return nil, err
		}
		level = l
	}
	pap := tlp.Green
	if s.PAP != "" {
		l, err := enrich.ParsePAP(s.PAP)
		if err != nil {
			return nil, err
		}
		pap = l
	}
	return &enrich.Intake{TLP: level, Providers: s.Providers, Input: input.Options{Format: input.Format(s.InputFormat)},
		Pivot: s.Pivot, PAP: pap}, nil
}

// readItems hands each of the job's IOCs to emit as it is read. Items
// found before an input error are handed over; the error is returned.
func readItems(ctx context.Context, s Spec, body storedInput, emit func(enrich.Item) error) error {
	in, err := intakeOf(s)
	if err != nil {
		return err
	}
	r, err := body.open()
	if err != nil {
		return err
	}
	return in.Read(ctx, r, "job", emit)
}

// countItems counts the job's IOCs, and returns the input's error after
// the IOCs found before it.
func countItems(ctx context.Context, s Spec, body storedInput) (int, error) {
	n := 0
	err := readItems(ctx, s, body, func(enrich.Item) error { n++; return nil })
	return n, err
}

// doneSet returns the IOCs of the job that already have a result.
func (q *RiverQueue) doneSet(ctx context.Context, id string) (map[ioc.IOC]bool, error) {
	rows, err := q.w.QueryContext(ctx, q.dialect.Rebind(`SELECT type, value FROM job_results WHERE job_id = ?`), id)
	if err != nil {
		return nil, fmt.Errorf("jobs: resume %s: %w", id, err)
	}
	defer rows.Close()
	done := map[ioc.IOC]bool{}
	for rows.Next() {
		var i ioc.IOC
		if err := rows.Scan(&i.Type, &i.Value); err != nil {
			return nil, fmt.Errorf("jobs: resume %s: %w", id, err)
		}
		done[i] = true
	}
	return done, rows.Err()
}

// finish moves a running job to a terminal state and reports it.
func (q *RiverQueue) finish(ctx context.Context, id string, s State, msg string) error {
	ctx = context.WithoutCancel(ctx)
	res, err := q.w.ExecContext(ctx, q.dialect.Rebind(`UPDATE jobs SET state = ?, error = ?, finished_at = ? WHERE id = ? AND state IN (?, ?)`),
		s, msg, q.now().UnixMilli(), id, Queued, Running)
	if err != nil {
		return fmt.Errorf("jobs: finish %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		q.report(ctx, id)
	}
	return nil
}

// fail ends a job that no retry can fix.
func (q *RiverQueue) fail(ctx context.Context, id string, err error) error {
	if ferr := q.finish(ctx, id, Failed, err.Error()); ferr != nil {
		return ferr
	}
	return river.JobCancel(err)
}

// retry records a failed attempt: the job goes back to queued with the
// error visible, or fails when it was the last attempt. River schedules
// the retry with backoff.
func (q *RiverQueue) retry(ctx context.Context, id string, attempt, maxAttempts int, err error) error {
	q.log.Warn("job attempt failed", "job", id, "attempt", attempt, "err", err)
	if attempt >= maxAttempts {
		return q.fail(ctx, id, fmt.Errorf("attempt %d of %d: %w", attempt, maxAttempts, err))
	}
	_, _ = q.w.ExecContext(context.WithoutCancel(ctx), q.dialect.Rebind(`UPDATE jobs SET state = ?, error = ? WHERE id = ? AND state = ?`),
		Queued, fmt.Sprintf("attempt %d of %d: %v", attempt, maxAttempts, err), id, Running)
	return err
}

// report tells the hooks that the job is terminal.
func (q *RiverQueue) report(ctx context.Context, id string) {
	j, err := q.Get(context.WithoutCancel(ctx), id)
	if err != nil || !j.State.Terminal() {
		return
	}
	q.finished(j)
}
