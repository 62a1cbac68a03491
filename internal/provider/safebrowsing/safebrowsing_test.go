package safebrowsing

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/providertest"
)

const testKey = "gsb-SECRET-key-0001"

// handler answers like POST /v4/threatMatches:find: the matches of
// testdata/lists.json whose URL was asked about, or {} when none is.
func handler(t testing.TB) http.Handler {
	var lists findResponse
	if err := json.Unmarshal(providertest.File(t, "lists.json").Body, &lists); err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v4/threatMatches:find" {
			providertest.JSON(http.StatusNotFound, `{"error":{"code":404,"message":"Not Found","status":"NOT_FOUND"}}`).Write(w)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s with Content-Type %q, want POST application/json", r.Method, r.Header.Get("Content-Type"))
		}
		var req findRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.ThreatInfo.ThreatEntries) == 0 {
			providertest.FileCode(t, "bad_request.json", http.StatusBadRequest).Write(w)
			return
		}
		ti := req.ThreatInfo
		if req.Client.ClientID != "iocane" || req.Client.ClientVersion == "" ||
			!slices.Equal(ti.ThreatTypes, threatTypes) || !slices.Equal(ti.PlatformTypes, []string{"ANY_PLATFORM"}) ||
			!slices.Equal(ti.ThreatEntryTypes, []string{"URL"}) || len(ti.ThreatEntries) > MaxEntries {
			t.Errorf("unexpected request body %+v", req)
		}
		var out findResponse
		for _, m := range lists.Matches {
			if slices.Contains(ti.ThreatEntries, m.Threat) {
				out.Matches = append(out.Matches, m)
			}
		}
		if len(out.Matches) == 0 {
			providertest.File(t, "no_match.json").Write(w)
			return
		}
		b, _ := json.Marshal(out)
		providertest.Fixture{Body: b}.Write(w)
	})
}

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Suite{
		Provider:     Name,
		BasePath:     "/v4",
		Secrets:      map[string]string{"api_key": testKey},
		Handler:      handler(t),
		Auth:         func(r *http.Request) bool { return r.URL.Query().Get("key") == testKey },
		KeyPlaces:    []providertest.Place{providertest.Query("key")},
		Unauthorized: providertest.FileCode(t, "key_invalid.json", http.StatusBadRequest),
		TooMany:      providertest.FileCode(t, "resource_exhausted.json", http.StatusTooManyRequests),
		ServerError:  providertest.FileCode(t, "internal.json", http.StatusInternalServerError),
		Found:        ioc.IOC{Type: ioc.URL, Value: "http://malware.testing.google.test/testing/malware/"},
		NotFound:     ioc.IOC{Type: ioc.URL, Value: "https://www.example.org/"},
		Extra:        []ioc.IOC{{Type: ioc.Domain, Value: "login-example-support.com"}},
		CheckFound: func(t *testing.T, i ioc.IOC, f provider.Finding) {
			if f.Malicious != 0.95 || f.Benign != 0 {
				t.Errorf("%v: signals %v/%v, want 0.95/0", i, f.Malicious, f.Benign)
			}
			if len(f.Tags) == 0 || !strings.Contains(f.Summary, f.Tags[0]) {
				t.Errorf("%v: Tags %v, Summary %q: want the threat type in both", i, f.Tags, f.Summary)
			}
		},
	})
}

func newClient(t *testing.T, srv *httptest.Server) *Client {
	t.Helper()
	return providertest.Build(t, New, srv.URL+"/v4", srv.Client(), providertest.Options{Key: testKey, KeepRaw: true}).(*Client)
}

