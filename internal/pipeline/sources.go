package pipeline

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/iocane/iocane/internal/config"
	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/httpx"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
)

// Skip reasons a SOC engineer will see in the output.
const (
	ReasonNoKey     = "no API key"
	ReasonDisabled  = "disabled"
	ReasonNoBaseURL = "no base URL"
)

// BuildOptions carries the shared resources sources are built on.
type BuildOptions struct {
	// Quotas holds quota counters (the SQLite store; Redis when scaled
	// out); nil keeps them in memory.
	Quotas ratelimit.QuotaStore
	// Limiters shares rate budgets by provider name; nil makes a new set.
	Limiters *ratelimit.Limiters
	// Observer hears of every request (metrics).
	Observer httpx.Observer
	// Logger is given to providers; nil discards.
	Logger *slog.Logger
	// Base is the transport under the chain (tests); nil means the default.
	Base http.RoundTripper
	// KeepRaw keeps raw provider bodies in Findings.
	KeepRaw bool
}

// Built is what BuildSources made of the configuration.
type Built struct {
	Sources []*enrich.Source
	// Skipped maps each provider that was not built to the reason.
	Skipped map[string]string
	// Quotas maps a provider to its quota, for usage reports.
	Quotas map[string]*ratelimit.Quota
}

// BuildSources builds every registered, enabled provider from c. A
// provider without its credentials is skipped with "no API key", never an
// error; so is a local source whose files are not configured. A provider
// whose settings are wrong (a file that will not load) is an error.
func BuildSources(c *config.Config, o BuildOptions) (*Built, error) {
	if o.Limiters == nil {
		o.Limiters = &ratelimit.Limiters{}
	}
	if o.Quotas == nil {
		o.Quotas = ratelimit.NewMemoryStore()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	b := &Built{Skipped: map[string]string{}, Quotas: map[string]*ratelimit.Quota{}}
	var errs []error
	for _, spec := range provider.All() {
		pc := c.Providers[spec.Name]
		rate, err := ratelimit.ParseRate(pc.Rate)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		windows, err := ratelimit.ParseQuota(pc.Quota)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		q := ratelimit.NewQuota(spec.Name, windows, o.Quotas)
		b.Quotas[spec.Name] = q
		switch {
		case !pc.Enabled:
			b.Skipped[spec.Name] = ReasonDisabled
			continue
		case len(pc.Missing(spec)) > 0 && !spec.OptionalKey:
			b.Skipped[spec.Name] = ReasonNoKey
			continue
		case spec.OptionalKey && pc.Secrets["api_key"].IsZero() && !pc.EnabledSet:
			// Keyless use works, but sends IOCs to a third party the
			// user has not configured: only on explicit enabled: true.
			b.Skipped[spec.Name] = ReasonNoKey
			continue
		case !spec.Local && pc.BaseURL == "":
			b.Skipped[spec.Name] = ReasonNoBaseURL + " (IOCANE_" + strings.ToUpper(spec.Name) + "_BASE_URL)"
			continue
		}
		cfg := pc.ProviderConfig()
		cfg.Logger = o.Logger.With("provider", spec.Name)
		cfg.KeepRaw = o.KeepRaw
		var lim ratelimit.Limiter
		if !spec.Local {
			lim, err = o.Limiters.Get(spec.Name, rate)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			cfg.HTTP = httpx.NewClient(httpx.Options{
				Name: spec.Name, Limiter: lim, Quota: q, Observer: o.Observer, Base: o.Base,
				RetryPOST: true, // every provider POST here is a read-only query
			})
		}
		p, err := spec.New(cfg)
		if err != nil {
			if errors.Is(err, provider.ErrNotConfigured) {
				b.Skipped[spec.Name] = "not configured"
				continue
			}
			errs = append(errs, fmt.Errorf("%s: %w", spec.Name, err))
			continue
		}
		src := &enrich.Source{Spec: spec, Provider: p, MaxTLP: pc.MaxTLP, Rate: rate, Logger: cfg.Logger, Quota: q}
		if cfg.HTTP != nil {
			src.Breaker = httpx.BreakerOf(cfg.HTTP)
		}
		if p, ok := lim.(ratelimit.Pacer); ok && !spec.Local {
			src.Pacer = p
		}
		b.Sources = append(b.Sources, src)
	}
	return b, errors.Join(errs...)
}
