package jobs

// The backlog of deferred look-ups. A job's look-up that its provider's
// budget postpones (a rate turn beyond the horizon or the deadline, a
// spent quota, an open breaker, a 429 storm; see internal/enrich's
// defer.go) does not fail: its result is stored with that source
// rate_limited, "deferred" and due at a time, the result says
// "final": false, and a row in deferred_lookups keeps the look-up, so it
// survives a restart. The job completes with what it has; GET
// /v1/jobs/{id} counts the look-ups still deferred.
//
// One loop per queue works the backlog: every BacklogPoll, and whenever
// deferred rows are written or a look-up lands, it takes the look-ups due,
// alerts before bulk and the oldest first, at most the provider's worker
// pool in flight each, and asks the engine again (Engine.Later: the cache,
// else the provider when its budget allows, else deferred again to a
// later time). One answer serves every job waiting for that look-up. When
// it lands, each job's stored result is revised in one transaction (the
// source, score, verdict, reasons and counts; Engine.Revise), and a
// completed job whose last deferred look-up landed is handed to
// OnSettled: write-back updates the alert, and notifies only when a
// verdict rose to a channel's threshold.

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/dbx"
	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
)

// DefaultBacklogPoll is how often the backlog looks for look-ups due.
const DefaultBacklogPoll = time.Second

// backlogBatch bounds the look-ups taken per round.
const backlogBatch = 256

type lookupKey struct {
	provider string
	ioc      ioc.IOC
}

// backlog is the loop's state.
type backlog struct {
	wake   chan struct{} // one slot: a round is wanted
	cancel context.CancelFunc
	done   chan struct{} // closed when the loop has stopped (nil: none runs)

	mu       sync.Mutex
	inflight map[lookupKey]bool
	busy     map[string]int // look-ups in flight by provider
}

func newBacklog() *backlog {
	return &backlog{wake: make(chan struct{}, 1), inflight: map[lookupKey]bool{}, busy: map[string]int{}}
}

// wakeBacklog asks for a round soon.
func (q *RiverQueue) wakeBacklog() {
	select {
	case q.bl.wake <- struct{}{}:
	default:
	}
}

// startBacklog starts the loop; stopBacklog stops it and waits for the
// look-ups in flight (a look-up cut short is deferred again, never lost).
func (q *RiverQueue) startBacklog(ctx context.Context) {
	ctx, q.bl.cancel = context.WithCancel(context.WithoutCancel(ctx))
	q.bl.done = make(chan struct{})
	go q.backlogLoop(ctx)
}

func (q *RiverQueue) stopBacklog() {
	if q.bl.done == nil {
		return
	}
	q.bl.cancel()
	<-q.bl.done
	q.bl.done = nil
}

func (q *RiverQueue) backlogLoop(ctx context.Context) {
	defer close(q.bl.done)
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(q.opts.BacklogPoll)
	defer t.Stop()
	for {
		q.backlogRound(ctx, &wg)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-q.bl.wake:
		}
	}
}

// backlogRound starts the look-ups due that are not in flight, within each
// provider's capacity.
func (q *RiverQueue) backlogRound(ctx context.Context, wg *sync.WaitGroup) {
	due, err := q.dueLookups(ctx, q.now(), backlogBatch)
	if err != nil {
		if ctx.Err() == nil {
			q.log.Warn("backlog: cannot read the deferred look-ups", "err", err)
		}
		return
	}
	for _, k := range due {
		q.bl.mu.Lock()
		if q.bl.inflight[k] || q.bl.busy[k.provider] >= q.opts.Engine.Capacity(k.provider) {
			q.bl.mu.Unlock()
			continue
		}
		q.bl.inflight[k] = true
		q.bl.busy[k.provider]++
		q.bl.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.resolve(ctx, k)
			q.bl.mu.Lock()
			delete(q.bl.inflight, k)
			q.bl.busy[k.provider]--
			q.bl.mu.Unlock()
			q.wakeBacklog()
		}()
	}
}

