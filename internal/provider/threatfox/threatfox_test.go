package threatfox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/abusech"
	"github.com/iocane/iocane/internal/provider/providertest"
)

const testKey = "tf-SECRET-key-0001"

// handler answers like threatfox-api.abuse.ch: POST /api/v1/ with a JSON
// body, query_status envelope, "no_result" with a string data member.
func handler(t testing.TB) http.Handler {
	answers := map[string]providertest.Fixture{
		"139.180.203.104":                providertest.File(t, "search_ioc_ip.json"),
		"1.2.3.4":                        providertest.File(t, "search_ioc_near_miss.json"),
		"down.mykings.pw":                providertest.File(t, "search_ioc_domain.json"),
		"http://down.mykings.pw/ups.rar": providertest.File(t, "search_ioc_url.json"),
		"094fd325049b8a9cf6d3e5ef2a6d4cc6a567d7d49c35f8bb8dd9e3c6acf3d78d": providertest.File(t, "search_ioc_sha256.json"),
		"bad term": providertest.File(t, "illegal_search_term.json"),
	}
	noResult := providertest.File(t, "no_result.json")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/" {
			http.Error(w, "404 Not Found", http.StatusNotFound)
			return
		}
		var q struct {
			Query      string `json:"query"`
			SearchTerm string `json:"search_term"`
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.NewDecoder(r.Body).Decode(&q) != nil {
			providertest.JSON(http.StatusOK, `{"query_status": "illegal_query"}`).Write(w)
			return
		}
		if q.Query != "search_ioc" {
			providertest.JSON(http.StatusOK, `{"query_status": "unknown_query"}`).Write(w)
			return
		}
		if fx, ok := answers[q.SearchTerm]; ok {
			fx.Write(w)
			return
		}
		noResult.Write(w)
	})
}

var (
	foundIP     = ioc.IOC{Type: ioc.IPv4, Value: "139.180.203.104"}
	foundDomain = ioc.IOC{Type: ioc.Domain, Value: "down.mykings.pw"}
	foundURL    = ioc.IOC{Type: ioc.URL, Value: "http://down.mykings.pw/ups.rar"}
	foundSHA256 = ioc.IOC{Type: ioc.SHA256, Value: "094fd325049b8a9cf6d3e5ef2a6d4cc6a567d7d49c35f8bb8dd9e3c6acf3d78d"}
)

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Suite{
		Provider:     Name,
		BasePath:     "/api/v1",
		Secrets:      map[string]string{"api_key": testKey},
		Handler:      handler(t),
		Auth:         func(r *http.Request) bool { return r.Header.Get("Auth-Key") == testKey },
		KeyPlaces:    []providertest.Place{providertest.Header("Auth-Key")},
		Unauthorized: providertest.FileCode(t, "unauthorized.json", http.StatusUnauthorized),
		Found:        foundIP,
		NotFound:     ioc.IOC{Type: ioc.IPv4, Value: "198.51.100.7"},
		Extra:        []ioc.IOC{foundDomain, foundURL, foundSHA256},
		CheckFound: func(t *testing.T, i ioc.IOC, f provider.Finding) {
			if f.Malicious < 0.5 && i != foundSHA256 {
				t.Errorf("%v: malicious = %v, want >= 0.5", i, f.Malicious)
			}
			if !strings.HasPrefix(f.Link, "https://threatfox.abuse.ch/ioc/") {
				t.Errorf("%v: link = %q", i, f.Link)
			}
			if len(f.Raw) == 0 {
				t.Errorf("%v: Raw empty with KeepRaw", i)
			}
		},
	})
}

func newTestClient(t *testing.T, h http.Handler) provider.Provider {
	t.Helper()
	p, _ := providertest.Serve(t, New, h, "/api/v1", providertest.Options{Key: testKey})
	return p
}

