package virustotal

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/providertest"
)

const (
	testKey = "vt-SECRET-key-0001"
	urlSHA  = "4c1a1b3b2e8b1d4d8f6e0d6c3a8b4f1e2d3c4b5a69788796a5b4c3d2e1f00112"
	evilURL = "http://sskymedia.com/VMYB-ht_JAQo-gi/INV/"
	eicar   = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
)

var (
	foundIP = ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}
	found   = map[ioc.IOC]string{
		foundIP: "ip_address.json",
		{Type: ioc.IPv6, Value: "2a01:4f8:c2c:1234::1"}:                     "ip_address_v6.json",
		{Type: ioc.Domain, Value: "down.mykings.pw"}:                        "domain.json",
		{Type: ioc.URL, Value: evilURL}:                                     "url.json",
		{Type: ioc.MD5, Value: "44d88612fea8a8f36de82e1278abb02f"}:          "file.json",
		{Type: ioc.SHA1, Value: "3395856ce81f2b7382dee72602f798b642f14140"}: "file.json",
		{Type: ioc.SHA256, Value: eicar}:                                    "file.json",
	}
)

// handler answers like VirusTotal v3: GET /api/v3/{collection}/{id}, a 404
// NotFoundError for an unknown id of a known collection, and a plain HTML
// 404 for a path the API does not have (so a wrong path is an error, not
// "not found").
func handler(t *testing.T) http.Handler {
	byPath := map[string][]byte{}
	for i, name := range found {
		coll, id := objectPath(i)
		byPath["/api/v3/"+coll+"/"+id] = providertest.File(t, name).Body
	}
	byPath["/api/v3/urls/"+urlSHA] = providertest.File(t, "url.json").Body
	notFound := providertest.File(t, "not_found.json").Body
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if b, ok := byPath[r.URL.Path]; ok {
			_, _ = w.Write(b)
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, "/api/v3/")
		coll, id, _ := strings.Cut(rest, "/")
		switch {
		case ok && id != "" && !strings.Contains(id, "/") &&
			(coll == "ip_addresses" || coll == "domains" || coll == "urls" || coll == "files"):
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(notFound)
		default:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("<html><body>Not Found</body></html>"))
		}
	})
}

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Suite{
		Provider:     Name,
		BasePath:     "/api/v3",
		Secrets:      map[string]string{"api_key": testKey},
		Handler:      handler(t),
		Auth:         func(r *http.Request) bool { return r.Header.Get("x-apikey") == testKey },
		KeyPlaces:    []providertest.Place{providertest.Header("x-apikey")},
		Unauthorized: providertest.FileCode(t, "wrong_credentials.json", http.StatusUnauthorized),
		TooMany:      providertest.FileCode(t, "quota_exceeded.json", http.StatusTooManyRequests),
		ServerError:  providertest.FileCode(t, "transient.json", http.StatusServiceUnavailable),
		Found:        foundIP,
		NotFound:     ioc.IOC{Type: ioc.IPv4, Value: "45.33.32.156"},
		Extra:        providertest.KeysExcept(found, foundIP),
		CheckFound:   checkFound,
	})
}

