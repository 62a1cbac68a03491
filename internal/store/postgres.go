package store

// PostgreSQL: several `iocane serve` replicas share one database. The DB
// type is the same; each query is written once with ? placeholders and
// rebound for the dialect (db.q), and the few statements whose SQLite
// syntax PostgreSQL lacks have a variant beside them (db.pick). Migrations
// are versioned per component in iocane_schema and run under one advisory
// lock, so replicas starting at once apply each exactly once.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/iocane/iocane/internal/dbx"
)

// URLOptions configures OpenURL.
type URLOptions struct {
	// NoMigrate, when set, applies no migration: OpenURL only checks that
	// every schema is current and fails with ErrSchemaNotCurrent
	// otherwise (iocane serve --no-migrate, after iocane db migrate).
	// Default false: OpenURL migrates, as Open does for SQLite.
	NoMigrate bool
}

// ErrSchemaNotCurrent is returned by OpenURL with NoMigrate when the
// database's schema is behind this iocane's.
var ErrSchemaNotCurrent = errors.New("store: the database schema is not current: run iocane db migrate")

// The pools' sizes on PostgreSQL, per process: three replicas hold at
// most 3 × (storeConns + queueWriterConns + queueReaderConns +
// writerConns + the River pool's) connections, within PostgreSQL's
// default max_connections of 100.
const (
	storeConns       = 8
	queueWriterConns = 8
	queueReaderConns = 4
	writerConns      = 2
)

// migrateLockKey is the pg_advisory_lock key Migrate holds: "iocane" in
// ASCII, fixed so every iocane version takes the same lock.
const migrateLockKey int64 = 0x696f63616e65

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://) rather than a SQLite file.
func IsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql")
}

// OpenURL opens the store in the PostgreSQL database at rawURL and, unless
// o.NoMigrate, applies every migration (Migrate). Errors and Path name the
// database with its password redacted.
func OpenURL(ctx context.Context, rawURL string, o URLOptions) (*DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("store: the database URL does not parse") // url.Parse's error quotes the password
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("store: %s: not a postgres:// URL", u.Redacted())
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: %s: bad database URL", u.Redacted()) // pgconn's error may quote the URL
	}
	sdb := stdlib.OpenDB(*cfg.ConnConfig.Copy())
	sdb.SetMaxOpenConns(storeConns)
	sdb.SetMaxIdleConns(storeConns)
	db := &DB{sql: sdb, read: sdb, dialect: dbx.Postgres, pg: cfg, path: u.Redacted(), now: time.Now}
	fail := func(err error) (*DB, error) {
		sdb.Close()
		return nil, fmt.Errorf("store: %s: %w", db.path, err)
	}
	if err := sdb.PingContext(ctx); err != nil {
		return fail(err)
	}
	if o.NoMigrate {
		err = db.checkSchema(ctx)
	} else {
		err = db.migratePostgres(ctx)
	}
	if err != nil {
		return fail(err)
	}
	if db.recallStmt, err = db.read.PrepareContext(ctx, db.q(recallQuery)); err != nil {
		return fail(err)
	}
	return db, nil
}

// Dialect returns the store's backend.
func (db *DB) Dialect() dbx.Dialect { return db.dialect }

// Migrate applies every migration of the store's database: the store's
// tables, River's, the job queue's and the write-back record's. On SQLite
// Open already did; on PostgreSQL it runs under one advisory lock, held on
// one connection for the whole run, so that replicas starting at once take
// turns and the later ones find everything applied.
func (db *DB) Migrate(ctx context.Context) error {
	if db.dialect != dbx.Postgres {
		return db.migrateAll(ctx)
	}
	if err := db.migratePostgres(ctx); err != nil {
		return fmt.Errorf("store: %s: %w", db.path, err)
	}
	return nil
}

// component is one owner's versioned migrations in iocane_schema.
type component struct {
	name  string
	steps []string
}

// pgComponents are iocane's schemas on PostgreSQL; River's migrations run
// between store and jobs, as on SQLite.
var (
	pgStore        = component{"store", pgMigrations}
	pgJobs         = component{"jobs", JobsSchemaPostgres}
	pgIntegrations = component{"integrations", []string{pgIntegrationsSchema}}
)

