package taxii

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

func testConfig(url string) Config {
	return Config{
		URL:        url,
		Collection: testCollection,
		Username:   provider.NewSecret(testUser),
		Password:   provider.NewSecret(testPassword),
	}
}

func newClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg, &http.Client{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collect runs a Sync and returns what it emitted.
func collect(t testing.TB, c *Client, cursor string) ([]Indicator, string, error) {
	t.Helper()
	var got []Indicator
	next, err := c.Sync(context.Background(), cursor, func(i Indicator) error {
		got = append(got, i)
		return nil
	})
	return got, next, err
}

func TestSyncFixture(t *testing.T) {
	f := newFakeServer(t)
	f.add(fixtureObjects(t)...)
	lastAdded := f.objects[len(f.objects)-1].added.Format(stamp)
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	want := []Indicator{
		{IOC: ioc.IOC{Type: ioc.IPv4, Value: "198.51.100.23"}, ID: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", Confidence: 85, TLP: "amber", Modified: at("2026-01-02T11:00:00Z")},
		{IOC: ioc.IOC{Type: ioc.Domain, Value: "c2.example.com"}, ID: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", Confidence: 85, TLP: "amber", Modified: at("2026-01-02T11:00:00Z")},
		{IOC: ioc.IOC{Type: ioc.URL, Value: "http://payload.example.net/x.bin"}, ID: "indicator--2f7c4a80-6c7d-4ae2-9e1b-0f4a3b7c9d11", Revoked: true, Confidence: -1, Modified: at("2026-01-03T00:00:00Z")},
		{IOC: ioc.IOC{Type: ioc.SHA256, Value: "44d88612fea8a8f36de82e1278abb02f44d88612fea8a8f36de82e1278abb02f"}, ID: "indicator--5b1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", Confidence: 40, TLP: "green", ValidUntil: at("2025-02-01T00:00:00Z"), Modified: at("2025-01-01T00:00:00Z")},
		{IOC: ioc.IOC{Type: ioc.IPv4, Value: "203.0.113.9"}, ID: "indicator--7a1e6b3c-0d2f-4e8a-9b5c-6d7e8f9a0b1c", Confidence: -1, Modified: at("2026-01-02T10:00:00Z")},
	}
	for _, tt := range []struct{ name, path string }{
		{"discovery", "/taxii2/"},
		{"discovery without slash", "/taxii2"},
		{"api root", "/api1/"},
		{"api root without slash", "/api1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := append([]Indicator(nil), want...)
			got, cursor, err := collect(t, newClient(t, testConfig(f.srv.URL+tt.path)), "")
			// The broken pattern is reported, after the rest was read.
			if !errors.Is(err, ErrBadIndicator) || !strings.Contains(err.Error(), "indicator--7a1e6b3c") {
				t.Fatalf("err = %v, want ErrBadIndicator naming the broken indicator", err)
			}
			if cursor != lastAdded {
				t.Errorf("cursor = %q, want %q", cursor, lastAdded)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d indicators, want %d: %+v", len(got), len(want), got)
			}
			for i := range want {
				if !got[i].ValidUntil.Equal(want[i].ValidUntil) || !got[i].Modified.Equal(want[i].Modified) {
					t.Errorf("[%d] times = %v/%v, want %v/%v", i, got[i].ValidUntil, got[i].Modified, want[i].ValidUntil, want[i].Modified)
				}
				got[i].ValidUntil, got[i].Modified, want[i].ValidUntil, want[i].Modified = time.Time{}, time.Time{}, time.Time{}, time.Time{}
				if got[i] != want[i] {
					t.Errorf("[%d] = %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}

func TestSyncPagingAndResume(t *testing.T) {
	for _, tt := range []struct {
		name     string
		noNext   bool
		maxLimit int
		pageSize int
		pages    int
	}{
		{"next tokens", false, 0, 20, 5},
		{"added_after only", true, 0, 20, 5},
		{"server caps the page", false, 10, 1000, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t)
			f.noNext, f.maxLimit = tt.noNext, tt.maxLimit
			for n := range 100 {
				f.add(indicatorJSON(n))
			}
			cfg := testConfig(f.srv.URL + "/taxii2/")
			cfg.PageSize = tt.pageSize
			c := newClient(t, cfg)
			got, cursor, err := collect(t, c, "")
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, ind := range got {
				seen[ind.IOC.Value]++
			}
			for n := range 100 {
				if v := fmt.Sprintf("n%d.example.com", n); seen[v] != 1 {
					t.Errorf("%s emitted %d times", v, seen[v])
				}
			}
			if len(got) != 100 {
				t.Errorf("emitted %d, want 100", len(got))
			}
			if want := f.objects[99].added.Format(stamp); cursor != want {
				t.Errorf("cursor = %q, want %q", cursor, want)
			}
			if reqs := f.objectRequests(); len(reqs) != tt.pages {
				t.Errorf("%d object requests, want %d: %q", len(reqs), tt.pages, reqs)
			}

			// The server adds 3; a Sync from the cursor fetches only them.
			f.add(indicatorJSON(100), indicatorJSON(101), indicatorJSON(102))
			got, cursor2, err := collect(t, c, cursor)
			if err != nil {
				t.Fatal(err)
			}
			var vals []string
			for _, ind := range got {
				vals = append(vals, ind.IOC.Value)
			}
			if strings.Join(vals, " ") != "n100.example.com n101.example.com n102.example.com" {
				t.Errorf("resumed sync emitted %q", vals)
			}
			if want := f.objects[102].added.Format(stamp); cursor2 != want {
				t.Errorf("cursor = %q, want %q", cursor2, want)
			}

			// Nothing new: nothing emitted, cursor kept.
			got, cursor3, err := collect(t, c, cursor2)
			if err != nil || len(got) != 0 || cursor3 != cursor2 {
				t.Errorf("idle sync = %d indicators, %q, %v; want 0, %q, nil", len(got), cursor3, err, cursor2)
			}
		})
	}
}

func TestSyncAPIKey(t *testing.T) {
	for _, hdr := range []string{"", "X-Api-Key"} {
		t.Run("header "+hdr, func(t *testing.T) {
			f := newFakeServer(t)
			f.add(indicatorJSON(1))
			f.apiKey, f.keyHdr = "k-123456789", hdr
			if hdr == "" {
				f.keyHdr = "Authorization"
			}
			c := newClient(t, Config{URL: f.srv.URL + "/api1/", Collection: testCollection,
				APIKey: provider.NewSecret("k-123456789"), APIKeyHeader: hdr})
			if got, _, err := collect(t, c, ""); err != nil || len(got) != 1 {
				t.Fatalf("got %d, %v", len(got), err)
			}
		})
	}
}

func TestSyncErrors(t *testing.T) {
	const wrong = "wrong-Pa55word-xyz"
	basicWrong := base64.StdEncoding.EncodeToString([]byte(testUser + ":" + wrong))
	tests := []struct {
		name     string
		cfg      func(Config) Config
		override func(w http.ResponseWriter, r *http.Request) bool
		is       error
		contains string
		emitted  int // before the error
	}{
		{
			name:     "401 taxii error",
			cfg:      func(c Config) Config { c.Password = provider.NewSecret(wrong); return c },
			is:       ErrUnauthorized,
			contains: "http 401: Authentication required: The credentials given",
		},
		{
			name: "401 echoing the credentials",
			cfg:  func(c Config) Config { c.Password = provider.NewSecret(wrong); return c },
			override: func(w http.ResponseWriter, r *http.Request) bool {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprintf(w, `{"title":"bad %s","description":%q}`, wrong, "you sent "+r.Header.Get("Authorization"))
				return true
			},
			is:       ErrUnauthorized,
			contains: "bad [redacted]: you sent Basic [redacted]",
		},
		{
			name:     "404 collection",
			cfg:      func(c Config) Config { c.Collection = "no-such-collection"; return c },
			is:       ErrNotFound,
			contains: "Collection not found",
		},
		{
			name: "garbage objects page",
			override: func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, "/objects/") {
					return false
				}
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, "<html><body>maintenance</body></html>")
				return true
			},
			is:       ErrBadResponse,
			contains: "not a TAXII envelope",
		},
		{
			name: "oversized page",
			cfg:  func(c Config) Config { c.MaxBody = 4096; return c },
			override: func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, "/objects/") {
					return false
				}
				fmt.Fprintf(w, `{"objects":[%s]}`, strings.Repeat(`{"type":"x"},`, 1000)+"{}")
				return true
			},
			is:       ErrBodyTooLarge,
			contains: "over 4096 bytes",
		},
		{
			name: "api root of another version",
			override: func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/api1/" {
					return false
				}
				fmt.Fprint(w, `{"title":"old","versions":["application/vnd.oasis.taxii+json; version=2.0"]}`)
				return true
			},
			is:       ErrBadResponse,
			contains: "does not offer application/taxii+json;version=2.1",
		},
		{
			name: "discovery pointing at another host",
			override: func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/taxii2/" {
					return false
				}
				fmt.Fprint(w, `{"title":"x","default":"https://collector.example.net/api1/"}`)
				return true
			},
			is:       ErrBadResponse,
			contains: "another host",
		},
		{
			name: "neither discovery nor api root",
			override: func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/taxii2/" {
					return false
				}
				fmt.Fprint(w, `{"title":"x"}`)
				return true
			},
			is:       ErrBadResponse,
			contains: "neither a discovery resource",
		},
		{
			name: "collection not readable",
			override: func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, testCollection+"/") {
					return false
				}
				fmt.Fprintf(w, `{"id":%q,"can_read":false}`, testCollection)
				return true
			},
			is:       ErrUnauthorized,
			contains: "can_read is false",
		},
		{
			name: "same next token twice",
			override: func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, "/objects/") {
					return false
				}
				fmt.Fprint(w, `{"more":true,"next":"again","objects":[{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '192.0.2.1']"}]}`)
				return true
			},
			is:       ErrBadResponse,
			contains: "same next token twice",
			emitted:  2,
		},
		{
			name: "more without a way forward",
			override: func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, "/objects/") {
					return false
				}
				fmt.Fprint(w, `{"more":true,"objects":[{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '192.0.2.1']"}]}`)
				return true
			},
			is:       ErrBadResponse,
			contains: "without a next token",
			emitted:  1,
		},
		{
			name: "garbage date-added header",
			override: func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, "/objects/") {
					return false
				}
				w.Header().Set("X-TAXII-Date-Added-Last", "yesterday")
				fmt.Fprint(w, `{"objects":[]}`)
				return true
			},
			is:       ErrBadResponse,
			contains: "X-TAXII-Date-Added-Last \"yesterday\"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t)
			f.add(indicatorJSON(1))
			f.override = tt.override
			cfg := testConfig(f.srv.URL + "/taxii2/")
			if tt.cfg != nil {
				cfg = tt.cfg(cfg)
			}
			got, cursor, err := collect(t, newClient(t, cfg), "")
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.contains) {
				t.Errorf("err = %q, want it to contain %q", msg, tt.contains)
			}
			for _, secret := range []string{wrong, testPassword, basicWrong} {
				if strings.Contains(msg, secret) {
					t.Errorf("err %q leaks a credential", msg)
				}
			}
			if len(got) != tt.emitted || cursor != "" {
				t.Errorf("emitted %d, cursor %q; want %d, \"\"", len(got), cursor, tt.emitted)
			}
		})
	}
}

