package integrations

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/knadh/koanf/v2"

	"github.com/iocane/iocane/internal/provider"
)

// Settings are one sink's resolved settings: the YAML section
// integrations.<name> with IOCANE_<NAME>_<SETTING> variables applied
// (internal/config maps them).
type Settings struct {
	Name    string
	Values  map[string]string
	Secrets map[string]provider.Secret
}

// Get returns a setting, "" when unset.
func (s Settings) Get(key string) string { return s.Values[key] }

// Secret returns a credential setting.
func (s Settings) Secret(key string) provider.Secret { return s.Secrets[key] }

// Env is what a sink constructor gets besides its settings.
type Env struct {
	// Transport replaces the HTTP transport (tests); nil means httpx's.
	Transport http.RoundTripper
	// Timeout bounds each request. Default 30 s.
	Timeout time.Duration
	// Logger is the server's logger; nil discards.
	Logger *slog.Logger
}

// SinkSpec describes a write-back sink, registered by its package's init.
type SinkSpec struct {
	Name string
	// Required settings: the sink is configured when any is set, and then
	// all must be.
	Required []string
	// Secrets names the settings that hold credentials.
	Secrets []string
	// Optional names the other settings, with their defaults as
	// documentation ("" for none).
	Optional map[string]string
	// URLs names the settings that must be http(s) URLs.
	URLs []string
	// New builds the sink; it validates and does no I/O.
	New func(s Settings, env Env) (Sink, error)
}

var (
	specMu sync.Mutex
	specs  = map[string]SinkSpec{}
)

// Register adds a sink kind; a duplicate name panics.
func Register(s SinkSpec) {
	specMu.Lock()
	defer specMu.Unlock()
	if _, dup := specs[s.Name]; dup {
		panic("integrations: sink registered twice: " + s.Name)
	}
	specs[s.Name] = s
}

