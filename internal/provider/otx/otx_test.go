package otx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/providertest"
)

const testKey = "otx-SECRET-key-0001"

// handler answers like otx.alienvault.com: GET
// /api/v1/indicators/{type}/{value}/general, 200 with pulse_info.count 0 for
// a valid indicator it knows nothing about, 400 for an invalid IP, 404 for an
// unknown type or section.
func handler(t testing.TB) http.Handler {
	answers := map[string]providertest.Fixture{
		"IPv4/185.220.101.47":                providertest.File(t, "ipv4_pulses.json"),
		"IPv4/8.8.88.8":                      providertest.File(t, "ipv4_unknown.json"),
		"domain/google.com":                  providertest.File(t, "domain_validated.json"),
		"hostname/cdn.evil-example.com":      providertest.File(t, "hostname_pulse.json"),
		"url/http://down.mykings.pw/ups.rar": providertest.File(t, "url_pulse.json"),
		"file/094fd325049b8a9cf6d3e5ef2a6d4cc6a567d7d49c35f8bb8dd9e3c6acf3d78d": providertest.File(t, "file_pulses.json"),
		"cve/CVE-2021-44228": providertest.File(t, "cve_pulses.json"),
	}
	badRequest := providertest.FileCode(t, "bad_request.json", http.StatusBadRequest)
	types := map[string]string{"IPv4": "IPv4", "IPv6": "IPv6", "domain": "domain", "hostname": "hostname", "url": "URL", "file": "FileHash-SHA256", "cve": "CVE"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/api/v1/indicators/")
		parts := strings.Split(rest, "/")
		if !ok || r.Method != http.MethodGet || len(parts) != 3 || parts[2] != "general" || types[parts[0]] == "" {
			http.Error(w, "Not Found", http.StatusNotFound)
			return
		}
		value, err := url.PathUnescape(parts[1])
		if err != nil {
			http.Error(w, "Not Found", http.StatusNotFound)
			return
		}
		if (parts[0] == "IPv4" || parts[0] == "IPv6") && net.ParseIP(value) == nil {
			badRequest.Write(w)
			return
		}
		if fx, ok := answers[parts[0]+"/"+value]; ok {
			fx.Write(w)
			return
		}
		providertest.JSON(http.StatusOK, fmt.Sprintf(`{"indicator": %q, "type": %q, "type_title": %q,
			"validation": [], "sections": ["general"], "base_indicator": {},
			"pulse_info": {"count": 0, "pulses": [], "references": [],
			  "related": {"alienvault": {"adversary": [], "industries": [], "malware_families": []}}}}`,
			value, types[parts[0]], types[parts[0]])).Write(w)
	})
}

var (
	foundIP       = ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}
	allowedDomain = ioc.IOC{Type: ioc.Domain, Value: "google.com"}
	foundHost     = ioc.IOC{Type: ioc.Domain, Value: "cdn.evil-example.com"}
	foundURL      = ioc.IOC{Type: ioc.URL, Value: "http://down.mykings.pw/ups.rar"}
	foundSHA256   = ioc.IOC{Type: ioc.SHA256, Value: "094fd325049b8a9cf6d3e5ef2a6d4cc6a567d7d49c35f8bb8dd9e3c6acf3d78d"}
	foundCVE      = ioc.IOC{Type: ioc.CVE, Value: "CVE-2021-44228"}
)

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Suite{
		Provider:     Name,
		BasePath:     "/api/v1",
		Secrets:      map[string]string{"api_key": testKey},
		Handler:      handler(t),
		Auth:         func(r *http.Request) bool { return r.Header.Get("X-OTX-API-KEY") == testKey },
		KeyPlaces:    []providertest.Place{providertest.Header("X-OTX-API-KEY")},
		Unauthorized: providertest.FileCode(t, "forbidden.json", http.StatusForbidden),
		TooMany:      providertest.FileCode(t, "throttled.json", http.StatusTooManyRequests),
		Found:        foundIP,
		NotFound:     ioc.IOC{Type: ioc.IPv4, Value: "8.8.88.8"},
		// The URL look-up is covered by TestLookupByType: its escaped
		// path decodes to "http://...", which the suite's double-slash
		// check (on the decoded path) would flag.
		Extra: []ioc.IOC{allowedDomain, foundHost, foundSHA256, foundCVE},
		CheckFound: func(t *testing.T, i ioc.IOC, f provider.Finding) {
			if f.Malicious == 0 && f.Benign == 0 {
				t.Errorf("%v: found without a signal", i)
			}
			if !strings.HasPrefix(f.Link, "https://otx.alienvault.com/indicator/") {
				t.Errorf("%v: link = %q", i, f.Link)
			}
			if len(f.Raw) == 0 {
				t.Errorf("%v: Raw empty with KeepRaw", i)
			}
		},
	})
}

