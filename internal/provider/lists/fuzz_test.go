package lists

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
)

// FuzzLoad feeds arbitrary bytes to each reader: Load may reject a file but
// must not panic, and whatever it loads must be matchable.
func FuzzLoad(f *testing.F) {
	for _, n := range []string{"corp.txt", "bad.txt", "feed.csv", "wl-cidr.json", "wl-regex.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, filepath.Ext(n))
	}
	f.Add([]byte(`{"list":["::/0","0.0.0.0/0","*.a"],"type":"cidr"}`), ".json")
	f.Fuzz(func(t *testing.T, data []byte, ext string) {
		if ext != ".txt" && ext != ".csv" && ext != ".json" {
			ext = ".txt"
		}
		p := filepath.Join(t.TempDir(), "l"+ext)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, k := range []Kind{KindAuto, KindHostname, KindCIDR, KindSubstring} {
			m, err := Load([]Source{{Path: p, Kind: k}}, nil)
			if err != nil {
				continue
			}
			for _, v := range []string{"192.0.2.1", "2001:db8::1", "a.example", "http://a.example/x", string(data)} {
				for _, typ := range ioc.Types {
					_ = m.Match(ioc.IOC{Type: typ, Value: v})
				}
			}
		}
	})
}

// FuzzMatch looks arbitrary values up in a loaded matcher: no panic, and an
// IP address always finds the networks that contain it.
func FuzzMatch(f *testing.F) {
	m, err := Load([]Source{
		{Path: filepath.Join("testdata", "corp.txt")},
		{Path: filepath.Join("testdata", "wl-substring.json")},
		{Path: filepath.Join("testdata", "wl-regex.json")},
	}, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"198.51.100.7", "hxxp://a[.]corp[.]example/x", "a@b.corp.example", "http://[2001:db8:abcd::1]:80/", "::ffff:198.51.100.1", "HXXP://A.B", "CVE-2021-44228", "cve-2021-1", "Example.COM.", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "E3B0C44298FC1C149AFBF4C8996FB924", "a.b.", "xxxx", "hXXps://x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if v = strings.TrimSpace(v); v != "" {
			if _, isIP := parseIP(v); !isIP {
				if got, want := canonFast(v), canon(refang(v)); got != want {
					t.Fatalf("canonFast(%q) = %q, canon(refang) = %q", v, got, want)
				}
			}
		}
		for _, typ := range ioc.Types {
			for _, h := range m.Match(ioc.IOC{Type: typ, Value: v}) {
				if h.List == "" || h.Entry == "" || h.Kind == "" {
					t.Fatalf("Match(%q) gave an incomplete hit %+v", v, h)
				}
			}
		}
	})
}
