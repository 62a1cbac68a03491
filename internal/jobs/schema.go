package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// schema is iocane's own part of the job tables, applied in order; the
// jobs_schema table records how many ran (PRAGMA user_version belongs to
// internal/store, which shares the file).
var schema = []string{
	`CREATE TABLE jobs (
		id              TEXT PRIMARY KEY,
		idempotency_key TEXT UNIQUE,
		river_id        INTEGER,
		source          TEXT NOT NULL,
		alert           TEXT,
		spec            TEXT NOT NULL,
		input           BLOB NOT NULL,
		state           TEXT NOT NULL,
		iocs            INTEGER NOT NULL DEFAULT 0,
		done            INTEGER NOT NULL DEFAULT 0,
		malicious       INTEGER NOT NULL DEFAULT 0,
		suspicious      INTEGER NOT NULL DEFAULT 0,
		benign          INTEGER NOT NULL DEFAULT 0,
		unknown         INTEGER NOT NULL DEFAULT 0,
		attempts        INTEGER NOT NULL DEFAULT 0,
		error           TEXT NOT NULL DEFAULT '',
		created_at      INTEGER NOT NULL,
		started_at      INTEGER,
		finished_at     INTEGER
	) WITHOUT ROWID;
	CREATE INDEX jobs_state ON jobs (state);
	CREATE TABLE job_results (
		job_id  TEXT NOT NULL,
		type    TEXT NOT NULL,
		value   TEXT NOT NULL,
		verdict TEXT NOT NULL,
		result  BLOB NOT NULL,
		PRIMARY KEY (job_id, type, value)
	) WITHOUT ROWID;`,
}

// migrate applies River's migrations (rivermigrate) and then iocane's own.
func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	m, err := rivermigrate.New(riversqlite.New(db), &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("jobs: river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: river migrations: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS jobs_schema (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM jobs_schema`).Scan(&v); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	if v > len(schema) {
		return fmt.Errorf("jobs: schema version %d is newer than this iocane knows (%d): upgrade iocane", v, len(schema))
	}
	for i := v; i < len(schema); i++ {
		if _, err := tx.ExecContext(ctx, schema[i]); err != nil {
			return fmt.Errorf("jobs: migration %d: %w", i+1, err)
		}
	}
	if v < len(schema) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM jobs_schema`); err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs_schema (version) VALUES (?)`, len(schema)); err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
	}
	return tx.Commit()
}
