package urlscan

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/providertest"
)

const testKey = "0196aaaa-SECRET-urlscan-key-0001"

// searches maps a query to the fixture urlscan answers it with; any other
// query gets 200 with results: [].
var searches = map[string]string{
	`domain:login\-example\-support.com`:                      "search_domain.json",
	`ip:93.184.216.34`:                                        "search_ipv4.json",
	`page.url:"https://login-example-support.com/office365/"`: "search_url.json",
}

// handler answers like urlscan.io's API under /api/v1: GET /search/?q=
// and GET /result/{uuid}/ (404 while a scan runs or when unknown).
func handler(t testing.TB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			providertest.JSON(http.StatusMethodNotAllowed, `{"message":"Method not allowed","status":405}`).Write(w)
			return
		}
		switch {
		case r.URL.Path == "/api/v1/search/":
			name, ok := searches[r.URL.Query().Get("q")]
			if !ok {
				name = "search_empty.json"
			}
			if r.URL.Query().Get("size") == "" {
				t.Errorf("search without size: %s", r.URL.RawQuery)
			}
			providertest.File(t, name).Write(w)
		case r.URL.Path == "/api/v1/result/0196d976-07f6-7aae-8a57-aa019145f31c/":
			providertest.File(t, "result_malicious.json").Write(w)
		case strings.HasPrefix(r.URL.Path, "/api/v1/result/"):
			providertest.FileCode(t, "result_not_found.json", http.StatusNotFound).Write(w)
		default:
			providertest.JSON(http.StatusNotFound, `{"message":"Not Found","status":404}`).Write(w)
		}
	})
}

// auth accepts anonymous searches and the right key; any other key is the
// malformed-key 400 urlscan answers on every endpoint.
func auth(r *http.Request) bool {
	k, ok := r.Header["Api-Key"]
	return !ok || (len(k) == 1 && k[0] == testKey)
}

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Suite{
		Provider:     Name,
		BasePath:     "/api/v1",
		Secrets:      map[string]string{"api_key": testKey},
		Handler:      handler(t),
		Auth:         auth,
		KeyPlaces:    []providertest.Place{providertest.Header("API-Key")},
		Unauthorized: providertest.FileCode(t, "invalid_key.json", http.StatusBadRequest),
		TooMany:      providertest.FileCode(t, "rate_limited.json", http.StatusTooManyRequests),
		ServerError:  providertest.FileCode(t, "server_error.json", http.StatusInternalServerError),
		Found:        ioc.IOC{Type: ioc.Domain, Value: "login-example-support.com"},
		NotFound:     ioc.IOC{Type: ioc.Domain, Value: "never-scanned.example"},
		Extra: []ioc.IOC{
			{Type: ioc.IPv4, Value: "93.184.216.34"},
			{Type: ioc.URL, Value: "https://login-example-support.com/office365/"},
		},
		CheckFound: func(t *testing.T, i ioc.IOC, f provider.Finding) {
			if f.Malicious != 0 || f.Benign != 0 {
				t.Errorf("%v: search rows without verdicts gave signals %v/%v, want 0/0", i, f.Malicious, f.Benign)
			}
			if !strings.HasPrefix(f.Link, "https://urlscan.io/result/") || f.Data["scans"].(int) < 1 {
				t.Errorf("%v: Link %q scans %v", i, f.Link, f.Data["scans"])
			}
		},
	})
}

func newClient(t *testing.T, srv *httptest.Server, key string, settings map[string]string) provider.Provider {
	t.Helper()
	return providertest.Build(t, New, srv.URL+"/api/v1/", srv.Client(), providertest.Options{Key: key, Settings: settings})
}

