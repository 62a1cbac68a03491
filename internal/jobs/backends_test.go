package jobs

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/iocane/iocane/internal/dbx"
	"github.com/iocane/iocane/internal/dbx/pgtest"
	"github.com/iocane/iocane/internal/store"
)

// backends runs test on each backend, as subtests "sqlite" and "postgres",
// with db naming a fresh database with the queue's tables: a SQLite file
// (which pools creates) or a PostgreSQL URL (migrated here).
func backends(t *testing.T, test func(t *testing.T, db string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { test(t, filepath.Join(t.TempDir(), "iocane.db")) })
	t.Run("postgres", func(t *testing.T) { test(t, pgDatabase(t)) })
}

// isPostgres reports whether db names a PostgreSQL database.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// pgDatabase returns the URL of a fresh PostgreSQL database with River's
// tables (rivermigrate, as the store migrates them) and iocane's
// (store.JobsSchemaPostgres).
func pgDatabase(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range store.JobsSchemaPostgres {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatalf("jobs schema: %v", err)
		}
	}
	return url
}

// pgPools opens the queue's pools on the PostgreSQL database at url, as
// iocane serve does: a pgx stdlib pool for the queue's statements and
// River's pgx pool; they close when the test ends (after the queue).
func pgPools(t testing.TB, url string) Options {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(); pool.Close() })
	return Options{Dialect: dbx.Postgres, DB: db, Pool: pool}
}

// openPools opens the queue's pools on db, a SQLite file or a PostgreSQL
// URL.
func openPools(t testing.TB, db string) Options {
	t.Helper()
	if isPostgres(db) {
		return pgPools(t, db)
	}
	return pools(t, db)
}
