package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Defaults for Options.
const (
	DefaultTimeout     = 10 * time.Minute
	DefaultWorkers     = 4
	DefaultMaxAttempts = 3
)

// More errors a caller can test with errors.Is.
var (
	// ErrInvalid reports a Spec that cannot run (no input, unknown format
	// or TLP); the server answers 400.
	ErrInvalid = errors.New("jobs: invalid job")
	// ErrFinished is returned by Cancel for a job already in a terminal
	// state; the server answers 409.
	ErrFinished = errors.New("jobs: job already finished")
)

// ResultStore keeps the latest result per IOC (internal/store's DB), so
// GET /v1/iocs/{type}/{value} sees what jobs found.
type ResultStore interface {
	PutResult(ctx context.Context, r result.Result) error
}

// Observer hears of job life events, for metrics. Calls come from the
// queue's goroutines and must not block.
type Observer interface {
	// JobSubmitted is called after a Submit, existing or not.
	JobSubmitted(source string, existing bool)
	// JobStarted is called when an attempt starts; waited is the time
	// since the job was created.
	JobStarted(j Job, waited time.Duration)
	// JobFinished is called once a job reaches a terminal state; ran is
	// the time since its first attempt started (0 if it never ran).
	JobFinished(j Job, ran time.Duration)
}

// Options configures a queue.
type Options struct {
	// Path is the SQLite file, normally the store's (--db): jobs live in
	// the same file as the cache, quotas and results.
	Path string
	// DB, when set, is used instead of opening Path. It must be a SQLite
	// (modernc) pool in WAL mode limited to one connection, as River's
	// SQLite driver requires.
	DB *sql.DB
	// Engine enriches the IOCs; it is shared by every job and must have
	// been started. It may be nil for a queue that only accepts jobs.
	Engine *enrich.Engine
	// Results, when set, also receives every result as the latest for its
	// IOC.
	Results ResultStore
	// Workers is how many jobs run at once. Default 4.
	Workers int
	// DefaultTimeout bounds one attempt of a job whose Spec has none.
	// Default 10 minutes.
	DefaultTimeout time.Duration
	// MaxAttempts bounds the tries of a job that fails. Default 3.
	MaxAttempts int
	// OnComplete is called once a job reaches a terminal state (write-back
	// to the SIEM hooks in here). It runs on the worker's goroutine.
	OnComplete func(Job)
	// Observer hears of job events (metrics); nil for none.
	Observer Observer
	// Logger logs job and River events; nil discards.
	Logger *slog.Logger
	// FetchPollInterval is how often idle workers look for jobs inserted
	// by another process. Default 1s (jobs submitted through this queue
	// wake the workers at once).
	FetchPollInterval time.Duration
	// Retention is how long a finished job (completed, failed or
	// canceled) is kept, with its input and results, after it finished;
	// a running queue deletes older ones every PruneInterval. 0 keeps
	// every job.
	Retention time.Duration
	// PruneInterval is how often a running queue deletes the jobs past
	// Retention. Default an hour.
	PruneInterval time.Duration
}

// SQLiteQueue is the Queue on the embedded SQLite store, run by River.
type SQLiteQueue struct {
	opts   Options
	w      *sql.DB // writes and River: one connection, BEGIN IMMEDIATE
	r      *sql.DB // reads (Get, Results, Depth): several connections
	ownsDB bool
	client *river.Client[*sql.Tx]
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc
	started bool

	findKey   *sql.Stmt       // the job with an idempotency key
	insertJob *sql.Stmt       // a new job row
	submits   chan *submitReq // to the committer (submit.go)
	closing   chan struct{}   // closed by Close
	committed chan struct{}   // closed when the committer is gone
	pruned    chan struct{}   // closed when the pruner is gone (nil: none runs)
	closeOnce sync.Once
}

var _ Queue = (*SQLiteQueue)(nil)

// kind is the River job kind of an iocane enrichment job.
const kind = "iocane_enrich"

// enrichArgs is the River job: the row in jobs holds everything else.
type enrichArgs struct {
	JobID string `json:"job_id"`
}

func (enrichArgs) Kind() string { return kind }

