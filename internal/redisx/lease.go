package redisx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Leases keeps one provider look-up of an IOC in flight across the fleet
// (enrich.Leases): a lease is a key set only if absent (SET NX PX) to a
// token of the holder's, renewed while the holder works and deleted by it
// only while it still holds the token, so that a holder that dies frees it
// after its TTL, and one that overran never deletes its successor's.
type Leases struct {
	C      *redis.Client
	Health *Health
}

// releaseScript deletes a lease only if it is still the caller's.
var releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// renewScript extends a lease only if it is still the caller's.
var renewScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)

// LeaseKey is the Redis key of the lease named key.
func LeaseKey(key string) string { return KeyPrefix + "lease:" + key }

// Acquire takes the lease named key (provider:type:value) for ttl. ok is
// false when another holds it. The lease is renewed every ttl/3 until
// release is called, which deletes it if still ours (calling it again does
// nothing). An error wraps ErrUnavailable: the caller goes on without a
// lease.
func (l *Leases) Acquire(ctx context.Context, key string, ttl time.Duration) (release func(), ok bool, err error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	token, k := hex.EncodeToString(b[:]), LeaseKey(key)
	err = l.Health.Call(ctx, func(ctx context.Context) error {
		var err error
		ok, err = l.C.SetNX(ctx, k, token, ttl).Result()
		return err
	})
	if err != nil || !ok {
		return nil, false, err
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // renew while the holder works: a slow turn must not hand the call to another replica
		defer close(done)
		t := time.NewTicker(max(ttl/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = l.Health.Call(context.Background(), func(ctx context.Context) error {
					return renewScript.Run(ctx, l.C, []string{k}, token, ttl.Milliseconds()).Err()
				})
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			_ = l.Health.Call(context.Background(), func(ctx context.Context) error {
				return releaseScript.Run(ctx, l.C, []string{k}, token).Err()
			})
		})
	}, true, nil
}
