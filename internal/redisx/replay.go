package redisx

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// ReplayStore is the webhook replay check (server.ReplayStore; *store.DB
// is the SQLite one).
type ReplayStore interface {
	Replayed(ctx context.Context, sig string, expires time.Time) (bool, error)
}

// Replays keeps webhook signatures in Redis, shared by every replica: a
// signature is a key set only if absent (SET NX) that expires when the
// signature does. While Redis is unreachable the check falls back to
// Fallback (the replica's SQLite file), so a replay is still refused by
// the replica that saw the original, though not by the others.
type Replays struct {
	C        *redis.Client
	Health   *Health
	Fallback ReplayStore
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ ReplayStore = (*Replays)(nil)

// Replayed records sig as used until expires and reports whether it
// already was.
func (r *Replays) Replayed(ctx context.Context, sig string, expires time.Time) (bool, error) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	ttl := max(expires.Sub(now), time.Millisecond)
	var fresh bool
	err := r.Health.Call(ctx, func(ctx context.Context) error {
		var err error
		fresh, err = r.C.SetNX(ctx, KeyPrefix+"replay:"+sig, 1, ttl).Result()
		return err
	})
	if errors.Is(err, ErrUnavailable) && r.Fallback != nil {
		return r.Fallback.Replayed(ctx, sig, expires)
	}
	if err != nil {
		return false, err
	}
	return !fresh, nil
}
