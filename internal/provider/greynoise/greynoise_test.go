package greynoise

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/providertest"
)

const testKey = "greynoise-SECRET-key-0004"

var (
	riotIP = ioc.IOC{Type: ioc.IPv4, Value: "1.2.3.4"}
	known  = map[ioc.IOC]string{
		riotIP: "riot.json",
		{Type: ioc.IPv4, Value: "185.220.101.47"}: "noise_malicious.json",
		{Type: ioc.IPv4, Value: "71.6.135.131"}:   "noise_benign.json",
		{Type: ioc.IPv4, Value: "45.83.64.1"}:     "noise_unknown.json",
	}
)

// handler answers like the GreyNoise Community API: GET /v3/community/{ip},
// 400 for anything but a routable IPv4 address, the recorded answer for a
// known IP, and for any other a 404 WITH a JSON body (noise and riot false).
func handler(t *testing.T) http.Handler {
	byIP := map[string][]byte{}
	for i, name := range known {
		byIP[i.Value] = providertest.File(t, name).Body
	}
	notFound, invalid := providertest.File(t, "not_found.json").Body, providertest.File(t, "invalid_ip.json").Body
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, ok := strings.CutPrefix(r.URL.Path, "/v3/community/")
		if !ok || r.Method != http.MethodGet {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("404 page not found"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		addr, err := netip.ParseAddr(ip)
		if err != nil || !addr.Is4() || addr.IsPrivate() || addr.IsLoopback() {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write(invalid)
			return
		}
		if b, ok := byIP[ip]; ok {
			_, _ = w.Write(b)
			return
		}
		var nf map[string]any
		_ = json.Unmarshal(notFound, &nf)
		nf["ip"] = ip
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(nf)
	})
}

func suite(t *testing.T, secrets map[string]string) providertest.Suite {
	return providertest.Suite{
		Provider: Name,
		Secrets:  secrets,
		Handler:  handler(t),
		// Keyless use is allowed; a key, when sent, must be right.
		Auth: func(r *http.Request) bool {
			k := r.Header.Values("key")
			return len(k) == 0 || (len(k) == 1 && k[0] == testKey)
		},
		KeyPlaces:    []providertest.Place{providertest.Header("key")},
		Unauthorized: providertest.FileCode(t, "unauthorized.json", http.StatusUnauthorized),
		TooMany:      providertest.FileCode(t, "too_many.json", http.StatusTooManyRequests),
		ServerError:  providertest.FileCode(t, "server_error.json", http.StatusInternalServerError),
		Found:        riotIP,
		NotFound:     ioc.IOC{Type: ioc.IPv4, Value: "8.8.4.4"},
		Extra:        providertest.KeysExcept(known, riotIP),
		CheckFound:   checkFound,
	}
}

func TestConformance(t *testing.T) {
	providertest.Run(t, suite(t, map[string]string{"api_key": testKey}))
}

// TestConformanceKeyless runs the suite without a key (OptionalKey).
func TestConformanceKeyless(t *testing.T) {
	providertest.Run(t, suite(t, nil))
}

type want struct {
	summary  string
	mal, ben float64
	link     string
	tags     string
	data     map[string]any
}

var wants = map[string]want{
	"1.2.3.4": {"known business service (RIOT), benign: Cloudflare", 0, 0.95, "https://viz.greynoise.io/riot/1.2.3.4", "riot,benign",
		map[string]any{"riot": true, "noise": false, "classification": "benign", "name": "Cloudflare",
			"last_seen": time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}},
	"185.220.101.47": {"internet scanner, malicious", 0.6, 0, "https://viz.greynoise.io/ip/185.220.101.47", "noise,malicious",
		map[string]any{"noise": true, "riot": false, "classification": "malicious"}},
	"71.6.135.131": {"internet scanner, benign: Shodan.io", 0, 0.8, "https://viz.greynoise.io/ip/71.6.135.131", "noise,benign",
		map[string]any{"name": "Shodan.io"}},
	"45.83.64.1": {"internet scanner, intent unknown", 0.1, 0, "https://viz.greynoise.io/ip/45.83.64.1", "noise,unknown",
		map[string]any{"classification": "unknown", "last_seen": time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}},
}