// Open opens the queue on the SQLite file and applies River's and
// iocane's migrations. Nothing runs until Start.
func Open(ctx context.Context, o Options) (*SQLiteQueue, error) {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.DefaultTimeout <= 0 {
		o.DefaultTimeout = DefaultTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.FetchPollInterval <= 0 {
		o.FetchPollInterval = time.Second
	}
	if o.PruneInterval <= 0 {
		o.PruneInterval = time.Hour
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &SQLiteQueue{opts: o, log: log, now: time.Now, running: map[string]context.CancelCauseFunc{}}
	switch {
	case o.DB != nil:
		q.w, q.r = o.DB, o.DB
	case o.Path != "":
		var err error
		if q.w, q.r, err = openPools(o.Path); err != nil {
			return nil, err
		}
		q.ownsDB = true
	default:
		return nil, errors.New("jobs: no database (Options.Path or Options.DB)")
	}
	if err := migrate(ctx, q.w, log); err != nil {
		q.closeDB()
		return nil, err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &worker{q: q})
	client, err := river.NewClient(riversqlite.New(q.w), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Workers}},
		Workers:           workers,
		MaxAttempts:       o.MaxAttempts,
		Logger:            log,
		FetchPollInterval: o.FetchPollInterval,
		FetchCooldown:     min(o.FetchPollInterval, river.FetchCooldownDefault),
		// The worker applies each job's own deadline; River's must not cut
		// it shorter. A job running far past every deadline is stuck in a
		// process that died: River's rescuer retries it (Start also
		// re-queues such jobs at once, see rescue).
		JobTimeout:           -1,
		RescueStuckJobsAfter: o.DefaultTimeout + 10*time.Minute,
	})
	if err != nil {
		q.closeDB()
		return nil, fmt.Errorf("jobs: river: %w", err)
	}
	q.client = client
	if q.findKey, err = q.w.PrepareContext(ctx, selectJob+` WHERE idempotency_key = ?`); err == nil {
		q.insertJob, err = q.w.PrepareContext(ctx,
			`INSERT INTO jobs (id, idempotency_key, river_id, source, alert, spec, input, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	}
	if err != nil {
		q.closeDB()
		return nil, fmt.Errorf("jobs: prepare: %w", err)
	}
	q.submits, q.closing, q.committed = make(chan *submitReq), make(chan struct{}), make(chan struct{})
	go q.commitLoop()
	return q, nil
}

// openPools opens the writer (one connection, as River's SQLite driver
// requires; BEGIN IMMEDIATE so a transaction that reads then writes never
// fails with SQLITE_BUSY_SNAPSHOT against the store's own connection) and
// a read-only pool, so a slow client streaming results never holds the
// writer.
func openPools(path string) (w, r *sql.DB, err error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("jobs: %w", err)
		}
	}
	// synchronous(FULL) on the writer: a commit is on disk before Submit
	// returns, so an accepted job survives power loss too, not only a
	// SIGKILL; group commit keeps the fsync per group, not per job.
	base := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)"
	if w, err = sql.Open("sqlite", base+"&_pragma=synchronous(FULL)&_txlock=immediate"); err != nil {
		return nil, nil, fmt.Errorf("jobs: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if r, err = sql.Open("sqlite", base+"&_pragma=query_only(1)"); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("jobs: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	return w, r, nil
}

func (q *SQLiteQueue) closeDB() {
	if !q.ownsDB {
		return
	}
	q.w.Close()
	if q.r != q.w {
		q.r.Close()
	}
}

// Start re-queues jobs left running by a process that died, then starts
// the workers. It needs Options.Engine.
func (q *SQLiteQueue) Start(ctx context.Context) error {
	if q.opts.Engine == nil {
		return errors.New("jobs: Start needs Options.Engine")
	}
	if err := q.rescue(ctx); err != nil {
		return err
	}
	q.mu.Lock()
	q.started = true
	startPruner := q.opts.Retention > 0 && q.pruned == nil
	if startPruner {
		q.pruned = make(chan struct{})
	}
	q.mu.Unlock()
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	if startPruner {
		go q.pruneLoop()
	}
	return nil
}

// pruneLoop deletes the jobs past Options.Retention at once and then every
// Options.PruneInterval, until Close.
func (q *SQLiteQueue) pruneLoop() {
	defer close(q.pruned)
	t := time.NewTicker(q.opts.PruneInterval)
	defer t.Stop()
	for {
		cut := q.now().Add(-q.opts.Retention)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		n, err := q.Prune(ctx, cut)
		cancel()
		switch {
		case err != nil:
			q.log.Error("pruning finished jobs", "err", err)
		case n > 0:
			q.log.Info("pruned finished jobs", "jobs", n, "finished_before", cut.UTC().Format(time.RFC3339))
		}
		select {
		case <-q.closing:
			return
		case <-t.C:
		}
	}
}

// Prune deletes the jobs that finished (completed, failed or canceled)
// before t, with their inputs and results, and returns how many. Queued and
// running jobs are never deleted. A later Submit with the idempotency key
// of a pruned job makes a new job.
func (q *SQLiteQueue) Prune(ctx context.Context, t time.Time) (int, error) {
	tx, err := q.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	defer tx.Rollback()
	const old = `SELECT id FROM jobs WHERE state IN (?, ?, ?) AND finished_at < ?`
	args := []any{Completed, Failed, Canceled, t.UnixMilli()}
	if _, err := tx.ExecContext(ctx, `DELETE FROM job_results WHERE job_id IN (`+old+`)`, args...); err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE id IN (`+old+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// rescue re-queues, at start-up, every job a dead process left running
// (IntelOwl#3555: jobs stuck RUNNING forever after a worker dies). The
// embedded store serves one `iocane serve` per file, so a job that is
// running before this process starts its workers ran in a process that is
// gone. River's own rescuer (RescueStuckJobsAfter) only acts after the
// longest job could have run; this makes the restart pick the job up at
// once. A job whose last allowed attempt was the one that died is given
// up as failed rather than retried forever (a job that kills the process
// would otherwise loop).
func (q *SQLiteQueue) rescue(ctx context.Context) error {
	tx, err := q.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: rescue: %w", err)
	}
	defer tx.Rollback()
	now := q.now()
	if _, err := tx.ExecContext(ctx,
		`UPDATE jobs SET state = ?, finished_at = ?, error = 'the worker died during the last allowed attempt'
		 WHERE state = ? AND river_id IN (SELECT id FROM river_job WHERE kind = ? AND state = 'running' AND attempt >= max_attempts)`,
		Failed, now.UnixMilli(), Running, kind); err != nil {
		return fmt.Errorf("jobs: rescue: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE river_job SET state = 'discarded', finalized_at = CURRENT_TIMESTAMP
		 WHERE kind = ? AND state = 'running' AND attempt >= max_attempts`, kind); err != nil {
		return fmt.Errorf("jobs: rescue: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE kind = ? AND state = 'running'`, kind)
	if err != nil {
		return fmt.Errorf("jobs: rescue: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = ? WHERE state = ?`, Queued, Running); err != nil {
		return fmt.Errorf("jobs: rescue: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobs: rescue: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		q.log.Warn("re-queued jobs left running by a process that died", "jobs", n)
	}
	return nil
}

// Stop stops taking jobs and waits for those running to finish until ctx
// ends; then it interrupts them, and each goes back to the queue (River
// snooze, no attempt spent) to resume after restart from the results it
// stored.
func (q *SQLiteQueue) Stop(ctx context.Context) error {
	q.mu.Lock()
	started := q.started
	q.started = false
	q.mu.Unlock()
	if !started {
		return nil
	}
	err := q.client.Stop(ctx)
	if ctx.Err() != nil {
		hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = q.client.StopAndCancel(hard)
	}
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// Close stops the queue (see Stop, without waiting for running jobs) and
// closes the database when the queue opened it.
func (q *SQLiteQueue) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := q.Stop(ctx)
	q.closeOnce.Do(func() {
		close(q.closing)
		<-q.committed
		q.mu.Lock()
		pruned := q.pruned
		q.mu.Unlock()
		if pruned != nil {
			<-pruned
		}
		q.closeDB()
	})
	return err
}

// validate fills defaults and rejects a Spec that cannot run.
func validate(s *Spec) error {
	if s.Source == "" {
		s.Source = "api"
	}
	if len(s.Input) == 0 {
		return fmt.Errorf("%w: empty input", ErrInvalid)
	}
	f, err := input.ParseFormat(s.InputFormat)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	s.InputFormat = string(f)
	if s.TLP != "" {
		if _, err := tlp.MustParse(s.TLP); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	if s.Timeout < 0 {
		return fmt.Errorf("%w: negative timeout", ErrInvalid)
	}
	return nil
}

// newID returns a time-ordered job id (UUIDv7), which keeps inserts at
// the end of the jobs index.
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

func (q *SQLiteQueue) observeSubmit(source string, existing bool) {
	if q.opts.Observer != nil {
		q.opts.Observer.JobSubmitted(source, existing)
	}
}

const selectJob = `SELECT id, state, source, alert, iocs, done, malicious, suspicious, benign, unknown, attempts, error, created_at, started_at, finished_at FROM jobs`

// scanJob reads one selectJob row.
func scanJob(row interface{ Scan(...any) error }) (Job, error) {
	var (
		j                 Job
		alert             []byte
		created           int64
		started, finished sql.NullInt64
	)
	err := row.Scan(&j.ID, &j.State, &j.Source, &alert, &j.Counts.IOCs, &j.Counts.Done, &j.Counts.Malicious,
		&j.Counts.Suspicious, &j.Counts.Benign, &j.Counts.Unknown, &j.Attempts, &j.Error, &created, &started, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, err
	}
	if len(alert) > 0 {
		j.Alert = new(AlertRef)
		if err := json.Unmarshal(alert, j.Alert); err != nil {
			return Job{}, fmt.Errorf("corrupt alert of job %s: %w", j.ID, err)
		}
	}
	j.CreatedAt = time.UnixMilli(created).UTC()
	if started.Valid {
		j.StartedAt = time.UnixMilli(started.Int64).UTC()
	}
	if finished.Valid {
		j.FinishedAt = time.UnixMilli(finished.Int64).UTC()
	}
	return j, nil
}

// Get returns a job's state and counts.
func (q *SQLiteQueue) Get(ctx context.Context, id string) (Job, error) {
	j, err := scanJob(q.r.QueryRowContext(ctx, selectJob+` WHERE id = ?`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Job{}, fmt.Errorf("jobs: get %s: %w", id, err)
	}
	return j, err
}

// resultsPage is how many results Results reads per query; short read
// transactions never hold back the WAL checkpoint for long.
const resultsPage = 500

// Results calls fn with each stored result of the job, ordered by IOC type
// and value. It returns ErrNotFound for an unknown job.
func (q *SQLiteQueue) Results(ctx context.Context, id string, fn func(result.Result) error) error {
	if _, err := q.Get(ctx, id); err != nil {
		return err
	}
	var lastType, lastValue string
	for {
		n := 0
		var page [][]byte
		rows, err := q.r.QueryContext(ctx,
			`SELECT type, value, result FROM job_results WHERE job_id = ? AND (type, value) > (?, ?) ORDER BY type, value LIMIT ?`,
			id, lastType, lastValue, resultsPage)
		if err != nil {
			return fmt.Errorf("jobs: results %s: %w", id, err)
		}
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&lastType, &lastValue, &b); err != nil {
				rows.Close()
				return fmt.Errorf("jobs: results %s: %w", id, err)
			}
			page = append(page, b)
			n++
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("jobs: results %s: %w", id, err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("jobs: results %s: %w", id, err)
		}
		for _, b := range page {
			var r result.Result
			if err := json.Unmarshal(b, &r); err != nil {
				return fmt.Errorf("jobs: corrupt result in job %s: %w", id, err)
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		if n < resultsPage {
			return nil
		}
	}
}

// Cancel marks a queued or running job canceled and stops its look-ups:
// look-ups already sent finish or fail, no new one starts. It returns
// ErrNotFound for an unknown job and ErrFinished for a terminal one.
func (q *SQLiteQueue) Cancel(ctx context.Context, id string) error {
	tx, err := q.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: cancel %s: %w", id, err)
	}
	defer tx.Rollback()
	var (
		state   State
		riverID sql.NullInt64
	)
	err = tx.QueryRowContext(ctx, `SELECT state, river_id FROM jobs WHERE id = ?`, id).Scan(&state, &riverID)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("jobs: cancel %s: %w", id, err)
	}
	if state.Terminal() {
		return ErrFinished
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = ?, finished_at = ?, error = 'canceled' WHERE id = ?`,
		Canceled, q.now().UnixMilli(), id); err != nil {
		return fmt.Errorf("jobs: cancel %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobs: cancel %s: %w", id, err)
	}
	q.mu.Lock()
	stop := q.running[id]
	q.mu.Unlock()
	if stop != nil {
		stop(errCanceled) // the worker reports the end
		return nil
	}
	// Not running here: make River drop it (a queued job never starts; one
	// running in another process is told through River).
	if riverID.Valid {
		if _, err := q.client.JobCancel(ctx, riverID.Int64); err != nil && !errors.Is(err, river.ErrNotFound) {
			q.log.Warn("river cancel failed; the worker will see the job canceled when it starts", "job", id, "err", err)
		}
	}
	if state == Queued {
		if j, err := q.Get(context.WithoutCancel(ctx), id); err == nil {
			q.finished(j)
		}
	}
	return nil
}

// Depth returns the number of queued and running jobs.
func (q *SQLiteQueue) Depth(ctx context.Context) (queued, running int, err error) {
	rows, err := q.r.QueryContext(ctx, `SELECT state, count(*) FROM jobs WHERE state IN (?, ?) GROUP BY state`, Queued, Running)
	if err != nil {
		return 0, 0, fmt.Errorf("jobs: depth: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s State
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return 0, 0, fmt.Errorf("jobs: depth: %w", err)
		}
		if s == Queued {
			queued = n
		} else {
			running = n
		}
	}
	return queued, running, rows.Err()
}

// finished reports a terminal job to the hooks.
func (q *SQLiteQueue) finished(j Job) {
	if q.opts.Observer != nil {
		var ran time.Duration
		if !j.StartedAt.IsZero() {
			ran = j.FinishedAt.Sub(j.StartedAt)
		}
		q.opts.Observer.JobFinished(j, ran)
	}
	if q.opts.OnComplete != nil {
		q.opts.OnComplete(j)
	}
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
