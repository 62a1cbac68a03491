package jobs

// Reading jobs: a job's state and counts, its results page by page, the
// queue's depth.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/iocane/iocane/internal/result"
)

const selectJob = `SELECT id, state, source, alert, iocs, done, malicious, suspicious, benign, unknown,
	(SELECT count(*) FROM deferred_lookups d WHERE d.job_id = jobs.id), attempts, error, created_at, started_at, finished_at FROM jobs`

// scanJob reads one selectJob row.
func scanJob(row interface{ Scan(...any) error }) (Job, error) {
	var (
		j                 Job
		alert             []byte
		created           int64
		started, finished sql.NullInt64
	)
	err := row.Scan(&j.ID, &j.State, &j.Source, &alert, &j.Counts.IOCs, &j.Counts.Done, &j.Counts.Malicious,
		&j.Counts.Suspicious, &j.Counts.Benign, &j.Counts.Unknown, &j.Counts.Deferred, &j.Attempts, &j.Error, &created, &started, &finished)
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
func (q *RiverQueue) Get(ctx context.Context, id string) (Job, error) {
	j, err := scanJob(q.r.QueryRowContext(ctx, q.dialect.Rebind(selectJob+` WHERE id = ?`), id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Job{}, fmt.Errorf("jobs: get %s: %w", id, err)
	}
	if err == nil && j.Counts.Deferred > 0 {
		if j.Deferred, err = q.deferredByProvider(ctx, id); err != nil {
			return Job{}, fmt.Errorf("jobs: get %s: %w", id, err)
		}
	}
	return j, err
}

// DeferredLookups counts the backlog's look-ups by provider, over every
// job (the iocane_deferred_lookups metric).
func (q *RiverQueue) DeferredLookups(ctx context.Context) (map[string]int, error) {
	out, err := q.countByProvider(ctx, ``)
	if err != nil {
		return nil, fmt.Errorf("jobs: backlog: %w", err)
	}
	return out, nil
}

// deferredByProvider counts a job's deferred look-ups by provider.
func (q *RiverQueue) deferredByProvider(ctx context.Context, id string) (map[string]int, error) {
	return q.countByProvider(ctx, `WHERE job_id = ?`, id)
}

// countByProvider counts the deferred look-ups that where selects, by
// provider.
func (q *RiverQueue) countByProvider(ctx context.Context, where string, args ...any) (map[string]int, error) {
	rows, err := q.r.QueryContext(ctx, q.dialect.Rebind(`SELECT provider, count(*) FROM deferred_lookups `+where+` GROUP BY provider`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var p string
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			return nil, err
		}
		out[p] = n
	}
	return out, rows.Err()
}

// resultsPage is how many results Results reads per query; short read
// transactions never hold back the WAL checkpoint for long.
const resultsPage = 500

// Results calls fn with each stored result of the job, ordered by IOC type
// and value. It returns ErrNotFound for an unknown job.
func (q *RiverQueue) Results(ctx context.Context, id string, fn func(result.Result) error) error {
	if _, err := q.Get(ctx, id); err != nil {
		return err
	}
	var lastType, lastValue string
	for {
		n := 0
		var page [][]byte
		rows, err := q.r.QueryContext(ctx,
			q.dialect.Rebind(`SELECT type, value, result FROM job_results WHERE job_id = ? AND (type, value) > (?, ?) ORDER BY type, value LIMIT ?`),
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

// Depth returns the number of queued and running jobs.
func (q *RiverQueue) Depth(ctx context.Context) (queued, running int, err error) {
	rows, err := q.r.QueryContext(ctx, q.dialect.Rebind(`SELECT state, count(*) FROM jobs WHERE state IN (?, ?) GROUP BY state`), Queued, Running)
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
