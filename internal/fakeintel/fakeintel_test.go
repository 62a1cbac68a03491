package fakeintel_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/config"
	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/pipeline"
	"github.com/iocane/iocane/internal/provider"
	_ "github.com/iocane/iocane/internal/provider/all"
)

// sources builds every provider the way iocane does, pointed at f.
func sources(t *testing.T, f *fakeintel.Server) map[string]provider.Provider {
	t.Helper()
	cfg, err := config.Load(config.Options{Environ: f.Env()})
	if err != nil {
		t.Fatal(err)
	}
	built, err := pipeline.BuildSources(cfg, pipeline.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]provider.Provider{}
	for _, s := range built.Sources {
		out[s.Spec.Name] = s.Provider
	}
	for _, p := range fakeintel.Providers {
		if out[p] == nil {
			t.Fatalf("%s not built: %q", p, built.Skipped[p])
		}
	}
	return out
}

func start(t *testing.T, o fakeintel.Options) *fakeintel.Server {
	t.Helper()
	f := fakeintel.New(o)
	f.Start()
	t.Cleanup(f.Close)
	return f
}

// TestClientsReadTheFake looks every scenario IOC up with every real
// provider client that takes its type, and checks what each made of the
// answer: this is what proves the fake answers in the shapes the clients
// parse (a wrong shape is an error finding).
func TestClientsReadTheFake(t *testing.T) {
	f := start(t, fakeintel.Options{})
	ps := sources(t, f)
	unknownIP := ioc.IOC{Type: ioc.IPv4, Value: "93.184.216.34"}
	unknownDomain := ioc.IOC{Type: ioc.Domain, Value: "quiet.example.org"}
	unknownURL := ioc.IOC{Type: ioc.URL, Value: "https://quiet.example.org/a?b=1"}
	unknownHash := ioc.IOC{Type: ioc.SHA256, Value: strings.Repeat("ab", 32)}
	ctx := context.Background()
	for _, i := range []ioc.IOC{
		fakeintel.MaliciousIP, fakeintel.MaliciousDomain, fakeintel.MaliciousURL, fakeintel.MaliciousSHA256,
		fakeintel.MaliciousMD5, fakeintel.SuspiciousIP, fakeintel.BenignIP, fakeintel.BenignDomain,
		unknownIP, unknownDomain, unknownURL, unknownHash,
	} {
		for _, name := range fakeintel.Providers {
			spec, _ := provider.Get(name)
			if !spec.Supports(i.Type) {
				continue
			}
			fd, err := ps[name].Lookup(ctx, i)
			if err != nil {
				t.Errorf("%s %s: %v", name, i.Value, err)
				continue
			}
			switch {
			case i == fakeintel.MaliciousIP || i == fakeintel.MaliciousDomain || i == fakeintel.MaliciousURL ||
				i == fakeintel.MaliciousSHA256 || i == fakeintel.MaliciousMD5:
				// Shodan only describes hosts; a Tor tag is no malice.
				// AbuseIPDB's reports of a Tor exit are discounted (its README).
				floor := 0.5
				if name == "abuseipdb" && i == fakeintel.MaliciousIP {
					floor = 0.3
				}
				if fd.Status != provider.StatusOK || (fd.Malicious < floor && name != "shodan") {
					t.Errorf("%s %s: %s malicious %.2f (%s), want ok and ≥ %.1f", name, i.Value, fd.Status, fd.Malicious, fd.Summary, floor)
				}
			case i == fakeintel.BenignIP || i == fakeintel.BenignDomain:
				if fd.Malicious > 0 {
					t.Errorf("%s %s: malicious %.2f (%s), want 0", name, i.Value, fd.Malicious, fd.Summary)
				}
				if strongBenign[name] && fd.Benign < 0.2 {
					t.Errorf("%s %s: benign %.2f (%s), want benign evidence", name, i.Value, fd.Benign, fd.Summary)
				}
			case i == fakeintel.SuspiciousIP:
				if fd.Malicious >= 0.9 {
					t.Errorf("%s %s: malicious %.2f (%s), want below 0.9", name, i.Value, fd.Malicious, fd.Summary)
				}
			default:
				want := provider.StatusNotFound
				if name == "abuseipdb" {
					want = provider.StatusOK // unreported: 200, score 0
				}
				if fd.Status != want || fd.Malicious != 0 || fd.Benign != 0 {
					t.Errorf("%s %s: %s malicious %.2f benign %.2f (%s), want %s and no signal",
						name, i.Value, fd.Status, fd.Malicious, fd.Benign, fd.Summary, want)
				}
			}
		}
	}
	if n := f.TotalTooMany(); n != 0 {
		t.Errorf("429s without a rate: %d", n)
	}
}

// strongBenign are the providers whose answer for a benign IOC carries
// benign evidence.
var strongBenign = map[string]bool{"virustotal": true, "greynoise": true, "abuseipdb": true, "otx": true}

