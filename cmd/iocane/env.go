package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/iocane/iocane/internal/cache"
	"github.com/iocane/iocane/internal/config"
	"github.com/iocane/iocane/internal/enrich"
	_ "github.com/iocane/iocane/internal/provider/all" // every provider registers itself
	"github.com/iocane/iocane/internal/score"
	"github.com/iocane/iocane/internal/store"
)

// globals are the flags every command shares.
type globals struct {
	config  string
	db      string
	verbose bool
}

var global globals

func addGlobalFlags(c *cobra.Command) {
	c.PersistentFlags().StringVar(&global.config, "config", "", "YAML config `file` (default ./iocane.yaml when present; also IOCANE_CONFIG)")
	c.PersistentFlags().StringVar(&global.db, "db", "", "embedded store `path` (default $XDG_DATA_HOME/iocane/iocane.db; also IOCANE_DB)")
	c.PersistentFlags().BoolVarP(&global.verbose, "verbose", "v", false, "log provider activity to stderr")
}

// loadConfig reads the config file and environment; a bad config is a
// usage error (exit 2) with every problem listed.
func loadConfig() (*config.Config, error) {
	c, err := config.Load(config.Options{Path: global.config})
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// openStore opens the embedded store at --db, IOCANE_DB or the default.
func openStore(ctx context.Context, c *config.Config) (*store.DB, error) {
	path := global.db
	if path == "" {
		path = c.DB
	}
	if path == "" {
		var err error
		if path, err = store.DefaultPath(); err != nil {
			return nil, err
		}
	}
	return store.Open(ctx, path)
}

// logger logs to stderr when --verbose, else nowhere. Secrets are
// provider.Secret values and print as [redacted] in any case.
func logger(stderr io.Writer) *slog.Logger {
	if !global.verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// scorePolicy reads the "scoring" section of the config.
func scorePolicy(c *config.Config) (score.Policy, error) {
	p := score.DefaultPolicy()
	if c.K.Exists("scoring") {
		if err := c.K.Unmarshal("scoring", &p); err != nil {
			return p, usagef("config: scoring: %v", err)
		}
	}
	if err := p.Validate(); err != nil {
		return p, usagef("config: scoring: %v", err)
	}
	return p, nil
}

// session is what an enrichment command works with.
type session struct {
	cfg    *config.Config
	db     *store.DB
	built  *enrich.Built
	engine *enrich.Engine
}

// newRuntime loads the config, opens the store and builds the engine;
// each build function may add to the sources' BuildOptions (serve adds its
// metrics observer).
func newRuntime(ctx context.Context, stderr io.Writer, eo enrich.Options, build ...func(*enrich.BuildOptions)) (*session, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, err
	}
	pol, err := scorePolicy(cfg)
	if err != nil {
		return nil, err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	bo := enrich.BuildOptions{Quotas: db.Quotas(), Logger: logger(stderr)}
	for _, f := range build {
		f(&bo)
	}
	built, err := enrich.BuildSources(cfg, bo)
	if err != nil {
		db.Close()
		return nil, usagef("%v", err)
	}
	routing, err := enrich.RoutingFromConfig(cfg)
	if err != nil {
		db.Close()
		return nil, usageError{err}
	}
	eo.Sources, eo.Skipped, eo.Policy, eo.Routing = built.Sources, built.Skipped, pol, routing
	eo.Classifier.Suffixes = cfg.InternalSuffixes
	eo.Cache = cache.Layered{Front: cache.NewMemory(memoryCacheEntries), Back: db.Cache()}
	e := enrich.New(eo)
	e.Start(ctx)
	return &session{cfg: cfg, db: db, built: built, engine: e}, nil
}

func (r *session) close() {
	r.engine.Close()
	r.db.Close()
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// memoryCacheEntries bounds the in-memory layer in front of the store's
// cache. A run deduplicates its IOCs, so the layer serves repeats across
// jobs and hot IOCs in the server; the store holds everything. Kept small so
// a million-IOC run stays well inside its memory budget.
const memoryCacheEntries = 10_000
