package jobs

// Retention: finished jobs older than Options.Retention are deleted, with
// their input and results, at start and then every PruneInterval.

import (
	"context"
	"fmt"
	"time"
)

// pruneLoop deletes the jobs past Options.Retention at once and then every
// Options.PruneInterval, until Close.
func (q *RiverQueue) pruneLoop() {
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
func (q *RiverQueue) Prune(ctx context.Context, t time.Time) (int, error) {
	tx, err := q.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	defer tx.Rollback()
	const old = `SELECT id FROM jobs WHERE state IN (?, ?, ?) AND finished_at < ?`
	args := []any{Completed, Failed, Canceled, t.UnixMilli()}
	if _, err := tx.ExecContext(ctx, q.dialect.Rebind(`DELETE FROM deferred_lookups WHERE job_id IN (`+old+`)`), args...); err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	if _, err := tx.ExecContext(ctx, q.dialect.Rebind(`DELETE FROM job_results WHERE job_id IN (`+old+`)`), args...); err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	res, err := tx.ExecContext(ctx, q.dialect.Rebind(`DELETE FROM jobs WHERE id IN (`+old+`)`), args...)
	if err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