// TestQuirks checks the raw not-found signals that differ most from "404".
func TestQuirks(t *testing.T) {
	f := start(t, fakeintel.Options{})
	cases := []struct {
		name, method, path, body string
		header                   map[string]string
		code                     int
		want                     string
	}{
		{"vt not found", "GET", "virustotal/api/v3/ip_addresses/93.184.216.34", "", map[string]string{"x-apikey": fakeintel.Key("virustotal")},
			404, `"code":"NotFoundError"`},
		{"vt no key", "GET", "virustotal/api/v3/ip_addresses/93.184.216.34", "", nil, 401, "X-Apikey header is missing"},
		{"shodan not found", "GET", "shodan/shodan/host/93.184.216.34?key=" + fakeintel.Key("shodan"), "", nil, 404,
			`{"error":"No information available for that IP."}`},
		{"greynoise not found", "GET", "greynoise/v3/community/93.184.216.34", "", nil, 404, `"riot":false`},
		{"gsb clean", "POST", "safebrowsing/v4/threatMatches:find?key=" + fakeintel.Key("safebrowsing"),
			`{"threatInfo":{"threatTypes":["MALWARE"],"threatEntries":[{"url":"http://quiet.example.org/"}]}}`, nil, 200, "{}\n"},
		{"threatfox no_result", "POST", "threatfox/api/v1/", `{"query":"search_ioc","search_term":"93.184.216.34"}`,
			map[string]string{"Auth-Key": fakeintel.Key("threatfox")}, 200, `"data":"Your search did not yield any results"`},
		{"threatfox no key", "POST", "threatfox/api/v1/", `{"query":"search_ioc","search_term":"x"}`, nil, 401, "unknown_auth_key"},
		{"abuseipdb unreported", "GET", "abuseipdb/api/v2/check?ipAddress=93.184.216.34&maxAgeInDays=90", "",
			map[string]string{"Key": fakeintel.Key("abuseipdb")}, 200, `"abuseConfidenceScore":0`},
		{"misp empty", "POST", "misp/attributes/restSearch", `{"value":"93.184.216.34"}`,
			map[string]string{"Authorization": fakeintel.Key("misp")}, 200, `{"response":{"Attribute":[]}}`},
		{"malwarebazaar", "POST", "malwarebazaar/api/v1/", "query=get_info&hash=" + strings.Repeat("ab", 32),
			map[string]string{"Auth-Key": fakeintel.Key("malwarebazaar")}, 200, `{"query_status":"hash_not_found"}`},
		{"graph no token", "GET", "passivetotal/beta/security/threatIntelligence/hosts/google.com/reputation", "", nil, 401,
			"InvalidAuthenticationToken"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, f.URL("virustotal")[:strings.Index(f.URL("virustotal"), "/virustotal")]+"/"+c.path,
				strings.NewReader(c.body))
			if c.method == "POST" && !strings.HasPrefix(c.body, "{") {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code || !strings.Contains(string(b), c.want) {
				t.Errorf("got %d %s, want %d containing %s", resp.StatusCode, b, c.code, c.want)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type %q", ct)
			}
			if c.code < 400 && !json.Valid(b) {
				t.Errorf("invalid JSON %s", b)
			}
		})
	}
}

// TestRateLimit drives the token bucket with a fake clock: a burst passes,
// the next request is a 429 in the provider's shape with Retry-After, and
// the bucket refills with time.
func TestRateLimit(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	f := start(t, fakeintel.Options{
		Rate: map[string]float64{"abuseipdb": 2}, Burst: map[string]int{"abuseipdb": 2},
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
	})
	get := func() *http.Response {
		req, _ := http.NewRequest("GET", f.URL("abuseipdb")+"/check?ipAddress=1.2.3.4", nil)
		req.Header.Set("Key", fakeintel.Key("abuseipdb"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for n := range 2 {
		if r := get(); r.StatusCode != 200 {
			t.Fatalf("request %d: %d, want 200", n, r.StatusCode)
		}
	}
	r := get()
	if r.StatusCode != 429 || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("third request: %d Retry-After %q, want 429 and 1", r.StatusCode, r.Header.Get("Retry-After"))
	}
	mu.Lock()
	now = now.Add(500 * time.Millisecond)
	mu.Unlock()
	if r := get(); r.StatusCode != 200 {
		t.Fatalf("after refill: %d", r.StatusCode)
	}
	if f.Calls("abuseipdb") != 4 || f.TooMany("abuseipdb") != 1 || f.TooMany("virustotal") != 0 {
		t.Errorf("calls %d, 429s %d", f.Calls("abuseipdb"), f.TooMany("abuseipdb"))
	}
	if env := strings.Join(f.Env(), "\n"); !strings.Contains(env, "IOCANE_ABUSEIPDB_RATE=2/s") ||
		!strings.Contains(env, "IOCANE_VIRUSTOTAL_RATE=unlimited") {
		t.Errorf("env rates:\n%s", env)
	}
}

// TestRequestLog checks the log and Saw, which tests use to prove that an
// IOC never reached a provider.
func TestRequestLog(t *testing.T) {
	f := start(t, fakeintel.Options{})
	ps := sources(t, f)
	if _, err := ps["otx"].Lookup(context.Background(), fakeintel.MaliciousURL); err != nil {
		t.Fatal(err)
	}
	reqs := f.Requests("otx")
	if len(reqs) != 1 || reqs[0].Method != "GET" || !strings.HasSuffix(reqs[0].Path, "/general") {
		t.Fatalf("log: %+v", reqs)
	}
	if p, ok := f.Saw(fakeintel.MaliciousURL.Value); !ok || p != "otx" {
		t.Errorf("Saw = %q, %v", p, ok)
	}
	if _, ok := f.Saw("10.0.0.5"); ok {
		t.Error("Saw an IOC nobody sent")
	}
	f.Reset()
	if f.TotalCalls() != 0 {
		t.Error("Reset kept counts")
	}
}
