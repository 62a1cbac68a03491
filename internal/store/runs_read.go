package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/runstats"
)

// Run is one stored run record, as RecordRun wrote it.
type Run struct {
	ID int64
	runstats.Run
}

// Runs returns the runs that started in [from, to), oldest first, with
// their IOC and provider cells, for the weekly report.
func (db *DB) Runs(ctx context.Context, from, to time.Time) ([]Run, error) {
	f, t := from.UnixMilli(), to.UnixMilli()
	rows, err := db.sql.QueryContext(ctx,
		db.q(`SELECT id, kind, input, started_at, coalesce(finished_at, started_at) FROM runs
		 WHERE started_at >= ? AND started_at < ? ORDER BY started_at, id`), f, t)
	if err != nil {
		return nil, fmt.Errorf("store: runs: %w", err)
	}
	var runs []Run
	index := map[int64]int{}
	for rows.Next() {
		var (
			r          Run
			start, fin int64
		)
		if err := rows.Scan(&r.ID, &r.Kind, &r.Input, &start, &fin); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: runs: %w", err)
		}
		r.StartedAt, r.FinishedAt = time.UnixMilli(start).UTC(), time.UnixMilli(fin).UTC()
		r.IOCs = map[string]map[result.Verdict]int64{}
		index[r.ID] = len(runs)
		runs = append(runs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: runs: %w", err)
	}
	if len(runs) == 0 {
		return nil, nil
	}
	inRange := `run_id IN (SELECT id FROM runs WHERE started_at >= ? AND started_at < ?)`

	rows, err = db.sql.QueryContext(ctx, db.q(`SELECT run_id, type, verdict, count FROM run_iocs WHERE `+inRange), f, t)
	if err != nil {
		return nil, fmt.Errorf("store: run iocs: %w", err)
	}
	for rows.Next() {
		var (
			id     int64
			typ, v string
			n      int64
		)
		if err := rows.Scan(&id, &typ, &v, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: run iocs: %w", err)
		}
		i, ok := index[id]
		if !ok {
			continue // a run recorded between the two queries
		}
		m := runs[i].IOCs
		if m[typ] == nil {
			m[typ] = map[result.Verdict]int64{}
		}
		m[typ][result.Verdict(v)] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: run iocs: %w", err)
	}

	rows, err = db.sql.QueryContext(ctx,
		db.q(`SELECT run_id, provider, requests, http_429, retries FROM run_http WHERE `+inRange+` ORDER BY run_id, provider`), f, t)
	if err != nil {
		return nil, fmt.Errorf("store: run http: %w", err)
	}
	for rows.Next() {
		var (
			id int64
			h  runstats.HTTP
		)
		if err := rows.Scan(&id, &h.Provider, &h.Requests, &h.HTTP429, &h.Retries); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: run http: %w", err)
		}
		if i, ok := index[id]; ok {
			runs[i].HTTP = append(runs[i].HTTP, h)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: run http: %w", err)
	}

	rows, err = db.sql.QueryContext(ctx,
		db.q(`SELECT run_id, provider, status, cached, count, latency_ms, lat_hist FROM run_sources WHERE `+inRange+
			` ORDER BY run_id, provider, status, cached`), f, t)
	if err != nil {
		return nil, fmt.Errorf("store: run sources: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   int64
			s    runstats.Source
			hist string
		)
		if err := rows.Scan(&id, &s.Provider, &s.Status, &s.Cached, &s.Count, &s.LatencyMS, &hist); err != nil {
			return nil, fmt.Errorf("store: run sources: %w", err)
		}
		if hist != "" && hist != "null" {
			if err := json.Unmarshal([]byte(hist), &s.Hist); err != nil {
				return nil, fmt.Errorf("store: run %d: corrupt latency histogram: %w", id, err)
			}
		}
		if i, ok := index[id]; ok {
			runs[i].Sources = append(runs[i].Sources, s)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: run sources: %w", err)
	}
	return runs, nil
}

// Counts returns every quota counter whose key starts with prefix ("" for
// all), e.g. "virustotal:d:2026-11-26" → 412, for the weekly report.
func (q *QuotaStore) Counts(ctx context.Context, prefix string) (map[string]int64, error) {
	rows, err := q.db.sql.QueryContext(ctx, q.db.q(`SELECT key, count FROM quota WHERE substr(key, 1, ?) = ?`), len(prefix), prefix)
	if err != nil {
		return nil, fmt.Errorf("store: quota counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			k string
			n int64
		)
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("store: quota counts: %w", err)
		}
		if strings.HasPrefix(k, prefix) {
			out[k] = n
		}
	}
	return out, rows.Err()
}

// DeferredByProvider counts the look-ups waiting in the job queue's backlog
// of deferred look-ups, by provider (the deferred_lookups table, which the
// store migrates for the queue).
func (db *DB) DeferredByProvider(ctx context.Context) (map[string]int, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT provider, count(*) FROM deferred_lookups GROUP BY provider`))
	if err != nil {
		return nil, fmt.Errorf("store: deferred look-ups: %w", err)
	}
	out := map[string]int{}
	for rows.Next() {
		var p string
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: deferred look-ups: %w", err)
		}
		out[p] = n
	}
	return out, closeRows(rows)
}
