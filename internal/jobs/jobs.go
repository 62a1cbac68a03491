// Package jobs runs enrichment work durably: a job accepted by the server
// (an API bulk request or a SIEM alert from a webhook) is stored before the
// 202 goes back, survives a crash or SIGKILL, and ends in a terminal state
// even when providers hang. Each IOC of a job has exactly one result.
//
// # Design
//
// RiverQueue (SQLiteQueue is its older name) runs jobs with River
// (riverqueue/river). With no database URL it uses River's SQLite driver in
// the store's own SQLite file (--db): one file holds the cache, quotas, results
// and jobs, so one backup or one --db move takes everything. The store
// creates every table of that file (River's, through rivermigrate, and the
// ones below) and hands the queue its pools (store.DB.QueuePools): a writer
// limited to one connection (River's SQLite driver needs it) with BEGIN
// IMMEDIATE and synchronous=FULL, and a small read-only pool for Get,
// Results and Depth, so a slow client streaming results never holds the
// writer.
//
// On PostgreSQL (Options.Dialect, issue 11) several iocane serve processes
// share one queue: River's riverpgxv5 driver on the store's pgx pool
// (Options.Pool), iocane's statements on a pgx stdlib pool, the same SQL
// rebound to $n (dbx). A job is run by one process; one whose process
// died is handed to another by River's rescuer after Options.RescueAfter
// without a heartbeat (rescue.go), and resumes from its stored results.
//
// iocane's own rows sit beside River's: jobs (spec, input, alert reference,
// state, counts, attempts, error, times; UNIQUE idempotency key) and
// job_results (PRIMARY KEY job, IOC type, value). A River job only carries
// the job id.
//
// Submit hands the job to one committer goroutine that stores every job
// waiting at that moment (the jobs row and the River job) in a single
// transaction: a return without error means the job is on disk (group
// commit: one fsync per group, not per job; BENCHMARKS.md has the figures
// of BenchmarkSubmit).
//
// A worker reads the input (internal/input), deduplicates it, skips the IOCs
// that already have a result (a re-run after a crash resumes), and runs the
// rest through the shared enrich.Engine under the job's deadline, storing
// results in batches (64 results or 250 ms per transaction). Look-ups that
// finished before a crash are not repeated: the engine writes each answer
// to its cache (the store's, when built as iocane serve builds it) before
// the result comes back.
//
// # States and failures
//
//   - Deadline (Spec.Timeout, default 10 minutes, per attempt): the job
//     ends completed; IOCs still waiting get a result in which the
//     look-ups not made are deferred to the backlog (backlog.go), and
//     Job.Error says the deadline was reached. A look-up the budget
//     postpones before that (a rate turn beyond the engine's horizon, a
//     spent quota, an open breaker) is deferred the same way.
//   - Cancel: the job becomes canceled at once; look-ups in flight are
//     cut, no other IOC of the job reaches a provider, and results cut
//     short are not stored.
//   - Input that yields no IOC but an error fails the job without retry;
//     an input error after some IOCs is noted in Job.Error of the
//     completed job.
//   - Store errors are retried by River with backoff, at most MaxAttempts
//     (default 3) in all; Job.Error shows the last one, and the job fails
//     visibly after the last attempt.
//   - Stop lets running jobs finish until its context ends, then
//     interrupts them; each goes back to queued (River snooze: no attempt
//     spent) and resumes from its stored results after restart.
//   - A process that dies leaves its jobs running. Start re-queues them
//     at once (IntelOwl#3555: jobs stuck RUNNING forever after a worker
//     dies): the embedded store serves one iocane serve per file, so a job
//     running before this process starts its workers ran in a dead one. A
//     job whose last allowed attempt died is failed instead, so a job that
//     kills the process cannot loop. River's rescuer, after DefaultTimeout
//     plus 10 minutes, is the backstop.
//
// Spec.Providers restricts each IOC of the job to those providers (on top
// of the engine's own restriction), through enrich.Item.Providers.
package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/iocane/iocane/internal/result"
)

// State is where a job is in its life.
type State string