// checkFound asserts the key fields of each fixture's Finding.
func checkFound(t *testing.T, i ioc.IOC, f provider.Finding) {
	t.Helper()
	want := map[string]any{}
	var link, summary string
	var mal, ben float64
	switch i.Type {
	case ioc.IPv4:
		want = map[string]any{"malicious": 12, "suspicious": 2, "harmless": 60, "undetected": 20, "timeout": 0,
			"engines": 94, "reputation": -25, "asn": 208294, "as_owner": "Zwiebelfreunde e.V.", "country": "DE",
			"network": "185.220.101.0/24", "last_analysis_date": time.Unix(1764172800, 0).UTC()}
		link = "https://www.virustotal.com/gui/ip-address/185.220.101.47"
		summary = "12/94 engines flag it malicious, 2 suspicious"
		mal = 0.93
	case ioc.IPv6:
		want = map[string]any{"malicious": 0, "engines": 94, "asn": 24940, "country": "DE"}
		link = "https://www.virustotal.com/gui/ip-address/2a01:4f8:c2c:1234::1"
		summary = "0/94 engines flag it malicious"
		ben = 0.2
	case ioc.Domain:
		want = map[string]any{"malicious": 8, "engines": 98, "registrar": "Namecheap",
			"creation_date": time.Unix(1485015979, 0).UTC(),
			"categories":    map[string]string{"Dr.Web": "known infection source", "sophos": "malware callhome, command and control"}}
		link = "https://www.virustotal.com/gui/domain/down.mykings.pw"
		summary = "8/98 engines flag it malicious"
		mal = 0.8
	case ioc.URL:
		want = map[string]any{"malicious": 3, "engines": 92, "url": evilURL, "threat_names": []string{"Emotet"}}
		link = "https://www.virustotal.com/gui/url/" + urlSHA
		summary = "3/92 engines flag it malicious"
		mal = 0.5
	default: // files; type-unsupported engines are left out of the total
		want = map[string]any{"malicious": 62, "timeout": 1, "engines": 68, "size": int64(68),
			"meaningful_name": "eicar.com", "type_description": "Text", "names": []string{"eicar.com", "eicar.txt"},
			"popular_threat_label": "virus.eicar/test", "sha256": eicar}
		link = "https://www.virustotal.com/gui/file/" + eicar
		summary = "62/68 engines flag it malicious"
		mal = 1.0
	}
	for k, v := range want {
		if got := f.Data[k]; !equal(got, v) {
			t.Errorf("%v: Data[%q] = %#v, want %#v", i, k, got, v)
		}
	}
	if f.Link != link {
		t.Errorf("%v: Link = %q, want %q", i, f.Link, link)
	}
	if f.Summary != summary {
		t.Errorf("%v: Summary = %q, want %q", i, f.Summary, summary)
	}
	if !near(f.Malicious, mal) || !near(f.Benign, ben) {
		t.Errorf("%v: signals malicious=%v benign=%v, want %v %v", i, f.Malicious, f.Benign, mal, ben)
	}
	if len(f.Raw) == 0 {
		t.Errorf("%v: Raw empty with KeepRaw", i)
	}
}

