// Package pipeline assembles iocane from its parts and owns their lifetimes.
// It is the one place where the chain config → score policy → store →
// sources → routing → layered cache → engine is built (Open), and where
// `iocane serve` adds the job queue, write-back, notifications, the report
// schedule, metrics and the HTTP server (Serve), and takes them down in
// order. The CLI and every end-to-end test build through it, so tests run
// the production house.
//
// It only assembles: anything that loops over or decides on domain data
// lives one floor down (enrich, jobs, server, report, ...). Compare
// Telegraf's agent/ under a thin cmd/telegraf, or caddy.Run.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/iocane/iocane/internal/backend"
	"github.com/iocane/iocane/internal/cache"
	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/httpx"
	"github.com/iocane/iocane/internal/provider"
	_ "github.com/iocane/iocane/internal/provider/all" // every provider registers itself
	feedsrc "github.com/iocane/iocane/internal/provider/feeds"
	"github.com/iocane/iocane/internal/runstats"
	"github.com/iocane/iocane/internal/store"
)

// Options says how to assemble.
type Options struct {
	// ConfigPath is --config; empty reads IOCANE_CONFIG or ./iocane.yaml
	// when present.
	ConfigPath string
	// DBPath is --db; empty reads IOCANE_DB, the config's db, or the
	// default in the user's data directory.
	DBPath string
	// Environ replaces os.Environ (tests).
	Environ []string
	// Logger receives provider activity; nil discards it.
	Logger *slog.Logger
	// Engine sets the run's engine options (NoCache, Offline, Only,
	// IOCTimeout); Open fills in the sources, policy, routing and cache.
	Engine enrich.Options
	// Observer hears of every provider request, after the run's own
	// counter (metrics in the server); nil for none.
	Observer httpx.Observer
	// Base is the transport under the HTTP chain (tests); nil is the default.
	Base http.RoundTripper
	// Settings, when set, are used instead of loading them again (a
	// command that checked them before opening anything).
	Settings *Settings
	// NoMigrate opens a PostgreSQL store without migrating it, failing when
	// its schema is not current (serve --no-migrate, after iocane db
	// migrate). The SQLite file is always migrated as it opens.
	NoMigrate bool
	// StoreOnly opens the settings and the store, and builds no sources and
	// no engine (iocane report, iocane cache).
	StoreOnly bool
	// NoHistory neither reads nor keeps IOC history: results carry no
	// first_seen or previous_verdict, and analyst verdicts still apply
	// (enrich --no-history, for bulk runs).
	NoHistory bool
	// Tiering, when set, overrides the config's tiering (--tiering).
	Tiering *bool
}

// Pipeline is iocane assembled: close it when done.
type Pipeline struct {
	Settings *Settings
	Store    *store.DB
	// Sources is what was built of the configured providers; nil with
	// StoreOnly.
	Sources *Built
	// Engine enriches IOCs; nil with StoreOnly.
	Engine *enrich.Engine
	// HTTP counts every provider request, 429 and retry, for the run record.
	HTTP *runstats.HTTPCounter
	// memory is the cache's in-process layer, purged with the store's.
	memory *cache.Memory
	// noHistory is Options.NoHistory.
	noHistory bool
	// Feeds matches IOCs against the feeds in the store; nil when no feed
	// is configured. Reload it after a sync (SyncFeeds does).
	Feeds *feedsrc.Matcher
	// Backends says whether the shared backends answer
	// (iocane_backend_up); nil when none is configured.
	Backends *backend.Status
	// redis is the shared Redis (redis.url); nil when not configured.
	redis *redisBackend
}

// memoryCacheEntries bounds the in-memory layer in front of the store's
// cache. A run deduplicates its IOCs, so the layer serves repeats across
// jobs and hot IOCs in the server; the store holds everything. Kept small so
// a million-IOC run stays well inside its memory budget.
const memoryCacheEntries = 10_000

