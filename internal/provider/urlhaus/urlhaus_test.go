package urlhaus

import (
	"context"
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

const testKey = "uh-SECRET-key-0001"

const payloadSHA256 = "dc9f3b226bccb2f1fd4810cde541e5a10d59a1fe683f4a9462293b6ade8d8403"

// handler answers like urlhaus-api.abuse.ch: form POSTs to /v1/url/,
// /v1/host/ and /v1/payload/, fields beside query_status, "no_results" for
// a miss.
func handler(t testing.TB) http.Handler {
	answers := map[string]map[string]providertest.Fixture{
		"/v1/url/": {
			"url:http://sskymedia.com/VMYB-ht_JAQo-gi/INV/": providertest.File(t, "url.json"),
			"url:http://vektorex.com/source/Z/5016223.exe":  providertest.File(t, "url_offline.json"),
			"url:not a url": providertest.File(t, "invalid_url.json"),
		},
		"/v1/host/": {
			"host:vektorex.com":  providertest.File(t, "host.json"),
			"host:45.95.147.236": providertest.File(t, "host_ip.json"),
			"host:sskymedia.com": providertest.File(t, "host_abused.json"),
		},
		"/v1/payload/": {
			"md5_hash:ab9a7a8f0c6e8b1ff3cbbd0b8d6ba4b1": providertest.File(t, "payload.json"),
			"sha256_hash:" + payloadSHA256:              providertest.File(t, "payload.json"),
		},
	}
	fields := map[string]string{"/v1/url/": "url", "/v1/host/": "host", "/v1/payload/": "md5_hash sha256_hash"}
	noResults := providertest.File(t, "no_results.json")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		byValue, ok := answers[r.URL.Path]
		if !ok || r.Method != http.MethodPost {
			http.Error(w, "404 Not Found", http.StatusNotFound)
			return
		}
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
			providertest.JSON(http.StatusOK, `{"query_status": "http_post_expected"}`).Write(w)
			return
		}
		for _, field := range strings.Fields(fields[r.URL.Path]) {
			v := r.PostForm.Get(field)
			if v == "" {
				continue
			}
			if fx, ok := byValue[field+":"+v]; ok {
				fx.Write(w)
				return
			}
			noResults.Write(w)
			return
		}
		providertest.JSON(http.StatusOK, `{"query_status": "missing_parameter"}`).Write(w)
	})
}

