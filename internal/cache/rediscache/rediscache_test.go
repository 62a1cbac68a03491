package rediscache

import (
	"context"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/cache"
	"github.com/iocane/iocane/internal/cache/cachetest"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/redisx"
	"github.com/iocane/iocane/internal/redisx/redistest"
)

func TestRedisCacheConformance(t *testing.T) {
	cachetest.Cache(t, New(redistest.Client(t, "")), time.Now, "redis")
}

// TestEntryExpiresInRedis: Redis forgets an entry when it expires (the key
// carries the entry's TTL), rather than keeping it for ever.
func TestEntryExpiresInRedis(t *testing.T) {
	rc := redistest.Client(t, "")
	c := New(rc)
	ctx := context.Background()
	k := cache.Key{Provider: "urlhaus", IOC: ioc.IOC{Type: ioc.Domain, Value: "ttl-" + time.Now().Format("150405.000000000") + ".example"}}
	now := time.Now()
	if err := c.Put(ctx, k, cache.Entry{Finding: provider.Finding{Status: provider.StatusNotFound}, StoredAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ttl := rc.PTTL(ctx, Key(k)).Val()
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("key TTL %v, want about the entry's hour", ttl)
	}
}

// TestOutageIsAMiss: a Redis that does not answer gives misses and
// swallows writes, never an error, and is reported down.
func TestOutageIsAMiss(t *testing.T) {
	h := &redisx.Health{}
	dead, err := redisx.NewClient(redisx.Settings{URL: redisx.URL(redistest.DeadURL(t))})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	c := New(dead)
	c.Health = h
	ctx := context.Background()
	k := cache.Key{Provider: "urlhaus", IOC: ioc.IOC{Type: ioc.Domain, Value: "down.example"}}
	now := time.Now()
	if err := c.Put(ctx, k, cache.Entry{Finding: provider.Finding{Status: provider.StatusOK}, StoredAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Errorf("Put with Redis down: %v", err)
	}
	if _, ok, err := c.Get(ctx, k); ok || err != nil {
		t.Errorf("Get with Redis down: ok=%v err=%v", ok, err)
	}
	if h.Up() {
		t.Error("Redis down, but Health says up")
	}
}