func TestSyncEmitErrorKeepsCursor(t *testing.T) {
	f := newFakeServer(t)
	for n := range 30 {
		f.add(indicatorJSON(n))
	}
	cfg := testConfig(f.srv.URL + "/api1/")
	cfg.PageSize = 10
	c := newClient(t, cfg)
	stop := errors.New("disk full")
	n := 0
	cursor, err := c.Sync(context.Background(), "", func(Indicator) error {
		if n++; n == 15 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the emit error", err)
	}
	// The first page was emitted whole; the second was not.
	if want := f.objects[9].added.Format(stamp); cursor != want {
		t.Errorf("cursor = %q, want %q (end of page 1)", cursor, want)
	}
	got, _, err := collect(t, c, cursor)
	if err != nil || len(got) != 20 || got[0].IOC.Value != "n10.example.com" {
		t.Errorf("resume = %d indicators from %v, %v; want 20 from n10", len(got), got[0].IOC, err)
	}
}

func TestSyncContextCancelled(t *testing.T) {
	f := newFakeServer(t)
	for n := range 30 {
		f.add(indicatorJSON(n))
	}
	cfg := testConfig(f.srv.URL + "/api1/")
	cfg.PageSize = 10
	c := newClient(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	cursor, err := c.Sync(ctx, "", func(Indicator) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if want := f.objects[9].added.Format(stamp); cursor != want {
		t.Errorf("cursor = %q, want %q", cursor, want)
	}
}

func TestSyncBadCursor(t *testing.T) {
	f := newFakeServer(t)
	_, err := newClient(t, testConfig(f.srv.URL+"/api1/")).Sync(context.Background(), "last tuesday", func(Indicator) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "RFC 3339") {
		t.Fatalf("err = %v", err)
	}
	if len(f.objectRequests()) != 0 {
		t.Error("a bad cursor still sent requests")
	}
}

func TestNew(t *testing.T) {
	const key = "key-0123456789"
	tests := []struct {
		name     string
		cfg      Config
		contains string // "" means valid
	}{
		{"valid https", Config{URL: "https://taxii.example.com/taxii2/", Collection: "c1", APIKey: provider.NewSecret(key)}, ""},
		{"valid loopback http", Config{URL: "http://127.0.0.1:9000/api1/", Collection: "c1", Username: provider.NewSecret("u"), Password: provider.NewSecret(key)}, ""},
		{"no url", Config{Collection: "c1"}, "want an absolute"},
		{"relative url", Config{URL: "/taxii2/", Collection: "c1"}, "want an absolute"},
		{"ftp", Config{URL: "ftp://x.example.com/", Collection: "c1"}, "want an absolute"},
		{"credentials in url", Config{URL: "https://u:" + key + "@x.example.com/", Collection: "c1"}, "not in the url"},
		{"query", Config{URL: "https://x.example.com/taxii2/?a=1", Collection: "c1"}, "no query"},
		{"no collection", Config{URL: "https://x.example.com/"}, "want a collection id"},
		{"collection with slash", Config{URL: "https://x.example.com/", Collection: "a/../b"}, "want a collection id"},
		{"collection dot dot", Config{URL: "https://x.example.com/", Collection: ".."}, "want a collection id"},
		{"collection with space", Config{URL: "https://x.example.com/", Collection: "a b"}, "want a collection id"},
		{"credentials over http", Config{URL: "http://x.example.com/", Collection: "c1", APIKey: provider.NewSecret(key)}, "only over https"},
		{"password without user", Config{URL: "https://x.example.com/", Collection: "c1", Password: provider.NewSecret(key)}, "without a username"},
		{"basic and key in one header", Config{URL: "https://x.example.com/", Collection: "c1", Username: provider.NewSecret("u"), APIKey: provider.NewSecret(key)}, "cannot share"},
		{"bad header name", Config{URL: "https://x.example.com/", Collection: "c1", APIKey: provider.NewSecret(key), APIKeyHeader: "X Key"}, "not a header name"},
		{"newline in key", Config{URL: "https://x.example.com/", Collection: "c1", APIKey: provider.NewSecret(key + "\r\nX: y")}, "cannot carry"},
		{"negative page size", Config{URL: "https://x.example.com/", Collection: "c1", PageSize: -1}, "page size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, nil)
			if tt.contains == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("err = %v, want %q", err, tt.contains)
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("err %q leaks the key", err)
			}
		})
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	cfg := testConfig("https://x.example.com/")
	cfg.APIKey, cfg.APIKeyHeader = provider.NewSecret("k-abcdef"), "X-Key"
	for _, s := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(s, testPassword) || strings.Contains(s, "k-abcdef") {
			t.Errorf("config prints a secret: %s", s)
		}
	}
}

func TestRedirectToAnotherHostRefused(t *testing.T) {
	f := newFakeServer(t)
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, "http://collector.example.net/steal", http.StatusFound)
		return true
	}
	_, _, err := collect(t, newClient(t, testConfig(f.srv.URL+"/taxii2/")), "")
	if !errors.Is(err, errRedirect) {
		t.Fatalf("err = %v, want the redirect refused", err)
	}
}