func TestLookupByType(t *testing.T) {
	p := newTestClient(t, handler(t))
	tests := []struct {
		in        ioc.IOC
		id        string
		malicious float64
		matches   int
		family    string
		firstSeen time.Time
		tags      []string
	}{
		// Two ip:port entries for the IP; the confidence-100 one leads.
		{foundIP, "1318", 1.0, 2, "Cobalt Strike", time.Date(2020, 12, 7, 14, 1, 2, 0, time.UTC),
			[]string{"Cobalt Strike", "botnet_cc", "CobaltStrike", "cs-watermark-0"}},
		// The URL entry under the domain does not count: only the domain entry (confidence 50).
		{foundDomain, "4411", 0.6, 1, "MyKings", time.Date(2021, 3, 1, 10, 0, 0, 0, time.UTC),
			[]string{"MyKings", "payload_delivery"}}, // "mykings" folds into "MyKings"
		{foundURL, "4412", 1.0, 1, "MyKings", time.Date(2021, 3, 1, 10, 0, 0, 0, time.UTC),
			[]string{"MyKings", "payload_delivery"}}, // "mykings" folds into "MyKings"
		// Confidence 25: weak.
		{foundSHA256, "98765", 0.4, 1, "Agent Tesla", time.Date(2020, 2, 13, 11, 55, 46, 0, time.UTC),
			[]string{"Agent Tesla", "payload", "AgentTesla", "exe"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.in.Type), func(t *testing.T) {
			f, err := p.Lookup(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if f.Status != provider.StatusOK || f.Provider != Name {
				t.Fatalf("status = %q provider = %q", f.Status, f.Provider)
			}
			if d := f.Malicious - tc.malicious; d > 1e-9 || d < -1e-9 {
				t.Errorf("malicious = %v, want %v", f.Malicious, tc.malicious)
			}
			if f.Benign != 0 {
				t.Errorf("benign = %v, want 0", f.Benign)
			}
			if want := "https://threatfox.abuse.ch/ioc/" + tc.id + "/"; f.Link != want {
				t.Errorf("link = %q, want %q", f.Link, want)
			}
			if f.Data["id"] != tc.id || f.Data["matches"] != tc.matches || f.Data["malware_printable"] != tc.family {
				t.Errorf("data = %v", f.Data)
			}
			if got, _ := f.Data["first_seen"].(time.Time); !got.Equal(tc.firstSeen) {
				t.Errorf("first_seen = %v, want %v", f.Data["first_seen"], tc.firstSeen)
			}
			if _, ok := f.Data["confidence_level"].(int); !ok {
				t.Errorf("confidence_level is %T, want int", f.Data["confidence_level"])
			}
			if strings.Join(f.Tags, ",") != strings.Join(tc.tags, ",") {
				t.Errorf("tags = %q, want %q", f.Tags, tc.tags)
			}
			if f.Raw != nil {
				t.Error("Raw set without KeepRaw")
			}
		})
	}
}

func TestQuirks(t *testing.T) {
	p := newTestClient(t, handler(t))
	ctx := context.Background()

	// no_result with a string data member is not_found, not a decode error.
	f, err := p.Lookup(ctx, ioc.IOC{Type: ioc.Domain, Value: "nothing-here.example"})
	if err != nil || f.Status != provider.StatusNotFound || f.Malicious != 0 {
		t.Errorf("no_result: %+v, %v", f, err)
	}
	// A substring hit (11.2.3.4:80 for 1.2.3.4) is not the IP.
	f, err = p.Lookup(ctx, ioc.IOC{Type: ioc.IPv4, Value: "1.2.3.4"})
	if err != nil || f.Status != provider.StatusNotFound {
		t.Errorf("near miss: %+v, %v", f, err)
	}
	// A refused query is an error naming the status.
	_, err = p.Lookup(ctx, ioc.IOC{Type: ioc.Domain, Value: "bad term"})
	var se *abusech.StatusError
	if !errors.As(err, &se) || se.Status != "illegal_search_term" {
		t.Errorf("illegal_search_term: err = %v", err)
	}
}

func TestEnvelopeErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"auth status in a 200", `{"query_status": "unknown_auth_key"}`, provider.ErrUnauthorized},
		{"ok with string data", `{"query_status": "ok", "data": "oops"}`, provider.ErrBadResponse},
		{"ok without data", `{"query_status": "ok"}`, provider.ErrBadResponse},
		{"no query_status", `{"data": []}`, provider.ErrBadResponse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				providertest.JSON(http.StatusOK, tc.body).Write(w)
			}))
			_, err := p.Lookup(context.Background(), foundIP)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNewRequiresKey(t *testing.T) {
	_, err := New(provider.Config{BaseURL: "http://127.0.0.1:1", HTTP: http.DefaultClient})
	if err == nil || !strings.Contains(err.Error(), "api_key") {
		t.Errorf("New without a key: err = %v", err)
	}
}

func TestSignal(t *testing.T) {
	for c, want := range map[int]float64{-5: 0.2, 0: 0.2, 25: 0.4, 50: 0.6, 74: 0.888, 75: 0.9, 100: 1.0, 150: 1.0} {
		if got := signal(c); got-want > 1e-9 || want-got > 1e-9 {
			t.Errorf("signal(%d) = %v, want %v", c, got, want)
		}
	}
}
