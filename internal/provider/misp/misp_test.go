package misp

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/providertest"
)

const testKey = "misp-SECRET-authkey-0001"

// fixtures maps a searched value to the testdata file MISP answers with;
// any other value gets the empty Attribute list, MISP's not found.
var fixtures = map[string]string{
	"185.220.101.47":                     "found_ipv4.json",
	"71a868cdcc6b79b7d274e3b558cd4596":   "found_md5.json",
	"login-example-support.com":          "context_domain.json",
	"8.8.8.8":                            "warninglist_ipv4.json",
	"https://cdn.example.net/update.exe": "false_positive_tag.json",
}

// handler answers like MISP's POST /attributes/restSearch under basePath:
// JSON in, JSON out, 405 for other methods, 404 for other paths.
func handler(t testing.TB, basePath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != basePath+"/attributes/restSearch" {
			providertest.JSON(http.StatusNotFound, `{"name":"Not Found","message":"Not Found","url":"`+r.URL.Path+`"}`).Write(w)
			return
		}
		if r.Method != http.MethodPost {
			providertest.JSON(http.StatusMethodNotAllowed, `{"name":"Method Not Allowed","message":"Method Not Allowed","url":"`+r.URL.Path+`"}`).Write(w)
			return
		}
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Accept") != "application/json" {
			t.Errorf("restSearch headers: Content-Type %q Accept %q, want application/json", r.Header.Get("Content-Type"), r.Header.Get("Accept"))
		}
		var q map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &q); err != nil {
			providertest.JSON(http.StatusBadRequest, `{"name":"Invalid JSON","message":"Invalid JSON","url":"/attributes/restSearch"}`).Write(w)
			return
		}
		if q["returnFormat"] != "json" || q["includeEventTags"] != true {
			t.Errorf("restSearch body %s: want returnFormat json and includeEventTags true", b)
		}
		value, _ := q["value"].(string)
		name, ok := fixtures[value]
		if !ok {
			name = "not_found.json"
		}
		providertest.File(t, name).Write(w)
	})
}

func auth(r *http.Request) bool { return r.Header.Get("Authorization") == testKey }

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Suite{
		Provider:     Name,
		BasePath:     "/misp",
		Secrets:      map[string]string{"api_key": testKey},
		Handler:      handler(t, "/misp"),
		Auth:         auth,
		KeyPlaces:    []providertest.Place{providertest.Header("Authorization")},
		Unauthorized: providertest.FileCode(t, "forbidden.json", http.StatusForbidden),
		TooMany:      providertest.FileCode(t, "too_many.json", http.StatusTooManyRequests),
		ServerError:  providertest.FileCode(t, "server_error.json", http.StatusInternalServerError),
		Found:        ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"},
		NotFound:     ioc.IOC{Type: ioc.SHA256, Value: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"},
		Extra:        []ioc.IOC{{Type: ioc.MD5, Value: "71a868cdcc6b79b7d274e3b558cd4596"}},
		CheckFound: func(t *testing.T, i ioc.IOC, f provider.Finding) {
			if f.Malicious != 0.9 {
				t.Errorf("%v: Malicious = %v, want 0.9 (to_ids set)", i, f.Malicious)
			}
			if !strings.Contains(f.Link, "/misp/events/view/") {
				t.Errorf("%v: Link = %q, want <base>/events/view/<id>", i, f.Link)
			}
			if len(f.Raw) == 0 {
				t.Errorf("%v: Raw empty with KeepRaw", i)
			}
		},
	})
}

func newClient(t *testing.T, srv *httptest.Server) provider.Provider {
	t.Helper()
	return providertest.Build(t, New, srv.URL+"/misp/", srv.Client(), providertest.Options{Key: testKey})
}