func equal(a, b any) bool {
	switch bv := b.(type) {
	case []string:
		av, ok := a.([]string)
		return ok && strings.Join(av, "\x00") == strings.Join(bv, "\x00")
	case map[string]string:
		av, ok := a.(map[string]string)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, v := range bv {
			if av[k] != v {
				return false
			}
		}
		return true
	}
	return a == b
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestURLID(t *testing.T) {
	// Values from shared/providers.md §1 (computed with Python's urlsafe_b64encode(...).strip("=")).
	for u, want := range map[string]string{
		"http://www.example.com/":          "aHR0cDovL3d3dy5leGFtcGxlLmNvbS8",
		"https://example.com/path?a=1&b=2": "aHR0cHM6Ly9leGFtcGxlLmNvbS9wYXRoP2E9MSZiPTI",
		"http://x.test/?>>>":               "aHR0cDovL3gudGVzdC8_Pj4-", // '_' and '-', never '/' or '+'
	} {
		if got := URLID(u); got != want {
			t.Errorf("URLID(%q) = %q, want %q", u, got, want)
		}
	}
}

// newClient builds a Client in front of a fake serving h.
func newClient(t *testing.T, h http.Handler, keepRaw bool) (provider.Provider, *providertest.Fake) {
	t.Helper()
	return providertest.Serve(t, New, h, "/api/v3/", providertest.Options{Key: testKey, KeepRaw: keepRaw})
}

func TestRequestShape(t *testing.T) {
	p, fake := newClient(t, handler(t), false)
	for i := range found {
		fake.Reset()
		f, err := p.Lookup(context.Background(), i)
		if err != nil || f.Status != provider.StatusOK {
			t.Fatalf("%v: %v %v", i, f.Status, err)
		}
		if f.Raw != nil {
			t.Errorf("%v: Raw kept without KeepRaw", i)
		}
		reqs := fake.Requests()
		if len(reqs) != 1 {
			t.Fatalf("%v: %d requests, want 1", i, len(reqs))
		}
		r := reqs[0]
		coll, id := objectPath(i)
		if r.Method != http.MethodGet || r.Path != "/api/v3/"+coll+"/"+id || len(r.Query) != 0 {
			t.Errorf("%v: %s %s ?%v", i, r.Method, r.Path, r.Query)
		}
		if r.Header.Get("x-apikey") != testKey || r.Header.Get("Accept") != "application/json" {
			t.Errorf("%v: headers %v", i, r.Header)
		}
	}
	// The URL is sent as its unpadded base64url id.
	fake.Reset()
	_, _ = p.Lookup(context.Background(), ioc.IOC{Type: ioc.URL, Value: "http://www.example.com/"})
	if r := fake.Requests(); len(r) != 1 || r[0].Path != "/api/v3/urls/aHR0cDovL3d3dy5leGFtcGxlLmNvbS8" {
		t.Errorf("url request = %+v", r)
	}
}

func TestStatuses(t *testing.T) {
	errBody := func(code, name string) string {
		return `{"error":{"code":"` + code + `","message":"` + name + `"}}`
	}
	cases := []struct {
		name   string
		code   int
		ctype  string
		body   string
		status provider.Status
		is     error // want errors.Is(err, is)
		text   string
	}{
		{"not found", 404, "", errBody("NotFoundError", `IP address \"45.33.32.156\" not found`), provider.StatusNotFound, nil, ""},
		{"404 html is an error", 404, "text/html", "<html>Not Found</html>", provider.StatusError, nil, "http status 404"},
		{"404 other code is an error", 404, "", errBody("BadRequestError", "nope"), provider.StatusError, nil, "BadRequestError"},
		{"wrong key", 401, "", errBody("WrongCredentialsError", "Wrong API key"), provider.StatusError, provider.ErrUnauthorized, "WrongCredentialsError"},
		{"user not active", 401, "", errBody("UserNotActiveError", "inactive"), provider.StatusError, provider.ErrUnauthorized, "UserNotActiveError"},
		{"forbidden", 403, "", errBody("ForbiddenError", "no"), provider.StatusError, provider.ErrUnauthorized, "ForbiddenError"},
		{"quota", 429, "", errBody("QuotaExceededError", "Quota exceeded"), provider.StatusRateLimited, provider.ErrRateLimited, ""},
		{"bad request", 400, "", errBody("InvalidArgumentError", "bad id"), provider.StatusError, nil, "InvalidArgumentError"},
		{"no data", 200, "", `{"links":{}}`, provider.StatusError, provider.ErrBadResponse, "no data object"},
		{"malformed", 200, "", `{"data": {"id": "x", "attributes": {"last_analysis_stats": "many"}}}`, provider.StatusError, provider.ErrBadResponse, ""},
		{"empty stats", 200, "", `{"data": {"id": "185.220.101.47", "type": "ip_address", "attributes": {}}}`, provider.StatusOK, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newClient(t, providertest.Fixture{Code: tc.code, ContentType: tc.ctype, Body: []byte(tc.body)}, true)
			f, err := providertest.Lookup(p, Name, foundIP)
			providertest.CheckOutcome(t, f, err, tc.status, tc.is, tc.text)
			if tc.name == "empty stats" && (f.Summary != "no engine results yet" || f.Malicious != 0 || f.Benign != 0) {
				t.Errorf("empty stats: %q %v/%v", f.Summary, f.Malicious, f.Benign)
			}
		})
	}
}

