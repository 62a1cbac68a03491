package httpdecl

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knadh/koanf/parsers/yaml"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/providertest"
)

const (
	corpKey   = "corp-SECRET-key-0001"
	vendorKey = "vendor-SECRET-token-0002"
	feedKey   = "feed-SECRET-key-0003"
	evilURL   = "http://sskymedia.com/VMYB-ht_JAQo-gi/INV/"
	eicar     = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
)

var (
	corpIP     = ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}
	corpDomain = ioc.IOC{Type: ioc.Domain, Value: "down.mykings.pw"}
	resolver   = ioc.IOC{Type: ioc.IPv4, Value: "8.8.8.8"}
	unknownIP  = ioc.IOC{Type: ioc.IPv4, Value: "45.33.32.156"}
	vendorURL  = ioc.IOC{Type: ioc.URL, Value: evilURL}
	vendorHash = ioc.IOC{Type: ioc.SHA256, Value: eicar}
)

// example reads the block of provider name from examples/providers/<file>.
func example(t testing.TB, file, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "providers", file))
	if err != nil {
		t.Fatal(err)
	}
	return block(t, string(b), name)
}

// block parses YAML as the config loader does and returns providers.<name>.
func block(t testing.TB, doc, name string) map[string]any {
	t.Helper()
	m, err := yaml.Parser().Unmarshal([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	providers, _ := m["providers"].(map[string]any)
	b, ok := providers[name].(map[string]any)
	if !ok {
		t.Fatalf("no providers.%s block", name)
	}
	return b
}

// declare compiles blocks and declares them for the test's duration.
func declare(t testing.TB, blocks map[string]map[string]any) {
	t.Helper()
	var specs []provider.Spec
	for name, b := range blocks {
		s, err := Parse(name, b)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, s)
	}
	if err := provider.Declare(specs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = provider.Declare(nil) })
}

// corpHandler answers like corp_ti: GET /api/v1/{type}/{value}, 404 for an
// unknown IOC, and an HTML 404 for a path it does not have.
func corpHandler(t *testing.T, prefix string) http.Handler {
	byPath := map[string][]byte{
		prefix + "/ipv4/" + corpIP.Value:       providertest.File(t, "corp_ti/found_ip.json").Body,
		prefix + "/domain/" + corpDomain.Value: providertest.File(t, "corp_ti/found_domain.json").Body,
		prefix + "/ipv4/" + resolver.Value:     providertest.File(t, "corp_ti/whitelisted.json").Body,
	}
	notFound := providertest.File(t, "corp_ti/not_found.json")
	notFound.Code = http.StatusNotFound
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if b, ok := byPath[r.URL.Path]; ok {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
			return
		}
		rest, _ := strings.CutPrefix(r.URL.Path, prefix+"/")
		if typ, _, ok := strings.Cut(rest, "/"); ok && ioc.Type(typ).Valid() {
			notFound.Write(w)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "<html>no such page</html>")
	})
}