var (
	foundURL    = ioc.IOC{Type: ioc.URL, Value: "http://sskymedia.com/VMYB-ht_JAQo-gi/INV/"}
	offlineURL  = ioc.IOC{Type: ioc.URL, Value: "http://vektorex.com/source/Z/5016223.exe"}
	foundDomain = ioc.IOC{Type: ioc.Domain, Value: "vektorex.com"}
	abusedHost  = ioc.IOC{Type: ioc.Domain, Value: "sskymedia.com"}
	foundIP     = ioc.IOC{Type: ioc.IPv4, Value: "45.95.147.236"}
	foundMD5    = ioc.IOC{Type: ioc.MD5, Value: "ab9a7a8f0c6e8b1ff3cbbd0b8d6ba4b1"}
	foundSHA256 = ioc.IOC{Type: ioc.SHA256, Value: payloadSHA256}
)

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Suite{
		Provider:     Name,
		BasePath:     "/v1",
		Secrets:      map[string]string{"api_key": testKey},
		Handler:      handler(t),
		Auth:         func(r *http.Request) bool { return r.Header.Get("Auth-Key") == testKey },
		KeyPlaces:    []providertest.Place{providertest.Header("Auth-Key")},
		Unauthorized: providertest.FileCode(t, "unauthorized.json", http.StatusUnauthorized),
		Found:        foundURL,
		NotFound:     ioc.IOC{Type: ioc.URL, Value: "http://unknown.example/x"},
		Extra:        []ioc.IOC{foundDomain, foundIP, foundMD5, foundSHA256},
		CheckFound: func(t *testing.T, i ioc.IOC, f provider.Finding) {
			if f.Malicious < 0.5 {
				t.Errorf("%v: malicious = %v, want >= 0.5", i, f.Malicious)
			}
			if !strings.HasPrefix(f.Link, "https://urlhaus.abuse.ch/") {
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
	p, _ := providertest.Serve(t, New, h, "/v1/", providertest.Options{Key: testKey})
	return p
}

func TestLookupByType(t *testing.T) {
	p := newTestClient(t, handler(t))
	tests := []struct {
		name      string
		in        ioc.IOC
		malicious float64
		link      string
		summary   string
		data      map[string]any
		tags      string
	}{
		{"url online", foundURL, 0.9, "https://urlhaus.abuse.ch/url/105821/",
			"malware_download URL, online, listed by URLhaus",
			map[string]any{"id": "105821", "url_status": "online", "host": "sskymedia.com", "larted": true,
				"payload_count": 2, "spamhaus_dbl": "abused_legit_malware", "surbl": "listed", "reporter": "Cryptolaemus1",
				"date_added": time.Date(2019, 1, 19, 1, 33, 26, 0, time.UTC)},
			"malware_download,emotet,epoch2,heodo"}, // the Heodo signature folds into heodo
		{"url offline", offlineURL, 0.8, "https://urlhaus.abuse.ch/url/121319/",
			"malware_download URL, offline, listed by URLhaus",
			map[string]any{"url_status": "offline", "larted": false, "payload_count": 0, "spamhaus_dbl": "not listed",
				"last_online": time.Date(2019, 2, 14, 10, 0, 0, 0, time.UTC)},
			"malware_download,AZORult,exe"},
		{"domain with an online URL", foundDomain, 0.8, "https://urlhaus.abuse.ch/host/vektorex.com/",
			"host of 120 malware URLs (1 online)",
			map[string]any{"host": "vektorex.com", "url_count": 120, "urls_online": 1,
				"first_seen": time.Date(2019, 1, 15, 7, 9, 1, 0, time.UTC)},
			"malware_download,AZORult,exe,Loki"},
		{"ip with offline URLs only", foundIP, 0.6, "https://urlhaus.abuse.ch/host/45.95.147.236/",
			"host of 2 malware URLs (0 online)",
			map[string]any{"url_count": 2, "urls_online": 0},
			"malware_download,elf,mirai"},
		{"abused legitimate host", abusedHost, 0.5, "https://urlhaus.abuse.ch/host/sskymedia.com/",
			"host of 3 malware URLs (1 online), abused legitimate site per Spamhaus DBL",
			map[string]any{"url_count": 3, "urls_online": 1, "surbl": "listed"},
			"malware_download,emotet,epoch2,heodo"},
		{"md5 payload", foundMD5, 0.9, "https://urlhaus.abuse.ch/browse.php?search=" + payloadSHA256,
			"Heodo payload served by 3 malware URLs",
			map[string]any{"sha256": payloadSHA256, "file_type": "doc", "file_size": 179664, "url_count": 3,
				"first_seen": time.Date(2019, 1, 19, 1, 40, 11, 0, time.UTC)},
			"Heodo"},
		{"sha256 payload", foundSHA256, 0.9, "https://urlhaus.abuse.ch/browse.php?search=" + payloadSHA256,
			"Heodo payload served by 3 malware URLs", map[string]any{"signature": "Heodo"}, "Heodo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := p.Lookup(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if f.Status != provider.StatusOK || f.Provider != Name || f.Benign != 0 {
				t.Fatalf("finding = %+v", f)
			}
			if f.Malicious != tc.malicious {
				t.Errorf("malicious = %v, want %v", f.Malicious, tc.malicious)
			}
			if f.Link != tc.link {
				t.Errorf("link = %q, want %q", f.Link, tc.link)
			}
			if f.Summary != tc.summary {
				t.Errorf("summary = %q, want %q", f.Summary, tc.summary)
			}
			for k, v := range tc.data {
				if f.Data[k] != v {
					t.Errorf("Data[%s] = %#v, want %#v", k, f.Data[k], v)
				}
			}
			if got := strings.Join(f.Tags, ","); got != tc.tags {
				t.Errorf("tags = %q, want %q", got, tc.tags)
			}
		})
	}
}

func TestStatuses(t *testing.T) {
	p := newTestClient(t, handler(t))
	ctx := context.Background()
	for _, i := range []ioc.IOC{
		{Type: ioc.Domain, Value: "clean.example"},
		{Type: ioc.IPv4, Value: "198.51.100.9"},
		{Type: ioc.SHA256, Value: strings.Repeat("1", 64)},
	} {
		f, err := p.Lookup(ctx, i)
		if err != nil || f.Status != provider.StatusNotFound || f.Malicious != 0 || f.Data != nil {
			t.Errorf("%v: no_results → %+v, %v", i, f, err)
		}
	}
	_, err := p.Lookup(ctx, ioc.IOC{Type: ioc.URL, Value: "not a url"})
	var se *abusech.StatusError
	if !errors.As(err, &se) || se.Status != "invalid_url" {
		t.Errorf("invalid_url: err = %v", err)
	}
	p = newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		providertest.JSON(http.StatusOK, `{"query_status": "ok", "url_count": "lots"}`).Write(w)
	}))
	if _, err := p.Lookup(ctx, foundDomain); !errors.Is(err, provider.ErrBadResponse) {
		t.Errorf("bad url_count: err = %v, want ErrBadResponse", err)
	}
}
