package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/iocane/iocane/internal/cache"
)

// Cache returns the store as a persistent cache.Cache.
func (db *DB) Cache() *Cache { return &Cache{db: db} }

// Cache is the SQLite answer cache.
type Cache struct{ db *DB }

var _ cache.Cache = (*Cache)(nil)

// Get returns a live entry.
func (c *Cache) Get(ctx context.Context, k cache.Key) (cache.Entry, bool, error) {
	var blob []byte
	var stored, expires int64
	err := c.db.sql.QueryRowContext(ctx,
		c.db.q(`SELECT finding, stored_at, expires_at FROM cache WHERE provider = ? AND type = ? AND value = ? AND expires_at > ?`),
		k.Provider, string(k.IOC.Type), k.IOC.Value, c.db.now().UnixMilli()).Scan(&blob, &stored, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return cache.Entry{}, false, nil
	}
	if err != nil {
		return cache.Entry{}, false, fmt.Errorf("store: cache get: %w", err)
	}
	f, err := cache.Decode(k.Provider, blob)
	if err != nil {
		return cache.Entry{}, false, err
	}
	return cache.Entry{Finding: f, StoredAt: time.UnixMilli(stored), ExpiresAt: time.UnixMilli(expires)}, true, nil
}

// Put stores or replaces an entry.
func (c *Cache) Put(ctx context.Context, k cache.Key, e cache.Entry) error {
	blob, err := cache.Encode(e.Finding)
	if err != nil {
		return fmt.Errorf("store: cache put: %w", err)
	}
	_, err = c.db.sql.ExecContext(ctx,
		c.db.q(`INSERT INTO cache (provider, type, value, status, finding, stored_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (provider, type, value) DO UPDATE SET status = excluded.status, finding = excluded.finding,
		 stored_at = excluded.stored_at, expires_at = excluded.expires_at`),
		k.Provider, string(k.IOC.Type), k.IOC.Value, string(e.Finding.Status), blob, e.StoredAt.UnixMilli(), e.ExpiresAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: cache put: %w", err)
	}
	return nil
}

// PurgeCache deletes cache entries: only provider's when provider is not
// empty, only those stored before olderThan ago when olderThan > 0, and
// always the expired ones. It returns how many were deleted.
func (db *DB) PurgeCache(ctx context.Context, provider string, olderThan time.Duration) (int64, error) {
	q := `DELETE FROM cache WHERE (expires_at <= ?`
	args := []any{db.now().UnixMilli()}
	cond := ` OR (1=1`
	if provider != "" {
		cond += ` AND provider = ?`
		args = append(args, provider)
	}
	if olderThan > 0 {
		cond += ` AND stored_at < ?`
		args = append(args, db.now().Add(-olderThan).UnixMilli())
	}
	q += cond + `))`
	res, err := db.sql.ExecContext(ctx, db.q(q), args...)
	if err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	return res.RowsAffected()
}

// CacheSize returns the number of live cache entries per provider.
func (db *DB) CacheSize(ctx context.Context) (map[string]int64, error) {
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT provider, count(*) FROM cache WHERE expires_at > ? GROUP BY provider`), db.now().UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var p string
		var n int64
		if err := rows.Scan(&p, &n); err != nil {
			return nil, err
		}
		out[p] = n
	}
	return out, rows.Err()
}
