package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/iocane/iocane/internal/dbx"
)

var errHeld = errors.New("lock held")

// ServeHeldError is returned by LockServe when another process serves from
// the store.
type ServeHeldError struct {
	// PID is the process that holds it, 0 when unknown.
	PID int
}

func (e *ServeHeldError) Error() string {
	who := "another iocane serve holds this store"
	if e.PID > 0 {
		who += " (pid " + strconv.Itoa(e.PID) + ")"
	}
	return who + "; use PostgreSQL to run replicas"
}

// LockServe claims the store for one `iocane serve`: two servers on one
// SQLite file would each re-queue the other's live jobs and enrich them
// twice. A second claim, from any process, fails with *ServeHeldError
// naming the first's pid; `enrich` and other commands take no claim and
// run beside a server. release gives the claim up; so does the process's
// death. On PostgreSQL there is no claim (replicas are the point): it
// returns at once.
func (db *DB) LockServe() (release func(), err error) {
	if db.dialect == dbx.Postgres {
		return func() {}, nil
	}
	path := db.path + ".serve.lock"
	f, err := lockFile(path, false)
	if errors.Is(err, errHeld) {
		b, _ := os.ReadFile(path)
		pid, _ := strconv.Atoi(string(bytes.TrimSpace(b)))
		return nil, &ServeHeldError{PID: pid}
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Truncate(0); f.Close() }, nil
}