func checkCorp(t *testing.T, i ioc.IOC, f provider.Finding) {
	t.Helper()
	want := map[ioc.IOC]struct {
		mal, ben float64
		summary  string
		score    float64
	}{
		corpIP:     {0.92, 0, "botnet score 92", 92},
		corpDomain: {0.4, 0, "phishing score 40", 40},
		resolver:   {0, 1, "public resolver score 0", 0},
	}[i]
	if !near(f.Malicious, want.mal) || !near(f.Benign, want.ben) {
		t.Errorf("%v: signals %v/%v, want %v/%v", i, f.Malicious, f.Benign, want.mal, want.ben)
	}
	if f.Summary != want.summary {
		t.Errorf("%v: Summary = %q, want %q", i, f.Summary, want.summary)
	}
	if link := "https://ti.corp.example/ioc/" + i.Value; f.Link != link {
		t.Errorf("%v: Link = %q, want %q", i, f.Link, link)
	}
	if f.Data["data.score"] != want.score || f.Data["data.category"] == nil {
		t.Errorf("%v: Data = %v", i, f.Data)
	}
	if len(f.Raw) == 0 {
		t.Errorf("%v: Raw empty with KeepRaw", i)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// The GET example, with its key in a header.
func TestConformanceCorpTI(t *testing.T) {
	declare(t, map[string]map[string]any{"corp_ti": example(t, "corp_ti.yaml", "corp_ti")})
	providertest.Run(t, providertest.Suite{
		Provider:     "corp_ti",
		BasePath:     "", // base_url replaces the origin of url
		Secrets:      map[string]string{"api_key": corpKey},
		Handler:      corpHandler(t, "/api/v1"),
		Auth:         func(r *http.Request) bool { return r.Header.Get("X-Api-Key") == corpKey },
		KeyPlaces:    []providertest.Place{providertest.Header("X-Api-Key")},
		Unauthorized: providertest.FileCode(t, "corp_ti/unauthorized.json", http.StatusUnauthorized),
		TooMany:      providertest.FileCode(t, "corp_ti/too_many.json", http.StatusTooManyRequests),
		ServerError:  providertest.FileCode(t, "corp_ti/server_error.json", http.StatusInternalServerError),
		Found:        corpIP,
		NotFound:     unknownIP,
		Extra:        []ioc.IOC{corpDomain, resolver},
		CheckFound:   checkCorp,
	})
}

// vendorHandler answers like vendor_intel: POST /v2/lookup with a JSON
// body, 200 with result.status hit or no_result.
func vendorHandler(t *testing.T) http.Handler {
	hits := map[string][]byte{
		evilURL: providertest.File(t, "vendor_intel/hit_url.json").Body,
		eicar:   providertest.File(t, "vendor_intel/hit_sha256.json").Body,
	}
	noResult := providertest.File(t, "vendor_intel/no_result.json").Body
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var q struct{ Indicator, Kind string }
		if r.Method != http.MethodPost || r.URL.Path != "/v2/lookup" ||
			r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&q) != nil || !ioc.Type(q.Kind).Valid() {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"result": {"status": "error", "message": "bad request"}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if b, ok := hits[q.Indicator]; ok {
			_, _ = w.Write(b)
			return
		}
		_, _ = w.Write(noResult)
	})
}

func checkVendor(t *testing.T, i ioc.IOC, f provider.Finding) {
	t.Helper()
	mal, ben, summary := 0.95, 0.0, "Emotet (malicious, confidence 85)"
	if i == vendorHash {
		mal, ben, summary = 0, 0.5, "EICAR test file (clean, confidence 60)"
	}
	if !near(f.Malicious, mal) || !near(f.Benign, ben) || f.Summary != summary {
		t.Errorf("%v: %v/%v %q, want %v/%v %q", i, f.Malicious, f.Benign, f.Summary, mal, ben, summary)
	}
	if link := "https://intel.vendor.example/search?q=" + strings.NewReplacer(":", "%3A", "/", "%2F").Replace(i.Value); f.Link != link {
		t.Errorf("%v: Link = %q, want %q", i, f.Link, link)
	}
}

// The POST example: a JSON body, a bearer token, not found as a 200.
func TestConformanceVendorIntel(t *testing.T) {
	declare(t, map[string]map[string]any{"vendor_intel": example(t, "vendor_intel.yaml", "vendor_intel")})
	providertest.Run(t, providertest.Suite{
		Provider:     "vendor_intel",
		Secrets:      map[string]string{"api_key": vendorKey},
		Handler:      vendorHandler(t),
		Auth:         func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+vendorKey },
		KeyPlaces:    []providertest.Place{providertest.Header("Authorization")},
		Unauthorized: providertest.FileCode(t, "vendor_intel/unauthorized.json", http.StatusUnauthorized),
		TooMany:      providertest.FileCode(t, "vendor_intel/too_many.json", http.StatusTooManyRequests),
		Found:        vendorURL,
		NotFound:     ioc.IOC{Type: ioc.MD5, Value: "44d88612fea8a8f36de82e1278abb02f"},
		Extra:        []ioc.IOC{vendorHash},
		CheckFound:   checkVendor,
	})
}

// A key in the query string, and a URL with a path prefix of its own.
const feedBlock = `
providers:
  feed:
    kind: http
    types: [ipv4, domain]
    url: "https://feed.example/intel/check?ioc={value}&kind={type}"
    auth: {query: apikey}
    found: {path: data.found}
    not_found: {status: [404]}
    malicious: "data.score >= 90 ? 0.9"
    summary: "{data.category}"
`

