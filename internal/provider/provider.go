// Package provider defines what a threat-intelligence source is to iocane: the
// Provider interface, the Spec each source registers, the normalised Finding
// it returns, the errors it may fail with, and the Secret type that keeps
// credentials out of every log line and output.
//
// Providers are synchronous and stateless: Lookup makes the provider's real
// API call(s) and maps the answer. Concurrency, caching, rate limits, quotas,
// retries and deadlines belong to the HTTP client passed in Config (package
// httpx) and to the enrichment engine, so every provider gets them alike.
package provider

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

// Provider looks up one IOC at one source.
type Provider interface {
	// Lookup returns a Finding with Status ok or not_found, or an error
	// (see ErrUnauthorized, ErrRateLimited, *HTTPError, httpx errors).
	// It never calls out for a type the Spec does not list.
	Lookup(ctx context.Context, i ioc.IOC) (Finding, error)
}

// Reliability grades a source as XSOAR does, A (completely reliable) to F
// (reliability cannot be judged).
type Reliability string

// Source reliability grades, with XSOAR's wording.
const (
	ReliabilityA Reliability = "A - Completely reliable"
	ReliabilityB Reliability = "B - Usually reliable"
	ReliabilityC Reliability = "C - Fairly reliable"
	ReliabilityD Reliability = "D - Not usually reliable"
	ReliabilityE Reliability = "E - Unreliable"
	ReliabilityF Reliability = "F - Reliability cannot be judged"
)

// Weight is the grade as a weight in [0,1] for scoring.
func (r Reliability) Weight() float64 {
	if r == "" {
		return 0.5
	}
	switch r[0] {
	case 'A':
		return 1.0
	case 'B':
		return 0.8
	case 'C':
		return 0.6
	case 'D':
		return 0.4
	case 'E':
		return 0.2
	}
	return 0.3
}

// Spec describes a provider and how to build it. Each provider package
// registers one in init().
type Spec struct {
	// Name is the provider's contract name (docs/design.md), e.g. "virustotal".
	Name string
	// Types lists the IOC types the provider can look up.
	Types []ioc.Type
	// Credentials names the secret settings that must all be set, e.g.
	// "api_key", or "tenant_id", "client_id", "client_secret". Empty for
	// keyless sources.
	Credentials []string
	// WaivedBy names, for a credential of Credentials, the setting that
	// makes it unnecessary: Defender TI's tenant_id is only needed to build
	// the default token URL, so setting token_url waives it.
	WaivedBy map[string]string
	// OptionalKey is true for sources that work without a key but take one
	// (abuse.ch now requires Auth-Key; GreyNoise community works keyless).
	OptionalKey bool
	// BaseURL is the documented API base (IOCANE_<P>_BASE_URL overrides it).
	// Empty for MISP, whose base is your own instance and must be configured.
	BaseURL string
	// Rate is the default request rate, e.g. "4/m" (the free tier).
	Rate string
	// Quota is the default quota, e.g. "500/d" or "500/d,15500/mo"; empty
	// when the provider documents none.
	Quota string
	// TTL is how long a found answer is cached; NotFoundTTL how long a
	// not-found answer is.
	TTL, NotFoundTTL time.Duration
	// MaxTLP is the most restricted marking the provider may receive.
	MaxTLP tlp.Level
	// Discloses is true when a look-up reveals the IOC to a third party.
	Discloses bool
	// Local is true for sources that need no network (allow-lists, GeoIP).
	Local bool
	// Context is true for sources whose answer is context, not evidence:
	// an ok Finding carries no signal, and its Data[DataDiscount] is the
	// share by which scoring lowers the other third-party sources'
	// malicious signals (known infrastructure, see package knowninfra).
	Context bool
	// Reliability is the XSOAR source reliability grade.
	Reliability Reliability
	// Settings declares the provider's own settings, beyond those every
	// provider takes (see AllSettings).
	Settings []Setting
	// New builds the provider. It validates cfg and does no I/O.
	New func(cfg Config) (Provider, error)
}