func TestSignals(t *testing.T) {
	cases := []struct {
		c                       curve
		mal, sus, verdicts, rep int
		wantMal, wantBen        float64
	}{
		{networkCurve, 0, 0, 94, 0, 0, 0.2},   // clean from many engines: weak benign
		{networkCurve, 0, 0, 94, 5, 0, 0.2},   //
		{networkCurve, 0, 0, 94, -3, 0, 0},    // clean but the community disagrees
		{networkCurve, 0, 0, 12, 0, 0, 0},     // too few engines to call it clean
		{networkCurve, 0, 0, 0, 0, 0, 0},      // never analysed
		{networkCurve, 0, 1, 94, 0, 0.05, 0},  // one suspicious: half an engine
		{networkCurve, 1, 0, 94, 0, 0.1, 0},   // one engine of 94: noise
		{networkCurve, 0, 2, 94, 0, 0.1, 0},   // two suspicious = one malicious
		{networkCurve, 2, 0, 94, 0, 0.2, 0},   // two: still noise
		{networkCurve, 2, 1, 94, 0, 0.275, 0}, // issue 18's CDN edge (was 0.575)
		{networkCurve, 1, 2, 94, 0, 0.2, 0},   // issue 18's other edge (was 0.5)
		{networkCurve, 3, 0, 94, 0, 0.35, 0},  // a handful
		{networkCurve, 8, 0, 94, 0, 0.8, 0},   // malicious on its own at grade B
		{networkCurve, 10, 0, 94, 0, 0.9, 0},  // conclusive
		{networkCurve, 12, 2, 94, 0, 0.93, 0}, // 13 effective
		{urlCurve, 3, 0, 92, 0, 0.5, 0},       // URL engines are blocklists: a few weigh more
		{urlCurve, 7, 0, 92, 0, 0.8, 0},       //
		{fileCurve, 1, 0, 72, 0, 0.15, 0},     // one heuristic hit on a file
		{fileCurve, 5, 2, 72, 0, 0.72, 0},     // PUA-like
		{fileCurve, 62, 0, 68, 0, 1.0, 0},     // capped
	}
	for _, c := range cases {
		m, b := signals(c.c, c.mal, c.sus, c.verdicts, c.rep)
		if !near(m, c.wantMal) || !near(b, c.wantBen) {
			t.Errorf("signals(%v, %d, %d, %d, %d) = %v, %v; want %v, %v", c.c.at[0], c.mal, c.sus, c.verdicts, c.rep, m, b, c.wantMal, c.wantBen)
		}
	}
	// Monotone in detections, half engines included, for every curve.
	for _, c := range []curve{networkCurve, urlCurve, fileCurve} {
		prev := -1.0
		for n := range 80 {
			m, _ := signals(c, n/2, n%2, 94, 0)
			if m < prev || m > 1 {
				t.Errorf("curve %v: signal %v at %d halves after %v", c.at, m, n, prev)
			}
			prev = m
		}
	}
}

func TestNew(t *testing.T) {
	c := &http.Client{}
	key := map[string]provider.Secret{"api_key": provider.NewSecret(testKey)}
	cases := []struct {
		name string
		cfg  provider.Config
		ok   bool
	}{
		{"ok", provider.Config{BaseURL: "https://vt.example/api/v3", Secrets: key, HTTP: c}, true},
		{"default base", provider.Config{Secrets: key, HTTP: c}, true},
		{"no key", provider.Config{BaseURL: "https://vt.example", HTTP: c}, false},
		{"bad base", provider.Config{BaseURL: "vt.example/api", Secrets: key, HTTP: c}, false},
		{"no client", provider.Config{Secrets: key}, false},
	}
	for _, tc := range cases {
		_, err := New(tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if err != nil && strings.Contains(err.Error(), testKey) {
			t.Errorf("%s: key in error", tc.name)
		}
	}
	spec, ok := provider.Get(Name)
	if !ok || spec.Supports(ioc.SHA512) || !spec.Supports(ioc.SHA256) || spec.Rate != "4/m" || spec.Quota != "500/d" {
		t.Errorf("spec = %+v", spec)
	}
}
