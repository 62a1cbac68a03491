package jobs

// Recovery after a crash: jobs a dead process left running are queued again.

import (
	"context"
	"fmt"
)

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
