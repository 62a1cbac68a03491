package provider

import (
	"slices"
	"strings"
)

// Setting declares one setting a provider reads: providers.<name>.<setting>
// in YAML, IOCANE_<NAME>_<SETTING> in the environment. Config refuses a key
// that no Setting of the provider's declares.
type Setting struct {
	// Name is the lower-case key, e.g. "max_age_days".
	Name string
	// Default is the value used when the setting is unset, as the user
	// would write it; "" when there is none.
	Default string
	// Doc says in one line what the setting does.
	Doc string
	// Secret marks a credential: it is held as a Secret, never printed.
	Secret bool
}

// Env returns the environment variable that sets s for provider name.
func (s Setting) Env(name string) string {
	return "IOCANE_" + strings.ToUpper(name) + "_" + strings.ToUpper(s.Name)
}

// AllSettings returns every setting the provider reads, in a stable order:
// enabled, then the credentials, then (for network sources) base_url, rate,
// quota and max_tlp, then the provider's own Settings.
func (s Spec) AllSettings() []Setting {
	out := []Setting{{Name: "enabled", Default: "true", Doc: "false turns the provider off"}}
	creds := slices.Clone(s.Credentials)
	if s.OptionalKey && !slices.Contains(creds, "api_key") {
		creds = append(creds, "api_key")
	}
	for _, c := range creds {
		doc := "credential, required"
		switch {
		case s.OptionalKey:
			doc = "credential, optional: the provider also works without it"
		case s.WaivedBy[c] != "":
			doc = "credential, required unless " + s.WaivedBy[c] + " is set"
		}
		out = append(out, Setting{Name: c, Doc: doc, Secret: true})
	}
	if !s.Local {
		out = append(out,
			Setting{Name: "base_url", Default: s.BaseURL, Doc: "API base URL (a mirror or a test server)"},
			Setting{Name: "rate", Default: s.Rate, Doc: "request rate, e.g. 4/m"},
			Setting{Name: "quota", Default: s.Quota, Doc: "request quota, e.g. 500/d,15500/mo"},
			Setting{Name: "max_tlp", Default: s.MaxTLP.String(), Doc: "most restricted TLP marking the provider may receive"},
		)
	}
	return append(out, s.Settings...)
}

// Setting returns the declared setting called name.
func (s Spec) Setting(name string) (Setting, bool) {
	for _, d := range s.AllSettings() {
		if d.Name == name {
			return d, true
		}
	}
	return Setting{}, false
}
