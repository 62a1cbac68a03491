package jobs

// Cancelling a job, and what every job's end goes through.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// Cancel marks a queued or running job canceled and stops its look-ups:
// look-ups already sent finish or fail, no new one starts. It returns
// ErrNotFound for an unknown job and ErrFinished for a terminal one.
func (q *RiverQueue) Cancel(ctx context.Context, id string) error {
	tx, err := q.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: cancel %s: %w", id, err)
	}
	defer tx.Rollback()
	var (
		state   State
		riverID sql.NullInt64
	)
	err = tx.QueryRowContext(ctx, q.dialect.Rebind(`SELECT state, river_id FROM jobs WHERE id = ?`), id).Scan(&state, &riverID)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("jobs: cancel %s: %w", id, err)
	}
	if state.Terminal() {
		return ErrFinished
	}
	// Guarded by the state: on PostgreSQL a worker in another process may
	// have finished the job since it was read.
	res, err := tx.ExecContext(ctx, q.dialect.Rebind(`UPDATE jobs SET state = ?, finished_at = ?, error = 'canceled' WHERE id = ? AND state IN (?, ?)`),
		Canceled, q.now().UnixMilli(), id, Queued, Running)
	if err != nil {
		return fmt.Errorf("jobs: cancel %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrFinished
	}
	if _, err := tx.ExecContext(ctx, q.dialect.Rebind(`DELETE FROM deferred_lookups WHERE job_id = ?`), id); err != nil {
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

// finished reports a terminal job to the hooks.
func (q *RiverQueue) finished(j Job) {
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
