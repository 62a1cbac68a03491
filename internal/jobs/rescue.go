package jobs

// Recovery after a crash. On SQLite, jobs a dead process left running are
// queued again at start. On PostgreSQL, where several processes share the
// queue, a running job may belong to a live process: River's rescuer
// hands a job to another process once its worker has shown no sign of
// life for Options.RescueAfter, and each process marks the jobs it runs as
// alive (the keeper's heartbeat).

import (
	"context"
	"fmt"
	"time"

	"github.com/iocane/iocane/internal/dbx"
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
//
// On PostgreSQL a running job may be another live process's, so rescue
// resets nothing: it only fails the jobs whose River job River gave up
// (sweep); River's rescuer re-runs the others.
func (q *RiverQueue) rescue(ctx context.Context) error {
	if q.dialect == dbx.Postgres {
		return q.sweep(ctx)
	}
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

// keeper is the PostgreSQL queue's upkeep loop (nil done: none runs).
type keeper struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startKeeper starts, on PostgreSQL, the loop that every RescueAfter/4
// marks the jobs running here as alive and sweeps the jobs River gave up.
//
// The heartbeat moves river_job.attempted_at, the time River's rescuer
// measures RescueAfter from: a job is rescued when its worker has been
// silent for RescueAfter, not when it has merely run that long, so a job
// longer than RescueAfter (a 10-minute deadline against the 5-minute
// default) does not run twice while its process lives.
func (q *RiverQueue) startKeeper(ctx context.Context) {
	if q.dialect != dbx.Postgres {
		return
	}
	ctx, q.keeper.cancel = context.WithCancel(context.WithoutCancel(ctx))
	q.keeper.done = make(chan struct{})
	go func() {
		defer close(q.keeper.done)
		t := time.NewTicker(max(q.opts.RescueAfter/4, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := q.heartbeat(ctx); err != nil && ctx.Err() == nil {
				q.log.Warn("jobs: heartbeat failed; River may rescue this process's jobs", "err", err)
			}
			if err := q.sweep(ctx); err != nil && ctx.Err() == nil {
				q.log.Warn("jobs: sweep failed", "err", err)
			}
		}
	}()
}

func (q *RiverQueue) stopKeeper() {
	if q.keeper.done == nil {
		return
	}
	q.keeper.cancel()
	<-q.keeper.done
	q.keeper.done = nil
}

// beat marks River job id as running here (on), or no longer (off).
func (q *RiverQueue) beat(id int64, on bool) {
	if q.dialect != dbx.Postgres {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if on {
		q.beating[id] = true
	} else {
		delete(q.beating, id)
	}
}

// heartbeat marks the River jobs running here as alive.
func (q *RiverQueue) heartbeat(ctx context.Context) error {
	q.mu.Lock()
	ids := make([]int64, 0, len(q.beating))
	for id := range q.beating {
		ids = append(ids, id)
	}
	q.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	_, err := q.opts.Pool.Exec(ctx, `UPDATE river_job SET attempted_at = now() WHERE id = ANY($1) AND state = 'running'`, ids)
	return err
}

// sweep fails the jobs whose River job River discarded: the worker died
// (or panicked) during the last allowed attempt, and River's rescuer gave
// up on it. Each such job is reported once, by the process whose UPDATE
// moved it.
func (q *RiverQueue) sweep(ctx context.Context) error {
	rows, err := q.w.QueryContext(ctx, q.dialect.Rebind(`UPDATE jobs SET state = ?, finished_at = ?,
		error = 'the worker died during the last allowed attempt'
		WHERE state IN (?, ?) AND river_id IN (SELECT id FROM river_job WHERE kind = ? AND state = 'discarded')
		RETURNING id`), Failed, q.now().UnixMilli(), Queued, Running, kind)
	if err != nil {
		return fmt.Errorf("jobs: sweep: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("jobs: sweep: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("jobs: sweep: %w", err)
	}
	for _, id := range ids {
		q.log.Warn("job failed: its worker died during the last allowed attempt", "job", id)
		q.report(ctx, id)
	}
	return nil
}
