package store

// The store owns every table of its file: its own (schema), the job
// queue's (River's, through rivermigrate, and iocane's job tables) and the
// write-back record. Open applies them all, and the packages that use them
// (internal/jobs, internal/integrations) receive pools from the store
// (QueuePools, OpenWriter) and migrate nothing, so that a second backend
// changes this package only.

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/iocane/iocane/internal/dbx"
)

// jobsSchema is iocane's own part of the job queue's tables, applied in order; the
// jobs_schema table records how many ran (PRAGMA user_version belongs to
// internal/store, which shares the file).
var jobsSchema = []string{
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
	// The backlog of deferred look-ups (internal/jobs, backlog.go): one
	// row per job, provider and IOC, due at due_at (Unix ms); priority 0
	// for alerts, 1 for bulk.
	`CREATE TABLE deferred_lookups (
		job_id    TEXT NOT NULL,
		provider  TEXT NOT NULL,
		type      TEXT NOT NULL,
		value     TEXT NOT NULL,
		priority  INTEGER NOT NULL,
		due_at    INTEGER NOT NULL,
		queued_at INTEGER NOT NULL,
		PRIMARY KEY (job_id, provider, type, value)
	) WITHOUT ROWID;
	CREATE INDEX deferred_lookups_due ON deferred_lookups (due_at, priority);
	CREATE INDEX deferred_lookups_ioc ON deferred_lookups (provider, type, value);`,
	// A large job input is stored gzip-compressed (internal/jobs, input.go).
	`ALTER TABLE jobs ADD COLUMN input_encoding TEXT NOT NULL DEFAULT '';`,
	// The console lists jobs newest first, and sorts and filters a job's
	// results by verdict from the index alone, never reading the results
	// of rows off the page (internal/jobs, list.go).
	`CREATE INDEX jobs_created ON jobs (created_at);
	CREATE INDEX job_results_verdict ON job_results (job_id, verdict);`,
}

// migrateJobs applies River's migrations (rivermigrate) and then the job
// tables of jobsSchema.
func migrateJobs(ctx context.Context, db *sql.DB) error {
	m, err := rivermigrate.New(riversqlite.New(db), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("jobs schema: river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs schema: river migrations: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs schema: migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS jobs_schema (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("jobs schema: migrate: %w", err)
	}
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM jobs_schema`).Scan(&v); err != nil {
		return fmt.Errorf("jobs schema: migrate: %w", err)
	}
	if v > len(jobsSchema) {
		return fmt.Errorf("jobs schema: schema version %d is newer than this iocane knows (%d): upgrade iocane", v, len(jobsSchema))
	}
	for i := v; i < len(jobsSchema); i++ {
		if _, err := tx.ExecContext(ctx, jobsSchema[i]); err != nil {
			return fmt.Errorf("jobs schema: migration %d: %w", i+1, err)
		}
	}
	if v < len(jobsSchema) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM jobs_schema`); err != nil {
			return fmt.Errorf("jobs schema: migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs_schema (version) VALUES (?)`, len(jobsSchema)); err != nil {
			return fmt.Errorf("jobs schema: migrate: %w", err)
		}
	}
	return tx.Commit()
}

// integrationsSchema is the write-back record (internal/integrations):
// one outcome per job and sink, and the steps of each delivery that
// landed. It is created if missing; it has had no change since.
const integrationsSchema = `
CREATE TABLE IF NOT EXISTS integration_outcomes (
	job_id       TEXT NOT NULL,
	sink         TEXT NOT NULL,
	kind         TEXT NOT NULL,
	alert_system TEXT NOT NULL DEFAULT '',
	alert_id     TEXT NOT NULL DEFAULT '',
	state        TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	error        TEXT NOT NULL DEFAULT '',
	received_at  INTEGER NOT NULL DEFAULT 0,
	started_at   INTEGER NOT NULL,
	finished_at  INTEGER,
	PRIMARY KEY (job_id, sink)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS integration_outcomes_finished ON integration_outcomes (finished_at);
CREATE INDEX IF NOT EXISTS integration_outcomes_state ON integration_outcomes (state);
CREATE TABLE IF NOT EXISTS integration_steps (
	job_id  TEXT NOT NULL,
	sink    TEXT NOT NULL,
	step    TEXT NOT NULL,
	value   TEXT NOT NULL DEFAULT '',
	done_at INTEGER NOT NULL,
	PRIMARY KEY (job_id, sink, step)
) WITHOUT ROWID;`

// QueuePools opens the job queue's pools on the store's file: the writer
// (one connection, as River's SQLite driver requires; BEGIN IMMEDIATE so a
// transaction that reads then writes never fails with SQLITE_BUSY_SNAPSHOT
// against the store's own connection; synchronous FULL, so an accepted job
// is on disk before Submit returns) and a read-only pool, so a slow client
// streaming results never holds the writer. On PostgreSQL both are new
// pgx stdlib pools on the store's database. The caller closes both.
func (db *DB) QueuePools() (w, r *sql.DB, err error) {
	if db.dialect == dbx.Postgres {
		return db.openPool(queueWriterConns), db.openPool(queueReaderConns), nil
	}
	base := "file:" + db.path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)"
	if w, err = sql.Open("sqlite", base+"&_pragma=synchronous(FULL)&_txlock=immediate"); err != nil {
		return nil, nil, fmt.Errorf("store: open %s: %w", db.path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if r, err = sql.Open("sqlite", base+"&_pragma=query_only(1)"); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("store: open %s: %w", db.path, err)
	}
	r.SetMaxOpenConns(4)
	return w, r, nil
}

// OpenWriter opens a one-connection pool on the store's file whose
// transactions take the write lock at BEGIN, for the write-back record; on
// PostgreSQL a new pgx stdlib pool on the store's database. The caller
// closes it.
func (db *DB) OpenWriter() (*sql.DB, error) {
	if db.dialect == dbx.Postgres {
		return db.openPool(writerConns), nil
	}
	w, err := sql.Open("sqlite", "file:"+db.path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", db.path, err)
	}
	w.SetMaxOpenConns(1)
	return w, nil
}

// OpenReader opens a read-only pool on the store's file (one that creates
// nothing), or on PostgreSQL a new pgx stdlib pool on the store's
// database: what `iocane report` reads the write-back record through. The
// caller closes it.
func (db *DB) OpenReader() (*sql.DB, error) {
	if db.dialect == dbx.Postgres {
		return db.openPool(writerConns), nil
	}
	r, err := sql.Open("sqlite", "file:"+db.path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", db.path, err)
	}
	return r, nil
}
