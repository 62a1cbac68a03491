package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/knadh/koanf/v2"

	"github.com/iocane/iocane/internal/dbx"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/settings"
	"github.com/iocane/iocane/internal/store"
)

// The config sections of the shared backends: store.url (PostgreSQL) and
// jobs.rescue_after.
const (
	StoreSection = "store"
	JobsSection  = "jobs"
)

// DefaultRescueAfter is how long a job may stay running on a replica that
// stopped answering before another replica takes it over.
const DefaultRescueAfter = 5 * time.Minute

// StoreSettings is the store section: where everything the SQLite file
// holds lives when several replicas share it.
type StoreSettings struct {
	// URL is the PostgreSQL database, e.g.
	// postgres://iocane@127.0.0.1:5432/iocane. Default none: the store is
	// the SQLite file (db, --db). IOCANE_DATABASE_URL overrides it.
	URL string `koanf:"url"`
}

// Postgres reports whether the store is PostgreSQL.
func (s StoreSettings) Postgres() bool { return s.URL != "" }

// Redacted is the URL without its password, for logs and errors.
func (s StoreSettings) Redacted() string {
	u, err := url.Parse(s.URL)
	if err != nil {
		return "(unparsable store.url)"
	}
	return u.Redacted()
}

// JobsSettings is the jobs section.
type JobsSettings struct {
	// RescueAfter is how long a running job whose replica died waits
	// before another replica runs it again ("5m"). Default 5m.
	// IOCANE_JOBS_RESCUE_AFTER overrides it.
	RescueAfter string        `koanf:"rescue_after"`
	Rescue      time.Duration `koanf:"-"`
}

// loadBackends reads the store and jobs sections; the environment wins.
func loadBackends(k *koanf.Koanf, getenv func(string) string) (StoreSettings, JobsSettings, error) {
	var st StoreSettings
	var js JobsSettings
	if err := settings.Decode(k, StoreSection, &st); err != nil {
		return st, js, settings.Wrap("config: ", err)
	}
	if err := settings.Decode(k, JobsSection, &js); err != nil {
		return st, js, settings.Wrap("config: ", err)
	}
	if v := strings.TrimSpace(getenv("IOCANE_DATABASE_URL")); v != "" {
		st.URL = v
	}
	st.URL = strings.TrimSpace(st.URL)
	if st.URL != "" {
		u, err := url.Parse(st.URL)
		if err != nil || !store.IsURL(st.URL) || u.Host == "" {
			return st, js, fmt.Errorf("config: store.url: want postgres://user@host:5432/database, got %s", st.Redacted())
		}
	}
	if v := strings.TrimSpace(getenv("IOCANE_JOBS_RESCUE_AFTER")); v != "" {
		js.RescueAfter = v
	}
	js.Rescue = DefaultRescueAfter
	if js.RescueAfter != "" {
		d, err := time.ParseDuration(js.RescueAfter)
		if err != nil || d < time.Second {
			return st, js, fmt.Errorf("config: jobs.rescue_after: %q is not a duration of a second or more (e.g. 5m, 30s)", js.RescueAfter)
		}
		js.Rescue = d
	}
	return st, js, nil
}

// openStore opens the store the settings name: PostgreSQL with store.url,
// else the SQLite file (the --db flag, db, or the default path).
func openStore(ctx context.Context, s *Settings, dbFlag string, noMigrate bool) (*store.DB, error) {
	if s.Store.Postgres() {
		db, err := store.OpenURL(ctx, s.Store.URL, store.URLOptions{NoMigrate: noMigrate})
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", s.Store.Redacted(), err)
		}
		return db, nil
	}
	path, err := s.dbPath(dbFlag)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, path)
}

// Migrate applies the store's migrations (iocane db migrate) and says
// which store it migrated, its password redacted.
func Migrate(ctx context.Context, s *Settings, dbFlag string) (string, error) {
	db, err := openStore(ctx, s, dbFlag, false) // opening migrates, on PostgreSQL under the advisory lock
	if err != nil {
		return "", err
	}
	return db.Path(), db.Close()
}

// queuePools opens the job queue's pools on the store (River's pgx pool
// too on PostgreSQL) and returns the queue options that name them, with
// jobs.rescue_after, and the function that closes them after the queue.
func (p *Pipeline) queuePools(ctx context.Context) (jobs.Options, func(), error) {
	w, r, err := p.Store.QueuePools()
	if err != nil {
		return jobs.Options{}, nil, err
	}
	o := jobs.Options{DB: w, Reader: r, Dialect: p.Store.Dialect(), RescueAfter: p.Settings.Jobs.Rescue}
	closeAll := func() { r.Close(); w.Close() }
	if o.Dialect == dbx.Postgres {
		if o.Pool, err = p.Store.RiverPool(ctx); err != nil {
			closeAll()
			return jobs.Options{}, nil, err
		}
		pool := o.Pool
		closeAll = func() { pool.Close(); r.Close(); w.Close() }
	}
	return o, closeAll, nil
}

// storeWatch is how often a replica checks that PostgreSQL answers.
const storeWatch = 2 * time.Second

// watchStore keeps iocane_backend_up{backend="postgres"} current and logs
// an outage and the recovery once each, until ctx ends. /readyz and every
// request find out for themselves; this is for the metric and the log.
func (p *Pipeline) watchStore(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(storeWatch)
	defer t.Stop()
	up := true
	p.Backends.Set("postgres", true)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, storeWatch)
		err := p.Store.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && up:
			log.Warn("PostgreSQL is unreachable: webhooks and job submissions answer 503 until it is back", "backend", "postgres", "error", err)
		case err == nil && !up:
			log.Info("PostgreSQL answers again", "backend", "postgres")
		}
		up = err == nil
		p.Backends.Set("postgres", up)
	}
}