func TestLookupMapping(t *testing.T) {
	srv := httptest.NewServer(handler(t, "/misp"))
	defer srv.Close()
	c := newClient(t, srv)
	base := srv.URL + "/misp"
	tests := []struct {
		name        string
		in          ioc.IOC
		status      provider.Status
		mal, ben    float64
		link, tlp   string
		events      []string
		tags        []string
		ids, attrs  int
		summaryPart string
		first, last string
	}{
		{
			name: "ipv4 to_ids in two events", in: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"},
			status: provider.StatusOK, mal: 0.9, link: base + "/events/view/1201", tlp: "amber",
			events: []string{"1201", "1188"}, ids: 1, attrs: 2,
			tags:        []string{"misp-galaxy:tool=\"Cobalt Strike\"", "tlp:amber", "tlp:green"},
			summaryPart: `2 attribute(s) in 2 event(s), 1 flagged for IDS: "Cobalt Strike C2 cluster"`,
			first:       "2023-07-22T04:26:40Z", last: "2023-11-20T17:30:00Z",
		},
		{
			name: "md5 documented example", in: ioc.IOC{Type: ioc.MD5, Value: "71a868cdcc6b79b7d274e3b558cd4596"},
			status: provider.StatusOK, mal: 0.9, link: base + "/events/view/145", tlp: "clear",
			events: []string{"145"}, ids: 1, attrs: 1, tags: []string{"tlp:white"},
			summaryPart: "1 flagged for IDS",
			first:       "2016-03-02T22:32:29Z", last: "2016-03-02T22:32:29Z",
		},
		{
			name: "domain context only", in: ioc.IOC{Type: ioc.Domain, Value: "login-example-support.com"},
			status: provider.StatusOK, mal: 0.5, link: base + "/events/view/310",
			events: []string{"310"}, attrs: 1, summaryPart: "context only (to_ids off)",
		},
		{
			name: "warning-list hit is benign", in: ioc.IOC{Type: ioc.IPv4, Value: "8.8.8.8"},
			status: provider.StatusOK, ben: 0.8, link: base + "/events/view/402",
			events: []string{"402"}, attrs: 1, summaryPart: "warning list",
		},
		{
			name: "false-positive tag is benign, string to_ids", in: ioc.IOC{Type: ioc.URL, Value: "https://cdn.example.net/update.exe"},
			status: provider.StatusOK, ben: 0.8, link: base + "/events/view/403", tlp: "red",
			events: []string{"403"}, attrs: 1, tags: []string{"false-positive:risk=\"high\"", "tlp:red"},
			summaryPart: "false positive",
		},
		{
			name: "cve not found", in: ioc.IOC{Type: ioc.CVE, Value: "CVE-2021-44228"},
			status: provider.StatusNotFound,
		},
		{
			name: "btc not found", in: ioc.IOC{Type: ioc.BTC, Value: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"},
			status: provider.StatusNotFound,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := c.Lookup(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if f.Status != tc.status || f.Malicious != tc.mal || f.Benign != tc.ben {
				t.Fatalf("status/mal/ben = %s/%v/%v, want %s/%v/%v", f.Status, f.Malicious, f.Benign, tc.status, tc.mal, tc.ben)
			}
			if f.Status == provider.StatusNotFound {
				if f.Data != nil || f.Link != "" {
					t.Errorf("not found carries data %v link %q", f.Data, f.Link)
				}
				return
			}
			if f.Link != tc.link {
				t.Errorf("Link = %q, want %q", f.Link, tc.link)
			}
			if !strings.Contains(f.Summary, tc.summaryPart) {
				t.Errorf("Summary = %q, want it to contain %q", f.Summary, tc.summaryPart)
			}
			if got, _ := f.Data["tlp"].(string); got != tc.tlp {
				t.Errorf("tlp = %q, want %q", got, tc.tlp)
			}
			if got := f.Data["event_ids"].([]string); strings.Join(got, ",") != strings.Join(tc.events, ",") {
				t.Errorf("event_ids = %v, want %v", got, tc.events)
			}
			if f.Data["to_ids"] != tc.ids || f.Data["attributes"] != tc.attrs {
				t.Errorf("to_ids/attributes = %v/%v, want %d/%d", f.Data["to_ids"], f.Data["attributes"], tc.ids, tc.attrs)
			}
			if strings.Join(f.Tags, "|") != strings.Join(tc.tags, "|") {
				t.Errorf("Tags = %q, want %q", f.Tags, tc.tags)
			}
			for key, want := range map[string]string{"first_seen": tc.first, "last_seen": tc.last} {
				if want == "" {
					continue
				}
				got, _ := f.Data[key].(time.Time)
				if got.Format(time.RFC3339) != want {
					t.Errorf("%s = %v, want %s", key, got, want)
				}
			}
		})
	}
}

func TestNewRequiresBaseURL(t *testing.T) {
	_, err := New(provider.Config{
		Secrets: map[string]provider.Secret{"api_key": provider.NewSecret(testKey)},
		HTTP:    http.DefaultClient,
	})
	if err == nil || err.Error() != "misp: base URL not set (IOCANE_MISP_BASE_URL)" {
		t.Fatalf("New without base URL: err = %v", err)
	}
	spec, _ := provider.Get(Name)
	if spec.BaseURL != "" {
		t.Errorf("Spec.BaseURL = %q, want no default", spec.BaseURL)
	}
}

func TestRequestBody(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth := r.Header.Get("Authorization"); auth != testKey {
			t.Errorf("Authorization = %q, want the raw key (no Bearer)", auth)
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
		providertest.File(t, "not_found.json").Write(w)
	}))
	defer srv.Close()
	if _, err := newClient(t, srv).Lookup(context.Background(), ioc.IOC{Type: ioc.Domain, Value: "evil-example.com"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"returnFormat": "json", "value": "evil-example.com", "includeEventTags": true, "includeEventUuid": true,
		"includeWarninglistHits": true, "deleted": false, "limit": float64(DefaultLimit), "page": float64(1),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("body[%s] = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["type"]; ok {
		t.Errorf("body has a type filter %v; the value alone must select (composite types)", got["type"])
	}
}

func TestFixturesAreValidJSON(t *testing.T) {
	names, _ := filepath.Glob("testdata/*.json")
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil || !json.Valid(b) {
			t.Errorf("%s: not valid JSON (%v)", n, err)
		}
	}
}

