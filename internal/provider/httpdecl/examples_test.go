package httpdecl_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/config"
	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/pipeline"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/score"
)

var examples = map[string]string{
	"corp_ti":      "corp_ti.yaml",
	"vendor_intel": "vendor_intel.yaml",
}

// build loads config file path with environ and builds the sources as the
// pipeline does, returning the one called name.
func build(t *testing.T, path, name string, environ ...string) *enrich.Source {
	t.Helper()
	t.Cleanup(func() { _ = provider.Declare(nil) })
	c, err := config.Load(config.Options{Path: path, Environ: environ})
	if err != nil {
		t.Fatal(err)
	}
	b, err := pipeline.BuildSources(c, pipeline.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range b.Sources {
		if s.Spec.Name == name {
			return s
		}
	}
	t.Fatalf("%s not built (skipped: %q)", name, b.Skipped[name])
	return nil
}

// Both shipped examples load through config and build through the pipeline,
// with their key from IOCANE_<NAME>_API_KEY, without any network.
func TestExamplesLoadAndBuild(t *testing.T) {
	for name, file := range examples {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("..", "..", "..", "examples", "providers", file)
			key := name + "-SECRET-0004"
			env := "IOCANE_" + strings.ToUpper(name) + "_API_KEY=" + key
			src := build(t, path, name, env)
			spec, ok := provider.Get(name)
			if !ok || src.Spec.Name != name || len(spec.Types) == 0 {
				t.Fatalf("spec %+v not declared", spec)
			}
			c, _ := config.Load(config.Options{Path: path, Environ: []string{env}})
			pc := c.Providers[name]
			if pc.Secrets["api_key"].Reveal() != key || len(pc.Settings) != 0 {
				t.Errorf("provider config = %+v", pc)
			}
			if s := fmt.Sprintf("%v %+v %#v", pc, pc, c.Providers); strings.Contains(s, key) {
				t.Errorf("printing the config leaks the key: %s", s)
			}
			// Without the key it is skipped, as a built-in is.
			_ = provider.Declare(nil)
			c, err := config.Load(config.Options{Path: path, Environ: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := pipeline.BuildSources(c, pipeline.BuildOptions{})
			if b.Skipped[name] != pipeline.ReasonNoKey {
				t.Errorf("without a key: skipped = %q, want %q", b.Skipped[name], pipeline.ReasonNoKey)
			}
		})
	}
}

// The signals a declared provider gives move the score as its block says:
// through the real chain against a fake, corp_ti's 92/100 botnet score is
// a malicious verdict and its allow-listed resolver a benign one, graded B
// as the block declares.
func TestSignalsMoveTheScore(t *testing.T) {
	const key = "corp-SECRET-key-0001"
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != key {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/ipv4/185.220.101.47":
			http.ServeFile(w, r, filepath.Join("testdata", "corp_ti", "found_ip.json"))
		case "/api/v1/ipv4/8.8.8.8":
			http.ServeFile(w, r, filepath.Join("testdata", "corp_ti", "whitelisted.json"))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error": "not found"}`))
		}
	}))
	defer fake.Close()
	path := filepath.Join("..", "..", "..", "examples", "providers", "corp_ti.yaml")
	src := build(t, path, "corp_ti", "IOCANE_CORP_TI_API_KEY="+key, "IOCANE_CORP_TI_BASE_URL="+fake.URL)

	cases := []struct {
		value    string
		mal, ben float64
		verdict  result.Verdict
	}{
		{"185.220.101.47", 0.92, 0, result.Malicious},
		{"8.8.8.8", 0, 1, result.Benign},
		{"45.33.32.156", 0, 0, result.Unknown},
	}
	for _, c := range cases {
		f, err := src.Provider.Lookup(t.Context(), ioc.IOC{Type: ioc.IPv4, Value: c.value})
		if err != nil {
			t.Fatalf("%s: %v", c.value, err)
		}
		if f.Malicious != c.mal || f.Benign != c.ben {
			t.Errorf("%s: signals %v/%v, want %v/%v", c.value, f.Malicious, f.Benign, c.mal, c.ben)
		}
		ev := score.FromSources([]result.Source{{Provider: f.Provider, Status: string(f.Status),
			Malicious: f.Malicious, Benign: f.Benign, Summary: f.Summary, Data: f.Data}}, score.SpecReliability)
		if ev[0].Reliability != provider.ReliabilityB {
			t.Errorf("reliability = %q, want the block's B", ev[0].Reliability)
		}
		if out := score.Score(score.DefaultPolicy(), ev); out.Verdict != c.verdict {
			t.Errorf("%s: verdict %s (score %d, confidence %d), want %s", c.value, out.Verdict, out.Score, out.Confidence, c.verdict)
		}
	}
	// A wrong key is unauthorized, and the key is in no error.
	bad := build(t, path, "corp_ti", "IOCANE_CORP_TI_API_KEY=wrong-"+key, "IOCANE_CORP_TI_BASE_URL="+fake.URL)
	_, err := bad.Provider.Lookup(t.Context(), ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"})
	if !errors.Is(err, provider.ErrUnauthorized) || strings.Contains(err.Error(), key) {
		t.Errorf("wrong key: %v", err)
	}
}
