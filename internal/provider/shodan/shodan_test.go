package shodan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/providertest"
)

const testKey = "shodan-SECRET-key-0003"

var (
	google = ioc.IOC{Type: ioc.IPv4, Value: "8.8.8.8"}
	known  = map[ioc.IOC]string{
		google:                                   "host_google.json",
		{Type: ioc.IPv4, Value: "91.109.180.12"}: "host_c2.json",
		{Type: ioc.IPv6, Value: "2a01:4f8:c2c:1234::1"}: "host_vulnerable_v6.json",
	}
)

// handler answers like Shodan: GET /shodan/host/{ip}?key=…, the recorded
// host for a known IP, 404 {"error": "No information available for that
// IP."} for any other, and an HTML 404 for a path the API does not have.
func handler(t *testing.T) http.Handler {
	byIP := map[string][]byte{}
	for i, name := range known {
		byIP[i.Value] = providertest.File(t, name).Body
	}
	notFound := providertest.File(t, "not_found.json").Body
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, ok := strings.CutPrefix(r.URL.Path, "/shodan/host/")
		if !ok || r.Method != http.MethodGet || ip == "" || strings.Contains(ip, "/") {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("<html><head><title>404 Not Found</title></head></html>"))
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if b, ok := byIP[ip]; ok {
			_, _ = w.Write(b)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(notFound)
	})
}

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Suite{
		Provider:     Name,
		BasePath:     "",
		Secrets:      map[string]string{"api_key": testKey},
		Handler:      handler(t),
		Auth:         func(r *http.Request) bool { return r.URL.Query().Get("key") == testKey },
		KeyPlaces:    []providertest.Place{providertest.Query("key")},
		Unauthorized: providertest.FileCode(t, "unauthorized.json", http.StatusUnauthorized),
		TooMany:      providertest.FileCode(t, "too_many.json", http.StatusTooManyRequests),
		ServerError:  providertest.FileCode(t, "server_error.json", http.StatusInternalServerError),
		Found:        google,
		NotFound:     ioc.IOC{Type: ioc.IPv4, Value: "45.33.32.156"},
		Extra:        providertest.KeysExcept(known, google),
		CheckFound:   checkFound,
	})
}

type want struct {
	ports    []int
	vulns    []string
	critical int
	data     map[string]any
	summary  string
	mal      float64
}

var wants = map[string]want{
	// No "vulns" key at all: an empty list, no signal.
	"8.8.8.8": {[]int{53}, []string{}, 0,
		map[string]any{"org": "Google", "isp": "Google", "asn": "AS15169", "country": "US", "os": nil, "city": nil,
			"last_update": time.Date(2021, 1, 22, 8, 49, 35, 190817000, time.UTC)},
		"open ports 53; org Google", 0},
	// Tagged c2: modest malicious signal; one critical CVE is not "many".
	"91.109.180.12": {[]int{22, 443, 8443}, []string{"CVE-2023-38408"}, 1,
		map[string]any{"os": "Linux", "asn": "AS44477", "country": "NL"},
		"open ports 22, 443, 8443; 1 CVEs; org Stark Industries Solutions Ltd; tags c2, self-signed", 0.4},
	// Three critical CVEs (CVSS as number and as string): a faint signal.
	"2a01:4f8:c2c:1234::1": {[]int{21, 80}, []string{"CVE-2011-2523", "CVE-2017-15715", "CVE-2021-41773", "CVE-2021-42013"}, 3,
		map[string]any{"country": "DE", "org": "Hetzner Online GmbH"},
		"open ports 21, 80; 4 CVEs; org Hetzner Online GmbH; tags ipv6", 0.1},
}

func checkFound(t *testing.T, i ioc.IOC, f provider.Finding) {
	t.Helper()
	w, ok := wants[i.Value]
	if !ok {
		t.Fatalf("no expectation for %v", i)
	}
	if got, _ := f.Data["ports"].([]int); !slices.Equal(got, w.ports) {
		t.Errorf("%v: ports = %#v, want %v", i, f.Data["ports"], w.ports)
	}
	if got, ok := f.Data["vulns"].([]string); !ok || !slices.Equal(got, w.vulns) {
		t.Errorf("%v: vulns = %#v, want %v", i, f.Data["vulns"], w.vulns)
	}
	if f.Data["critical_vulns"] != w.critical {
		t.Errorf("%v: critical_vulns = %v, want %d", i, f.Data["critical_vulns"], w.critical)
	}
	for k, v := range w.data {
		if got := f.Data[k]; got != v {
			t.Errorf("%v: Data[%q] = %#v, want %#v", i, k, got, v)
		}
	}
	if f.Summary != w.summary {
		t.Errorf("%v: Summary = %q, want %q", i, f.Summary, w.summary)
	}
	if f.Malicious != w.mal || f.Benign != 0 {
		t.Errorf("%v: signals %v/%v, want %v/0", i, f.Malicious, f.Benign, w.mal)
	}
	if f.Link != "https://www.shodan.io/host/"+i.Value {
		t.Errorf("%v: Link = %q", i, f.Link)
	}
}

