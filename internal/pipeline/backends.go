package pipeline

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/knadh/koanf/v2"

	"github.com/iocane/iocane/internal/settings"
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
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
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