const pgVersionTable = `CREATE TABLE IF NOT EXISTS iocane_schema (
	component  TEXT NOT NULL,
	version    INTEGER NOT NULL,
	applied_at BIGINT NOT NULL,
	PRIMARY KEY (component, version)
)`

func (db *DB) migratePostgres(ctx context.Context) error {
	pcfg := db.pg.Copy()
	pcfg.MaxConns, pcfg.MinConns = 3, 0
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer pool.Close() // closing the lock's connection releases the lock, whatever happened
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLockKey)
	if _, err := conn.Exec(ctx, pgVersionTable); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := applyComponent(ctx, conn.Conn(), pgStore); err != nil {
		return err
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("jobs schema: river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs schema: river migrations: %w", err)
	}
	if err := applyComponent(ctx, conn.Conn(), pgJobs); err != nil {
		return err
	}
	return applyComponent(ctx, conn.Conn(), pgIntegrations)
}

// applyComponent applies c's steps past the version recorded, each in a
// transaction with its row in iocane_schema.
func applyComponent(ctx context.Context, conn *pgx.Conn, c component) error {
	v, err := componentVersion(ctx, conn, c.name)
	if err != nil {
		return err
	}
	if v > len(c.steps) {
		return fmt.Errorf("%s schema version %d is newer than this iocane knows (%d): upgrade iocane", c.name, v, len(c.steps))
	}
	for i := v; i < len(c.steps); i++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, c.steps[i]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO iocane_schema (component, version, applied_at) VALUES ($1, $2, $3)`,
				c.name, i+1, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("%s schema: migration %d: %w", c.name, i+1, err)
		}
	}
	return nil
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func componentVersion(ctx context.Context, q queryRower, name string) (int, error) {
	var v int
	if err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM iocane_schema WHERE component = $1`, name).Scan(&v); err != nil {
		return 0, fmt.Errorf("%s schema: %w", name, err)
	}
	return v, nil
}

// checkSchema fails with ErrSchemaNotCurrent unless every component and
// River's migrations are applied up to this iocane's version.
func (db *DB) checkSchema(ctx context.Context) error {
	pcfg := db.pg.Copy()
	pcfg.MaxConns, pcfg.MinConns = 2, 0
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('iocane_schema') IS NOT NULL`).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("%w (the database has no iocane schema)", ErrSchemaNotCurrent)
	}
	for _, c := range []component{pgStore, pgJobs, pgIntegrations} {
		v, err := componentVersion(ctx, pool, c.name)
		if err != nil {
			return err
		}
		if v > len(c.steps) {
			return fmt.Errorf("%s schema version %d is newer than this iocane knows (%d): upgrade iocane", c.name, v, len(c.steps))
		}
		if v < len(c.steps) {
			return fmt.Errorf("%w (%s schema at version %d of %d)", ErrSchemaNotCurrent, c.name, v, len(c.steps))
		}
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs schema: river migrations: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("%w (River's migrations: %v)", ErrSchemaNotCurrent, res.Messages)
	}
	return nil
}

// pingPostgres checks that the database answers and the store's schema is
// current.
func (db *DB) pingPostgres(ctx context.Context) error {
	var v int
	err := db.sql.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM iocane_schema WHERE component = 'store'`).Scan(&v)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if v != len(pgMigrations) {
		return fmt.Errorf("store: schema version %d, want %d", v, len(pgMigrations))
	}
	return nil
}

// openPool opens a database/sql pool (pgx stdlib) of at most n
// connections on the store's database.
func (db *DB) openPool(n int) *sql.DB {
	p := stdlib.OpenDB(*db.pg.ConnConfig.Copy())
	p.SetMaxOpenConns(n)
	p.SetMaxIdleConns(n)
	return p
}

// RiverPool opens a pgx pool on the store's PostgreSQL database for River
// (riverpgxv5); its size is pgxpool's default unless the URL sets
// pool_max_conns. The caller closes it. It fails on SQLite, where River
// runs on QueuePools' writer.
func (db *DB) RiverPool(ctx context.Context) (*pgxpool.Pool, error) {
	if db.dialect != dbx.Postgres {
		return nil, errors.New("store: River's pgx pool needs PostgreSQL (the SQLite queue runs on QueuePools)")
	}
	p, err := pgxpool.NewWithConfig(ctx, db.pg.Copy())
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", db.path, err)
	}
	return p, nil
}
