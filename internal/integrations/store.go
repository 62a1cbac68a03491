package integrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/iocane/iocane/internal/dbx"
)

// Store keeps delivery outcomes and per-step progress in the store's
// database, SQLite or PostgreSQL. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect dbx.Dialect
	now     func() time.Time
}

// NewStore keeps outcomes in db, a pool from store.DB.OpenWriter (on
// SQLite one connection on the store's file; on PostgreSQL a pgx stdlib
// pool), whose tables the store created; the dialect follows db's driver.
// The caller closes db.
func NewStore(db *sql.DB) *Store { return &Store{db: db, dialect: dialectOf(db), now: time.Now} }

// dialectOf tells a pgx stdlib pool (PostgreSQL) from a SQLite one.
func dialectOf(db *sql.DB) dbx.Dialect {
	if _, ok := db.Driver().(*stdlib.Driver); ok {
		return dbx.Postgres
	}
	return dbx.SQLite
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// begin records o as pending, unless a row for its job and sink exists:
// then it returns that row and started is false (the delivery was already
// made, or is being made, and is not started again).
func (s *Store) begin(ctx context.Context, o Outcome) (prev Outcome, started bool, err error) {
	res, err := s.db.ExecContext(ctx,
		s.dialect.Rebind(`INSERT INTO integration_outcomes (job_id, sink, kind, alert_system, alert_id, state, received_at, started_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, sink) DO NOTHING`),
		o.JobID, o.Sink, o.Kind, o.AlertSystem, o.AlertID, StatePending, ms(o.Received), ms(o.StartedAt))
	if err != nil {
		return Outcome{}, false, fmt.Errorf("integrations: record outcome: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return o, true, nil
	}
	prev, err = s.Outcome(ctx, o.JobID, o.Sink)
	return prev, false, err
}

// attempt records the attempts made so far and the last error.
func (s *Store) attempt(ctx context.Context, jobID, sink string, attempts int, errText string) error {
	_, err := s.db.ExecContext(ctx, s.dialect.Rebind(`UPDATE integration_outcomes SET attempts = ?, error = ? WHERE job_id = ? AND sink = ?`),
		attempts, errText, jobID, sink)
	if err != nil {
		return fmt.Errorf("integrations: record attempt: %w", err)
	}
	return nil
}

// finish records the end of a delivery.
func (s *Store) finish(ctx context.Context, o Outcome) error {
	_, err := s.db.ExecContext(ctx,
		s.dialect.Rebind(`UPDATE integration_outcomes SET state = ?, attempts = ?, error = ?, finished_at = ? WHERE job_id = ? AND sink = ?`),
		o.State, o.Attempts, o.Error, ms(o.Finished), o.JobID, o.Sink)
	if err != nil {
		return fmt.Errorf("integrations: record outcome: %w", err)
	}
	return nil
}

const selectOutcome = `SELECT job_id, sink, kind, alert_system, alert_id, state, attempts, error, received_at, started_at, finished_at FROM integration_outcomes`

func scanOutcome(row interface{ Scan(...any) error }) (Outcome, error) {
	var (
		o                 Outcome
		received, started int64
		finished          sql.NullInt64
	)
	if err := row.Scan(&o.JobID, &o.Sink, &o.Kind, &o.AlertSystem, &o.AlertID, &o.State, &o.Attempts, &o.Error,
		&received, &started, &finished); err != nil {
		return Outcome{}, err
	}
	o.OK = o.State == StateOK || o.State == StateHeld
	o.Retries = max(0, o.Attempts-1)
	o.Received, o.StartedAt = fromMS(received), fromMS(started)
	if finished.Valid {
		o.Finished = fromMS(finished.Int64)
	}
	return o, nil
}

// ErrNoOutcome is returned by Outcome for a job and sink never delivered.
var ErrNoOutcome = errors.New("integrations: no such outcome")

// Outcome returns the outcome of job's delivery to sink.
func (s *Store) Outcome(ctx context.Context, jobID, sink string) (Outcome, error) {
	o, err := scanOutcome(s.db.QueryRowContext(ctx, s.dialect.Rebind(selectOutcome+` WHERE job_id = ? AND sink = ?`), jobID, sink))
	if errors.Is(err, sql.ErrNoRows) {
		return Outcome{}, ErrNoOutcome
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("integrations: outcome: %w", err)
	}
	return o, nil
}

// JobOutcomes returns every outcome of a job, by sink.
func (s *Store) JobOutcomes(ctx context.Context, jobID string) ([]Outcome, error) {
	return s.query(ctx, selectOutcome+` WHERE job_id = ? ORDER BY sink`, jobID)
}

// Outcomes returns the outcomes finished in [from, to), oldest first: what
// `iocane report` reads for write-back and notification figures.
func (s *Store) Outcomes(ctx context.Context, from, to time.Time) ([]Outcome, error) {
	return s.query(ctx, selectOutcome+` WHERE finished_at >= ? AND finished_at < ? ORDER BY finished_at, job_id, sink`,
		from.UnixMilli(), to.UnixMilli())
}

// Pending returns the deliveries not finished (left by a process that
// died, or in flight).
func (s *Store) Pending(ctx context.Context) ([]Outcome, error) {
	return s.query(ctx, selectOutcome+` WHERE state = ? ORDER BY started_at`, StatePending)
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]Outcome, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("integrations: outcomes: %w", err)
	}
	defer rows.Close()
	var out []Outcome
	for rows.Next() {
		o, err := scanOutcome(rows)
		if err != nil {
			return nil, fmt.Errorf("integrations: outcomes: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("integrations: outcomes: %w", err)
	}
	return out, nil
}

// HasOutcomes reports whether the database at db (SQLite or PostgreSQL)
// has recorded any delivery: the store creates the outcomes table in every
// database, so an empty one means no server ever delivered from it.
func HasOutcomes(ctx context.Context, db *sql.DB) (bool, error) {
	var n int
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'integration_outcomes'`
	if dialectOf(db) == dbx.Postgres {
		q = `SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'integration_outcomes' AND schemaname = ANY (current_schemas(false))`
	}
	err := db.QueryRowContext(ctx, q).Scan(&n)
	if err != nil || n == 0 {
		return false, err
	}
	q = `SELECT EXISTS (SELECT 1 FROM integration_outcomes)`
	if dialectOf(db) == dbx.Postgres {
		q = `SELECT CASE WHEN EXISTS (SELECT 1 FROM integration_outcomes) THEN 1 ELSE 0 END` // EXISTS is a boolean there
	}
	err = db.QueryRowContext(ctx, q).Scan(&n)
	return n > 0, err
}

// Progress returns the Progress of job's delivery to sink.
func (s *Store) Progress(jobID, sink string) Progress { return storeProgress{s, jobID, sink} }

type storeProgress struct {
	s          *Store
	job, sinkN string
}

func (p storeProgress) Done(ctx context.Context, step string) (string, bool, error) {
	var v string
	err := p.s.db.QueryRowContext(context.WithoutCancel(ctx),
		p.s.dialect.Rebind(`SELECT value FROM integration_steps WHERE job_id = ? AND sink = ? AND step = ?`), p.job, p.sinkN, step).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

// Mark is written even when ctx has ended: the step landed, and forgetting
// it would repeat it.
func (p storeProgress) Mark(ctx context.Context, step, value string) error {
	_, err := p.s.db.ExecContext(context.WithoutCancel(ctx),
		p.s.dialect.Rebind(`INSERT INTO integration_steps (job_id, sink, step, value, done_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (job_id, sink, step) DO UPDATE SET value = excluded.value, done_at = excluded.done_at`),
		p.job, p.sinkN, step, value, p.s.now().UnixMilli())
	return err
}

// Steps returns the steps marked for job's delivery to sink, step → value.
func (s *Store) Steps(ctx context.Context, jobID, sink string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.Rebind(`SELECT step, value FROM integration_steps WHERE job_id = ? AND sink = ?`), jobID, sink)
	if err != nil {
		return nil, fmt.Errorf("integrations: steps: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("integrations: steps: %w", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}
