package store

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/iocane/iocane/internal/dbx"
	"github.com/iocane/iocane/internal/dbx/pgtest"
)

// schemaRows counts iocane_schema's rows per component.
func schemaRows(t *testing.T, db *DB) map[string]int {
	t.Helper()
	rows, err := db.sql.QueryContext(context.Background(), `SELECT component, count(*) FROM iocane_schema GROUP BY component`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			t.Fatal(err)
		}
		out[c] = n
	}
	return out
}

func wantSchemaRows() map[string]int {
	return map[string]int{"store": len(pgMigrations), "jobs": len(JobsSchemaPostgres), "integrations": 1}
}

// Three replicas starting at once on a fresh database all open it, and
// each migration is applied exactly once (the advisory lock).
func TestOpenURLConcurrentReplicas(t *testing.T) {
	ctx := context.Background()
	for trial := range 3 {
		u := pgtest.NewDatabase(t)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
			dbs  []*DB
		)
		for range 3 {
			wg.Go(func() {
				db, err := OpenURL(ctx, u, URLOptions{})
				if err == nil {
					err = db.Ping(ctx)
				}
				mu.Lock()
				defer mu.Unlock()
				errs = append(errs, err)
				if db != nil {
					dbs = append(dbs, db)
				}
			})
		}
		wg.Wait()
		for _, db := range dbs {
			t.Cleanup(func() { db.Close() })
		}
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("trial %d: %v", trial+1, err)
		}
		if got := schemaRows(t, dbs[0]); !mapsEqual(got, wantSchemaRows()) {
			t.Errorf("trial %d: iocane_schema rows %v, want %v", trial+1, got, wantSchemaRows())
		}
		m, err := rivermigrate.New(riverpgxv5.New(nil), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		var river int
		if err := dbs[0].sql.QueryRowContext(ctx, `SELECT count(*) FROM river_migration`).Scan(&river); err != nil || river != len(m.AllVersions()) {
			t.Errorf("trial %d: river_migration rows %d (%v), want %d", trial+1, river, err, len(m.AllVersions()))
		}
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// With NoMigrate, an empty database is refused with a pointer to `iocane
// db migrate`; once migrated, it opens.
func TestOpenURLNoMigrate(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewDatabase(t)
	_, err := OpenURL(ctx, u, URLOptions{NoMigrate: true})
	if !errors.Is(err, ErrSchemaNotCurrent) || !strings.Contains(err.Error(), "run iocane db migrate") {
		t.Fatalf("empty database: %v", err)
	}
	db := openURL(t, u)
	if err := db.Migrate(ctx); err != nil { // a second run changes nothing
		t.Fatal(err)
	}
	if got := schemaRows(t, db); !mapsEqual(got, wantSchemaRows()) {
		t.Errorf("rows %v after a second Migrate", got)
	}
	db2, err := OpenURL(ctx, u, URLOptions{NoMigrate: true})
	if err != nil {
		t.Fatalf("migrated database: %v", err)
	}
	db2.Close()

	// A database one step behind is refused too.
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM iocane_schema WHERE component = 'jobs' AND version = $1`, len(JobsSchemaPostgres)); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenURL(ctx, u, URLOptions{NoMigrate: true}); !errors.Is(err, ErrSchemaNotCurrent) || !strings.Contains(err.Error(), "jobs schema") {
		t.Errorf("behind: %v", err)
	}
}

// A database migrated by a newer iocane is refused, as on SQLite.
func TestOpenURLRejectsNewerSchema(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewDatabase(t)
	db := openURL(t, u)
	if _, err := db.sql.ExecContext(ctx, `INSERT INTO iocane_schema (component, version, applied_at) VALUES ('store', 999, 0)`); err != nil {
		t.Fatal(err)
	}
	for _, o := range []URLOptions{{}, {NoMigrate: true}} {
		if _, err := OpenURL(ctx, u, o); err == nil || !strings.Contains(err.Error(), "upgrade iocane") {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// The password never shows: not in Path, not in an error.
func TestOpenURLRedactsPassword(t *testing.T) {
	ctx := context.Background()
	u, _ := url.Parse(pgtest.NewDatabase(t))
	u.User = url.UserPassword(u.User.Username(), "hunter2-secret")
	db := openURL(t, u.String()) // trust auth: the password is not checked
	if p := db.Path(); strings.Contains(p, "hunter2") || !strings.Contains(p, "xxxxx") {
		t.Errorf("Path() = %q", p)
	}
	if db.Dialect() != dbx.Postgres {
		t.Errorf("dialect %v", db.Dialect())
	}
	missing := *u
	missing.Path = "/iocane_no_such_database"
	bad := []string{missing.String(), "postgres://u:hunter2-secret@[::1", "postgres://u:hunter2-secret@127.0.0.1:5432/x?connect_timeout=nope"}
	for _, s := range bad {
		_, err := OpenURL(ctx, s, URLOptions{})
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("OpenURL(%q): %v", s, err)
		}
	}
}

// OpenURL creates every table the SQLite file holds, and the pools the
// queue, the write-back record, the report and River take work on it.
func TestOpenURLOwnsEverySchema(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t, "postgres")()
	for _, table := range []string{"cache", "quota", "runs", "run_iocs", "run_sources", "run_http", "results", "webhook_signatures",
		"notify_held", "ioc_history", "ioc_sightings", "ioc_seen", "analyst_verdicts", "analyst_verdicts_version", "feed_indicators",
		"feed_state", "feed_syncs", "river_job", "river_migration", "jobs", "job_results", "deferred_lookups",
		"integration_outcomes", "integration_steps"} {
		var ok bool
		if err := db.sql.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil || !ok {
			t.Errorf("table %s: %v, %v", table, ok, err)
		}
	}
	w, r, err := db.QueuePools()
	if err != nil {
		t.Fatal(err)
	}
	ow, err := db.OpenWriter()
	if err != nil {
		t.Fatal(err)
	}
	or, err := db.OpenReader()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []interface{ PingContext(context.Context) error }{w, r, ow, or} {
		if err := p.PingContext(ctx); err != nil {
			t.Error(err)
		}
	}
	w.Close()
	r.Close()
	ow.Close()
	or.Close()
	pool, err := db.RiverPool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Ping(ctx); err != nil {
		t.Error(err)
	}
	pool.Close()
	release, err := db.LockServe()
	if err != nil {
		t.Fatalf("LockServe on PostgreSQL: %v", err)
	}
	release()
	if _, err := open(t, t.TempDir()+"/x.db").RiverPool(ctx); err == nil {
		t.Error("RiverPool on SQLite")
	}
}
