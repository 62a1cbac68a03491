package abuseipdb

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/providertest"
)

const testKey = "abuseipdb-SECRET-key-0002"

var (
	foundIP = ioc.IOC{Type: ioc.IPv4, Value: "144.48.243.18"}
	known   = map[ioc.IOC]string{
		foundIP: "check_found.json",
		{Type: ioc.IPv6, Value: "2a01:4f8:c2c:1234::1"}: "check_ipv6.json",
		{Type: ioc.IPv4, Value: "185.220.101.47"}:       "check_tor.json",
		{Type: ioc.IPv4, Value: "8.8.8.8"}:              "check_whitelisted.json",
		{Type: ioc.IPv4, Value: "93.184.216.34"}:        "check_zero_with_reports.json",
	}
)

// handler answers like AbuseIPDB v2: GET /api/v2/check with ipAddress and
// maxAgeInDays, HTML unless Accept asks for JSON, 422 for a bad parameter,
// the recorded answer for a known IP and the "unreported" 200 (score 0, no
// reports, lastReportedAt null) for any other valid IP.
func handler(t *testing.T) http.Handler {
	byIP := map[string][]byte{}
	for i, name := range known {
		byIP[i.Value] = providertest.File(t, name).Body
	}
	unreportedBody := providertest.File(t, "check_unreported.json").Body
	invalidIP := providertest.File(t, "invalid_ip.json").Body
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/check" || r.Method != http.MethodGet {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("<html><body>Page not found</body></html>"))
			return
		}
		if !strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			_, _ = w.Write([]byte("<!DOCTYPE html><html><body>AbuseIPDB</body></html>"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-RateLimit-Limit", "1000")
		w.Header().Set("X-RateLimit-Remaining", "999")
		q := r.URL.Query()
		if age := q.Get("maxAgeInDays"); age != "" {
			if n, err := strconv.Atoi(age); err != nil || n < 1 || n > 365 {
				w.WriteHeader(http.StatusUnprocessableEntity)
				_, _ = w.Write([]byte(`{"errors":[{"detail":"The max age in days must be between 1 and 365.","status":422,"source":{"parameter":"maxAgeInDays"}}]}`))
				return
			}
		}
		addr, err := netip.ParseAddr(q.Get("ipAddress"))
		if err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write(invalidIP)
			return
		}
		if b, ok := byIP[addr.String()]; ok {
			_, _ = w.Write(b)
			return
		}
		var unreported map[string]map[string]any
		if err := json.Unmarshal(unreportedBody, &unreported); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		unreported["data"]["ipAddress"] = addr.String()
		_ = json.NewEncoder(w).Encode(unreported)
	})
}

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Suite{
		Provider:     Name,
		BasePath:     "/api/v2",
		Secrets:      map[string]string{"api_key": testKey},
		Handler:      handler(t),
		Auth:         func(r *http.Request) bool { return r.Header.Get("Key") == testKey },
		KeyPlaces:    []providertest.Place{providertest.Header("Key")},
		Unauthorized: providertest.FileCode(t, "unauthorized.json", http.StatusUnauthorized),
		TooMany:      providertest.FileCode(t, "too_many.json", http.StatusTooManyRequests),
		ServerError:  providertest.FileCode(t, "server_error.json", http.StatusInternalServerError),
		Found:        foundIP,
		// An unreported IP is 200 with score 0: ok, with both signals 0.
		NotFound:       ioc.IOC{Type: ioc.IPv4, Value: "45.33.32.156"},
		NotFoundStatus: provider.StatusOK,
		Extra:          providertest.KeysExcept(known, foundIP),
		CheckFound:     checkFound,
	})
}

type want struct {
	data     map[string]any
	summary  string
	mal, ben float64
	tags     string
}

