package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/iocane/iocane/internal/dbx/pgtest"
)

// backends are the store's backends: the conformance tests run against
// each, as subtests of these names.
var backends = []string{"sqlite", "postgres"}

// openTestDB returns a function that opens a handle on one fresh store of
// backend, the same store at each call (a second call is a restart, or a
// second replica): a file in a temporary directory, or a database of its
// own on the machine's PostgreSQL (pgtest; a missing server skips, and
// fails in CI). Each handle is closed when the test ends.
func openTestDB(t *testing.T, backend string) func() *DB {
	t.Helper()
	switch backend {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "iocane.db")
		return func() *DB { t.Helper(); return open(t, path) }
	case "postgres":
		u := pgtest.NewDatabase(t)
		return func() *DB { t.Helper(); return openURL(t, u) }
	}
	t.Fatalf("no backend %q", backend)
	return nil
}

// eachBackend runs fn as a subtest per backend, with a fresh store.
func eachBackend(t *testing.T, fn func(t *testing.T, openDB func() *DB)) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { fn(t, openTestDB(t, b)) })
	}
}

func openURL(t *testing.T, u string) *DB {
	t.Helper()
	db, err := OpenURL(context.Background(), u, URLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
