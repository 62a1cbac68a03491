package config

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/settings"
	"github.com/iocane/iocane/internal/tlp"
)

type nop struct{}

func (nop) Lookup(context.Context, ioc.IOC) (provider.Finding, error) { return provider.Finding{}, nil }

func init() {
	for _, name := range []string{"cfgtestvt", "cfgtestmisp"} {
		max := tlp.Amber
		if name == "cfgtestmisp" {
			max = tlp.Red
		}
		provider.Register(provider.Spec{
			Name: name, Types: []ioc.Type{ioc.IPv4}, Credentials: []string{"api_key"},
			BaseURL: "https://api.example.test/v3", Rate: "4/m", Quota: "500/d", MaxTLP: max,
			Settings: []provider.Setting{
				{Name: "paths"}, {Name: "label"}, {Name: "token_url"}, {Name: "max_age_days"},
				{Name: "client_id", Secret: true}, {Name: "client_secret", Secret: true},
			},
			New: func(provider.Config) (provider.Provider, error) { return nop{}, nil },
		})
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "iocane.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEnvOverridesFile(t *testing.T) {
	path := writeFile(t, `
tlp: green
internal_suffixes: [corp.example.com, ad.example.net]
providers:
  cfgtestvt:
    api_key: from-file
    rate: 2/m
    max_age_days: 30
`)
	c, err := Load(Options{Path: path, Environ: []string{
		"IOCANE_CFGTESTVT_API_KEY=from-env-SECRET",
		"IOCANE_CFGTESTVT_BASE_URL=http://127.0.0.1:9/api/v3/",
		"IOCANE_CFGTESTMISP_ENABLED=false",
		"IOCANE_DB=/tmp/x.db",
		"UNRELATED=1",
	}})
	if err != nil {
		t.Fatal(err)
	}
	vt := c.Providers["cfgtestvt"]
	if got := vt.Secrets["api_key"].Reveal(); got != "from-env-SECRET" {
		t.Errorf("api_key = %q, want the environment's", got)
	}
	if vt.Rate != "2/m" || vt.Quota != "500/d" {
		t.Errorf("rate/quota = %q/%q, want file rate and spec quota", vt.Rate, vt.Quota)
	}
	if vt.Settings["max_age_days"] != "30" {
		t.Errorf("settings = %v", vt.Settings)
	}
	if pc := vt.ProviderConfig(); pc.BaseURL != "http://127.0.0.1:9/api/v3" {
		t.Errorf("base URL = %q, want trailing slash trimmed", pc.BaseURL)
	}
	if c.Providers["cfgtestmisp"].Enabled {
		t.Error("IOCANE_CFGTESTMISP_ENABLED=false did not disable it")
	}
	if c.DB != "/tmp/x.db" || c.TLP != tlp.Green || strings.Join(c.InternalSuffixes, ",") != "corp.example.com,ad.example.net" {
		t.Errorf("db=%q tlp=%v suffixes=%v", c.DB, c.TLP, c.InternalSuffixes)
	}
	if s := fmt.Sprintf("%v %+v %#v", c.Providers, vt, vt); strings.Contains(s, "SECRET") || strings.Contains(s, "from-file") {
		t.Errorf("printing the config leaks a key: %s", s)
	}
}

func TestDefaultsWithoutFile(t *testing.T) {
	t.Chdir(t.TempDir())
	c, err := Load(Options{Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	vt := c.Providers["cfgtestvt"]
	if !vt.Enabled || vt.BaseURL != "https://api.example.test/v3" || vt.Rate != "4/m" || c.TLP != tlp.Amber {
		t.Errorf("defaults not applied: %+v tlp=%v", vt, c.TLP)
	}
	if got := vt.Missing(provider.Spec{Credentials: []string{"api_key"}}); len(got) != 1 {
		t.Errorf("Missing = %v, want [api_key]", got)
	}
}

func TestValidationErrors(t *testing.T) {
	cases := map[string]string{
		"unknown provider":   "providers:\n  virustotl:\n    api_key: x\n",
		"bad tlp":            "tlp: purple\n",
		"bad enabled":        "providers:\n  cfgtestvt:\n    enabled: maybe\n",
		"bad base url":       "providers:\n  cfgtestvt:\n    base_url: ftp://x\n",
		"red to third party": "providers:\n  cfgtestvt:\n    max_tlp: red\n",
		"malformed yaml":     "providers: [\n",
		"misspelled setting": "providers:\n  cfgtestvt:\n    rat: 1/s\n",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load(Options{Path: writeFile(t, body), Environ: []string{}})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "config:") {
				t.Errorf("error %q does not say where it comes from", err)
			}
		})
	}
	if _, err := Load(Options{Path: "/nonexistent/iocane.yaml", Environ: []string{}}); err == nil {
		t.Error("an explicit missing --config file is not an error")
	}
	// Your own MISP may receive RED.
	if _, err := Load(Options{Path: writeFile(t, "providers:\n  cfgtestmisp:\n    max_tlp: red\n"), Environ: []string{}}); err != nil {
		t.Errorf("misp max_tlp red: %v", err)
	}
}