// TestAddSighting: an analyst verdict goes to POST /sightings/add with the
// raw key, type "1" for a false positive and "0" otherwise; MISP's failure
// response (403, "saved": false, the reason in "errors") is an error that
// says why and never holds the key.
func TestAddSighting(t *testing.T) {
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/misp/sightings/add" || r.Method != http.MethodPost || r.Header.Get("Authorization") != testKey {
			t.Errorf("%s %s, Authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		got = append(got, b)
		if b["value"] == "unknown.example" {
			providertest.JSON(403, `{"saved": false, "name": "Could not add the Sighting", "message": "Could not add the Sighting",
				"url": "/sightings/add", "errors": "No valid attributes found that would match the sighting criteria. `+testKey+`"}`).Write(w)
			return
		}
		providertest.JSON(200, `{"saved": true, "success": true, "name": "1 sighting successfully added.", "message": "1 sighting successfully added.", "url": "/sightings/add"}`).Write(w)
	}))
	defer srv.Close()
	c := newClient(t, srv).(*Client)
	ctx := context.Background()
	if err := c.AddSighting(ctx, "cdn.example.net", true); err != nil {
		t.Fatal(err)
	}
	if err := c.AddSighting(ctx, "185.220.101.47", false); err != nil {
		t.Fatal(err)
	}
	if got[0]["type"] != "1" || got[1]["type"] != "0" || got[0]["source"] != "iocane" || got[0]["value"] != "cdn.example.net" {
		t.Errorf("bodies %v", got)
	}
	err := c.AddSighting(ctx, "unknown.example", true)
	if err == nil || !strings.Contains(err.Error(), "No valid attributes found") || strings.Contains(err.Error(), testKey) {
		t.Errorf("refused sighting: %v", err)
	}
}