func newClient(t *testing.T, base string, key string, settings map[string]string) provider.Provider {
	t.Helper()
	return providertest.Build(t, New, base, &http.Client{Timeout: 5 * time.Second}, providertest.Options{Key: key, Settings: settings})
}

func TestRequestShape(t *testing.T) {
	fake := providertest.NewFake(t, handler(t))
	v6 := ioc.IOC{Type: ioc.IPv6, Value: "2a01:4f8:c2c:1234::1"}
	for _, minify := range []string{"false", "true"} {
		fake.Reset()
		p := newClient(t, fake.URL+"/", testKey, map[string]string{"minify": minify})
		if _, err := p.Lookup(context.Background(), v6); err != nil {
			t.Fatal(err)
		}
		r := fake.Requests()[0]
		want := url.Values{"key": {testKey}}
		if minify == "true" {
			want.Set("minify", "true")
		}
		if r.Method != http.MethodGet || r.Path != "/shodan/host/"+v6.Value || r.Query.Encode() != want.Encode() {
			t.Errorf("minify=%s: %s %s ?%v", minify, r.Method, r.Path, r.Query)
		}
		for k, vs := range r.Header {
			if strings.Contains(strings.Join(vs, " "), testKey) {
				t.Errorf("key in header %s", k)
			}
		}
	}
}

// TestKeyNeverInErrors proves that the key, which travels in the URL, is in
// no error text: a refused connection (Go's *url.Error repeats the URL), an
// error body that echoes the request, and a bad key.
func TestKeyNeverInErrors(t *testing.T) {
	keys := []string{testKey, "sh+od/an key&=%1"} // the second needs query escaping
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	_ = ln.Close()

	echo := providertest.NewFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error": "bad request %s key %s"}`, r.URL.RequestURI(), r.URL.Query().Get("key"))
	}))
	redirect := providertest.NewFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.RequestURI(), http.StatusFound) // a redirect loop
	}))
	for _, key := range keys {
		for name, base := range map[string]string{"refused": closed, "echo": echo.URL, "redirect loop": redirect.URL} {
			p := newClient(t, base, key, nil)
			_, err := p.Lookup(context.Background(), google)
			if err == nil {
				t.Fatalf("%s: no error", name)
			}
			for _, txt := range []string{err.Error(), fmt.Sprintf("%v %+v %#v", err, err, err), provider.ErrorFinding(Name, err).Reason} {
				if strings.Contains(txt, key) || strings.Contains(txt, url.QueryEscape(key)) {
					t.Errorf("%s: key leaked: %s", name, txt)
				}
			}
			if name == "refused" {
				var ue *url.Error
				if !errors.As(err, &ue) {
					t.Errorf("refused: error chain lost *url.Error: %v", err)
				}
			}
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
		{"404 not found", 404, "", `{"error": "No information available for that IP."}`, provider.StatusNotFound, nil, ""},
		{"404 newer wording", 404, "", `{"error": "No information found"}`, provider.StatusNotFound, nil, ""},
		{"404 html is an error", 404, "text/html", "<html>404 Not Found</html>", provider.StatusError, nil, "http status 404"},
		{"401 json", 401, "", `{"error": "Please provide a valid API key."}`, provider.StatusError, provider.ErrUnauthorized, "valid API key"},
		{"401 nginx html", 401, "text/html", "<html><head><title>401 Authorization Required</title></head></html>", provider.StatusError, provider.ErrUnauthorized, ""},
		{"403", 403, "", `{"error": "Access denied (403 Forbidden)"}`, provider.StatusError, provider.ErrUnauthorized, ""},
		{"200 with error", 200, "", `{"error": "Invalid IP"}`, provider.StatusError, provider.ErrBadResponse, "Invalid IP"},
		{"empty object", 200, "", `{}`, provider.StatusError, provider.ErrBadResponse, "no host object"},
		{"vulns wrong type", 200, "", `{"ip_str": "8.8.8.8", "ports": [53], "vulns": 7}`, provider.StatusError, provider.ErrBadResponse, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewFake(t, providertest.Fixture{Code: tc.code, ContentType: tc.ctype, Body: []byte(tc.body)})
			p := newClient(t, fake.URL, testKey, nil)
			f, err := providertest.Lookup(p, Name, google)
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
		{"minify", provider.Config{Secrets: key, HTTP: c, Settings: map[string]string{"minify": "true"}}, true},
		{"bad minify", provider.Config{Secrets: key, HTTP: c, Settings: map[string]string{"minify": "yes"}}, false},
		{"no key", provider.Config{HTTP: c}, false},
		{"bad base", provider.Config{BaseURL: "api.shodan.io", Secrets: key, HTTP: c}, false},
		{"no client", provider.Config{Secrets: key}, false},
	} {
		if _, err := New(tc.cfg); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}
