package integrations

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ReadOutcomes reads the outcomes finished in [from, to) from the store
// file at path (--db) for `iocane report`, without creating anything:
// recorded is false when the file holds no outcome at all (no server ever
// delivered from it). Each Outcome carries the alert's receipt time
// (Received), so "alert received → alert updated" is Finished - Received.
func ReadOutcomes(ctx context.Context, path string, from, to time.Time) (outs []Outcome, recorded bool, err error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, false, fmt.Errorf("integrations: open %s: %w", path, err)
	}
	defer db.Close()
	ok, err := HasOutcomes(ctx, db)
	if err != nil {
		return nil, false, fmt.Errorf("integrations: %s: %w", path, err)
	}
	if !ok {
		return nil, false, nil
	}
	outs, err = NewStore(db).Outcomes(ctx, from, to)
	return outs, err == nil, err
}

// ReadOutcomesDB is ReadOutcomes through a pool on the store's database,
// SQLite or PostgreSQL (store.DB.OpenReader), which it does not close.
func ReadOutcomesDB(ctx context.Context, db *sql.DB, from, to time.Time) (outs []Outcome, recorded bool, err error) {
	ok, err := HasOutcomes(ctx, db)
	if err != nil || !ok {
		return nil, false, err
	}
	outs, err = NewStore(db).Outcomes(ctx, from, to)
	return outs, err == nil, err
}
