// Package enrich is the engine: for each IOC it applies policy before any
// quota is spent (internal and reserved values go to local sources only,
// allow-listed values stop there, a TLP above a provider's ceiling skips that
// provider, cached answers are reused), then fans the look-ups out to each
// provider's own queue and worker pool, collects what arrives before the
// deadline, and scores the answers into one explained Result.
package enrich

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/cache"
	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/runstats"
	"github.com/iocane/iocane/internal/score"
	"github.com/iocane/iocane/internal/tlp"
)

// Item is one IOC to enrich, with the marking and context it came with.
type Item struct {
	IOC ioc.IOC
	// TLP is the item's marking; the zero value is TLP:CLEAR, so readers
	// set tlp.Default for untagged input.
	TLP     tlp.Level
	Context map[string]string
	// Providers, when not empty, restricts this IOC's external providers
	// (a job's providers list), on top of Options.Only.
	Providers []string
	// Defer makes a look-up the budget postpones come back deferred
	// instead of waiting for its turn (server jobs; see defer.go).
	Defer bool
	// Pivot is how many relations deep to follow from this IOC (pivot.go;
	// 0 none, at most MaxPivot).
	Pivot int
	// PAP is the input's Permissible Actions Protocol marking: CLEAR or
	// GREEN (the zero value is CLEAR) allow active pivots (DNS); AMBER and
	// RED do not.
	PAP tlp.Level
}

// Engine enriches IOCs. Build it with New, Start it, and Close it.
type Engine struct {
	opts    Options
	sources map[string]*Source
	local   []*Source
	// skipped names providers that were not built, with the reason
	// ("no API key", "disabled"), reported in every result they would route to.
	skipped map[string]string
	stats   *runstats.Recorder
	cancel  context.CancelFunc
}

// Options configures an Engine.
type Options struct {
	// Sources are the built providers, local and external.
	Sources []*Source
	// Skipped maps a provider that is not available to the reason.
	Skipped map[string]string
	// Cache holds answers; nil disables caching.
	Cache cache.Cache
	// NoCache skips reading the cache (answers are still written).
	NoCache bool
	// Offline asks local sources only.
	Offline bool
	// Only, when not empty, restricts external providers to these names.
	Only []string
	// Routing overrides the provider order per type (see DefaultRouting).
	Routing map[ioc.Type][]string
	// Classifier marks internal and reserved values.
	Classifier ioc.Classifier
	// Policy scores the findings.
	Policy score.Policy
	// IOCTimeout bounds each external look-up of an IOC by the provider's answering
	// time: the time a request waits for its turn (the rate limit, a
	// Retry-After) does not count, so a look-up the budget postpones waits
	// instead of failing, bounded by the run's ctx. A look-up that runs out
	// of it gets error "deadline". 0 means no bound but the run's ctx.
	IOCTimeout time.Duration
	// DeferHorizon is how far away a rate turn may be before a deferrable
	// look-up (Item.Defer) is deferred instead of queued; 0 means
	// DefaultDeferHorizon. The item's deadline bounds it too.
	DeferHorizon time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Pivot configures pivots (the resolver); an item's depth is its own.
	Pivot PivotOptions
	// Tiering asks the cost tiers in order (local, free, scarce), each only
	// while the verdict is not settled (score.Settled); off asks every
	// routed provider at once. Default off.
	Tiering bool
	// Tiers overrides DefaultTiers by provider name.
	Tiers map[string]Tier
	// Leases, when set, keeps one look-up of a provider × IOC in flight
	// across the processes sharing Cache (replicas on one Redis); nil
	// collapses look-ups within this process only.
	Leases Leases
	// Memory recalls what is known of an IOC before it is enriched: its
	// history (first and last seen, sightings, previous verdict) and the
	// analyst verdict in force, which settles it before any quota is
	// spent. nil remembers nothing.
	Memory Memory
}

// Memory is the IOC memory the engine reads (*store.DB satisfies it).
type Memory interface {
	Recall(ctx context.Context, i ioc.IOC, now time.Time) (history.Recall, error)
}

// New builds an engine; call Start before Enrich.
func New(o Options) *Engine {
	if o.Now == nil {
		o.Now = time.Now
	}
	e := &Engine{opts: o, sources: map[string]*Source{}, skipped: map[string]string{}, stats: &runstats.Recorder{}}
	for _, s := range o.Sources {
		if s.Spec.Local {
			e.local = append(e.local, s)
		} else {
			s.callTimeout = o.IOCTimeout // local look-ups answer from memory: no deadline to keep
			e.sources[s.Spec.Name] = s
		}
	}
	// Allow-lists first, so a hit can stop everything after it.
	slices.SortStableFunc(e.local, func(a, b *Source) int { return order(a.Spec.Name) - order(b.Spec.Name) })
	for k, v := range o.Skipped {
		e.skipped[k] = v
	}
	return e
}

func order(name string) int {
	if name == "allowlist" {
		return 0
	}
	return 1
}

// Start launches every external source's workers.
func (e *Engine) Start(ctx context.Context) {
	ctx, e.cancel = context.WithCancel(ctx)
	for _, s := range e.sources {
		s.cache, s.now, s.leases = e.opts.Cache, e.opts.Now, e.opts.Leases
		s.start(ctx)
	}
}

// Close stops the workers after the look-ups in flight.
func (e *Engine) Close() {
	for _, s := range e.sources {
		if s.queue != nil {
			s.stop()
		}
	}
	if e.cancel != nil {
		e.cancel()
	}
}

// Stats returns the engine's live counters: every result it has made,
// whichever run asked for it.
func (e *Engine) Stats() *runstats.Recorder { return e.stats }

