package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/ratelimit/redisrl"
	"github.com/iocane/iocane/internal/redisx"
)

// sharedState is the Redis a Set's channels keep their dedupe and storm
// windows in (Options.Shared), and whether it answered last.
type sharedState struct {
	c      *redis.Client
	health *redisx.Health
	share  float64
	prefix string
	log    *slog.Logger
	down   atomic.Bool // this Set fell back and has not heard from Redis since
}

// newSharedState returns o's shared state, nil when o has no Redis.
func newSharedState(o Options) *sharedState {
	if o.shared != nil || o.Shared == nil {
		return o.shared
	}
	sh := &sharedState{c: o.Shared, health: o.SharedHealth, share: o.FallbackShare, prefix: o.keyPrefix, log: o.Logger}
	if sh.health == nil {
		sh.health = &redisx.Health{} // the outage is logged once by fellBack
	}
	if sh.share <= 0 || sh.share > 1 {
		sh.share = redisx.DefaultFallbackShare
	}
	if sh.prefix == "" {
		sh.prefix = redisx.KeyPrefix + "notify:"
	}
	if sh.log == nil {
		sh.log = slog.New(slog.DiscardHandler)
	}
	return sh
}

// call runs f through the health check, logging the first failure of an
// outage and the first answer after it.
func (sh *sharedState) call(ctx context.Context, f func(ctx context.Context) error) error {
	err := sh.health.Call(ctx, f)
	switch {
	case err == nil:
		if sh.down.CompareAndSwap(true, false) {
			sh.log.Info("notify: Redis answers again: dedupe and storm windows are the fleet's again")
		}
	case ctx.Err() != nil: // says nothing of Redis
	default:
		if sh.down.CompareAndSwap(false, true) {
			sh.log.Warn("notify: Redis unreachable: until it answers, each replica deduplicates alerts on its own "+
				"(at most one message per alert per replica) and keeps a share of each channel's rate",
				"share", sh.share, "error", err.Error())
		}
	}
	return err
}

// memory returns the dedupe and storm window of channel name: this
// process's, or, with Options.Shared, the fleet's in Redis.
func (o Options) memory(name string, c Config, rate ratelimit.Rate) (dedupe, storm) {
	local := newLocalDedupe(c.DedupeSize, c.DedupeTTL)
	win := &window{n: rate.N, per: rate.Per}
	sh := newSharedState(o)
	if sh == nil {
		return local, win
	}
	ttl := c.DedupeTTL
	if ttl <= 0 {
		ttl = DefaultDedupeTTL
	}
	d := &redisDedupe{sh: sh, prefix: sh.prefix + "seen:" + name + ":", ttl: ttl, local: local,
		outage: newLocalDedupe(c.DedupeSize, ttl), owed: newLocalDedupe(c.DedupeSize, ttl)}
	if win.unlimited() {
		return d, win
	}
	fb := redisrl.Share(rate, sh.share)
	return d, &redisWindow{sh: sh, key: sh.prefix + "window:" + name, rate: rate, local: &window{n: fb.N, per: fb.Per}}
}

// redisDedupe is a channel's dedupe across the fleet: an alert is claimed
// by a key set only if absent (SET NX) that expires after the dedupe TTL.
// Every answer from Redis is also noted in local, this process's set,
// which answers while Redis does not: each replica then notifies an alert
// at most once.
type redisDedupe struct {
	sh     *sharedState
	prefix string
	ttl    time.Duration
	local  *localDedupe
	// outage are keys local claimed while Redis did not answer: this
	// process notified them, and must not again when Redis, which never
	// heard of them, answers again.
	outage *localDedupe
	// owed are keys this process claimed in Redis, whose send failed and
	// whose forget did not reach Redis: the claim left there is ours.
	owed *localDedupe
}

var _ dedupe = (*redisDedupe)(nil)

func (d *redisDedupe) claim(ctx context.Context, key string, now time.Time) bool {
	var first bool
	err := d.sh.call(ctx, func(ctx context.Context) error {
		var err error
		first, err = d.sh.c.SetNX(ctx, d.prefix+key, 1, d.ttl).Result()
		return err
	})
	if err != nil {
		if !d.local.claim(ctx, key, now) {
			return false
		}
		d.outage.mark(key, now)
		return true
	}
	d.local.mark(key, now)
	switch {
	case d.outage.drop(key):
		return false // notified during the outage; Redis knows it now
	case !first && d.owed.drop(key):
		return true
	}
	return first
}

func (d *redisDedupe) forget(ctx context.Context, key string, now time.Time) {
	d.local.forget(ctx, key, now)
	d.outage.forget(ctx, key, now)
	err := d.sh.call(ctx, func(ctx context.Context) error { return d.sh.c.Del(ctx, d.prefix+key).Err() })
	if err != nil {
		d.owed.mark(key, now)
	}
}

func (d *redisDedupe) restored(key string, now time.Time) bool { return d.local.restored(key, now) }

// windowScript counts sends in a sliding window kept as a sorted set
// scored by send time (ms). KEYS[1] is the window; ARGV are now (ms), per
// (ms), n, want and a token unique to the call. It takes up to want sends
// and returns {taken, when the next send is allowed (ms)}.
var windowScript = redis.NewScript(`
local now, per, n, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - per)
local count = redis.call("ZCARD", KEYS[1])
local take = math.max(math.min(want, n - count), 0)
for i = 1, take do
	redis.call("ZADD", KEYS[1], now, ARGV[5] .. ":" .. i)
end
if take > 0 then
	redis.call("PEXPIRE", KEYS[1], per + 1000)
end
count = count + take
local nextAt = now
if count >= n then
	local e = redis.call("ZRANGE", KEYS[1], count - n, count - n, "WITHSCORES")
	nextAt = tonumber(e[2]) + per
end
return {take, nextAt}
`)

// redisWindow is a channel's storm window across the fleet, atomic in one
// script call. Sends are timed by the callers' clocks, so replicas' clocks
// should agree (NTP) to well within the window. This process's own sends
// are also counted in local, at the rate × the fallback share, which
// limits it while Redis does not answer.
type redisWindow struct {
	sh    *sharedState
	key   string
	rate  ratelimit.Rate
	local *window
}

var _ storm = (*redisWindow)(nil)

func (w *redisWindow) run(ctx context.Context, now time.Time, want int) (int, time.Time, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	var res []int64
	err := w.sh.call(ctx, func(ctx context.Context) error {
		var err error
		res, err = windowScript.Run(ctx, w.sh.c, []string{w.key}, now.UnixMilli(), w.rate.Per.Milliseconds(),
			w.rate.N, want, hex.EncodeToString(b[:])).Int64Slice()
		return err
	})
	if err == nil && len(res) != 2 {
		err = errors.New("notify: window script: unexpected answer")
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	return int(res[0]), time.UnixMilli(res[1]), nil
}

func (w *redisWindow) take(ctx context.Context, now time.Time, want int) int {
	got, _, err := w.run(ctx, now, want)
	if err != nil {
		return w.local.take(ctx, now, want)
	}
	w.local.record(now, got)
	return got
}

func (w *redisWindow) next(ctx context.Context, now time.Time) time.Time {
	_, at, err := w.run(ctx, now, 0)
	if err != nil {
		return w.local.next(ctx, now)
	}
	if at.Before(now) {
		return now
	}
	return at
}
