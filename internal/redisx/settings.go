package redisx

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/knadh/koanf/v2"
	"github.com/redis/go-redis/v9"

	"github.com/iocane/iocane/internal/settings"
)

// Section is the config section the Redis settings are read from.
const Section = "redis"

// DefaultFallbackShare is the share of a provider's rate each replica
// keeps while Redis is unreachable: a third, for three replicas.
const DefaultFallbackShare = 1.0 / 3

// Settings is the redis section of the config.
type Settings struct {
	// URL is the Redis server, e.g. redis://:password@127.0.0.1:6379/0
	// (rediss:// for TLS). Default none: limits, quotas and the cache stay
	// in the process and its SQLite file. IOCANE_REDIS_URL overrides it.
	URL URL `koanf:"url"`
	// FallbackShare is the share of each provider's rate a replica keeps
	// while Redis is unreachable: "1/3" or a decimal in (0,1]. Default 1/3.
	// IOCANE_REDIS_FALLBACK_SHARE overrides it.
	FallbackShare string `koanf:"fallback_share"`
	// Share is FallbackShare parsed.
	Share float64 `koanf:"-"`
}

// Enabled reports whether a Redis URL is configured.
func (s Settings) Enabled() bool { return s.URL != "" }

// LoadSettings reads the redis section of k; the environment wins.
func LoadSettings(k *koanf.Koanf, getenv func(string) string) (Settings, error) {
	var s Settings
	if err := settings.Decode(k, Section, &s); err != nil {
		return s, settings.Wrap("config: ", err)
	}
	if v := strings.TrimSpace(getenv("IOCANE_REDIS_URL")); v != "" {
		s.URL = URL(v)
	}
	if v := strings.TrimSpace(getenv("IOCANE_REDIS_FALLBACK_SHARE")); v != "" {
		s.FallbackShare = v
	}
	s.URL = URL(strings.TrimSpace(string(s.URL)))
	if s.URL != "" {
		if _, err := s.URL.Options(); err != nil {
			return s, fmt.Errorf("config: redis.url: %w", err)
		}
	}
	s.Share = DefaultFallbackShare
	if strings.TrimSpace(s.FallbackShare) != "" {
		share, err := ParseShare(s.FallbackShare)
		if err != nil {
			return s, fmt.Errorf("config: redis.fallback_share: %w", err)
		}
		s.Share = share
	}
	return s, nil
}

// ParseShare reads a share of a rate: a fraction "1/3" or a decimal in
// (0,1] such as "0.5".
func ParseShare(v string) (float64, error) {
	v = strings.TrimSpace(v)
	bad := fmt.Errorf("%q: want a fraction such as 1/3 or a decimal in (0,1] such as 0.5", v)
	var share float64
	if num, den, ok := strings.Cut(v, "/"); ok {
		n, err1 := strconv.ParseFloat(strings.TrimSpace(num), 64)
		d, err2 := strconv.ParseFloat(strings.TrimSpace(den), 64)
		if err1 != nil || err2 != nil || d == 0 {
			return 0, bad
		}
		share = n / d
	} else {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, bad
		}
		share = f
	}
	if !(share > 0 && share <= 1) { // also refuses NaN
		return 0, bad
	}
	return share, nil
}

// URL is a Redis URL that redacts its password wherever it is printed
// (String, LogValue, MarshalJSON); string(u) is the URL itself.
type URL string

// String returns the URL with its password replaced by "xxxxx".
func (u URL) String() string { return redact(string(u)) }

// GoString is String, so %#v redacts too.
func (u URL) GoString() string { return strconv.Quote(u.String()) }

// LogValue implements slog.LogValuer.
func (u URL) LogValue() slog.Value { return slog.StringValue(u.String()) }

// MarshalJSON writes the redacted URL.
func (u URL) MarshalJSON() ([]byte, error) { return json.Marshal(u.String()) }

// Options parses the URL into go-redis options. Its errors never repeat
// the password.
func (u URL) Options() (*redis.Options, error) {
	raw := string(u)
	p, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: not a URL (want redis://[user:password@]host:port[/db] or rediss://...)", u)
	}
	if p.Scheme != "redis" && p.Scheme != "rediss" {
		return nil, fmt.Errorf("%s: scheme must be redis or rediss, not %q", u, p.Scheme)
	}
	o, err := redis.ParseURL(raw)
	if err != nil {
		msg := err.Error()
		if pw, ok := p.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
		return nil, fmt.Errorf("%s: %s", u, msg)
	}
	return o, nil
}

// redact hides the password of a URL; a value that does not parse is
// hidden whole, as it may hold one.
func redact(raw string) string {
	if raw == "" {
		return ""
	}
	p, err := url.Parse(raw)
	if err != nil {
		return "[redacted]"
	}
	return p.Redacted()
}
