package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/cache"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
)

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestQuotaSurvivesRestart(t *testing.T) { eachBackend(t, testQuotaSurvivesRestart) }

func testQuotaSurvivesRestart(t *testing.T, openDB func() *DB) {
	ctx := context.Background()
	db := openDB()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	q := ratelimit.NewQuota("virustotal", []ratelimit.Window{{N: 3, Period: ratelimit.Day}}, db.Quotas())
	q.Now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if err := q.Take(ctx); err != nil {
			t.Fatalf("take %d: %v", i, err)
		}
	}
	db.Close()

	db2 := openDB()
	q2 := ratelimit.NewQuota("virustotal", []ratelimit.Window{{N: 3, Period: ratelimit.Day}}, db2.Quotas())
	q2.Now = func() time.Time { return now }
	if err := q2.Take(ctx); err == nil {
		t.Fatal("a restart reset the daily quota: fourth request allowed")
	}
	q2.Now = func() time.Time { return now.Add(12 * time.Hour) } // next UTC day
	if err := q2.Take(ctx); err != nil {
		t.Fatalf("next day: %v", err)
	}
}

func TestQuotaConcurrentAdd(t *testing.T) { eachBackend(t, testQuotaConcurrentAdd) }

func testQuotaConcurrentAdd(t *testing.T, openDB func() *DB) {
	db := openDB()
	qs := db.Quotas()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := qs.Add(context.Background(), "k", 1); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n, _ := qs.Get(context.Background(), "k"); n != 50 {
		t.Errorf("count = %d, want 50", n)
	}
}

func TestCacheRoundTripExpiryPurge(t *testing.T) { eachBackend(t, testCacheRoundTripExpiryPurge) }

func testCacheRoundTripExpiryPurge(t *testing.T, openDB func() *DB) {
	ctx := context.Background()
	db := openDB()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	db.now = func() time.Time { return now }
	c := db.Cache()
	k := cache.Key{Provider: "virustotal", IOC: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}}
	f := provider.Finding{Provider: "virustotal", Status: provider.StatusOK, Malicious: 0.9, Benign: 0.1,
		Summary: "12/94 engines flag it malicious", Link: "https://www.virustotal.com/gui/ip-address/185.220.101.47",
		Data: map[string]any{"malicious": 12}, Tags: []string{"tor"}}
	if err := c.Put(ctx, k, cache.Entry{Finding: f, StoredAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e, ok, err := c.Get(ctx, k)
	if err != nil || !ok {
		t.Fatalf("get: ok=%v err=%v", ok, err)
	}
	if e.Finding.Malicious != 0.9 || e.Finding.Benign != 0.1 || e.Finding.Summary != f.Summary || e.Finding.Data["malicious"] != float64(12) || e.Finding.Tags[0] != "tor" {
		t.Errorf("round trip lost data: %+v", e.Finding)
	}
	other := cache.Key{Provider: "shodan", IOC: k.IOC}
	if _, ok, _ := c.Get(ctx, other); ok {
		t.Error("cache key ignores the provider")
	}
	now = now.Add(2 * time.Hour)
	if _, ok, _ := c.Get(ctx, k); ok {
		t.Error("expired entry returned")
	}
	_ = c.Put(ctx, k, cache.Entry{Finding: f, StoredAt: now, ExpiresAt: now.Add(time.Hour)})
	_ = c.Put(ctx, other, cache.Entry{Finding: f, StoredAt: now, ExpiresAt: now.Add(time.Hour)})
	if n, err := db.PurgeCache(ctx, "shodan", 0); err != nil || n != 1 {
		t.Errorf("purge shodan: n=%d err=%v", n, err)
	}
	if _, ok, _ := c.Get(ctx, k); !ok {
		t.Error("purging shodan removed virustotal's entry")
	}
	if n, _ := db.PurgeCache(ctx, "", 0); n != 1 {
		t.Errorf("purge all: n=%d, want 1", n)
	}
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.db")
	db := open(t, path)
	if _, err := db.sql.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(context.Background(), path); err == nil {
		t.Fatal("opened a store with a newer schema")
	}
}

// Open creates every table of the file: the store's own, the job queue's
// (River's and iocane's) and the write-back record; a second Open of the
// same file changes nothing.
func TestOpenOwnsEverySchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "iocane.db")
	for range 2 {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"cache", "quota", "runs", "results", "river_job", "river_migration", "jobs", "job_results",
			"jobs_schema", "integration_outcomes", "integration_steps"} {
			var n int
			if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil || n != 1 {
				t.Errorf("table %s: %d, %v", table, n, err)
			}
		}
		w, r, err := db.QueuePools()
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		w.Close()
		db.Close()
	}
}

// Two processes opening a fresh store at once must not race on its
// migrations (one failed with "table cache already exists" 20 times in 20):
// migrations run under an exclusive lock, and each re-reads the version
// under it.
func TestConcurrentOpenOfAFreshStore(t *testing.T) {
	for trial := range 20 {
		path := filepath.Join(t.TempDir(), "iocane.db")
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				db, err := Open(context.Background(), path)
				if err == nil {
					err = db.Ping(context.Background())
					db.Close()
				}
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("trial %d: %v", trial+1, err)
			}
		}
	}
}

// One serve per store: a second claim fails naming the first's pid, from a
// second handle on the same file as from another process; a released
// claim can be taken again.
func TestLockServe(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "iocane.db")
	a, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	release, err := a.LockServe()
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.LockServe()
	var held *ServeHeldError
	if !errors.As(err, &held) || held.PID != os.Getpid() ||
		err.Error() != "another iocane serve holds this store (pid "+strconv.Itoa(os.Getpid())+"); use PostgreSQL to run replicas" {
		t.Fatalf("second claim: %v", err)
	}
	release()
	release2, err := b.LockServe()
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	release2()
}

// A signature is replayed until it expires, across handles (a restart),
// and may be used again after.
func TestReplayed(t *testing.T) { eachBackend(t, testReplayed) }

func testReplayed(t *testing.T, openDB func() *DB) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	a := openDB()
	a.now = func() time.Time { return now }
	if seen, err := a.Replayed(ctx, "sha256=aa", now.Add(5*time.Minute)); err != nil || seen {
		t.Fatalf("first use: %v %v", seen, err)
	}
	a.Close()
	b := openDB()
	b.now = func() time.Time { return now.Add(time.Minute) }
	if seen, err := b.Replayed(ctx, "sha256=aa", now.Add(5*time.Minute)); err != nil || !seen {
		t.Fatalf("replay after reopening: %v %v, want seen", seen, err)
	}
	b.now = func() time.Time { return now.Add(6 * time.Minute) }
	if seen, err := b.Replayed(ctx, "sha256=aa", now.Add(11*time.Minute)); err != nil || seen {
		t.Fatalf("after expiry: %v %v, want a fresh use", seen, err)
	}
}
