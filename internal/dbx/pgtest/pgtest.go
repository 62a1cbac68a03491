// Package pgtest gives tests a PostgreSQL database of their own on the
// machine's server: IOCANE_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) names the
// server, and each call creates a fresh database, dropped when the test
// ends. Without a server the test skips, or fails when CI=true (.ci/run
// starts PostgreSQL, so a missing one is a broken machine, not a reason to
// pass).
package pgtest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/dbx"
)

// DefaultURL is the server the tests use unless IOCANE_TEST_DATABASE_URL
// says otherwise.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns the test server's URL.
func ServerURL() string {
	if u := os.Getenv("IOCANE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewDatabase creates an empty database for t and returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, err := dbx.CreateDatabase(ctx, ServerURL(), "iocane_test_")
	switch {
	case errors.Is(err, dbx.ErrUnreachable) && os.Getenv("CI") == "true":
		t.Fatalf("%v (.ci/run starts it)", err)
	case errors.Is(err, dbx.ErrUnreachable):
		t.Skip(err)
	case err != nil:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		dbx.DropDatabase(ctx, ServerURL(), u)
	})
	return u
}