var wants = map[string]want{
	"144.48.243.18": {map[string]any{"abuse_confidence_score": 100, "total_reports": 3319, "num_distinct_users": 795,
		"country_code": "HK", "usage_type": "Data Center/Web Hosting/Transit", "isp": "Law's Cloud Infrastructure Limited",
		"domain": "cloudie.hk", "is_whitelisted": false, "is_tor": false,
		"last_reported_at": time.Date(2026, 9, 16, 18, 57, 24, 0, time.UTC)},
		"confidence 100 from 3319 reports", 0.85, 0, ""}, // capped: crowd reports never settle it alone
	"2a01:4f8:c2c:1234::1": {map[string]any{"abuse_confidence_score": 25, "total_reports": 4,
		"last_reported_at": time.Date(2026, 11, 20, 6, 12, 1, 0, time.UTC)}, // +01:00 normalised to UTC
		"confidence 25 from 4 reports", 0.25, 0, ""},
	"185.220.101.47": {map[string]any{"is_tor": true}, "confidence 100 from 1201 reports, Tor exit node", 0.425, 0, "tor"}, // a shared relay: halved
	"8.8.8.8":        {map[string]any{"is_whitelisted": true, "abuse_confidence_score": 0}, "confidence 0 from 52 reports, whitelisted", 0, 1.0, "whitelisted"},
	// Score 0 despite reports: no signal either way; isWhitelisted null is left out.
	"93.184.216.34": {map[string]any{"abuse_confidence_score": 0, "total_reports": 2, "is_whitelisted": nil}, "confidence 0 from 2 reports", 0, 0, ""},
	"45.33.32.156":  {map[string]any{"abuse_confidence_score": 0, "total_reports": 0, "last_reported_at": nil, "country_code": nil}, "no reports in the last 90 days", 0, 0, ""},
}

func checkFound(t *testing.T, i ioc.IOC, f provider.Finding) {
	t.Helper()
	w, ok := wants[i.Value]
	if !ok {
		t.Fatalf("no expectation for %v", i)
	}
	for k, v := range w.data {
		if got := f.Data[k]; got != v {
			t.Errorf("%v: Data[%q] = %#v, want %#v", i, k, got, v)
		}
	}
	if f.Summary != w.summary {
		t.Errorf("%v: Summary = %q, want %q", i, f.Summary, w.summary)
	}
	if f.Malicious != w.mal || f.Benign != w.ben {
		t.Errorf("%v: signals %v/%v, want %v/%v", i, f.Malicious, f.Benign, w.mal, w.ben)
	}
	if got := strings.Join(f.Tags, ","); got != w.tags {
		t.Errorf("%v: Tags = %q, want %q", i, got, w.tags)
	}
	if f.Link != "https://www.abuseipdb.com/check/"+i.Value {
		t.Errorf("%v: Link = %q", i, f.Link)
	}
}

func newClient(t *testing.T, h http.Handler, settings map[string]string) (provider.Provider, *providertest.Fake) {
	t.Helper()
	return providertest.Serve(t, New, h, "/api/v2", providertest.Options{Key: testKey, Settings: settings})
}

func TestUnreportedIsOKWithNoSignal(t *testing.T) {
	p, _ := newClient(t, handler(t), nil)
	i := ioc.IOC{Type: ioc.IPv4, Value: "45.33.32.156"}
	f, err := p.Lookup(context.Background(), i)
	if err != nil || f.Status != provider.StatusOK {
		t.Fatalf("status %q, err %v", f.Status, err)
	}
	checkFound(t, i, f)
}

