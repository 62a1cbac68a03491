// Package rediscache is the cache layer replicas share (issue 11): between
// each process's in-memory layer and its store, so that an answer one
// replica paid for serves every replica. An entry is the store's encoding
// of the Finding (cache.Encode) with its times, kept under
// iocane:cache:<provider>:<type>:<value> and expiring with the entry
// (PEXPIREAT its ExpiresAt), so Redis forgets it when the store would stop
// serving it.
//
// Redis is a cache here: a Redis that fails or is slow (each call is
// bounded by the redisx.Health's timeout) gives a miss and drops the
// write, never an error, and the layer below (the store) answers.
package rediscache

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iocane/iocane/internal/cache"
	"github.com/iocane/iocane/internal/redisx"
)

// Cache is a cache.Cache in Redis.
type Cache struct {
	c *redis.Client
	// Health bounds each call and records whether Redis answers; nil
	// bounds calls by redisx.DefaultTimeout and records nothing.
	Health *redisx.Health
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ cache.Cache = (*Cache)(nil)

// New returns a Cache on c. It does no I/O.
func New(c *redis.Client) *Cache { return &Cache{c: c} }

// entry is the stored form.
type entry struct {
	Finding   json.RawMessage `json:"finding"`
	StoredAt  int64           `json:"stored_at"`  // Unix ms
	ExpiresAt int64           `json:"expires_at"` // Unix ms
}

// Key returns the Redis key of k.
func Key(k cache.Key) string {
	return redisx.KeyPrefix + "cache:" + k.Provider + ":" + string(k.IOC.Type) + ":" + k.IOC.Value
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Get returns a live entry; a missing, expired or unreadable one, or a
// Redis that does not answer, is a miss.
func (c *Cache) Get(ctx context.Context, k cache.Key) (cache.Entry, bool, error) {
	var b []byte
	err := c.Health.Call(ctx, func(ctx context.Context) error {
		var err error
		b, err = c.c.Get(ctx, Key(k)).Bytes()
		return err
	})
	if err != nil {
		return cache.Entry{}, false, nil
	}
	var e entry
	if json.Unmarshal(b, &e) != nil {
		return cache.Entry{}, false, nil
	}
	f, err := cache.Decode(k.Provider, e.Finding)
	if err != nil {
		return cache.Entry{}, false, nil
	}
	out := cache.Entry{Finding: f, StoredAt: time.UnixMilli(e.StoredAt), ExpiresAt: time.UnixMilli(e.ExpiresAt)}
	if !c.now().Before(out.ExpiresAt) {
		return cache.Entry{}, false, nil
	}
	return out, true, nil
}

// Put stores or replaces an entry until its ExpiresAt; an entry already
// expired removes the key. A Redis that does not answer drops the write:
// the store below keeps it.
func (c *Cache) Put(ctx context.Context, k cache.Key, e cache.Entry) error {
	blob, err := cache.Encode(e.Finding)
	if err != nil {
		return err
	}
	b, err := json.Marshal(entry{Finding: blob, StoredAt: e.StoredAt.UnixMilli(), ExpiresAt: e.ExpiresAt.UnixMilli()})
	if err != nil {
		return err
	}
	ttl := e.ExpiresAt.Sub(c.now())
	err = c.Health.Call(ctx, func(ctx context.Context) error {
		if ttl <= 0 {
			return c.c.Del(ctx, Key(k)).Err()
		}
		return c.c.Set(ctx, Key(k), b, ttl).Err()
	})
	_ = err // a failed write costs a look-up in another replica, no more
	return nil
}

// Purge deletes the entries of provider (every provider's when ""), for
// `iocane cache purge`: Redis keeps no store time to select by age, so
// every entry of the provider goes, which costs at most a look-up again.
func (c *Cache) Purge(ctx context.Context, provider string) (int64, error) {
	pattern := redisx.KeyPrefix + "cache:*"
	if provider != "" {
		pattern = redisx.KeyPrefix + "cache:" + provider + ":*"
	}
	var n int64
	iter := c.c.Scan(ctx, 0, pattern, 500).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		d, err := c.c.Del(ctx, batch...).Result()
		n += d
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) >= 500 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return n, err
	}
	return n, flush()
}
