package provider

import (
	"net/http"
	"strings"
	"testing"
)

func TestNewBase(t *testing.T) {
	key := map[string]Secret{"api_key": NewSecret("k-SECRET-1")}
	c := http.DefaultClient
	tests := []struct {
		name        string
		cfg         Config
		def         string
		keyRequired bool
		want        string // error text, "" for success
	}{
		{"defaults", Config{Secrets: key, HTTP: c, KeepRaw: true}, "https://api.example/v1", true, ""},
		{"configured", Config{BaseURL: "http://127.0.0.1:1/x", Secrets: key, HTTP: c}, "https://api.example/v1", true, ""},
		{"keyless", Config{HTTP: c}, "https://api.example", false, ""},
		{"no key", Config{HTTP: c}, "https://api.example", true, "p: api_key is required"},
		{"no base", Config{HTTP: c}, "", true, "p: base URL not set (IOCANE_P_BASE_URL)"},
		{"bad base", Config{BaseURL: "api.example/v1", Secrets: key, HTTP: c}, "https://api.example", true, `p: base URL "api.example/v1": want an http(s) URL`},
		{"bad scheme", Config{BaseURL: "ftp://x", Secrets: key, HTTP: c}, "", true, `p: base URL "ftp://x": want an http(s) URL`},
		{"no client", Config{Secrets: key}, "https://api.example", true, "p: no http client"},
		// Checked in order: not set, then the key, then the URL's form.
		{"no base, no key", Config{HTTP: c}, "", true, "p: base URL not set (IOCANE_P_BASE_URL)"},
		{"bad base, no key", Config{BaseURL: "x", HTTP: c}, "", true, "p: api_key is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := NewBase("p", tc.cfg, tc.def, tc.keyRequired)
			if tc.want != "" {
				if err == nil || err.Error() != tc.want {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				if b != (Base{}) {
					t.Errorf("Base = %+v on error, want zero", b)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantURL := tc.cfg.BaseURL
			if wantURL == "" {
				wantURL = tc.def
			}
			if b.Name != "p" || b.URL != wantURL || b.Key != tc.cfg.Secret("api_key") || b.HTTP != c || b.KeepRaw != tc.cfg.KeepRaw {
				t.Errorf("Base = %+v", b)
			}
		})
	}
}

func TestIsHTTPURL(t *testing.T) {
	for s, want := range map[string]bool{
		"https://api.example/v1": true, "http://127.0.0.1:8080": true,
		"": false, "api.example": false, "ftp://x": false, "https://": false, "://x": false,
	} {
		if got := IsHTTPURL(s); got != want {
			t.Errorf("IsHTTPURL(%q) = %v, want %v", s, got, want)
		}
	}
}

// A key the API echoes near the end of a long error body is redacted
// before the body is cut to an excerpt: cut first, its first characters
// would show.
func TestCheckStatusRedactsBeforeCutting(t *testing.T) {
	key := NewSecret("k3yABCDEFGHIJKLMNOPQRSTUVWXYZ012345")
	for pad := 180; pad <= 200; pad++ {
		body := []byte(strings.Repeat("x", pad) + " invalid key " + key.Reveal())
		err := CheckStatus(&Response{Code: 500, Body: body}, key)
		if err == nil || strings.Contains(err.Error(), "k3yA") {
			t.Fatalf("pad %d: %v shows the start of the key", pad, err)
		}
	}
}