func TestLookup(t *testing.T) {
	srv := httptest.NewServer(handler(t))
	defer srv.Close()
	c := newClient(t, srv)
	tests := []struct {
		in      ioc.IOC
		status  provider.Status
		threats []string
		link    string
		meta    string
	}{
		{
			in: ioc.IOC{Type: ioc.URL, Value: "http://malware.testing.google.test/testing/malware/"}, status: provider.StatusOK,
			threats: []string{"MALWARE"}, meta: "landing",
			link: "https://transparencyreport.google.com/safe-browsing/search?url=http%3A%2F%2Fmalware.testing.google.test%2Ftesting%2Fmalware%2F",
		},
		{
			in: ioc.IOC{Type: ioc.Domain, Value: "login-example-support.com"}, status: provider.StatusOK,
			threats: []string{"SOCIAL_ENGINEERING", "UNWANTED_SOFTWARE"},
			link:    "https://transparencyreport.google.com/safe-browsing/search?url=http%3A%2F%2Flogin-example-support.com%2F",
		},
		{in: ioc.IOC{Type: ioc.Domain, Value: "example.org"}, status: provider.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.in.String(), func(t *testing.T) {
			f, err := c.Lookup(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if f.Status != tc.status {
				t.Fatalf("Status = %s, want %s", f.Status, tc.status)
			}
			if tc.status == provider.StatusNotFound {
				if f.Malicious != 0 || f.Benign != 0 || string(f.Raw) != "{}\n" {
					t.Errorf("no match: signals %v/%v raw %q, want 0/0 and the {} body", f.Malicious, f.Benign, f.Raw)
				}
				return
			}
			if !slices.Equal(f.Tags, tc.threats) || !slices.Equal(f.Data["threat_types"].([]string), tc.threats) {
				t.Errorf("Tags = %v, threat_types = %v, want %v", f.Tags, f.Data["threat_types"], tc.threats)
			}
			if f.Link != tc.link {
				t.Errorf("Link = %q, want %q", f.Link, tc.link)
			}
			if tc.meta != "" && f.Data["metadata"].(map[string]string)["malware_threat_type"] != tc.meta {
				t.Errorf("metadata = %v", f.Data["metadata"])
			}
			if f.Data["cache_duration"] != "300s" {
				t.Errorf("cache_duration = %v", f.Data["cache_duration"])
			}
		})
	}
}

func TestLookupBatch(t *testing.T) {
	var calls atomic.Int32
	h := handler(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := newClient(t, srv)
	if c.MaxBatch() != 500 {
		t.Errorf("MaxBatch = %d, want 500", c.MaxBatch())
	}
	in := []ioc.IOC{
		{Type: ioc.URL, Value: "https://www.example.org/"},
		{Type: ioc.URL, Value: "http://malware.testing.google.test/testing/malware/"},
		{Type: ioc.Domain, Value: "example.net"},
	}
	fs, err := c.LookupBatch(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d requests for a batch of 3, want 1", n)
	}
	want := []provider.Status{provider.StatusNotFound, provider.StatusOK, provider.StatusNotFound}
	for n, f := range fs {
		if f.Status != want[n] || f.Provider != Name {
			t.Errorf("entry %d (%v): status %s provider %q, want %s", n, in[n], f.Status, f.Provider, want[n])
		}
	}
	if fs[1].Malicious != 0.95 || fs[0].Malicious != 0 || fs[2].Malicious != 0 {
		t.Errorf("signals %v %v %v, want 0 0.95 0", fs[0].Malicious, fs[1].Malicious, fs[2].Malicious)
	}
	if !strings.Contains(string(fs[1].Raw), "MALWARE") || strings.Contains(string(fs[0].Raw), "MALWARE") {
		t.Errorf("per-entry Raw: %s / %s", fs[0].Raw, fs[1].Raw)
	}
}

func TestBatchMapsEchoedURLBack(t *testing.T) {
	// The API may echo an entry with a lower-cased host or a root path added.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		providertest.JSON(200, `{"matches":[{"threatType":"MALWARE","platformType":"ANY_PLATFORM","threatEntryType":"URL","threat":{"url":"http://evil-example.com/"}}]}`).Write(w)
	}))
	defer srv.Close()
	fs, err := newClient(t, srv).LookupBatch(context.Background(), []ioc.IOC{
		{Type: ioc.URL, Value: "http://EVIL-example.com"}, {Type: ioc.URL, Value: "http://evil-example.com/x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if fs[0].Status != provider.StatusOK || fs[1].Status != provider.StatusNotFound {
		t.Errorf("statuses %s %s, want ok not_found", fs[0].Status, fs[1].Status)
	}
}

func TestBatchLimitsAndTypes(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	c := newClient(t, srv)
	big := make([]ioc.IOC, MaxEntries+1)
	for n := range big {
		big[n] = ioc.IOC{Type: ioc.Domain, Value: "example.com"}
	}
	if _, err := c.LookupBatch(context.Background(), big); err == nil {
		t.Error("batch of 501: no error")
	}
	_, err := c.LookupBatch(context.Background(), []ioc.IOC{{Type: ioc.URL, Value: "http://a/"}, {Type: ioc.IPv4, Value: "192.0.2.1"}})
	if !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("batch with an ipv4: err = %v, want ErrUnsupported", err)
	}
	if calls.Load() != 0 {
		t.Errorf("%d requests for rejected batches, want 0", calls.Load())
	}
}

func TestBadRequestIsNotUnauthorized(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		providertest.FileCode(t, "bad_request.json", http.StatusBadRequest).Write(w)
	}))
	defer srv.Close()
	_, err := newClient(t, srv).Lookup(context.Background(), ioc.IOC{Type: ioc.URL, Value: "http://a/"})
	var he *provider.HTTPError
	if !errors.As(err, &he) || he.Code != 400 || errors.Is(err, provider.ErrUnauthorized) {
		t.Errorf("err = %v, want an HTTPError 400, not unauthorized", err)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Error("key in error text")
	}
}
