package store

import (
	"testing"

	"github.com/iocane/iocane/internal/cache/cachetest"
)

// TestCacheConformance runs the cache suite every backend passes (memory,
// Redis) against the store's, on SQLite and PostgreSQL.
func TestCacheConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			db := openTestDB(t, b)()
			cachetest.Cache(t, db.Cache(), db.now, b)
		})
	}
}