func TestConformanceQueryKey(t *testing.T) {
	declare(t, map[string]map[string]any{"feed": block(t, feedBlock, "feed")})
	inner := corpHandler(t, "/api/v1")
	providertest.Run(t, providertest.Suite{
		Provider: "feed",
		BasePath: "/mirror", // a base_url with a path is put before url's
		Secrets:  map[string]string{"api_key": feedKey},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/mirror/intel/check" {
				http.NotFound(w, r)
				return
			}
			q := r.URL.Query()
			r.URL.Path = "/api/v1/" + q.Get("kind") + "/" + q.Get("ioc")
			inner.ServeHTTP(w, r)
		}),
		Auth:      func(r *http.Request) bool { return r.URL.Query().Get("apikey") == feedKey },
		KeyPlaces: []providertest.Place{providertest.Query("apikey")},
		Found:     corpIP,
		NotFound:  unknownIP,
		Extra:     []ioc.IOC{corpDomain},
		CheckFound: func(t *testing.T, i ioc.IOC, f provider.Finding) {
			mal, summary := 0.9, "botnet"
			if i == corpDomain {
				mal, summary = 0, "phishing"
			}
			if !near(f.Malicious, mal) || f.Benign != 0 || f.Summary != summary || f.Link != "" {
				t.Errorf("%v: %v/%v %q %q", i, f.Malicious, f.Benign, f.Summary, f.Link)
			}
		},
	})
}

// newCorp builds corp_ti (from the example) in front of a fake serving h.
func newCorp(t *testing.T, h http.Handler) (provider.Provider, *providertest.Fake) {
	t.Helper()
	declare(t, map[string]map[string]any{"corp_ti": example(t, "corp_ti.yaml", "corp_ti")})
	spec, _ := provider.Get("corp_ti")
	return providertest.Serve(t, spec.New, h, "/", providertest.Options{Key: corpKey, KeepRaw: true})
}

// The answers the shared mapping and the rules give, one at a time.
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
		{"found", 200, "", `{"data": {"found": true, "score": 50}}`, provider.StatusOK, nil, ""},
		{"not found", 404, "", `{"error": "not found"}`, provider.StatusNotFound, nil, ""},
		{"not found, html", 404, "text/html", `<html>gone</html>`, provider.StatusNotFound, nil, ""},
		{"found false", 200, "", `{"data": {"found": false}}`, provider.StatusError, provider.ErrBadResponse, "matches neither found nor not_found"},
		{"no data", 200, "", `{}`, provider.StatusError, provider.ErrBadResponse, "matches neither"},
		{"malformed", 200, "", `{"data": {"found": true`, provider.StatusError, provider.ErrBadResponse, "malformed JSON"},
		{"score not a number", 200, "", `{"data": {"found": true, "score": {"v": 1}}}`, provider.StatusError, provider.ErrBadResponse, "malicious: data.score"},
		{"unauthorized", 401, "", `{"error": "invalid api key"}`, provider.StatusError, provider.ErrUnauthorized, ""},
		{"forbidden", 403, "", `{"error": "forbidden"}`, provider.StatusError, provider.ErrUnauthorized, ""},
		{"rate limited", 429, "", `{"error": "slow down"}`, provider.StatusRateLimited, provider.ErrRateLimited, ""},
		{"server error", 502, "text/html", `<html>bad gateway</html>`, provider.StatusError, nil, "http status 502"},
		{"key echoed in an error", 400, "", `{"error": "bad key ` + corpKey + `"}`, provider.StatusError, nil, "[redacted]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newCorp(t, providertest.Fixture{Code: tc.code, ContentType: tc.ctype, Body: []byte(tc.body)})
			f, err := providertest.Lookup(p, "corp_ti", corpIP)
			providertest.CheckOutcome(t, f, err, tc.status, tc.is, tc.text)
			if err != nil && strings.Contains(err.Error(), corpKey) {
				t.Errorf("key in error: %v", err)
			}
		})
	}
}

// A service that echoes the key never gets it into the Finding.
func TestKeyEchoRedacted(t *testing.T) {
	body := fmt.Sprintf(`{"data": {"found": true, "score": 10, "category": "seen with %s", "whitelisted": false}}`, corpKey)
	p, _ := newCorp(t, providertest.JSON(200, body))
	f, err := p.Lookup(t.Context(), corpIP)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(f)
	if s := fmt.Sprintf("%s %v %+v %s", b, f, f, f.Raw); strings.Contains(s, corpKey) {
		t.Errorf("key echoed into the Finding: %s", s)
	}
	if !strings.Contains(f.Summary, provider.Redacted) {
		t.Errorf("Summary = %q, want the key redacted", f.Summary)
	}
}

