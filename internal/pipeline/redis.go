package pipeline

import (
	"context"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/iocane/iocane/internal/backend"
	"github.com/iocane/iocane/internal/cache/rediscache"
	"github.com/iocane/iocane/internal/integrations/notify"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/ratelimit/redisrl"
	"github.com/iocane/iocane/internal/redisx"
	"github.com/iocane/iocane/internal/server"
)

// redisBackend is Redis as Open wires it when redis.url is set: one client
// and one Health shared by the rate limiters, the quota counters, the
// cache layer, the look-up leases and the webhook replay marks, each with
// its fallback for an outage (see package redisx).
type redisBackend struct {
	client *redis.Client
	health *redisx.Health
	share  float64
	cache  *rediscache.Cache
}

// openRedis builds the client; it does no I/O.
func openRedis(s redisx.Settings, status *backend.Status, log *slog.Logger) (*redisBackend, error) {
	c, err := redisx.NewClient(s)
	if err != nil {
		return nil, configErr(err)
	}
	h := &redisx.Health{Logger: log.With("component", "backend"), Status: status}
	h.Start()
	rc := rediscache.New(c)
	rc.Health = h
	return &redisBackend{client: c, health: h, share: s.Share, cache: rc}, nil
}

// ping asks Redis once, so that an outage at start is logged and exported
// at once; it never stops the start (the fallbacks take over).
func (r *redisBackend) ping(ctx context.Context) {
	_ = r.health.Call(ctx, func(ctx context.Context) error { return r.client.Ping(ctx).Err() })
}

// limiters makes each provider's limiter the fleet's (GCRA in Redis) with
// a local fallback at rate × redis.fallback_share.
func (r *redisBackend) limiters() *ratelimit.Limiters {
	return &ratelimit.Limiters{New: func(name string, rate ratelimit.Rate) ratelimit.Limiter {
		if rate.Unlimited() {
			return ratelimit.NewLimiter(rate)
		}
		shared := redisrl.NewLimiter(r.client, name, rate)
		shared.Health = r.health
		return redisrl.NewFallbackLimiter(shared, rate, r.share)
	}}
}

// quotas counts quotas in Redis, and in local (the SQLite file) during an
// outage.
func (r *redisBackend) quotas(local ratelimit.QuotaStore) ratelimit.QuotaStore {
	shared := redisrl.NewQuotaStore(r.client)
	shared.Health = r.health
	return &redisrl.FallbackQuotaStore{Shared: shared, Local: local}
}

// leases keeps one look-up per provider × IOC in flight across replicas.
func (r *redisBackend) leases() *redisx.Leases { return &redisx.Leases{C: r.client, Health: r.health} }

// replays keeps webhook signatures in Redis, and in local during an outage.
func (r *redisBackend) replays(local redisx.ReplayStore) *redisx.Replays {
	return &redisx.Replays{C: r.client, Health: r.health, Fallback: local}
}

// notifyOptions shares the notifiers' dedupe and storm windows across replicas;
// o unchanged when Redis is not configured (r nil).
func (r *redisBackend) notifyOptions(o notify.Options) notify.Options {
	if r != nil {
		o.Shared, o.SharedHealth, o.FallbackShare = r.client, r.health, r.share
	}
	return o
}

func (r *redisBackend) close() error { return r.client.Close() }

// replays is the webhook replay check: Redis's when configured, else the
// store's.
func (p *Pipeline) replays() server.ReplayStore {
	if p.redis == nil {
		return p.Store
	}
	return p.redis.replays(p.Store)
}
