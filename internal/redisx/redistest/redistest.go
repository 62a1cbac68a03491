// Package redistest connects tests to the machine's Redis: the URL in
// IOCANE_TEST_REDIS_URL, default redis://127.0.0.1:6379/15 (database 15,
// kept for tests). Without a Redis answering, a test is skipped, except in
// CI (CI=true), where it fails: .ci/run starts Redis. Tests keep their
// keys apart by unique names, never by flushing the database, as packages
// run in parallel.
package redistest

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// URL returns the test Redis URL, skipping (or, in CI, failing) tb when no
// Redis answers there.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("IOCANE_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/15"
	}
	Client(tb, u)
	return u
}

// Client returns a client of the test Redis at u ("" for URL's default),
// closed when tb ends; it skips (or, in CI, fails) tb when none answers.
func Client(tb testing.TB, u string) *redis.Client {
	tb.Helper()
	if u == "" {
		return Client(tb, URL(tb))
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		tb.Fatal(err)
	}
	c := redis.NewClient(opt)
	tb.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") != "" && os.Getenv("CI") != "false" {
			tb.Fatalf("Redis at %s is not answering (.ci/run starts it): %v", u, err)
		}
		tb.Skipf("no Redis at %s: %v", u, err)
	}
	return c
}

// DeadURL returns the URL of a Redis nobody answers: a loopback port that
// was free a moment ago, so a call is refused at once.
func DeadURL(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "redis://" + addr + "/0"
}