// Supports reports whether the provider handles type t.
func (s Spec) Supports(t ioc.Type) bool { return slices.Contains(s.Types, t) }

// Config is what a provider is built from. The caller (config loading and
// the engine) fills it; providers only read it.
type Config struct {
	// BaseURL is the API base, without a trailing slash.
	BaseURL string
	// Secrets holds the credentials named in Spec.Credentials (plus api_key
	// for OptionalKey sources when set).
	Secrets map[string]Secret
	// Settings holds the provider's other settings from YAML or the
	// environment, by lower-case name ("token_url", "max_age_days", "paths").
	Settings map[string]string
	// HTTP is the client to make every request with: the shared httpx chain
	// (rate limit, quota, retry, breaker, size cap, timeout). Never nil.
	HTTP *http.Client
	// Logger is the provider's logger. Never nil.
	Logger *slog.Logger
	// KeepRaw asks the provider to fill Finding.Raw.
	KeepRaw bool
}

// Secret returns the named credential (zero when unset).
func (c Config) Secret(name string) Secret { return c.Secrets[name] }

// Setting returns the named setting, or def when unset.
func (c Config) Setting(name, def string) string {
	if v, ok := c.Settings[name]; ok && v != "" {
		return v
	}
	return def
}

var (
	regMu sync.RWMutex
	specs = map[string]Spec{}
	// declared holds the specs the loaded configuration declares (see
	// Declare), apart from the built-ins so that a later load replaces them.
	declared = map[string]Spec{}
)

// Register adds a provider Spec. It panics on a duplicate or incomplete Spec,
// as database/sql.Register does: both are programming errors.
func Register(s Spec) {
	regMu.Lock()
	defer regMu.Unlock()
	if s.Name == "" || s.New == nil || len(s.Types) == 0 {
		panic(fmt.Sprintf("provider: incomplete spec %q", s.Name))
	}
	if _, dup := specs[s.Name]; dup {
		panic("provider: Register called twice for " + s.Name)
	}
	specs[s.Name] = s
}

// Declare replaces the set of specs the configuration declares (providers
// defined in YAML rather than in code, see package httpdecl) with ss; Get
// and All then return them beside the registered ones. Configuration is
// loaded once per process, but a process may load another (tests do), so
// each call replaces the whole set: Declare(nil) removes every declared
// spec. Unlike Register it returns an error, since the specs come from the
// user's file: an incomplete spec, a name given twice or a registered
// (built-in) name, which can never be replaced. On an error the declared
// set is left as it was.
func Declare(ss []Spec) error {
	regMu.Lock()
	defer regMu.Unlock()
	next := make(map[string]Spec, len(ss))
	for _, s := range ss {
		_, builtin := specs[s.Name]
		_, dup := next[s.Name]
		switch {
		case s.Name == "" || s.New == nil || len(s.Types) == 0:
			return fmt.Errorf("provider: incomplete declared spec %q", s.Name)
		case builtin:
			return fmt.Errorf("provider: %q is a built-in provider's name", s.Name)
		case dup:
			return fmt.Errorf("provider: %q declared twice", s.Name)
		}
		next[s.Name] = s
	}
	declared = next
	return nil
}

// Get returns the registered or declared Spec called name.
func Get(name string) (Spec, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	if s, ok := specs[name]; ok {
		return s, true
	}
	s, ok := declared[name]
	return s, ok
}

// All returns every registered and declared Spec, sorted by name.
func All() []Spec {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]Spec, 0, len(specs)+len(declared))
	for _, s := range specs {
		out = append(out, s)
	}
	for name, s := range declared {
		if _, builtin := specs[name]; !builtin {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Batcher is implemented by providers whose API answers many IOCs in one
// request (Safe Browsing: up to 500 entries). The engine prefers it for bulk
// runs. The returned Findings are in the order of is; an error fails the
// whole batch.
type Batcher interface {
	LookupBatch(ctx context.Context, is []ioc.IOC) ([]Finding, error)
	// MaxBatch is the most IOCs one call may carry.
	MaxBatch() int
}
