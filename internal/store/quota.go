package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Quotas returns the store as a ratelimit.QuotaStore: counters survive a
// restart, so a spent daily quota stays spent.
func (db *DB) Quotas() *QuotaStore { return &QuotaStore{db: db} }

// QuotaStore keeps quota counters in the store's database.
type QuotaStore struct{ db *DB }

// Add adds n to key atomically and returns the new count.
func (q *QuotaStore) Add(ctx context.Context, key string, n int64) (int64, error) {
	var c int64
	err := q.db.sql.QueryRowContext(ctx,
		q.db.pick(`INSERT INTO quota (key, count) VALUES (?, ?)
		 ON CONFLICT (key) DO UPDATE SET count = count + excluded.count
		 RETURNING count`,
			`INSERT INTO quota (key, count) VALUES (?, ?)
		 ON CONFLICT (key) DO UPDATE SET count = quota.count + excluded.count
		 RETURNING count`), key, n).Scan(&c)
	if err != nil {
		return 0, fmt.Errorf("store: quota %s: %w", key, err)
	}
	return c, nil
}

// Get returns the count of key, 0 when unknown.
func (q *QuotaStore) Get(ctx context.Context, key string) (int64, error) {
	var c int64
	err := q.db.sql.QueryRowContext(ctx, q.db.q(`SELECT count FROM quota WHERE key = ?`), key).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: quota %s: %w", key, err)
	}
	return c, nil
}