func TestRequestShape(t *testing.T) {
	p, fake := newClient(t, handler(t), map[string]string{"max_age_days": "30"})
	v6 := ioc.IOC{Type: ioc.IPv6, Value: "2a01:4f8:c2c:1234::1"}
	if _, err := p.Lookup(context.Background(), v6); err != nil {
		t.Fatal(err)
	}
	r := fake.Requests()[0]
	if r.Method != http.MethodGet || r.Path != "/api/v2/check" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if r.Query.Get("ipAddress") != v6.Value || r.Query.Get("maxAgeInDays") != "30" || len(r.Query) != 2 {
		t.Errorf("query = %v", r.Query)
	}
	if r.Header.Get("Key") != testKey || r.Header.Get("Accept") != "application/json" {
		t.Errorf("headers = %v", r.Header)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name   string
		code   int
		header map[string]string
		body   string
		status provider.Status
		is     error
		text   string
	}{
		{"422 invalid ip", 422, nil, string(providertest.File(t, "invalid_ip.json").Body), provider.StatusError, nil, "must be a valid IPv4 or IPv6"},
		{"401", 401, nil, string(providertest.File(t, "unauthorized.json").Body), provider.StatusError, provider.ErrUnauthorized, "Authentication failed"},
		{"429 daily limit", 429, map[string]string{"Retry-After": "29241", "X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1764201600"},
			string(providertest.File(t, "too_many.json").Body), provider.StatusRateLimited, provider.ErrRateLimited, "retry after 29241s"},
		{"html", 200, map[string]string{"Content-Type": "text/html"}, "<html></html>", provider.StatusError, provider.ErrBadResponse, ""},
		{"no data", 200, nil, `{"meta":{}}`, provider.StatusError, provider.ErrBadResponse, "no data object"},
		{"bad date", 200, nil, `{"data":{"ipAddress":"144.48.243.18","abuseConfidenceScore":5,"totalReports":1,"lastReportedAt":"yesterday"}}`, provider.StatusError, provider.ErrBadResponse, "lastReportedAt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newClient(t, providertest.Fixture{Code: tc.code, Header: tc.header, Body: []byte(tc.body)}, nil)
			f, err := providertest.Lookup(p, Name, foundIP)
			providertest.CheckOutcome(t, f, err, tc.status, tc.is, tc.text)
		})
	}
}

func TestNew(t *testing.T) {
	c := &http.Client{}
	key := map[string]provider.Secret{"api_key": provider.NewSecret(testKey)}
	for _, tc := range []struct {
		name string
		cfg  provider.Config
		ok   bool
	}{
		{"ok", provider.Config{Secrets: key, HTTP: c}, true},
		{"max age 365", provider.Config{Secrets: key, HTTP: c, Settings: map[string]string{"max_age_days": "365"}}, true},
		{"max age 0", provider.Config{Secrets: key, HTTP: c, Settings: map[string]string{"max_age_days": "0"}}, false},
		{"max age 366", provider.Config{Secrets: key, HTTP: c, Settings: map[string]string{"max_age_days": "366"}}, false},
		{"max age text", provider.Config{Secrets: key, HTTP: c, Settings: map[string]string{"max_age_days": "ninety"}}, false},
		{"no key", provider.Config{HTTP: c}, false},
		{"bad base", provider.Config{BaseURL: "ftp://x", Secrets: key, HTTP: c}, false},
		{"no client", provider.Config{Secrets: key}, false},
	} {
		if _, err := New(tc.cfg); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}

func TestMaliciousSignal(t *testing.T) {
	cases := []struct {
		score, reports, users int
		usage                 string
		tor                   bool
		want                  float64
	}{
		{100, 2841, 612, "Data Center/Web Hosting/Transit", false, 0.85}, // capped
		{60, 140, 35, "Data Center/Web Hosting/Transit", false, 0.6},
		{12, 41, 10, "Content Delivery Network", false, 0.036}, // a CDN edge: reports are about its customers
		{100, 900, 200, "Search Engine Spider", false, 0.255},
		{30, 2, 2, "Fixed Line ISP", false, 0.18}, // two reports
		{40, 9, 1, "Fixed Line ISP", false, 0.24}, // one reporter
		{100, 3319, 800, "Fixed Line ISP", true, 0.425},
	}
	for _, c := range cases {
		got := maliciousSignal(c.score, c.reports, c.users, c.usage, c.tor)
		if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("maliciousSignal(%d, %d, %d, %q, %v) = %v, want %v", c.score, c.reports, c.users, c.usage, c.tor, got, c.want)
		}
	}
}
