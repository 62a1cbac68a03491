package verdictbench

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/httpx"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	_ "github.com/iocane/iocane/internal/provider/all"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/score"
	"github.com/iocane/iocane/internal/tlp"
)

// benchCase is one labelled case (see the package doc).
type benchCase struct {
	Name    string            `json:"name"`
	IOC     string            `json:"ioc"`
	Label   result.Verdict    `json:"label"`
	Why     string            `json:"why"`
	Answers map[string]answer `json:"answers"`
	file    string
}

// answer is one provider's canned HTTP answer.
type answer struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

// supported are the providers whose look-up is one request, so that one
// canned answer stands for the whole exchange.
var supported = []string{"abuseipdb", "greynoise", "malwarebazaar", "misp", "otx", "safebrowsing", "shodan", "threatfox", "urlhaus", "virustotal"}

// loadCases reads every case file under testdata/cases.
func loadCases(t *testing.T, pattern string) []benchCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files match %s: %v", pattern, err)
	}
	var out []benchCase
	names := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cs []benchCase
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cs {
			c.file = filepath.Base(f)
			switch {
			case names[c.Name]:
				t.Fatalf("%s: duplicate case name %q", f, c.Name)
			case c.Why == "":
				t.Fatalf("%s: case %q has no why", f, c.Name)
			case !c.Label.Valid():
				t.Fatalf("%s: case %q has label %q", f, c.Name, c.Label)
			}
			for p := range c.Answers {
				if !slices.Contains(supported, p) {
					t.Fatalf("%s: case %q answers for %q, which the harness does not fake", f, c.Name, p)
				}
			}
			names[c.Name] = true
			out = append(out, c)
		}
	}
	return out
}

// run enriches the case's IOC through the real provider packages, each
// pointed at an httptest server that gives the case's answer, and every
// built-in local source, and scores it with the default policy.
func run(t *testing.T, c benchCase) result.Result {
	t.Helper()
	i, err := ioc.Parse(c.IOC)
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		a, ok := c.Answers[name]
		if !ok {
			http.Error(w, "no answer for "+name, http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if a.Status != 0 {
			w.WriteHeader(a.Status)
		}
		_, _ = w.Write(a.Body)
	}))
	defer srv.Close()

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var sources []*enrich.Source
	var only []string
	for _, spec := range provider.All() {
		_, asked := c.Answers[spec.Name]
		if !asked && !builtinLocal(spec) {
			continue
		}
		cfg := provider.Config{
			BaseURL:  srv.URL + "/" + spec.Name,
			Secrets:  map[string]provider.Secret{},
			Settings: map[string]string{},
			Logger:   logger,
			HTTP: httpx.NewClient(httpx.Options{Name: spec.Name, MaxAttempts: 1, RetryPOST: true,
				Base: srv.Client().Transport}),
		}
		for _, k := range spec.Credentials {
			cfg.Secrets[k] = provider.NewSecret("bench-" + k)
		}
		p, err := spec.New(cfg)
		if err != nil {
			t.Fatalf("%s: build %s: %v", c.Name, spec.Name, err)
		}
		sources = append(sources, &enrich.Source{Spec: spec, Provider: p, MaxTLP: tlp.Red, Workers: 1, Logger: logger})
		if !spec.Local {
			only = append(only, spec.Name)
		}
	}
	e := enrich.New(enrich.Options{Sources: sources, Only: only, Policy: score.DefaultPolicy()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	defer e.Close()
	return e.Enrich(ctx, enrich.Item{IOC: i, TLP: tlp.Amber})
}

// builtinLocal reports whether spec is a local source that works without
// configuration, on data bundled into the binary (known infrastructure),
// which every case runs with as a default install would.
func builtinLocal(spec provider.Spec) bool { return spec.Local && spec.Context }
