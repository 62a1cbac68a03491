package store

import (
	"path/filepath"
	"testing"

	"github.com/iocane/iocane/internal/cache/cachetest"
)

// TestCacheConformance runs the cache suite every backend passes (memory,
// Redis) against the SQLite store's.
func TestCacheConformance(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "iocane.db"))
	cachetest.Cache(t, db.Cache(), db.now, "sqlite")
}