// Open loads and validates the settings, then opens the store, builds the
// sources and starts the engine. A configuration problem is a *ConfigError,
// returned before the store is opened or created.
func Open(ctx context.Context, o Options) (*Pipeline, error) {
	s := o.Settings
	if s == nil {
		var err error
		if s, err = LoadSettings(o); err != nil {
			return nil, err
		}
	}
	db, err := openStore(ctx, s, o.DBPath, o.NoMigrate)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{Settings: s, Store: db, HTTP: &runstats.HTTPCounter{Next: o.Observer}, noHistory: o.NoHistory}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if s.Redis.Enabled() {
		p.Backends = &backend.Status{}
		if p.redis, err = openRedis(s.Redis, p.Backends, logger); err != nil {
			db.Close()
			return nil, err
		}
	}
	if o.StoreOnly {
		return p, nil
	}
	bo := BuildOptions{Quotas: db.Quotas(), Logger: logger, Observer: p.HTTP, Base: o.Base}
	if p.redis != nil {
		p.redis.ping(ctx)
		bo.Quotas, bo.Limiters = p.redis.quotas(db.Quotas()), p.redis.limiters()
	}
	built, err := BuildSources(s.Config, bo)
	if err != nil {
		p.Close()
		return nil, configErr(err)
	}
	p.Sources = built
	if len(s.Feeds) > 0 {
		if err := p.addFeedsSource(ctx, o.Engine.Now); err != nil {
			p.Close()
			return nil, err
		}
	}
	eo := o.Engine
	eo.Sources, eo.Skipped, eo.Policy, eo.Routing = built.Sources, built.Skipped, s.Policy, s.Routing
	eo.Classifier.Suffixes = s.Config.InternalSuffixes
	if eo.Pivot.Resolver == nil {
		eo.Pivot = enrich.PivotOptions{Resolver: enrich.NewResolver(s.Pivot.DNSServer), Timeout: s.Pivot.DNSTimeout}
	}
	eo.Tiering = eo.Tiering || s.Tiering
	if eo.Tiers == nil {
		eo.Tiers = s.Tiers
	}
	if o.Tiering != nil {
		eo.Tiering = *o.Tiering
	}
	p.memory = cache.NewMemory(memoryCacheEntries)
	eo.Cache = cache.Layered{Front: p.memory, Back: db.Cache()}
	if p.redis != nil {
		// memory → Redis (shared by the fleet) → the store.
		eo.Cache = cache.Layered{Front: p.memory, Back: cache.Layered{Front: p.redis.cache, Back: db.Cache()}}
		eo.Leases = p.redis.leases()
	}
	eo.Memory = db
	if o.NoHistory {
		eo.Memory = verdictsOnly{db}
	}
	p.Engine = enrich.New(eo)
	p.Engine.Start(ctx)
	return p, nil
}

// PurgeCache drops cached answers from the store and from this process's
// in-memory layer, which would otherwise keep serving them (see
// store.DB.PurgeCache for the arguments), and from Redis when configured
// (every entry of the provider there, whatever its age: Redis keeps no
// store time to select by; the count is the store's).
func (p *Pipeline) PurgeCache(ctx context.Context, provider string, olderThan time.Duration) (int64, error) {
	n, err := p.Store.PurgeCache(ctx, provider, olderThan)
	if p.memory != nil {
		p.memory.Purge(provider, olderThan)
	}
	if p.redis != nil {
		if _, rerr := p.redis.cache.Purge(ctx, provider); rerr != nil && err == nil {
			err = fmt.Errorf("redis: cache purge: %w", rerr)
		}
	}
	return n, err
}

// Close stops the engine, and closes the store and the Redis client.
func (p *Pipeline) Close() error {
	if p.Engine != nil {
		p.Engine.Close()
	}
	if p.redis != nil {
		p.redis.close()
	}
	return p.Store.Close()
}

// Providers returns every registered provider's state: its types, whether
// it is configured (and why not), its rate, its quota used and left per
// window (from the store, so it counts every run) and its TLP ceiling.
func (p *Pipeline) Providers(ctx context.Context) ([]provider.State, error) {
	var rows []provider.State
	deferred, err := p.Store.DeferredByProvider(ctx)
	if err != nil {
		return nil, err
	}
	for _, spec := range provider.All() {
		pc := p.Settings.Config.Providers[spec.Name]
		row := provider.State{Name: spec.Name, Local: spec.Local, Rate: pc.Rate, MaxTLP: pc.MaxTLP.String(),
			Discloses: spec.Discloses, Reliability: string(spec.Reliability), BaseURL: pc.BaseURL, Quota: []provider.QuotaWindow{},
			Deferred: deferred[spec.Name]}
		for _, t := range spec.Types {
			row.Types = append(row.Types, string(t))
		}
		row.Reason = p.Sources.Skipped[spec.Name]
		row.Configured = row.Reason == ""
		if q := p.Sources.Quotas[spec.Name]; q != nil {
			usage, err := q.Usage(ctx)
			if err != nil {
				return nil, err
			}
			for _, u := range usage {
				row.Quota = append(row.Quota, provider.QuotaWindow{Period: u.Period.String(), Limit: u.Limit, Used: u.Used,
					Remaining: u.Remaining, ResetsAt: u.ResetsAt.UTC().Format(time.RFC3339)})
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}