// pathLog records the escaped request paths a test server saw.
type pathLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *pathLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.paths
	l.paths = nil
	return p
}

func newTestClient(t *testing.T, h http.Handler) (provider.Provider, *pathLog) {
	t.Helper()
	log := &pathLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.mu.Lock()
		log.paths = append(log.paths, r.URL.EscapedPath())
		log.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return providertest.Build(t, New, srv.URL+"/api/v1", srv.Client(), providertest.Options{Key: testKey}), log
}

func TestLookupByType(t *testing.T) {
	p, paths := newTestClient(t, handler(t))
	tests := []struct {
		in        ioc.IOC
		path      string
		link      string
		malicious float64
		benign    float64
		summary   string
		data      map[string]any
		tags      string
	}{
		{foundIP, "/api/v1/indicators/IPv4/185.220.101.47/general",
			"https://otx.alienvault.com/indicator/ip/185.220.101.47",
			0.6 + 0.15/7, 0, "in 4 OTX pulses from 2 authors",
			map[string]any{"pulse_count": 4, "authors": 2, "country": "DE", "asn": "AS208294 CIA TRIAD SECURITY LLC", "reputation": 0},
			"Mirai"},
		{allowedDomain, "/api/v1/indicators/domain/google.com/general",
			"https://otx.alienvault.com/indicator/domain/google.com",
			0.45, 0.95, "in 2 OTX pulses from 2 authors; allow-listed: Listed on Alexa",
			map[string]any{"pulse_count": 2}, ""},
		{foundHost, "/api/v1/indicators/hostname/cdn.evil-example.com/general",
			"https://otx.alienvault.com/indicator/hostname/cdn.evil-example.com",
			0.3, 0, "in 1 OTX pulse (Lumma Stealer C2 infrastructure)",
			map[string]any{"pulse_count": 1, "authors": 1}, "Lumma Stealer"},
		// Two pulses from one author.
		{foundURL, "/api/v1/indicators/url/http:%2F%2Fdown.mykings.pw%2Fups.rar/general",
			"https://otx.alienvault.com/indicator/url/http:%2F%2Fdown.mykings.pw%2Fups.rar",
			0.45, 0, "in 2 OTX pulses from 1 author",
			map[string]any{"pulse_count": 2, "authors": 1}, "MyKings"},
		// 12 pulses, 4 listed: the unlisted 8 count as they are.
		{foundSHA256, "/api/v1/indicators/file/" + foundSHA256.Value + "/general",
			"https://otx.alienvault.com/indicator/file/" + foundSHA256.Value,
			0.8, 0, "in 12 OTX pulses from 4 authors",
			map[string]any{"pulse_count": 12, "authors": 4}, "AgentTesla,SilverTerrier"},
		{foundCVE, "/api/v1/indicators/cve/CVE-2021-44228/general",
			"https://otx.alienvault.com/indicator/cve/CVE-2021-44228",
			0.8, 0, "in 950 OTX pulses from 2 authors",
			map[string]any{"pulse_count": 950}, ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.in.Type), func(t *testing.T) {
			paths.take()
			f, err := p.Lookup(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := paths.take(); len(got) != 1 || got[0] != tc.path {
				t.Errorf("paths = %q, want [%q]", got, tc.path)
			}
			if f.Status != provider.StatusOK || f.Provider != Name {
				t.Fatalf("finding = %+v", f)
			}
			if d := f.Malicious - tc.malicious; d > 1e-9 || d < -1e-9 {
				t.Errorf("malicious = %v, want %v", f.Malicious, tc.malicious)
			}
			if f.Benign != tc.benign {
				t.Errorf("benign = %v, want %v", f.Benign, tc.benign)
			}
			if f.Link != tc.link {
				t.Errorf("link = %q, want %q", f.Link, tc.link)
			}
			if f.Summary != tc.summary {
				t.Errorf("summary = %q, want %q", f.Summary, tc.summary)
			}
			for k, v := range tc.data {
				if f.Data[k] != v {
					t.Errorf("Data[%s] = %#v, want %#v", k, f.Data[k], v)
				}
			}
			if got := strings.Join(f.Tags, ","); got != tc.tags {
				t.Errorf("tags = %q, want %q", got, tc.tags)
			}
		})
	}
}