// A provider key its Spec does not declare is refused, naming the key, where
// it came from and the nearest declared setting; so is an unknown provider.
func TestUnknownProviderSettings(t *testing.T) {
	path := writeFile(t, "providers:\n  cfgtestvt:\n    rat: 1/s\n  virustotl:\n    api_key: x\n")
	_, err := Load(Options{Path: path, Environ: []string{"IOCANE_CFGTESTMISP_QUOTE=5/d"}})
	for _, want := range []string{
		path + ": providers.cfgtestvt.rat: unknown key (did you mean providers.cfgtestvt.rate?)",
		"environment (IOCANE_CFGTESTMISP_QUOTE): providers.cfgtestmisp.quote: unknown key (did you mean providers.cfgtestmisp.quota?)",
		path + ": providers.virustotl: unknown key",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nlacks %q", err, want)
		}
	}
	if n := len(settings.UnknownKeys(err)); n != 3 {
		t.Errorf("%d UnknownKeyErrors, want 3", n)
	}
}

func TestListPathsRelativeToConfigFile(t *testing.T) {
	path := writeFile(t, "providers:\n  cfgtestvt:\n    paths: lists/a.txt, /abs/b.txt\n    label: demo\n")
	c, err := Load(Options{Path: path, Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(filepath.Dir(path), "lists/a.txt") + ",/abs/b.txt"
	if got := c.Providers["cfgtestvt"].Settings["paths"]; got != want {
		t.Errorf("paths = %q, want %q", got, want)
	}
	if got := c.Providers["cfgtestvt"].Settings["label"]; got != "demo" {
		t.Errorf("label = %q", got)
	}
}

// A credential that a setting waives (Defender TI's tenant_id, when
// token_url names the token endpoint) is not missing once that setting is
// given, and is missing without it.
func TestMissingWaivedBy(t *testing.T) {
	spec := provider.Spec{Credentials: []string{"tenant_id", "client_id", "client_secret"}, WaivedBy: map[string]string{"tenant_id": "token_url"}}
	env := []string{"IOCANE_CFGTESTVT_CLIENT_ID=id", "IOCANE_CFGTESTVT_CLIENT_SECRET=secret"}
	c, err := Load(Options{Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Providers["cfgtestvt"].Missing(spec); !slices.Equal(got, []string{"tenant_id"}) {
		t.Errorf("without token_url: Missing = %v, want [tenant_id]", got)
	}
	c, err = Load(Options{Environ: append(env, "IOCANE_CFGTESTVT_TOKEN_URL=https://login.example.test/token")})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Providers["cfgtestvt"].Missing(spec); len(got) != 0 {
		t.Errorf("with token_url: Missing = %v, want none", got)
	}
}

// declaredBlock is a kind: http provider; each test of declarations edits it.
const declaredBlock = `
providers:
  corp_ti:
    kind: http
    types: [ipv4, domain]
    url: "https://ti.corp.example/api/v1/{type}/{value}"
    auth: {header: X-Api-Key}
    malicious: "data.score / 100"
    rate: 10/s
    max_tlp: green
  cfgtestvt:
    api_key: vt-key
`

// A declared provider is a provider like any other once loaded: its key
// comes from IOCANE_<NAME>_API_KEY, its settings from the block, and its
// declaration keys stay out of the provider's Settings.
func TestDeclaredProvider(t *testing.T) {
	t.Cleanup(func() { _ = provider.Declare(nil) })
	c, err := Load(Options{Path: writeFile(t, declaredBlock), Environ: []string{
		"IOCANE_CORP_TI_API_KEY=corp-SECRET", "IOCANE_CORP_TI_QUOTA=50/d",
	}})
	if err != nil {
		t.Fatal(err)
	}
	spec, ok := provider.Get("corp_ti")
	if !ok || !spec.Supports(ioc.Domain) || spec.MaxTLP != tlp.Green {
		t.Fatalf("corp_ti not declared: %+v", spec)
	}
	p := c.Providers["corp_ti"]
	if p.Secrets["api_key"].Reveal() != "corp-SECRET" || p.Rate != "10/s" || p.Quota != "50/d" || p.MaxTLP != tlp.Green ||
		p.BaseURL != "https://ti.corp.example" || len(p.Settings) != 0 || !p.Enabled {
		t.Errorf("corp_ti = %+v", p)
	}
	if got := p.Missing(spec); len(got) != 0 {
		t.Errorf("Missing = %v", got)
	}
	if s := fmt.Sprintf("%v %+v %#v", c.Providers, p, p); strings.Contains(s, "corp-SECRET") {
		t.Errorf("printing the config leaks the key: %s", s)
	}
	// Another load replaces the declared set: corp_ti is gone, and its
	// block would now be an unknown provider.
	if _, err := Load(Options{Path: writeFile(t, "tlp: green\n"), Environ: []string{}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := provider.Get("corp_ti"); ok {
		t.Error("corp_ti still declared after a load without it")
	}
}

// Every mistake in a declaration is a start-up error naming the field.
func TestDeclaredProviderErrors(t *testing.T) {
	t.Cleanup(func() { _ = provider.Declare(nil) })
	edit := func(old, new string) string { return strings.Replace(declaredBlock, old, new, 1) }
	cases := []struct {
		name, body string
		env        []string
		want       string
	}{
		{"bad expression", edit(`"data.score / 100"`, `"data.score / 0"`), nil, "config: providers.corp_ti.malicious: "},
		{"bad template", edit("{value}", "{indicator}"), nil, "config: providers.corp_ti.url: "},
		{"built-in name", edit("cfgtestvt:\n    api_key: vt-key", "cfgtestvt:\n    kind: http"), nil,
			"config: providers.cfgtestvt.kind: cfgtestvt is a built-in provider"},
		{"unknown kind", edit("kind: http", "kind: grpc"), nil, `config: providers.corp_ti.kind: unknown kind "grpc"`},
		{"bad name", edit("corp_ti:", "Corp-TI:"), nil, "config: providers.Corp-TI: a declared provider's name"},
		{"misspelled key", edit("rate: 10/s", "rat: 10/s"), nil, ": providers.corp_ti.rat: unknown key (did you mean providers.corp_ti.rate?)"},
		{"misspelled nested key", edit("{header: X-Api-Key}", "{heder: X-Api-Key}"), nil, ": providers.corp_ti.auth.heder: unknown key (did you mean providers.corp_ti.auth.header?)"},
		{"red to a third party", edit("max_tlp: green", "max_tlp: red"), nil, "config: providers.corp_ti.max_tlp: "},
		{"declaration from the environment", declaredBlock, []string{"IOCANE_CORP_TI_URL=https://other.example/{value}"},
			"environment (IOCANE_CORP_TI_URL): providers.corp_ti.url: a declared provider's url is read from the config file only"},
		{"api_key of a keyless provider", edit("    auth: {header: X-Api-Key}\n", ""), []string{"IOCANE_CORP_TI_API_KEY=k"},
			"providers.corp_ti.api_key: unknown key"},
		{"a name that takes another's variables", edit("cfgtestvt:\n    api_key: vt-key", "corp_ti_api:\n    kind: http\n    types: [ipv4]\n    url: https://x.example/{value}"), nil,
			"providers.corp_ti_api: the name takes corp_ti's variable IOCANE_CORP_TI_API_KEY (providers.corp_ti.api_key)"},
		{"a name beside another's, no variable shared", edit("cfgtestvt:\n    api_key: vt-key", "corp_ti_client:\n    kind: http\n    types: [ipv4]\n    url: https://x.example/{value}"), nil,
			""},
		{"a name that takes a built-in's variables", edit("corp_ti:", "cfgtestvt_client:"), nil,
			"providers.cfgtestvt_client: the name takes cfgtestvt's variable IOCANE_CFGTESTVT_CLIENT_ID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(Options{Path: writeFile(t, tc.body), Environ: append([]string{}, tc.env...)})
			if tc.want == "" {
				if _, ok := provider.Get("corp_ti_client"); err != nil || !ok {
					t.Errorf("err = %v, declared %v", err, ok)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nlacks %q", err, tc.want)
			}
			if _, ok := provider.Get("corp_ti"); ok {
				t.Error("a failed load left corp_ti declared")
			}
		})
	}
}