func checkFound(t *testing.T, i ioc.IOC, f provider.Finding) {
	t.Helper()
	w, ok := wants[i.Value]
	if !ok {
		t.Fatalf("no expectation for %v", i)
	}
	if f.Summary != w.summary {
		t.Errorf("%v: Summary = %q, want %q", i, f.Summary, w.summary)
	}
	if f.Malicious != w.mal || f.Benign != w.ben {
		t.Errorf("%v: signals %v/%v, want %v/%v", i, f.Malicious, f.Benign, w.mal, w.ben)
	}
	if f.Link != w.link {
		t.Errorf("%v: Link = %q, want %q", i, f.Link, w.link)
	}
	if got := strings.Join(f.Tags, ","); got != w.tags {
		t.Errorf("%v: Tags = %q, want %q", i, got, w.tags)
	}
	for k, v := range w.data {
		if got := f.Data[k]; got != v {
			t.Errorf("%v: Data[%q] = %#v, want %#v", i, k, got, v)
		}
	}
}

func newClient(t *testing.T, h http.Handler, key string) (provider.Provider, *providertest.Fake) {
	t.Helper()
	return providertest.Serve(t, New, h, "", providertest.Options{Key: key})
}

func TestRequestShape(t *testing.T) {
	for _, key := range []string{testKey, ""} {
		p, fake := newClient(t, handler(t), key)
		if _, err := p.Lookup(context.Background(), riotIP); err != nil {
			t.Fatal(err)
		}
		r := fake.Requests()[0]
		if r.Method != http.MethodGet || r.Path != "/v3/community/1.2.3.4" || len(r.Query) != 0 {
			t.Errorf("request %s %s ?%v", r.Method, r.Path, r.Query)
		}
		if got := r.Header.Values("key"); (key == "" && len(got) != 0) || (key != "" && (len(got) != 1 || got[0] != key)) {
			t.Errorf("key header = %q with key %q", got, key)
		}
	}
}

func TestStatuses(t *testing.T) {
	cases := []struct {
		name   string
		code   int
		ctype  string
		body   string
		status provider.Status
		is     error
		text   string
	}{
		{"404 with body", 404, "", string(providertest.File(t, "not_found.json").Body), provider.StatusNotFound, nil, ""},
		{"404 newer wording", 404, "", `{"ip": "8.8.8.8", "noise": false, "riot": false, "message": "IP not observed scanning the internet."}`, provider.StatusNotFound, nil, ""},
		{"404 without body", 404, "text/plain", "404 page not found", provider.StatusError, nil, "http status 404"},
		{"404 unrelated json", 404, "", `{"message": "no route"}`, provider.StatusError, nil, "http status 404"},
		{"400 not routable", 400, "", string(providertest.File(t, "invalid_ip.json").Body), provider.StatusError, nil, "not a valid routable IPv4"},
		{"401", 401, "", string(providertest.File(t, "unauthorized.json").Body), provider.StatusError, provider.ErrUnauthorized, "Authentication failed"},
		{"429 daily", 429, "", string(providertest.File(t, "too_many.json").Body), provider.StatusRateLimited, provider.ErrRateLimited, "daily rate limit"},
		{"200 no flags", 200, "", `{"message": "Success"}`, provider.StatusError, provider.ErrBadResponse, "neither noise nor riot"},
		{"bad last_seen", 200, "", `{"ip": "1.2.3.4", "noise": true, "riot": false, "classification": "unknown", "last_seen": "last tuesday"}`, provider.StatusError, provider.ErrBadResponse, "last_seen"},
		{"riot without link", 200, "", `{"ip": "1.2.3.4", "noise": false, "riot": true, "classification": "benign", "name": "Cloudflare"}`, provider.StatusOK, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newClient(t, providertest.Fixture{Code: tc.code, ContentType: tc.ctype, Body: []byte(tc.body)}, testKey)
			f, err := providertest.Lookup(p, Name, riotIP)
			providertest.CheckOutcome(t, f, err, tc.status, tc.is, tc.text)
			if tc.name == "riot without link" && (f.Link != "https://viz.greynoise.io/ip/1.2.3.4" || f.Benign != 0.95) {
				t.Errorf("riot without link: %q %v", f.Link, f.Benign)
			}
		})
	}
}

func TestNew(t *testing.T) {
	c := &http.Client{}
	for _, tc := range []struct {
		name string
		cfg  provider.Config
		ok   bool
	}{
		{"keyless", provider.Config{HTTP: c}, true},
		{"keyed", provider.Config{HTTP: c, Secrets: map[string]provider.Secret{"api_key": provider.NewSecret(testKey)}}, true},
		{"bad base", provider.Config{BaseURL: "://x", HTTP: c}, false},
		{"no client", provider.Config{}, false},
	} {
		if _, err := New(tc.cfg); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	spec, _ := provider.Get(Name)
	if !spec.OptionalKey || spec.Supports(ioc.IPv6) {
		t.Errorf("spec = %+v", spec)
	}
}
