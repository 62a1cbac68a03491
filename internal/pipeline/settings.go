package pipeline

import (
	"errors"
	"fmt"
	"github.com/iocane/iocane/internal/feeds"
	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/mailbox"
	"os"
	"strings"

	"github.com/iocane/iocane/internal/config"
	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/integrations/notify"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/redisx"
	"github.com/iocane/iocane/internal/report"
	"github.com/iocane/iocane/internal/score"
	"github.com/iocane/iocane/internal/server"
	"github.com/iocane/iocane/internal/settings"
	"github.com/iocane/iocane/internal/store"
)

// ConfigError is a problem with the configuration or the flags, found
// before anything was opened: the command maps it to exit status 2.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// configErr wraps err, when not nil, as a *ConfigError.
func configErr(err error) error {
	if err == nil {
		return nil
	}
	return &ConfigError{err}
}

// sections are the top-level config sections other packages own, each
// loaded by its owner in LoadSettings; config owns the rest (db, tlp,
// internal_suffixes, admin_token, providers) and refuses anything else.
var sections = []string{score.Section, enrich.RoutingSection, server.Section, notify.Section, integrations.Section, report.Section, history.Section, enrich.TieringSection, enrich.PivotSection, feeds.Section, mailbox.Section, redisx.Section, StoreSection, JobsSection}

// Settings is the whole configuration, each section loaded and validated by
// its owner. Loading it opens nothing.
type Settings struct {
	Config       *config.Config
	Policy       score.Policy
	Routing      map[ioc.Type][]string
	Server       server.Config
	Notify       notify.Config
	Integrations integrations.Config
	Report       report.Settings
	History      history.Settings
	// Tiering and Tiers are the tiering section (enrich.LoadTiering).
	Tiering bool
	Tiers   map[string]enrich.Tier
	Pivot   enrich.PivotSettings
	// Feeds are the threat feeds kept in the store (internal/feeds).
	Feeds []feeds.Feed
	// Mailboxes are the reported-phishing mailboxes (internal/mailbox).
	Mailboxes []mailbox.Config
	// Redis is the shared Redis of a scaled-out fleet (internal/redisx);
	// not Enabled by default.
	Redis redisx.Settings
	// Store is the shared PostgreSQL store (store.url); the SQLite file
	// when none.
	Store StoreSettings
	// Jobs tunes the job queue across replicas (jobs.rescue_after).
	Jobs JobsSettings
}

// LoadSettings reads the config file and the environment and has every
// section loaded by its owner. Every problem is a *ConfigError; a key that
// nobody claims is named with its file and the nearest valid key.
func LoadSettings(o Options) (*Settings, error) {
	cfg, err := config.Load(config.Options{Path: o.ConfigPath, Environ: o.Environ, Sections: sections})
	if err != nil {
		return nil, configErr(err)
	}
	getenv := o.getenv()
	s := &Settings{Config: cfg}
	var errs []error
	collect := func(err error) { errs = append(errs, err) }
	s.Policy, err = score.LoadPolicy(cfg.K)
	collect(err)
	s.Routing, err = enrich.LoadRouting(cfg.K)
	collect(err)
	s.Server, err = server.LoadConfig(cfg.K, getenv)
	collect(err)
	s.Notify, err = notify.LoadConfig(cfg.K, getenv)
	collect(err)
	s.Integrations, err = integrations.LoadConfig(cfg.K)
	collect(err)
	s.Report, err = report.LoadSettings(cfg.K, getenv)
	collect(err)
	s.History, err = history.LoadSettings(cfg.K, getenv)
	collect(err)
	s.Tiering, s.Tiers, err = enrich.LoadTiering(cfg.K, getenv)
	collect(err)
	s.Pivot, err = enrich.LoadPivot(cfg.K, getenv)
	collect(err)
	s.Feeds, err = feeds.LoadConfig(cfg.K, getenv)
	collect(err)
	s.Mailboxes, err = mailbox.LoadConfig(cfg.K, getenv)
	collect(err)
	s.Redis, err = redisx.LoadSettings(cfg.K, getenv)
	collect(err)
	s.Store, s.Jobs, err = loadBackends(cfg.K, getenv)
	collect(err)
	err = errors.Join(errs...)
	for _, e := range settings.UnknownKeys(err) {
		e.Source = cfg.Origin(e.Key)
	}
	if err != nil {
		return nil, configErr(err)
	}
	return s, nil
}

// Quotas returns each enabled provider's quota windows, for the report.
func (s *Settings) Quotas() map[string][]ratelimit.Window {
	out := map[string][]ratelimit.Window{}
	for name, p := range s.Config.Providers {
		if !p.Enabled {
			continue
		}
		if ws, err := ratelimit.ParseQuota(p.Quota); err == nil && len(ws) > 0 {
			out[name] = ws // config.Load validated every quota
		}
	}
	return out
}

// getenv looks names up in o.Environ, or the process environment.
func (o Options) getenv() func(string) string {
	if o.Environ == nil {
		return os.Getenv
	}
	return func(name string) string {
		for _, kv := range o.Environ {
			if k, v, ok := strings.Cut(kv, "="); ok && k == name {
				return v
			}
		}
		return ""
	}
}

// dbPath is --db, else IOCANE_DB or the config's db, else the default.
func (s *Settings) dbPath(flag string) (string, error) {
	switch {
	case flag != "":
		return flag, nil
	case s.Config.DB != "":
		return s.Config.DB, nil
	}
	p, err := store.DefaultPath()
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return p, nil
}
