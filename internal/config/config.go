// Package config loads iocane's configuration: a YAML file, overridden by
// IOCANE_* environment variables, overridden by flags (docs/design.md). It
// validates everything at start-up, so a typo in a provider name, a rate or a
// TLP marking is a clear error before any look-up is made.
//
// Provider settings live under providers.<name> in YAML and in
// IOCANE_<NAME>_<SETTING> variables (IOCANE_VIRUSTOTAL_API_KEY,
// IOCANE_MISP_BASE_URL, IOCANE_ABUSEIPDB_RATE, IOCANE_SHODAN_ENABLED=false).
// Credentials are held as provider.Secret and never printed.
//
// A providers.<name> block with kind: http declares a provider in YAML
// rather than in code (package httpdecl, docs/declarative-providers.md).
// Load compiles such blocks from the file before anything else, and
// declares them (provider.Declare), so that IOCANE_<NAME>_* variables,
// settings, routing and the pipeline treat them as registered providers.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"

	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/httpdecl"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/settings"
	"github.com/iocane/iocane/internal/tlp"
)

// DefaultFile is read when present and no --config is given.
const DefaultFile = "iocane.yaml"

// Config is the loaded, validated configuration.
type Config struct {
	// File is the YAML file read, "" when none.
	File string
	// DB is the embedded store's path (IOCANE_DB, --db); "" means the
	// default in the user's data directory.
	DB string
	// TLP is the marking given to untagged input. Default amber.
	TLP tlp.Level
	// InternalSuffixes are corporate domain suffixes that are internal, on
	// top of .local, .internal, .lan, .corp, .home.arpa and the like.
	InternalSuffixes []string
	// Providers holds each registered provider's resolved settings.
	Providers map[string]Provider
	// K is the merged raw configuration, for sections other packages own
	// (routing, score, server, integrations).
	K *koanf.Koanf
	// file is what the file alone holds, to tell where a key came from.
	file *koanf.Koanf
	// declared names the providers the file declares (kind: http).
	declared map[string]bool
}

// Provider is one provider's resolved settings.
type Provider struct {
	Name    string
	Enabled bool
	// EnabledSet is true when enabled was given explicitly. A provider that
	// works without a key (GreyNoise community, urlscan search) is asked
	// keyless only when explicitly enabled: nothing goes to a third party
	// the user did not configure.
	EnabledSet bool
	// BaseURL is the configured base, or the Spec's documented default.
	BaseURL string
	// Rate and Quota are the configured limits, or the Spec's free-tier defaults.
	Rate, Quota string
	// MaxTLP is the most restricted marking the provider may receive: the
	// Spec's, unless configured lower. Configuring it higher is an error.
	MaxTLP   tlp.Level
	Secrets  map[string]provider.Secret
	Settings map[string]string
}

// Missing lists the credentials spec needs that p lacks (a credential whose
// Spec.WaivedBy setting is set is not needed).
func (p Provider) Missing(spec provider.Spec) []string {
	var out []string
	for _, c := range spec.Credentials {
		if w, ok := spec.WaivedBy[c]; ok && p.Settings[w] != "" {
			continue
		}
		if p.Secrets[c].IsZero() {
			out = append(out, c)
		}
	}
	return out
}

// ProviderConfig turns p into the provider.Config a Spec.New receives,
// without the HTTP client and logger, which the engine adds.
func (p Provider) ProviderConfig() provider.Config {
	return provider.Config{BaseURL: strings.TrimRight(p.BaseURL, "/"), Secrets: p.Secrets, Settings: p.Settings}
}

// Options says where to load from.
type Options struct {
	// Path is --config; when empty, DefaultFile is read if present.
	Path string
	// Environ replaces os.Environ (tests).
	Environ []string
	// Sections are the top-level keys that other packages own and load
	// (scoring, routing, server, ...). Any other top-level key that is not
	// config's own is refused, so a misspelled section is an error rather
	// than silently ignored.
	Sections []string
}

