// Package store is iocane's persistence: by default one SQLite file (pure
// Go, modernc.org/sqlite) holding the provider answer cache, quota counters
// (so a restart never resets a daily quota), run statistics for the weekly
// report, and the latest result per IOC; with a postgres:// URL (OpenURL)
// the same tables in one PostgreSQL database that several `iocane serve`
// replicas share (postgres.go).
//
// The file is opened in WAL mode with a busy timeout, so a CLI run and a
// server can share it. Writes go through one connection; SQLite serialises
// writers anyway, and one connection avoids SQLITE_BUSY storms under load.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/iocane/iocane/internal/dbx"
)

// DefaultPath returns the default store file: $XDG_DATA_HOME/iocane/iocane.db,
// or ~/.local/share/iocane/iocane.db.
func DefaultPath() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "iocane", "iocane.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("store: no home directory for the default database (use --db): %w", err)
	}
	return filepath.Join(home, ".local", "share", "iocane", "iocane.db"), nil
}

// DB is an open store.
type DB struct {
	sql *sql.DB
	// read is a read-only pool for the reads made before each enrichment
	// (Recall), so that they never queue behind the writer. On PostgreSQL
	// it is sql itself.
	read *sql.DB
	// dialect is the backend; pg is the PostgreSQL connection settings
	// (nil on SQLite), password included: never print it.
	dialect dbx.Dialect
	pg      *pgxpool.Config
	// recallStmt is Recall's point look-up, prepared once.
	recallStmt *sql.Stmt
	// verdicts holds the analyst verdicts in memory (history.go).
	verdicts   atomic.Pointer[verdictSnap]
	verdictsMu sync.Mutex
	// path is the SQLite file, or the PostgreSQL URL with its password
	// redacted.
	path string
	now  func() time.Time
}

// q rewrites a statement's ? placeholders for the store's dialect.
func (db *DB) q(query string) string { return db.dialect.Rebind(query) }

// pick returns sqlite on SQLite and postgres, rebound, on PostgreSQL: for
// the few statements whose SQLite syntax PostgreSQL lacks.
func (db *DB) pick(sqlite, postgres string) string {
	if db.dialect == dbx.Postgres {
		return dbx.Postgres.Rebind(postgres)
	}
	return sqlite
}

// recallQuery is Recall's point look-up, prepared once on the read pool.
const recallQuery = `SELECT first_seen, last_seen, last_verdict, sightings FROM ioc_seen WHERE type = ? AND value = ?`

// migrations are applied in order; PRAGMA user_version records how many ran.
var migrations = []string{
	`CREATE TABLE cache (
		provider   TEXT NOT NULL,
		type       TEXT NOT NULL,
		value      TEXT NOT NULL,
		status     TEXT NOT NULL,
		finding    BLOB NOT NULL,
		stored_at  INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,
		PRIMARY KEY (provider, type, value)
	) WITHOUT ROWID;
	CREATE INDEX cache_expires ON cache (expires_at);
	CREATE TABLE quota (
		key   TEXT PRIMARY KEY,
		count INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE runs (
		id          INTEGER PRIMARY KEY,
		kind        TEXT NOT NULL,
		input       TEXT NOT NULL,
		started_at  INTEGER NOT NULL,
		finished_at INTEGER,
		iocs        INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE run_iocs (
		run_id  INTEGER NOT NULL,
		type    TEXT NOT NULL,
		verdict TEXT NOT NULL,
		count   INTEGER NOT NULL,
		PRIMARY KEY (run_id, type, verdict)
	) WITHOUT ROWID;
	CREATE TABLE run_sources (
		run_id     INTEGER NOT NULL,
		provider   TEXT NOT NULL,
		status     TEXT NOT NULL,
		cached     INTEGER NOT NULL,
		count      INTEGER NOT NULL,
		latency_ms INTEGER NOT NULL,
		lat_hist   TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (run_id, provider, status, cached)
	) WITHOUT ROWID;
	CREATE TABLE results (
		type        TEXT NOT NULL,
		value       TEXT NOT NULL,
		result      BLOB NOT NULL,
		enriched_at INTEGER NOT NULL,
		PRIMARY KEY (type, value)
	) WITHOUT ROWID;`,
	// 2: what the HTTP layer saw per provider in a run (429s, retries).
	`CREATE TABLE run_http (
		run_id   INTEGER NOT NULL,
		provider TEXT NOT NULL,
		requests INTEGER NOT NULL,
		http_429 INTEGER NOT NULL,
		retries  INTEGER NOT NULL,
		PRIMARY KEY (run_id, provider)
	) WITHOUT ROWID;`,
	// 3: webhook signatures accepted, until they expire, so that a request
	// replayed after a restart is still refused.
	`CREATE TABLE webhook_signatures (
		sig        TEXT PRIMARY KEY,
		expires_at INTEGER NOT NULL
	) WITHOUT ROWID;`,
	// 4: alerts a notification channel holds for its next digest, so that
	// a restart, or a kill, loses none.
	`CREATE TABLE notify_held (
		channel TEXT NOT NULL,
		key     TEXT NOT NULL,
		entry   BLOB NOT NULL,
		UNIQUE (channel, key)
	);`,
	// 5: IOC memory (internal/history; history.go): every enrichment as a
	// compact row, every appearance in an alert, what was last known per
	// IOC (read before each enrichment), and analysts' verdicts.
	historySchema,
	// 6: the local intel store of threat feeds (internal/feeds; feeds.go).
	feedsSchema,
	// 7: each feed sync's counts, for the weekly report (feeds.go).
	feedSyncsSchema,
}

// Open opens (creating if needed) the store at path and applies migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)"
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(1)
	db := &DB{sql: sdb, path: path, now: time.Now}
	if err := db.migrateAll(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	if db.read, err = sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=query_only(1)"); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.read.SetMaxOpenConns(4)
	if db.recallStmt, err = db.read.PrepareContext(ctx, recallQuery); err != nil {
		db.read.Close()
		sdb.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return db, nil
}

// migrateAll applies the store's own schema, the job queue's and the
// write-back record's, holding an exclusive lock beside the file: two
// processes opening a fresh store at once take turns, and the second finds
// every migration applied.
func (db *DB) migrateAll(ctx context.Context) error {
	lock, err := lockFile(db.path+".migrate.lock", true)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer lock.Close()
	if err := db.migrate(ctx); err != nil {
		return err
	}
	if err := migrateJobs(ctx, db.sql); err != nil {
		return err
	}
	if _, err := db.sql.ExecContext(ctx, integrationsSchema); err != nil {
		return fmt.Errorf("write-back tables: %w", err)
	}
	return nil
}

// Path returns the file the store lives in, or on PostgreSQL its URL with
// the password redacted.
func (db *DB) Path() string { return db.path }

// Close closes the store.
func (db *DB) Close() error {
	if db.read == db.sql {
		return errors.Join(db.recallStmt.Close(), db.sql.Close())
	}
	return errors.Join(db.recallStmt.Close(), db.read.Close(), db.sql.Close())
}

// Ping checks that the store answers and its schema is current.
func (db *DB) Ping(ctx context.Context) error {
	if db.dialect == dbx.Postgres {
		return db.pingPostgres(ctx)
	}
	var v int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if v != len(migrations) {
		return fmt.Errorf("store: schema version %d, want %d", v, len(migrations))
	}
	return nil
}

func (db *DB) migrate(ctx context.Context) error {
	var v int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this iocane knows (%d): upgrade iocane", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		tx, err := db.sql.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("store: not found")
