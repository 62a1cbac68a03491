package knowninfra

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

func newClient(t *testing.T) provider.Provider {
	t.Helper()
	p, err := New(provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLookup(t *testing.T) {
	p := newClient(t)
	cases := []struct {
		ioc      string
		list     string // "" for not_found
		discount float64
		summary  string
	}{
		{"104.16.132.229", "cloudflare", 0.7, "known infrastructure: Cloudflare edge, MISP warninglist"},
		{"2606:4700::6810:84e5", "cloudflare", 0.7, "known infrastructure: Cloudflare edge, MISP warninglist"},
		{"151.101.1.69", "fastly", 0.7, "known infrastructure: Fastly edge, MISP warninglist"},
		{"23.215.0.136", "akamai", 0.7, "known infrastructure: Akamai edge, MISP warninglist"},
		{"3.120.181.40", "amazon-aws", 0.3, "known infrastructure: Amazon AWS range, MISP warninglist"},
		{"20.42.65.92", "microsoft-azure", 0.3, "known infrastructure: Microsoft Azure range, MISP warninglist"},
		{"34.102.136.180", "google-gcp", 0.3, "known infrastructure: Google Cloud range, MISP warninglist"},
		{"8.8.8.8", "public-dns-v4", 0.8, "known infrastructure: public DNS resolver, MISP warninglist"},
		{"2620:fe::fe", "public-dns-v6", 0.8, "known infrastructure: public DNS resolver, MISP warninglist"},
		{"144.217.254.3", "sinkholes", 0.8, "known infrastructure: sinkhole, MISP warninglist"},
		{"2no.co", "url-shortener", 0.7, "known infrastructure: URL shortener, MISP warninglist"},
		{"github.com", "lots-project", 0.8, "known infrastructure: file or code hosting (LOTS), MISP warninglist"},
		{"raw.githubusercontent.com", "lots-project", 0.8, "known infrastructure: file or code hosting (LOTS), MISP warninglist"},
		{"www.dropbox.com", "lots-project", 0.8, "known infrastructure: file or code hosting (LOTS), MISP warninglist"},
		// A URL on a hosting platform: context for the analyst, no discount.
		{"https://raw.githubusercontent.com/evil/x/main/loader.ps1", "lots-project", 0,
			"host is known infrastructure: file or code hosting (LOTS), MISP warninglist (context only: the url is judged on its own)"},
		// A tenant's subdomain is not the platform.
		{"evil-user.github.io", "", 0, ""},
		{"my-c2.duckdns.org", "", 0, ""},
		{"45.61.136.9", "", 0, ""},
		{"secure-paypa1.com", "", 0, ""},
		{"185.220.101.47", "", 0, ""},
	}
	for _, c := range cases {
		i, err := ioc.Parse(c.ioc)
		if err != nil {
			t.Fatal(err)
		}
		f, err := p.Lookup(context.Background(), i)
		if err != nil {
			t.Fatalf("%s: %v", c.ioc, err)
		}
		if c.list == "" {
			if f.Status != provider.StatusNotFound {
				t.Errorf("%s: %s %q, want not_found", c.ioc, f.Status, f.Summary)
			}
			continue
		}
		lists, _ := f.Data["lists"].([]string)
		if f.Status != provider.StatusOK || !slices.Contains(lists, c.list) || f.Data[provider.DataDiscount] != c.discount || f.Summary != c.summary {
			t.Errorf("%s: %s %q %v, want ok on %s, discount %v, %q", c.ioc, f.Status, f.Summary, f.Data, c.list, c.discount, c.summary)
		}
		if f.Malicious != 0 || f.Benign != 0 {
			t.Errorf("%s: context carries signals %v/%v", c.ioc, f.Malicious, f.Benign)
		}
	}
	if _, err := p.Lookup(context.Background(), ioc.IOC{Type: ioc.SHA256, Value: strings.Repeat("a", 64)}); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("hash: %v, want ErrUnsupported", err)
	}
}

// TestBundle holds data/ to the catalog: one file per list, no other, each a
// warninglist with entries, filtered as the list says, and the upstream
// manifest and licence beside them.
func TestBundle(t *testing.T) {
	files, err := fs.Glob(bundle, "data/*.json")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range Lists {
		want = append(want, "data/"+l.Name+".json")
		b, err := fs.ReadFile(bundle, "data/"+l.Name+".json")
		if err != nil {
			t.Fatal(err)
		}
		var wl struct {
			Name string   `json:"name"`
			List []string `json:"list"`
		}
		if err := json.Unmarshal(b, &wl); err != nil || wl.Name == "" || len(wl.List) == 0 {
			t.Errorf("%s: %v, name %q, %d entries", l.Name, err, wl.Name, len(wl.List))
		}
		for _, e := range wl.List {
			if !l.Kept(e) {
				t.Errorf("%s: entry %s is outside the list's filter", l.Name, e)
			}
		}
		if l.Discount <= 0 || l.Discount >= 1 || l.What == "" {
			t.Errorf("%s: discount %v, what %q", l.Name, l.Discount, l.What)
		}
	}
	slices.Sort(files)
	slices.Sort(want)
	if !slices.Equal(files, want) {
		t.Errorf("data/ holds %v, the catalog names %v", files, want)
	}
	for _, f := range []string{"data/UPSTREAM.txt", "data/LICENSE.txt"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