// ownKeys are the top-level keys config itself reads.
var ownKeys = []string{"db", "tlp", "internal_suffixes", "admin_token", "providers"}

// Origin says where key was given: the config file's path when the file
// holds it, else the environment variable that set it, e.g.
// "environment (IOCANE_VIRUSTOTAL_RATE)".
func (c *Config) Origin(key string) string {
	if c.file != nil && c.file.Exists(key) {
		return c.File
	}
	name := key
	for _, section := range []string{"providers.", "integrations."} {
		name = strings.TrimPrefix(name, section)
	}
	return "environment (IOCANE_" + strings.ToUpper(strings.ReplaceAll(name, ".", "_")) + ")"
}

// Load reads the file and the environment and validates the result. It
// declares the providers the file declares (see declare); a load that
// fails declares none.
func Load(o Options) (_ *Config, err error) {
	defer func() {
		if err != nil {
			_ = provider.Declare(nil)
		}
	}()
	k := koanf.New(".")
	path := o.Path
	explicit := path != ""
	environ := o.Environ
	if environ == nil {
		environ = os.Environ()
	}
	if !explicit {
		if v := lookupEnv(environ, "IOCANE_CONFIG"); v != "" {
			path, explicit = v, true
		} else {
			path = DefaultFile
		}
	}
	c := &Config{TLP: tlp.Default, Providers: map[string]Provider{}, K: k, file: koanf.New(".")}
	if _, err := os.Stat(path); err == nil {
		if err := c.file.Load(file.Provider(path), yaml.Parser()); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
		k.Merge(c.file)
		c.File = path
	} else if explicit {
		return nil, fmt.Errorf("config: %w", err)
	}
	// Declared providers first: their names map IOCANE_<NAME>_* variables.
	if err := c.declare(); err != nil {
		for _, e := range settings.UnknownKeys(err) {
			e.Source = c.Origin(e.Key)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	names := providerNames()
	if err := k.Load(env.Provider(".", env.Opt{
		Prefix:        "IOCANE_",
		EnvironFunc:   func() []string { return environ },
		TransformFunc: func(key, v string) (string, any) { return envKey(names, key), v },
	}), nil); err != nil {
		return nil, fmt.Errorf("config: environment: %w", err)
	}
	if err := c.checkSections(o.Sections); err != nil {
		return nil, err
	}
	return c, c.resolve(names)
}

// declare compiles every providers.<name> block of the file that has a kind
// key (only kind: http exists) and declares the result, replacing whatever
// an earlier Load declared; on an error it declares none. A declared
// provider may not take a built-in's name, nor one whose variables would
// shadow another provider's (see envShadow).
func (c *Config) declare() error {
	c.declared = map[string]bool{}
	if err := provider.Declare(nil); err != nil { // Get now sees built-ins only
		return err
	}
	var specs []provider.Spec
	var errs []error
	for _, name := range c.file.MapKeys("providers") {
		pre := "providers." + name
		if !c.file.Exists(pre + ".kind") {
			continue
		}
		block, _ := c.file.Get(pre).(map[string]any)
		if _, builtin := provider.Get(name); builtin {
			errs = append(errs, fmt.Errorf("%s.kind: %s is a built-in provider; give the declared provider another name", pre, name))
			continue
		}
		if kind := scalar(c.file.Get(pre + ".kind")); kind != httpdecl.Kind {
			errs = append(errs, fmt.Errorf("%s.kind: unknown kind %q (want %s)", pre, kind, httpdecl.Kind))
			continue
		}
		spec, err := httpdecl.Parse(name, block)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		specs = append(specs, spec)
	}
	if len(errs) == 0 {
		errs = append(errs, envShadow(append(provider.All(), specs...), specs))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := provider.Declare(specs); err != nil {
		return err
	}
	for _, s := range specs {
		c.declared[s.Name] = true
	}
	return nil
}

// envShadow refuses a declared name whose variables would take another
// provider's: IOCANE_CORP_API_KEY is providers.corp_api.key when corp_api
// is declared beside corp, whose api_key it was (names are matched longest
// first).
func envShadow(all, declared []provider.Spec) error {
	var errs []error
	for _, long := range all {
		for _, short := range all {
			rest, ok := strings.CutPrefix(long.Name, short.Name+"_")
			if !ok || !(slices.ContainsFunc(declared, func(s provider.Spec) bool { return s.Name == long.Name || s.Name == short.Name })) {
				continue
			}
			for _, st := range short.AllSettings() {
				if strings.HasPrefix(st.Name, rest+"_") {
					errs = append(errs, fmt.Errorf("providers.%s: the name takes %s's variable %s (providers.%s.%s); choose another name",
						long.Name, short.Name, st.Env(short.Name), short.Name, st.Name))
					break
				}
			}
		}
	}
	return errors.Join(errs...)
}

// unknown returns settings.Unknown's errors with their origin filled in.
func (c *Config) unknown(prefix string, keys, known []string) error {
	err := settings.Unknown(prefix, keys, known)
	for _, e := range settings.UnknownKeys(err) {
		e.Source = c.Origin(e.Key)
	}
	return err
}

// checkSections refuses every top-level key that neither config nor one of
// sections claims, naming its origin and the nearest valid key.
func (c *Config) checkSections(sections []string) error {
	known := append(slices.Clone(ownKeys), sections...)
	if err := c.unknown("", c.K.MapKeys(""), known); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// envKey maps IOCANE_VIRUSTOTAL_API_KEY to providers.virustotal.api_key and
// IOCANE_DB to db; it returns "" for variables it does not know, which koanf
// then ignores.
func envKey(providers []string, key string) string {
	rest := strings.TrimPrefix(key, "IOCANE_")
	for _, p := range providers {
		up := strings.ToUpper(p) + "_"
		if strings.HasPrefix(rest, up) && len(rest) > len(up) {
			return "providers." + p + "." + strings.ToLower(rest[len(up):])
		}
	}
	// Write-back sinks: IOCANE_THEHIVE_API_KEY → integrations.thehive.api_key.
	// IOCANE_WEBHOOK_SECRET stays the intake's secret (internal/server);
	// the outbound webhook signs with IOCANE_WEBHOOK_SIGNING_SECRET.
	for _, n := range integrationNames {
		up := strings.ToUpper(n) + "_"
		if strings.HasPrefix(rest, up) && len(rest) > len(up) && rest != "WEBHOOK_SECRET" {
			return "integrations." + n + "." + strings.ToLower(rest[len(up):])
		}
	}
	switch rest {
	case "DB", "TLP", "INTERNAL_SUFFIXES", "ADMIN_TOKEN":
		return strings.ToLower(rest)
	}
	return ""
}

// integrationNames are the write-back sinks (internal/integrations/<name>),
// longest first so that splunk cannot take splunksoar's variables.
var integrationNames = []string{"splunksoar", "thehive", "webhook", "splunk", "xsoar"}

func lookupEnv(environ []string, name string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

func providerNames() []string {
	var names []string
	for _, s := range provider.All() {
		names = append(names, s.Name)
	}
	// Longest first, so a name that prefixes another cannot steal its variables.
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	return names
}

// resolve fills the typed fields from k and validates them.
func (c *Config) resolve(names []string) error {
	k := c.K
	var errs []error
	c.DB = k.String("db")
	if v := k.String("tlp"); v != "" {
		l, err := tlp.MustParse(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("tlp: %w", err))
		}
		c.TLP = l
	}
	c.InternalSuffixes = stringList(k, "internal_suffixes")
	if err := c.unknown("providers.", k.MapKeys("providers"), names); err != nil {
		errs = append(errs, err)
	}
	for _, spec := range provider.All() {
		p, err := c.resolveProvider(spec)
		if err != nil {
			errs = append(errs, err)
		}
		c.Providers[spec.Name] = p
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// resolveProvider reads the settings of one provider, refusing any key its
// Spec does not declare.
func (c *Config) resolveProvider(spec provider.Spec) (Provider, error) {
	k, dir := c.K, c.dir()
	pre := "providers." + spec.Name + "."
	declared := spec.AllSettings()
	names := make([]string, len(declared))
	for i, d := range declared {
		names[i] = d.Name
	}
	p := Provider{
		Name: spec.Name, Enabled: true, BaseURL: spec.BaseURL, Rate: spec.Rate, Quota: spec.Quota,
		MaxTLP: spec.MaxTLP, Secrets: map[string]provider.Secret{}, Settings: map[string]string{},
	}
	var errs []error
	for _, key := range k.MapKeys(strings.TrimSuffix(pre, ".")) {
		raw := k.Get(pre + key)
		v := scalar(raw)
		i := slices.Index(names, key)
		switch {
		case c.declared[spec.Name] && slices.Contains(httpdecl.Keys, key):
			// The declaration, compiled from the file by declare.
			if !reflect.DeepEqual(raw, c.file.Get(pre+key)) {
				errs = append(errs, fmt.Errorf("environment (%s): %s%s: a declared provider's %s is read from the config file only",
					provider.Setting{Name: key}.Env(spec.Name), pre, key, key))
			}
		case i < 0:
			errs = append(errs, c.unknown(pre, []string{key}, names))
		case key == "enabled":
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%senabled: want true or false, got %q", pre, v))
			}
			p.Enabled, p.EnabledSet = b, true
		case key == "base_url":
			if v != "" {
				u, err := url.Parse(v)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					errs = append(errs, fmt.Errorf("%sbase_url: want an http(s) URL, got %q", pre, v))
				}
				p.BaseURL = v
			}
		case key == "rate":
			p.Rate = v
		case key == "quota":
			p.Quota = v
		case key == "max_tlp":
			l, err := tlp.MustParse(v)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%smax_tlp: %w", pre, err))
			case l > spec.MaxTLP:
				errs = append(errs, fmt.Errorf("%smax_tlp: %s may receive at most TLP:%s (policy: TLP:RED goes to no third party)",
					pre, spec.Name, strings.ToUpper(spec.MaxTLP.String())))
			default:
				p.MaxTLP = l
			}
		case declared[i].Secret:
			p.Secrets[key] = provider.NewSecret(v)
		case slices.Contains(fileSettings, key) && dir != "":
			p.Settings[key] = resolvePaths(dir, v)
		default:
			p.Settings[key] = v
		}
	}
	if _, err := ratelimit.ParseRate(p.Rate); err != nil {
		errs = append(errs, fmt.Errorf("%srate: %w", pre, err))
	}
	if _, err := ratelimit.ParseQuota(p.Quota); err != nil {
		errs = append(errs, fmt.Errorf("%squota: %w", pre, err))
	}
	return p, errors.Join(errs...)
}

// fileSettings name settings that hold file paths; relative paths in a
// config file are read relative to that file's directory.
var fileSettings = []string{"paths", "path", "country_db", "city_db", "asn_db"}

func (c *Config) dir() string {
	if c.File == "" {
		return ""
	}
	return filepath.Dir(c.File)
}

// resolvePaths joins each relative path of a comma-separated list to dir.
func resolvePaths(dir, v string) string {
	parts := strings.Split(v, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p != "" && !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		parts[i] = p
	}
	return strings.Join(parts, ",")
}

// scalar renders a YAML or environment value as a string; lists become
// comma-separated.
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

// stringList reads a list given as YAML list or comma-separated string.
func stringList(k *koanf.Koanf, key string) []string {
	var out []string
	for _, s := range strings.Split(scalar(k.Get(key)), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