// dueLookups returns the look-ups due at now, alerts first, then the
// longest due.
func (q *RiverQueue) dueLookups(ctx context.Context, now time.Time, limit int) ([]lookupKey, error) {
	rows, err := q.r.QueryContext(ctx, q.dialect.Rebind(`SELECT provider, type, value FROM deferred_lookups WHERE due_at <= ?
		GROUP BY provider, type, value ORDER BY min(priority), min(due_at) LIMIT ?`), now.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []lookupKey
	for rows.Next() {
		var k lookupKey
		if err := rows.Scan(&k.provider, &k.ioc.Type, &k.ioc.Value); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// resolve makes one deferred look-up and lands its answer in every job
// waiting for it, or puts it off again.
func (q *RiverQueue) resolve(ctx context.Context, k lookupKey) {
	if q.dialect == dbx.Postgres && !q.claim(ctx, k) {
		return // another process took it
	}
	f := q.opts.Engine.Later(ctx, k.provider, k.ioc)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if f.Deferred {
		if _, err := q.w.ExecContext(wctx, q.dialect.Rebind(`UPDATE deferred_lookups SET due_at = ? WHERE provider = ? AND type = ? AND value = ?`),
			f.Until.UnixMilli(), k.provider, string(k.ioc.Type), k.ioc.Value); err != nil {
			q.log.Warn("backlog: cannot put a look-up off", "provider", k.provider, "ioc", k.ioc.String(), "err", err)
		}
		return
	}
	settled, err := q.land(wctx, k, f)
	if err != nil {
		q.log.Warn("backlog: answer not stored; the look-up stays deferred (the cache keeps the answer)", "provider", k.provider, "ioc", k.ioc.String(), "err", err)
		return
	}
	for _, id := range settled {
		j, err := q.Get(wctx, id)
		if err != nil {
			continue
		}
		q.log.Info("backlog: the job's deferred look-ups have all landed", "job", id)
		if q.opts.OnSettled != nil {
			q.opts.OnSettled(j)
		}
	}
}

// claimFor is how long a process holds a deferred look-up it took
// (PostgreSQL): past it, a look-up whose process died is due again.
const claimFor = time.Minute

// claim takes look-up k for this process on PostgreSQL, where several
// processes work one backlog: its rows are put off by claimFor, and only
// the process whose UPDATE moved them makes the look-up. Resolving it
// then deletes the rows or sets their next due time.
func (q *RiverQueue) claim(ctx context.Context, k lookupKey) bool {
	now := q.now()
	res, err := q.w.ExecContext(ctx, q.dialect.Rebind(`UPDATE deferred_lookups SET due_at = ?
		WHERE provider = ? AND type = ? AND value = ? AND due_at <= ?`),
		now.Add(claimFor).UnixMilli(), k.provider, string(k.ioc.Type), k.ioc.Value, now.UnixMilli())
	if err != nil {
		if ctx.Err() == nil {
			q.log.Warn("backlog: cannot claim a look-up", "provider", k.provider, "ioc", k.ioc.String(), "err", err)
		}
		return false
	}
	n, _ := res.RowsAffected()
	return n > 0
}

// land revises every stored result waiting for k with f, in one
// transaction, and returns the completed jobs it left with nothing
// deferred.
func (q *RiverQueue) land(ctx context.Context, k lookupKey, f provider.Finding) ([]string, error) {
	tx, err := q.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	type waiting struct {
		job     string
		verdict result.Verdict
		b       []byte
	}
	// Ordered by job, so that two processes landing look-ups of the same
	// jobs on PostgreSQL lock their rows in one order.
	rows, err := tx.QueryContext(ctx, q.dialect.Rebind(`SELECT d.job_id, r.verdict, r.result FROM deferred_lookups d
		JOIN job_results r ON r.job_id = d.job_id AND r.type = d.type AND r.value = d.value
		WHERE d.provider = ? AND d.type = ? AND d.value = ? ORDER BY d.job_id`), k.provider, string(k.ioc.Type), k.ioc.Value)
	if err != nil {
		return nil, err
	}
	var ws []waiting
	for rows.Next() {
		var w waiting
		if err := rows.Scan(&w.job, &w.verdict, &w.b); err != nil {
			rows.Close()
			return nil, err
		}
		ws = append(ws, w)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	var revised []result.Result
	var changed []history.Record // revisions that moved the verdict or the score, for the IOC's history
	for _, w := range ws {
		var r result.Result
		if err := json.Unmarshal(w.b, &r); err != nil {
			return nil, fmt.Errorf("corrupt result in job %s: %w", w.job, err)
		}
		before := r
		r = q.opts.Engine.Revise(r, f)
		if r.Verdict != before.Verdict || r.Score != before.Score {
			rec := history.EntryOf(r, "backlog", w.job, "")
			rec.At = q.now().UTC()
			rec.Note = fmt.Sprintf("revised when %s's deferred answer landed (was %s, score %d)", k.provider, before.Verdict, before.Score)
			changed = append(changed, rec)
		}
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, q.dialect.Rebind(`UPDATE job_results SET verdict = ?, result = ? WHERE job_id = ? AND type = ? AND value = ?`),
			string(r.Verdict), b, w.job, string(k.ioc.Type), k.ioc.Value); err != nil {
			return nil, err
		}
		if r.Verdict != w.verdict {
			if _, err := tx.ExecContext(ctx, q.dialect.Rebind(`UPDATE jobs SET `+countColumn(w.verdict)+` = `+countColumn(w.verdict)+` - 1, `+
				countColumn(r.Verdict)+` = `+countColumn(r.Verdict)+` + 1 WHERE id = ?`), w.job); err != nil {
				return nil, err
			}
		}
		revised = append(revised, r)
	}
	if _, err := tx.ExecContext(ctx, q.dialect.Rebind(`DELETE FROM deferred_lookups WHERE provider = ? AND type = ? AND value = ?`),
		k.provider, string(k.ioc.Type), k.ioc.Value); err != nil {
		return nil, err
	}
	var settled []string
	for _, w := range ws {
		var state State
		var left int
		if err := tx.QueryRowContext(ctx, q.dialect.Rebind(`SELECT state, (SELECT count(*) FROM deferred_lookups WHERE job_id = ?) FROM jobs WHERE id = ?`),
			w.job, w.job).Scan(&state, &left); err != nil {
			return nil, err
		}
		if state == Completed && left == 0 {
			settled = append(settled, w.job)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if rs := q.opts.Results; rs != nil {
		for _, r := range revised {
			if err := rs.PutResult(ctx, r); err != nil {
				q.log.Warn("latest result not stored", "ioc", r.IOC.String(), "err", err)
			}
		}
	}
	if h := q.opts.History; h != nil && len(changed) > 0 {
		if err := h.RecordHistory(ctx, changed); err != nil {
			q.log.Warn("history not recorded", "ioc", k.ioc.String(), "err", err)
		}
	}
	return settled, nil
}

// countColumn is the jobs column that counts verdict v.
func countColumn(v result.Verdict) string {
	switch v {
	case result.Malicious:
		return "malicious"
	case result.Suspicious:
		return "suspicious"
	case result.Benign:
		return "benign"
	}
	return "unknown"
}