// Job states; Completed, Failed and Canceled are terminal.
const (
	Queued    State = "queued"
	Running   State = "running"
	Completed State = "completed"
	Failed    State = "failed"
	Canceled  State = "canceled"
)

// Terminal reports whether s is an end state.
func (s State) Terminal() bool { return s == Completed || s == Failed || s == Canceled }

// AlertRef identifies the SIEM/SOAR alert a job came from, so later stages
// can update that alert.
type AlertRef struct {
	System string            `json:"system"`          // splunk | elastic | thehive | xsoar | generic
	ID     string            `json:"id"`              // the SIEM's own alert id (sid, alert uuid, ...)
	Link   string            `json:"link,omitempty"`  // a link back to the alert
	Extra  map[string]string `json:"extra,omitempty"` // search_name, rule name, case id, ...
}

// Spec is what to run.
type Spec struct {
	// IdempotencyKey makes a second submission with the same key return the
	// first job instead of creating another (Idempotency-Key header, or the
	// SIEM's alert id).
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Source says how the job arrived: "api" or a webhook kind.
	Source string `json:"source"`
	// Alert is set for jobs from webhooks.
	Alert *AlertRef `json:"alert,omitempty"`
	// InputFormat is an input.Format name ("auto", "text", "json", "eml", ...).
	InputFormat string `json:"input_format"`
	// Input is the body to extract IOCs from, stored as received.
	Input []byte `json:"-"`
	// TLP is the marking of untagged IOCs in the input ("" = config default).
	TLP string `json:"tlp,omitempty"`
	// Providers restricts external providers, like --providers.
	Providers []string `json:"providers,omitempty"`
	// Timeout bounds the whole job; 0 means the queue's default.
	Timeout time.Duration `json:"timeout,omitempty"`
	// Pivot is how deep to follow relations from each IOC (0 to 2);
	// related IOCs are results of the job too.
	Pivot int `json:"pivot,omitempty"`
	// PAP is the input's PAP marking ("" is GREEN); AMBER and RED allow
	// no active pivot.
	PAP string `json:"pap,omitempty"`
}

// Counts summarise a job's results.
type Counts struct {
	IOCs       int `json:"iocs"`
	Done       int `json:"done"`
	Malicious  int `json:"malicious"`
	Suspicious int `json:"suspicious"`
	Benign     int `json:"benign"`
	Unknown    int `json:"unknown"`
	// Deferred is how many look-ups of the job's IOCs wait in the
	// backlog for their provider's budget; the job's results carry
	// "final": false until theirs have landed.
	Deferred int `json:"deferred"`
}

// Job is a submitted job's state.
type Job struct {
	ID     string    `json:"id"`
	State  State     `json:"state"`
	Source string    `json:"source"`
	Alert  *AlertRef `json:"alert,omitempty"`
	Counts Counts    `json:"counts"`
	// Deferred counts the backlog's look-ups by provider (Counts.Deferred
	// in all), when there are any.
	Deferred   map[string]int `json:"deferred,omitempty"`
	Attempts   int            `json:"attempts"`
	Error      string         `json:"error,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
	StartedAt  time.Time      `json:"started_at,omitzero"`
	FinishedAt time.Time      `json:"finished_at,omitzero"`
}

// ErrNotFound is returned for an unknown job id.
var ErrNotFound = errors.New("jobs: no such job")

// Queue accepts, runs and reports jobs.
type Queue interface {
	// Submit stores the job durably and returns it; existing is true when
	// the idempotency key matched an earlier job, which is returned instead.
	Submit(ctx context.Context, s Spec) (j Job, existing bool, err error)
	// Get returns a job's state and counts.
	Get(ctx context.Context, id string) (Job, error)
	// Results calls fn with each stored result of the job, in a stable order.
	Results(ctx context.Context, id string, fn func(result.Result) error) error
	// Cancel stops a queued or running job; its state becomes canceled.
	Cancel(ctx context.Context, id string) error
	// Depth returns the number of queued and running jobs.
	Depth(ctx context.Context) (queued, running int, err error)
}