// QueueDepths returns each external provider's waiting and running look-ups.
func (e *Engine) QueueDepths() map[string]int {
	out := map[string]int{}
	for name, s := range e.sources {
		out[name] = s.QueueDepth()
	}
	return out
}

// Skipped returns the providers that were not built and why.
func (e *Engine) Skipped() map[string]string { return e.skipped }

// planned is one source's part in enriching one IOC.
type planned struct {
	name    string
	src     *Source
	skip    string // reason to skip, "" to ask
	finding provider.Finding
	cached  bool
}

// Enrich returns the Result for one IOC. It never fails: every source's
// trouble is in its own status.
func (e *Engine) Enrich(ctx context.Context, it Item) result.Result {
	plan, recall, internal, why := e.plan(ctx, it)
	analyst := recall.Analyst

	// Cache, then fan out what is left: all at once, or tier by tier.
	var ask []*planned
	for _, p := range plan {
		if p.src == nil || p.src.Spec.Local || p.skip != "" {
			continue
		}
		if f, ok := e.cached(ctx, p.name, it.IOC); ok {
			p.finding, p.cached = f, true
			continue
		}
		ask = append(ask, p)
	}
	if e.opts.Tiering {
		e.askByTier(ctx, it, plan, ask)
	} else {
		e.ask(ctx, it, ask)
	}

	r := result.Result{IOC: it.IOC, TLP: it.TLP, EnrichedAt: e.opts.Now().UTC(), Internal: internal, Context: it.Context}
	for _, p := range plan {
		if p.skip != "" {
			p.finding = provider.Skipped(p.name, p.skip)
		}
		p.finding.Provider = p.name
		r.Sources = append(r.Sources, sourceOf(p.finding, p.cached))
		if p.finding.Deferred {
			r.Final = new(bool)
		}
	}
	if analyst != nil {
		r.Sources = append([]result.Source{analystSource(*analyst)}, r.Sources...)
	}
	score.Score(e.opts.Policy, score.FromSources(r.Sources, e.reliability)).Apply(&r)
	if analyst != nil {
		e.settle(&r, *analyst)
	}
	recall.Apply(&r)
	if internal {
		r.Reasons = append([]string{"iocane: internal (" + why + "): looked up in local sources only"}, r.Reasons...)
	}
	e.stats.Add(r)
	return r
}

// plan calls the local sources about it and decides, for each external
// source in routing order, whether it may be asked (skip is "") or why not.
func (e *Engine) plan(ctx context.Context, it Item) (plan []*planned, recall history.Recall, internal bool, why string) {
	internal, why = e.opts.Classifier.Internal(it.IOC)
	if e.opts.Memory != nil {
		// A store that does not answer costs the memory, never the result.
		recall, _ = e.opts.Memory.Recall(ctx, it.IOC, e.opts.Now())
	}
	analyst := recall.Analyst

	// Local sources: fast, nothing leaves the machine.
	allowed := false
	for _, s := range e.local {
		if !s.Spec.Supports(it.IOC.Type) {
			continue
		}
		p := &planned{name: s.Spec.Name, src: s}
		p.finding = s.call(ctx, it.IOC)
		if s.Spec.Name == "allowlist" && p.finding.Status == provider.StatusOK && p.finding.Benign >= 0.9 {
			allowed = true
		}
		plan = append(plan, p)
	}

	// External sources, in routing order.
	for _, name := range e.route(it.IOC.Type) {
		if len(it.Providers) > 0 && !slices.Contains(it.Providers, name) {
			continue
		}
		p := &planned{name: name, src: e.sources[name]}
		switch {
		case p.src == nil:
			p.skip = e.skipped[name]
		case e.opts.Offline:
			p.skip = "offline"
		case analyst != nil:
			p.skip = "settled by an analyst verdict"
		case internal:
			p.skip = "internal (" + why + "): never sent out"
		case allowed:
			p.skip = "allow-listed"
		case !p.src.MaxTLP.Allows(it.TLP):
			p.skip = fmt.Sprintf("TLP:%s is above %s's limit TLP:%s", strings.ToUpper(it.TLP.String()), name, strings.ToUpper(p.src.MaxTLP.String()))
		}
		plan = append(plan, p)
	}
	return plan, recall, internal, why
}

// ask makes the planned look-ups at once and waits for them. The worker
// caches each answer. The CLI waits for every turn; a server job's
// look-up may be deferred.
func (e *Engine) ask(ctx context.Context, it Item, ps []*planned) {
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() {
			now := e.opts.Now()
			if it.Defer {
				p.finding = p.src.lookupOrDefer(ctx, it.IOC, e.horizon(), now)
			} else {
				p.finding = p.src.lookup(ctx, it.IOC, 0, now)
			}
		})
	}
	wg.Wait()
}

// cached returns the cache's answer of provider name about i, unless there
// is no cache or NoCache is set.
func (e *Engine) cached(ctx context.Context, name string, i ioc.IOC) (provider.Finding, bool) {
	if e.opts.Cache == nil || e.opts.NoCache {
		return provider.Finding{}, false
	}
	ent, ok, err := e.opts.Cache.Get(ctx, cache.Key{Provider: name, IOC: i})
	return ent.Finding, err == nil && ok
}

func (e *Engine) reliability(name string) provider.Reliability {
	if r, ok := e.opts.Policy.Reliability[name]; ok {
		return r
	}
	if s, ok := e.sources[name]; ok {
		return s.Spec.Reliability
	}
	for _, s := range e.local {
		if s.Spec.Name == name {
			return s.Spec.Reliability
		}
	}
	return score.SpecReliability(name)
}
