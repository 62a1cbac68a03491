package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/iocane/iocane/internal/dbx"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/runstats"
)

// RecordRun stores one run's statistics in a single transaction.
func (db *DB) RecordRun(ctx context.Context, r runstats.Run) (int64, error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: record run: %w", err)
	}
	defer tx.Rollback()
	var total int64
	for _, byVerdict := range r.IOCs {
		for _, n := range byVerdict {
			total += n
		}
	}
	id, err := db.insertRun(ctx, tx, r, total)
	if err != nil {
		return 0, fmt.Errorf("store: record run: %w", err)
	}
	for typ, byVerdict := range r.IOCs {
		for v, n := range byVerdict {
			if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO run_iocs (run_id, type, verdict, count) VALUES (?, ?, ?, ?)`), id, typ, string(v), n); err != nil {
				return 0, fmt.Errorf("store: record run: %w", err)
			}
		}
	}
	for _, s := range r.Sources {
		hist, _ := json.Marshal(s.Hist)
		if _, err := tx.ExecContext(ctx,
			db.q(`INSERT INTO run_sources (run_id, provider, status, cached, count, latency_ms, lat_hist) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			id, s.Provider, s.Status, s.Cached, s.Count, s.LatencyMS, string(hist)); err != nil {
			return 0, fmt.Errorf("store: record run: %w", err)
		}
	}
	for _, h := range r.HTTP {
		if _, err := tx.ExecContext(ctx,
			db.q(`INSERT INTO run_http (run_id, provider, requests, http_429, retries) VALUES (?, ?, ?, ?, ?)`),
			id, h.Provider, h.Requests, h.HTTP429, h.Retries); err != nil {
			return 0, fmt.Errorf("store: record run: %w", err)
		}
	}
	return id, tx.Commit()
}

// insertRun inserts the run's row and returns its id: SQLite's rowid, or
// on PostgreSQL the identity RETURNING gives (pgx has no LastInsertId).
func (db *DB) insertRun(ctx context.Context, tx *sql.Tx, r runstats.Run, total int64) (int64, error) {
	const q = `INSERT INTO runs (kind, input, started_at, finished_at, iocs) VALUES (?, ?, ?, ?, ?)`
	args := []any{r.Kind, r.Input, r.StartedAt.UnixMilli(), r.FinishedAt.UnixMilli(), total}
	if db.dialect == dbx.Postgres {
		var id int64
		err := tx.QueryRowContext(ctx, dbx.Postgres.Rebind(q+` RETURNING id`), args...).Scan(&id)
		return id, err
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	id, _ := res.LastInsertId()
	return id, nil
}

// PutResult stores r as the latest result for its IOC.
func (db *DB) PutResult(ctx context.Context, r result.Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store: put result: %w", err)
	}
	_, err = db.sql.ExecContext(ctx,
		db.q(`INSERT INTO results (type, value, result, enriched_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (type, value) DO UPDATE SET result = excluded.result, enriched_at = excluded.enriched_at`),
		string(r.IOC.Type), r.IOC.Value, b, r.EnrichedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: put result: %w", err)
	}
	return nil
}

// LatestResult returns the stored result for an IOC, or ErrNotFound.
func (db *DB) LatestResult(ctx context.Context, typ, value string) (result.Result, error) {
	var b []byte
	err := db.sql.QueryRowContext(ctx, db.q(`SELECT result FROM results WHERE type = ? AND value = ?`), typ, value).Scan(&b)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return result.Result{}, ErrNotFound
		}
		return result.Result{}, fmt.Errorf("store: latest result: %w", err)
	}
	var r result.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return result.Result{}, fmt.Errorf("store: corrupt result for %s:%s: %w", typ, value, err)
	}
	return r, nil
}
