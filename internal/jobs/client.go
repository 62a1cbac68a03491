package jobs

// River on either backend. River's client is generic in its transaction
// type (*sql.Tx on SQLite, pgx.Tx on PostgreSQL); riverClient hides which,
// and submitTx is the one transaction in which Submit stores a group of
// jobs rows with their River jobs.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/iocane/iocane/internal/dbx"
)

// riverClient is what the queue asks of River.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	JobCancel(ctx context.Context, id int64) (*rivertype.JobRow, error)
	// begin opens the transaction of a group of submissions.
	begin(ctx context.Context) (submitTx, error)
}

// submitTx stores jobs rows and their River jobs atomically.
type submitTx interface {
	// findKey returns the job with idempotency key k, or ErrNotFound.
	findKey(ctx context.Context, k string) (Job, error)
	// insertRiver inserts the River jobs.
	insertRiver(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	// insertJob inserts a jobs row (insertJobSQL's arguments).
	insertJob(ctx context.Context, args ...any) error
	commit(ctx context.Context) error
	// rollback ends the transaction unless it was committed.
	rollback(ctx context.Context)
}

const (
	findKeySQL   = selectJob + ` WHERE idempotency_key = ?`
	insertJobSQL = `INSERT INTO jobs (id, idempotency_key, river_id, source, alert, spec, input, input_encoding, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// sqliteClient is River on the store's SQLite writer, with the submit
// statements prepared once on its one connection.
type sqliteClient struct {
	*river.Client[*sql.Tx]
	db                 *sql.DB
	findKey, insertJob *sql.Stmt
}

func newSQLiteClient(ctx context.Context, db *sql.DB, cfg *river.Config) (*sqliteClient, error) {
	client, err := river.NewClient(riversqlite.New(db), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: river: %w", err)
	}
	c := &sqliteClient{Client: client, db: db}
	if c.findKey, err = db.PrepareContext(ctx, findKeySQL); err == nil {
		c.insertJob, err = db.PrepareContext(ctx, insertJobSQL)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: prepare: %w", err)
	}
	return c, nil
}

func (c *sqliteClient) begin(ctx context.Context) (submitTx, error) {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &sqliteTx{c: c.Client, tx: tx, findKeyStmt: tx.StmtContext(ctx, c.findKey), insertStmt: tx.StmtContext(ctx, c.insertJob)}, nil
}

type sqliteTx struct {
	c                       *river.Client[*sql.Tx]
	tx                      *sql.Tx
	findKeyStmt, insertStmt *sql.Stmt
}

func (t *sqliteTx) findKey(ctx context.Context, k string) (Job, error) {
	return scanJob(t.findKeyStmt.QueryRowContext(ctx, k))
}

func (t *sqliteTx) insertRiver(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	return t.c.InsertManyTx(ctx, t.tx, params)
}

func (t *sqliteTx) insertJob(ctx context.Context, args ...any) error {
	_, err := t.insertStmt.ExecContext(ctx, args...)
	return err
}

func (t *sqliteTx) commit(context.Context) error { return t.tx.Commit() }

func (t *sqliteTx) rollback(context.Context) {
	t.findKeyStmt.Close()
	t.insertStmt.Close()
	_ = t.tx.Rollback()
}

// postgresClient is River on PostgreSQL (riverpgxv5), on the caller's pgx
// pool; Submit's transactions are pgx transactions on that pool, so the
// jobs row and its River job commit together.
type postgresClient struct {
	*river.Client[pgx.Tx]
	pool *pgxpool.Pool
}

func newPostgresClient(pool *pgxpool.Pool, cfg *river.Config) (*postgresClient, error) {
	client, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: river: %w", err)
	}
	return &postgresClient{Client: client, pool: pool}, nil
}

func (c *postgresClient) begin(ctx context.Context) (submitTx, error) {
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &postgresTx{c: c.Client, tx: tx}, nil
}

type postgresTx struct {
	c  *river.Client[pgx.Tx]
	tx pgx.Tx
}

var (
	pgFindKeySQL   = dbx.Postgres.Rebind(findKeySQL)
	pgInsertJobSQL = dbx.Postgres.Rebind(insertJobSQL)
)

func (t *postgresTx) findKey(ctx context.Context, k string) (Job, error) {
	return scanJob(t.tx.QueryRow(ctx, pgFindKeySQL, k))
}

func (t *postgresTx) insertRiver(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	return t.c.InsertManyTx(ctx, t.tx, params)
}

func (t *postgresTx) insertJob(ctx context.Context, args ...any) error {
	_, err := t.tx.Exec(ctx, pgInsertJobSQL, args...)
	return err
}

func (t *postgresTx) commit(ctx context.Context) error { return t.tx.Commit(ctx) }

func (t *postgresTx) rollback(ctx context.Context) { _ = t.tx.Rollback(context.WithoutCancel(ctx)) }

// conflict reports whether err is PostgreSQL telling two writers apart (a
// unique violation, a deadlock or a serialization failure): the
// transaction is worth running again, as another writer got there first.
func conflict(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "23505", "40P01", "40001":
		return true
	}
	return false
}
