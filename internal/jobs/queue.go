package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/iocane/iocane/internal/dbx"
	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/result"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Defaults for Options.
const (
	DefaultTimeout     = 10 * time.Minute
	DefaultWorkers     = 4
	DefaultMaxAttempts = 3
	// DefaultRescueAfter is Options.RescueAfter's default.
	DefaultRescueAfter = 5 * time.Minute
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

// HistoryStore keeps IOC history (internal/store's DB).
type HistoryStore interface {
	RecordHistory(ctx context.Context, recs []history.Record) error
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
	// Dialect is the store's backend: dbx.SQLite (the default, the
	// embedded file) or dbx.Postgres (several iocane serve processes
	// sharing one queue).
	Dialect dbx.Dialect
	// DB is the writer on the store's database, whose tables the store
	// created. On SQLite (store.DB.QueuePools) it is a modernc pool in WAL
	// mode limited to one connection, as River's SQLite driver requires;
	// on PostgreSQL a pgx stdlib pool (sql.Open("pgx", url)). The caller
	// closes it after the queue.
	DB *sql.DB
	// Reader, when set, serves reads (job status, results) so that a slow
	// reader never holds the writer; nil reads through DB.
	Reader *sql.DB
	// Pool is River's pool on PostgreSQL (riverpgxv5), required when
	// Dialect is dbx.Postgres and unused on SQLite: River runs on it, and
	// Submit stores a job row and its River job in one of its
	// transactions. The caller closes it after the queue.
	Pool *pgxpool.Pool
	// RescueAfter is how long a running job may go without a sign of life
	// from its worker before River's rescuer runs it again elsewhere
	// (River's RescueStuckJobsAfter), on PostgreSQL: a process that died
	// mid-job has its jobs finished by another after about this long.
	// Live workers mark their jobs every RescueAfter/4, so a job may run
	// longer than RescueAfter. Default 5 minutes. SQLite ignores it: one
	// process owns the file and re-queues its dead jobs at start.
	RescueAfter time.Duration
	// Engine enriches the IOCs; it is shared by every job and must have
	// been started. It may be nil for a queue that only accepts jobs.
	Engine *enrich.Engine
	// Results, when set, also receives every result as the latest for its
	// IOC.
	Results ResultStore
	// History, when set, keeps each new result in its IOC's history, with
	// the job's source and alert (internal/store's DB).
	History HistoryStore
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
	// OnSettled is called when the last deferred look-up of a completed
	// job has landed and its results were revised (write-back sends the
	// update). It runs on the backlog's goroutines.
	OnSettled func(Job)
	// BacklogPoll is how often the backlog of deferred look-ups is
	// checked for look-ups due. Default DefaultBacklogPoll.
	BacklogPoll time.Duration
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

// RiverQueue is the Queue run by River, on the embedded SQLite store or on
// PostgreSQL (Options.Dialect).
type RiverQueue struct {
	opts    Options
	dialect dbx.Dialect
	w       *sql.DB     // writes; on SQLite also River's: one connection, BEGIN IMMEDIATE
	r       *sql.DB     // reads (Get, Results, Depth): several connections
	client  riverClient // River on SQLite or PostgreSQL (client.go)
	log     *slog.Logger
	now     func() time.Time

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc
	beating map[int64]bool // River ids of the jobs running here (PostgreSQL: heartbeat, rescue.go)
	started bool
	bl      *backlog // deferred look-ups (backlog.go)
	keeper  keeper   // heartbeat and sweep on PostgreSQL (rescue.go)

	submits   chan *submitReq // to the committers (submit.go)
	closing   chan struct{}   // closed by Close
	committed chan struct{}   // closed when the committers are gone
	pruned    chan struct{}   // closed when the pruner is gone (nil: none runs)
	closeOnce sync.Once
}

// SQLiteQueue is the name RiverQueue had when SQLite was its only store.
type SQLiteQueue = RiverQueue

var _ Queue = (*RiverQueue)(nil)

// kind is the River job kind of an iocane enrichment job.
const kind = "iocane_enrich"

// enrichArgs is the River job: the row in jobs holds everything else.
type enrichArgs struct {
	JobID string `json:"job_id"`
}

func (enrichArgs) Kind() string { return kind }

// Open opens the queue on the store's pools; the store has created its
// tables (River's and iocane's). Nothing runs until Start.
func Open(ctx context.Context, o Options) (*RiverQueue, error) {
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
	if o.BacklogPoll <= 0 {
		o.BacklogPoll = DefaultBacklogPoll
	}
	if o.RescueAfter <= 0 {
		o.RescueAfter = DefaultRescueAfter
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &RiverQueue{opts: o, dialect: o.Dialect, log: log, now: time.Now, running: map[string]context.CancelCauseFunc{},
		beating: map[int64]bool{}, bl: newBacklog()}
	if o.DB == nil {
		return nil, errors.New("jobs: no database (Options.DB)")
	}
	if o.Dialect == dbx.Postgres && o.Pool == nil {
		return nil, errors.New("jobs: PostgreSQL needs River's pool (Options.Pool)")
	}
	q.w, q.r = o.DB, o.DB
	if o.Reader != nil {
		q.r = o.Reader
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &worker{q: q})
	cfg := &river.Config{
		// River's free tier bounds concurrency per process, not across
		// processes (riverqueue/river#1145): Workers jobs run at once in
		// each iocane serve, so N replicas run up to N × Workers. The
		// providers' shared budget (rate limits and quotas, in Redis when
		// configured) is what bounds the fleet's calls.
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Workers}},
		Workers:           workers,
		MaxAttempts:       o.MaxAttempts,
		Logger:            log,
		FetchPollInterval: o.FetchPollInterval,
		FetchCooldown:     min(o.FetchPollInterval, river.FetchCooldownDefault),
		// The worker applies each job's own deadline; River's must not cut
		// it shorter. A job running far past every deadline is stuck in a
		// process that died: River's rescuer retries it (on SQLite, Start
		// also re-queues such jobs at once, see rescue).
		JobTimeout:           -1,
		RescueStuckJobsAfter: o.DefaultTimeout + 10*time.Minute,
	}
	var err error
	if o.Dialect == dbx.Postgres {
		// Several processes share the queue: a job whose worker has shown
		// no sign of life for RescueAfter ran in a process that died, and
		// River's rescuer hands it to another (rescue.go).
		cfg.RescueStuckJobsAfter = o.RescueAfter
		q.client, err = newPostgresClient(o.Pool, cfg)
	} else {
		q.client, err = newSQLiteClient(ctx, q.w, cfg)
	}
	if err != nil {
		return nil, err
	}
	q.submits, q.closing, q.committed = make(chan *submitReq), make(chan struct{}), make(chan struct{})
	q.startCommitters()
	return q, nil
}

// Start re-queues jobs left running by a process that died, then starts
// the workers. It needs Options.Engine.
func (q *RiverQueue) Start(ctx context.Context) error {
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
	q.startKeeper(ctx)
	q.startBacklog(ctx)
	if startPruner {
		go q.pruneLoop()
	}
	return nil
}

// Stop stops taking jobs and waits for those running to finish until ctx
// ends; then it interrupts them, and each goes back to the queue (River
// snooze, no attempt spent) to resume after restart from the results it
// stored.
func (q *RiverQueue) Stop(ctx context.Context) error {
	q.mu.Lock()
	started := q.started
	q.started = false
	q.mu.Unlock()
	if !started {
		return nil
	}
	defer q.stopBacklog() // after the jobs: a job stopping may still defer look-ups
	defer q.stopKeeper()  // after the jobs too: they are alive until they stop
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
func (q *RiverQueue) Close() error {
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
	})
	return err
}