// The request carries each placeholder escaped for its place.
func TestRequestShape(t *testing.T) {
	p, fake := newCorp(t, corpHandler(t, "/api/v1"))
	odd := ioc.IOC{Type: ioc.Domain, Value: "a b/c?d"} // not a valid domain, but shows the escaping
	_, _ = p.Lookup(t.Context(), odd)
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].RawPath != "/api/v1/domain/a%20b%2Fc%3Fd" || reqs[0].Method != http.MethodGet {
		t.Fatalf("requests = %+v", reqs)
	}
	if h := reqs[0].Header; h.Get("X-Api-Key") != corpKey || h.Get("Accept") != "application/json" || h.Get("User-Agent") == "" {
		t.Errorf("headers = %v", h)
	}

	declare(t, map[string]map[string]any{
		"vendor_intel": example(t, "vendor_intel.yaml", "vendor_intel"),
		"feed":         block(t, feedBlock, "feed"),
	})
	vendor, _ := provider.Get("vendor_intel")
	vp, vfake := providertest.Serve(t, vendor.New, vendorHandler(t), "/", providertest.Options{Key: vendorKey})
	quoted := ioc.IOC{Type: ioc.URL, Value: `http://x.test/"q"\`}
	_, _ = vp.Lookup(t.Context(), quoted)
	var got map[string]string
	if r := vfake.Requests(); len(r) != 1 || json.Unmarshal(r[0].Body, &got) != nil || got["indicator"] != quoted.Value || got["kind"] != "url" {
		t.Errorf("POST body = %+v (%v)", r, got)
	}

	feed, _ := provider.Get("feed")
	fp, ffake := providertest.Serve(t, feed.New, corpHandler(t, "/x"), "/", providertest.Options{Key: feedKey})
	_, _ = fp.Lookup(t.Context(), ioc.IOC{Type: ioc.Domain, Value: "a&b=c"})
	if r := ffake.Requests(); len(r) != 1 || r[0].Path != "/intel/check" || r[0].Query.Get("ioc") != "a&b=c" ||
		r[0].Query.Get("kind") != "domain" || r[0].Query.Get("apikey") != feedKey || len(r[0].Query) != 3 {
		t.Errorf("query request = %+v", r)
	}
}

func TestNew(t *testing.T) {
	declare(t, map[string]map[string]any{
		"corp_ti": example(t, "corp_ti.yaml", "corp_ti"),
		"keyless": block(t, "providers:\n  keyless:\n    kind: http\n    types: [ipv4]\n    url: https://k.example/{value}\n", "keyless"),
	})
	c := &http.Client{}
	key := map[string]provider.Secret{"api_key": provider.NewSecret(corpKey)}
	cases := []struct {
		name, provider string
		cfg            provider.Config
		ok             bool
	}{
		{"default base", "corp_ti", provider.Config{Secrets: key, HTTP: c}, true},
		{"base_url", "corp_ti", provider.Config{BaseURL: "http://127.0.0.1:9/prefix", Secrets: key, HTTP: c}, true},
		{"no key", "corp_ti", provider.Config{HTTP: c}, false},
		{"bad base", "corp_ti", provider.Config{BaseURL: "ti.corp.example", Secrets: key, HTTP: c}, false},
		{"no client", "corp_ti", provider.Config{Secrets: key}, false},
		{"keyless", "keyless", provider.Config{HTTP: c}, true},
	}
	for _, tc := range cases {
		spec, _ := provider.Get(tc.provider)
		_, err := spec.New(tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if err != nil && strings.Contains(err.Error(), corpKey) {
			t.Errorf("%s: key in error", tc.name)
		}
	}
	spec, _ := provider.Get("corp_ti")
	if spec.BaseURL != "https://ti.corp.example" || spec.Rate != "10/s" || spec.Quota != "1000/d" || spec.Discloses ||
		spec.Reliability != provider.ReliabilityB || len(spec.Credentials) != 1 || !spec.Supports(ioc.Domain) || spec.Supports(ioc.URL) {
		t.Errorf("spec = %+v", spec)
	}
	if s, _ := provider.Get("keyless"); len(s.Credentials) != 0 || !s.Discloses || s.Reliability != provider.ReliabilityC || s.Rate != DefaultRate {
		t.Errorf("keyless defaults = %+v", s)
	}
}
