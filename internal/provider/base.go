package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Base is what every HTTP provider's client is built from the same way: its
// name, the API base URL, the api_key credential, the shared HTTP client and
// whether to keep raw bodies. A provider's Client holds one beside its own
// settings, and NewBase does the checks they all share.
type Base struct {
	// Name is the provider's contract name; NewBase's errors begin with it.
	Name string
	// URL is the API base: Config.BaseURL, or the documented default.
	URL string
	// Key is the api_key credential; zero for a keyless source run without one.
	Key Secret
	// HTTP is the client every request goes through (Config.HTTP).
	HTTP *http.Client
	// KeepRaw asks for Finding.Raw (Config.KeepRaw).
	KeepRaw bool
}

// NewBase checks the part of cfg every HTTP provider shares, in this order:
// that a base URL is set (cfg.BaseURL, else defaultURL; with neither, as for
// MISP, an error naming IOCANE_<NAME>_BASE_URL), the api_key credential (an
// error when keyRequired and it is unset), that the base URL is an absolute
// http(s) URL, and cfg.HTTP. It does no I/O.
func NewBase(name string, cfg Config, defaultURL string, keyRequired bool) (Base, error) {
	b := Base{Name: name, URL: cfg.BaseURL, Key: cfg.Secret("api_key"), HTTP: cfg.HTTP, KeepRaw: cfg.KeepRaw}
	if b.URL == "" {
		b.URL = defaultURL
	}
	if b.URL == "" {
		return Base{}, fmt.Errorf("%s: base URL not set (IOCANE_%s_BASE_URL)", name, strings.ToUpper(name))
	}
	if keyRequired && b.Key.IsZero() {
		return Base{}, fmt.Errorf("%s: api_key is required", name)
	}
	if !IsHTTPURL(b.URL) {
		return Base{}, fmt.Errorf("%s: base URL %q: want an http(s) URL", name, b.URL)
	}
	if b.HTTP == nil {
		return Base{}, fmt.Errorf("%s: no http client", name)
	}
	return b, nil
}

// IsHTTPURL reports whether s is an absolute http or https URL with a host.
func IsHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
