package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/result"
)

// Batching of result writes: a transaction per batch rather than per
// result, and never more than flushEvery between a result and its row, so
// counts stay fresh and a crash loses at most that much work (which the
// engine's cache then answers without a provider call).
const (
	batchSize  = 64
	flushEvery = 250 * time.Millisecond
)

// writer stores a job's results in batches.
type writer struct {
	q    *RiverQueue
	id   string
	prio int // of the job's deferred look-ups: 0 for alerts, 1 for bulk
	// origin and alert go into each IOC's history: the job's source and
	// its alert reference ("splunk:sid"), "" for none.
	origin, alert string
	mu            sync.Mutex
	buf           []result.Result
	err           error // the first failed flush; later adds return it
	stop          chan struct{}
	wg            sync.WaitGroup
	once          sync.Once
}

func (q *RiverQueue) newWriter(id string, prio int, origin, alert string) *writer {
	w := &writer{q: q, id: id, prio: prio, origin: origin, alert: alert, stop: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(flushEvery)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				w.mu.Lock()
				w.flushLocked()
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// add queues r, flushing a full batch.
func (w *writer) add(r result.Result) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf = append(w.buf, r)
	if len(w.buf) >= batchSize {
		w.flushLocked()
	}
	return w.err
}

// close flushes what is left and stops the ticker; it may be called again
// and returns the first write error.
func (w *writer) close() error {
	w.once.Do(func() {
		close(w.stop)
		w.wg.Wait()
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
	return w.err
}

func (w *writer) flushLocked() {
	if w.err != nil || len(w.buf) == 0 {
		return
	}
	// Writes are not tied to the job's context: a result computed is
	// worth keeping even while the job is being stopped.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fresh, err := w.q.writeResults(ctx, w.id, w.prio, w.buf)
	if err != nil {
		w.err = err
		return
	}
	if h := w.q.opts.History; h != nil && len(fresh) > 0 {
		recs := make([]history.Record, len(fresh))
		for i, r := range fresh {
			recs[i] = history.EntryOf(r, w.origin, w.id, w.alert)
		}
		if err := h.RecordHistory(ctx, recs); err != nil {
			w.q.log.Warn("history not recorded", "job", w.id, "results", len(recs), "err", err)
		}
	}
	if rs := w.q.opts.Results; rs != nil {
		for _, r := range w.buf {
			if err := rs.PutResult(ctx, r); err != nil {
				w.q.log.Warn("latest result not stored", "job", w.id, "ioc", r.IOC.String(), "err", err)
			}
		}
	}
	w.buf = w.buf[:0]
}

// writeResults stores results and bumps the job's counts in one
// transaction, and puts each result's deferred look-ups in the backlog with
// priority prio. An IOC that already has a result keeps it (exactly one per
// IOC, even when a job is re-run) and is not counted twice. It returns the
// results that were new.
func (q *RiverQueue) writeResults(ctx context.Context, id string, prio int, rs []result.Result) ([]result.Result, error) {
	tx, err := q.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("jobs: store results: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx,
		q.dialect.Rebind(`INSERT INTO job_results (job_id, type, value, verdict, result) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`))
	if err != nil {
		return nil, fmt.Errorf("jobs: store results: %w", err)
	}
	defer stmt.Close()
	var c Counts
	var fresh []result.Result
	pivots := 0 // related IOCs a pivot added: the job's IOC count grows
	deferred := 0
	for _, r := range rs {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("jobs: store result %s: %w", r.IOC, err)
		}
		res, err := stmt.ExecContext(ctx, id, string(r.IOC.Type), r.IOC.Value, string(r.Verdict), b)
		if err != nil {
			return nil, fmt.Errorf("jobs: store results: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		fresh = append(fresh, r)
		if r.Context["pivot_from"] != "" {
			pivots++
		}
		for _, src := range r.Sources {
			if !src.Deferred {
				continue
			}
			if _, err := tx.ExecContext(ctx, q.dialect.Rebind(`INSERT INTO deferred_lookups (job_id, provider, type, value, priority, due_at, queued_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
				id, src.Provider, string(r.IOC.Type), r.IOC.Value, prio, src.Until.UnixMilli(), q.now().UnixMilli()); err != nil {
				return nil, fmt.Errorf("jobs: store deferred look-ups: %w", err)
			}
			deferred++
		}
		c.Done++
		switch r.Verdict {
		case result.Malicious:
			c.Malicious++
		case result.Suspicious:
			c.Suspicious++
		case result.Benign:
			c.Benign++
		default:
			c.Unknown++
		}
	}
	if _, err := tx.ExecContext(ctx,
		q.dialect.Rebind(`UPDATE jobs SET done = done + ?, malicious = malicious + ?, suspicious = suspicious + ?, benign = benign + ?, unknown = unknown + ?, iocs = iocs + ? WHERE id = ?`),
		c.Done, c.Malicious, c.Suspicious, c.Benign, c.Unknown, pivots, id); err != nil {
		return nil, fmt.Errorf("jobs: store results: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("jobs: store results: %w", err)
	}
	if deferred > 0 {
		q.wakeBacklog()
	}
	return fresh, nil
}