func TestLookup(t *testing.T) {
	srv := httptest.NewServer(handler(t))
	defer srv.Close()
	tests := []struct {
		name     string
		in       ioc.IOC
		settings map[string]string
		status   provider.Status
		mal      float64
		data     map[string]any
		tags     []string
		summary  string
	}{
		{
			name: "domain, total beyond the page", in: ioc.IOC{Type: ioc.Domain, Value: "login-example-support.com"},
			status: provider.StatusOK,
			data: map[string]any{
				"scans": 37, "has_more": true, "latest_uuid": "0196d976-07f6-7aae-8a57-aa019145f31c",
				"visibility": "public", "page_ip": "185.220.101.47", "page_country": "NL", "page_server": "nginx",
				"page_domain": "login-example-support.com", "page_asn": "AS64500", "malicious_scans": 0,
				"latest_time": time.Date(2026, 11, 20, 9, 12, 44, 310e6, time.UTC),
			},
			summary: "37 scan(s), latest 2026-11-20: login-example-support.com 185.220.101.47 NL nginx",
		},
		{
			name: "ipv4", in: ioc.IOC{Type: ioc.IPv4, Value: "93.184.216.34"}, status: provider.StatusOK,
			data: map[string]any{"scans": 1, "has_more": false, "page_country": "US", "page_asn": "AS15133"},
		},
		{
			name: "url with fetched malicious verdict", in: ioc.IOC{Type: ioc.URL, Value: "https://login-example-support.com/office365/"},
			settings: map[string]string{"fetch_verdicts": "true"}, status: provider.StatusOK, mal: 0.9,
			data:    map[string]any{"malicious_scans": 1, "max_score": 100},
			tags:    []string{"phishing", "Microsoft"},
			summary: "; 1 with a malicious verdict",
		},
		{
			name: "ipv4, latest result still running", in: ioc.IOC{Type: ioc.IPv4, Value: "93.184.216.34"},
			settings: map[string]string{"fetch_verdicts": "true"}, status: provider.StatusOK,
			data: map[string]any{"malicious_scans": 0},
		},
		{name: "no scans", in: ioc.IOC{Type: ioc.URL, Value: "https://example.org/x"}, status: provider.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := newClient(t, srv, testKey, tc.settings).Lookup(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if f.Status != tc.status || f.Malicious != tc.mal || f.Benign != 0 {
				t.Fatalf("status/mal/ben = %s/%v/%v, want %s/%v/0", f.Status, f.Malicious, f.Benign, tc.status, tc.mal)
			}
			for k, want := range tc.data {
				if got := f.Data[k]; got != want {
					t.Errorf("Data[%s] = %v (%T), want %v (%T)", k, got, got, want, want)
				}
			}
			if !slices.Equal(f.Tags, tc.tags) {
				t.Errorf("Tags = %q, want %q", f.Tags, tc.tags)
			}
			if !strings.Contains(f.Summary, tc.summary) {
				t.Errorf("Summary = %q, want %q in it", f.Summary, tc.summary)
			}
		})
	}
}

func TestQuery(t *testing.T) {
	tests := []struct {
		in   ioc.IOC
		want string
	}{
		{ioc.IOC{Type: ioc.Domain, Value: "evil-example.com"}, `domain:evil\-example.com`},
		{ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}, `ip:185.220.101.47`},
		{ioc.IOC{Type: ioc.URL, Value: `http://a.example/p?q="x"&r=\1`}, `page.url:"http://a.example/p?q=\"x\"&r=\\1"`},
	}
	for _, tc := range tests {
		got, err := Query(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Query(%v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := Query(ioc.IOC{Type: ioc.IPv6, Value: "2001:db8::1"}); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("Query(ipv6) err = %v, want ErrUnsupported", err)
	}
}

func TestAnonymousSearchSendsNoKeyHeader(t *testing.T) {
	var headers []http.Header
	h := handler(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers = append(headers, r.Header.Clone())
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	f, err := newClient(t, srv, "", nil).Lookup(context.Background(), ioc.IOC{Type: ioc.IPv4, Value: "93.184.216.34"})
	if err != nil || f.Status != provider.StatusOK {
		t.Fatalf("anonymous search: %v %v", f.Status, err)
	}
	if len(headers) != 1 || headers[0].Get("API-Key") != "" {
		t.Errorf("requests %d, API-Key header %q; want one request without the header", len(headers), headers[0].Get("API-Key"))
	}
}

func TestNewSettings(t *testing.T) {
	base := provider.Config{HTTP: http.DefaultClient}
	for _, s := range []map[string]string{{"size": "0"}, {"size": "101"}, {"fetch_verdicts": "maybe"}, {"fetch_verdicts": "true"}} {
		cfg := base
		cfg.Settings = s
		if _, err := New(cfg); err == nil {
			t.Errorf("New with %v (no key): no error", s)
		}
	}
}

func TestMalformedKeyIsUnauthorized(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		providertest.FileCode(t, "invalid_key.json", http.StatusBadRequest).Write(w)
	}))
	defer srv.Close()
	_, err := newClient(t, srv, "short", nil).Lookup(context.Background(), ioc.IOC{Type: ioc.Domain, Value: "example.com"})
	if !errors.Is(err, provider.ErrUnauthorized) {
		t.Errorf("err = %v, want ErrUnauthorized", err)
	}
}