func TestDataLists(t *testing.T) {
	p, _ := newTestClient(t, handler(t))
	f, err := p.Lookup(context.Background(), foundIP)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pulses":           "Tor exit nodes - daily,Tor exit nodes - weekly,Tor exit nodes - monthly,Brute force SSH attackers",
		"tags":             "tor,exit node,ssh,bruteforce",
		"malware_families": "Mirai",
		"attack_ids":       "T1110",
	}
	for k, v := range want {
		l, _ := f.Data[k].([]string)
		if got := strings.Join(l, ","); got != v {
			t.Errorf("Data[%s] = %q, want %q", k, got, v)
		}
	}
	g, err := p.Lookup(context.Background(), allowedDomain)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := g.Data["validation"].([]string); strings.Join(l, ",") != "Listed on Alexa,Whitelisted domain,Akamai Popular Domain" {
		t.Errorf("validation = %v", g.Data["validation"])
	}
}

func TestNotFoundAndErrors(t *testing.T) {
	p, _ := newTestClient(t, handler(t))
	ctx := context.Background()
	// A valid indicator OTX knows nothing of: 200 with pulse_info.count 0.
	for _, i := range []ioc.IOC{
		{Type: ioc.IPv6, Value: "2001:db8::1"},
		{Type: ioc.Domain, Value: "nothing.example"},
		{Type: ioc.MD5, Value: strings.Repeat("a", 32)},
	} {
		f, err := p.Lookup(ctx, i)
		if err != nil || f.Status != provider.StatusNotFound || f.Malicious != 0 || f.Benign != 0 || f.Data != nil {
			t.Errorf("%v: %+v, %v", i, f, err)
		}
	}
	// An invalid indicator is OTX's 400: an error, never not_found.
	_, err := p.Lookup(ctx, ioc.IOC{Type: ioc.IPv4, Value: "999.1.1.1"})
	var he *provider.HTTPError
	if !errors.As(err, &he) || he.Code != http.StatusBadRequest {
		t.Errorf("invalid IP: err = %v, want HTTP 400", err)
	}
	// A 404 (wrong base URL, unknown section) is an error too.
	p, _ = newTestClient(t, http.NotFoundHandler())
	if _, err := p.Lookup(ctx, foundIP); !errors.As(err, &he) || he.Code != http.StatusNotFound {
		t.Errorf("404: err = %v, want HTTP 404", err)
	}
}

// Allow-listed with no pulses is benign evidence, hence ok, not not_found.
func TestValidationWithoutPulses(t *testing.T) {
	p, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		providertest.JSON(http.StatusOK, `{"indicator": "8.8.8.8", "type": "IPv4", "validation":
			[{"source": "whitelist", "message": "contained in whitelisted prefix", "name": "Whitelisted IP"}],
			"pulse_info": {"count": 0, "pulses": [], "references": []}}`).Write(w)
	}))
	f, err := p.Lookup(context.Background(), ioc.IOC{Type: ioc.IPv4, Value: "8.8.8.8"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != provider.StatusOK || f.Benign != 0.95 || f.Malicious != 0 {
		t.Errorf("finding = %+v", f)
	}
	if f.Summary != "no OTX pulses; allow-listed: Whitelisted IP" {
		t.Errorf("summary = %q", f.Summary)
	}
}

func TestPulseSignal(t *testing.T) {
	tests := []struct {
		count, listed, authors int
		want                   float64
	}{
		{0, 0, 0, 0},
		{1, 1, 1, 0.3},
		{3, 3, 3, 0.6},
		{10, 10, 10, 0.8},
		{10, 10, 1, 0.6},          // one author counts for three pulses at most
		{50, 10, 1, 0.8},          // 40 unlisted pulses count as they are
		{5, 0, 0, 0.6 + 0.15*2/7}, // no pulses listed: by count
	}
	for _, tc := range tests {
		if got := pulseSignal(tc.count, tc.listed, tc.authors); got-tc.want > 1e-9 || tc.want-got > 1e-9 {
			t.Errorf("pulseSignal(%d, %d, %d) = %v, want %v", tc.count, tc.listed, tc.authors, got, tc.want)
		}
	}
}