// Specs returns the registered sinks, by name.
func Specs() []SinkSpec {
	specMu.Lock()
	defer specMu.Unlock()
	out := make([]SinkSpec, 0, len(specs))
	for _, s := range specs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Config is the "integrations" section of iocane.yaml:
//
//	integrations:
//	  max_attempts: 6          # per delivery, first included; default 6
//	  max_elapsed: 15m         # default 15m
//	  backoff_base: 2s         # default 2s (doubling, ±50 % jitter)
//	  backoff_max: 2m          # default 2m
//	  attempt_timeout: 1m      # default 1m
//	  concurrency: 4           # attempts in flight per sink; default 4
//	  thehive:    {base_url: https://thehive.example.org, api_key: ...}
//	  splunk:     {hec_url: https://splunk.example.org:8088, token: ...}
//	  splunksoar: {base_url: https://soar.example.org, token: ...}
//	  xsoar:      {base_url: https://xsoar.example.org, api_key: ...}
//	  webhook:    {url: https://hooks.example.org/iocane, signing_secret: ...}
//
// Every sink setting also comes from IOCANE_<SINK>_<SETTING>
// (IOCANE_THEHIVE_API_KEY, IOCANE_SPLUNK_HEC_URL, ...); a sink is on when
// its required settings are given, unless enabled: false.
type Config struct {
	Sinks          []Settings
	MaxAttempts    int
	MaxElapsed     time.Duration
	BackoffBase    time.Duration
	BackoffMax     time.Duration
	AttemptTimeout time.Duration
	Concurrency    int
}

// dispatchKeys are the integrations.* settings that are not sinks.
var dispatchKeys = []string{"max_attempts", "max_elapsed", "backoff_base", "backoff_max", "attempt_timeout", "concurrency"}

// Section is the config section write-back is configured by.
const Section = "integrations"

// LoadConfig reads the integrations section of k (nil for none) and
// validates it. No message holds a secret.
func LoadConfig(k *koanf.Koanf) (Config, error) {
	var c Config
	if k == nil || !k.Exists("integrations") {
		return c, nil
	}
	var errs []error
	known := map[string]SinkSpec{}
	for _, s := range Specs() {
		known[s.Name] = s
	}
	for _, key := range k.MapKeys("integrations") {
		if _, ok := known[key]; !ok && !slices.Contains(dispatchKeys, key) {
			errs = append(errs, fmt.Errorf("integrations.%s: unknown setting or sink (sinks: %s; settings: %s)",
				key, strings.Join(names(known), ", "), strings.Join(dispatchKeys, ", ")))
		}
	}
	intv := func(key string, dst *int) {
		if v := scalar(k.Get("integrations." + key)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("integrations.%s: want a positive number, got %q", key, v))
			}
			*dst = n
		}
	}
	dur := func(key string, dst *time.Duration) {
		if v := scalar(k.Get("integrations." + key)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("integrations.%s: want a positive duration such as 30s or 15m, got %q", key, v))
			}
			*dst = d
		}
	}
	intv("max_attempts", &c.MaxAttempts)
	intv("concurrency", &c.Concurrency)
	dur("max_elapsed", &c.MaxElapsed)
	dur("backoff_base", &c.BackoffBase)
	dur("backoff_max", &c.BackoffMax)
	dur("attempt_timeout", &c.AttemptTimeout)
	for _, spec := range Specs() {
		s, on, err := loadSink(k, spec)
		if err != nil {
			errs = append(errs, err)
		}
		if on {
			c.Sinks = append(c.Sinks, s)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func names(m map[string]SinkSpec) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func envName(sink, key string) string { return "IOCANE_" + strings.ToUpper(sink+"_"+key) }

func loadSink(k *koanf.Koanf, spec SinkSpec) (Settings, bool, error) {
	pre := "integrations." + spec.Name
	s := Settings{Name: spec.Name, Values: map[string]string{}, Secrets: map[string]provider.Secret{}}
	if !k.Exists(pre) {
		return s, false, nil
	}
	var errs []error
	enabled := true
	for _, key := range k.MapKeys(pre) {
		v := strings.TrimSpace(scalar(k.Get(pre + "." + key)))
		_, optional := spec.Optional[key]
		switch {
		case key == "enabled":
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.enabled: want true or false, got %q", pre, v))
			}
			enabled = b
		case slices.Contains(spec.Secrets, key):
			if v != "" {
				s.Secrets[key] = provider.NewSecret(v)
			}
		case slices.Contains(spec.Required, key) || optional:
			if v != "" {
				s.Values[key] = v
			}
		default:
			errs = append(errs, fmt.Errorf("%s.%s: unknown setting", pre, key))
		}
	}
	for key, def := range spec.Optional {
		if _, set := s.Values[key]; !set && def != "" {
			s.Values[key] = def
		}
	}
	any := false
	for _, key := range spec.Required {
		if s.Values[key] != "" || !s.Secrets[key].IsZero() {
			any = true
		}
	}
	if !any || !enabled {
		return s, false, errors.Join(errs...)
	}
	for _, key := range spec.Required {
		if s.Values[key] == "" && s.Secrets[key].IsZero() {
			errs = append(errs, fmt.Errorf("%s.%s is required (or %s)", pre, key, envName(spec.Name, key)))
		}
	}
	for _, key := range spec.URLs {
		if v := s.Values[key]; v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				errs = append(errs, fmt.Errorf("%s.%s: want an http(s) URL", pre, key))
			}
		}
	}
	return s, true, errors.Join(errs...)
}

// scalar renders a YAML or environment value as a string.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = scalar(e)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// Build constructs the configured sinks.
func (c Config) Build(env Env) ([]Sink, error) {
	if env.Timeout <= 0 {
		env.Timeout = 30 * time.Second
	}
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	var (
		out  []Sink
		errs []error
	)
	for _, s := range c.Sinks {
		specMu.Lock()
		spec, ok := specs[s.Name]
		specMu.Unlock()
		if !ok {
			errs = append(errs, fmt.Errorf("integrations.%s: unknown sink", s.Name))
			continue
		}
		sink, err := spec.New(s, env)
		if err != nil {
			errs = append(errs, fmt.Errorf("integrations.%s: %w", s.Name, err))
			continue
		}
		out = append(out, sink)
	}
	return out, errors.Join(errs...)
}

// Options returns the dispatcher options the config sets (the rest keep
// their defaults).
func (c Config) Options(o Options) Options {
	o.MaxAttempts, o.MaxElapsed, o.Concurrency = c.MaxAttempts, c.MaxElapsed, c.Concurrency
	o.BackoffBase, o.BackoffMax, o.AttemptTimeout = c.BackoffBase, c.BackoffMax, c.AttemptTimeout
	return o
}
