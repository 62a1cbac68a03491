package pipeline

// End-to-end acceptance (issue 4, acceptance 1): the engine built the way
// the CLI builds it (pipeline.Open), against the loopback fake of
// all twelve provider APIs (internal/fakeintel).

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/ioc"
	_ "github.com/iocane/iocane/internal/provider/all" // every provider registers itself
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/store"
	"github.com/iocane/iocane/internal/tlp"
)

// runtime is the pipeline the CLI opens, seen as the tests use it.
type runtime struct {
	p      *Pipeline
	engine *enrich.Engine
	db     *store.DB
	built  *Built
}

// newRuntime opens the pipeline as the CLI does (Open), with the config from
// the fake's environment (plus env) and the SQLite store at dbPath.
func newRuntime(tb testing.TB, f *fakeintel.Server, dbPath string, eo enrich.Options, env ...string) *runtime {
	tb.Helper()
	p, err := Open(context.Background(), Options{ConfigPath: writeEmptyConfig(tb), DBPath: dbPath, Environ: append(f.Env(), env...), Engine: eo})
	if err != nil {
		tb.Fatal(err)
	}
	rt := &runtime{p: p, engine: p.Engine, db: p.Store, built: p.Sources}
	tb.Cleanup(rt.close)
	return rt
}

// source returns the built source named name, nil when it was not built.
func (r *runtime) source(name string) *enrich.Source {
	for _, s := range r.built.Sources {
		if s.Spec.Name == name {
			return s
		}
	}
	return nil
}

func (r *runtime) close() {
	if r.p != nil {
		r.p.Close()
		r.p = nil
	}
}

// writeEmptyConfig writes an empty YAML file, so that no ./iocane.yaml in
// the working directory can leak into the test.
func writeEmptyConfig(tb testing.TB) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "iocane.yaml")
	if err := os.WriteFile(p, []byte("# empty: everything comes from the environment\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// enrichAll runs items through Engine.Run, as `iocane enrich -f` does, and
// returns the results by IOC.
func enrichAll(t *testing.T, e *enrich.Engine, items ...enrich.Item) map[ioc.IOC]result.Result {
	t.Helper()
	in := make(chan enrich.Item, len(items))
	for _, it := range items {
		in <- it
	}
	close(in)
	out := map[ioc.IOC]result.Result{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := e.Run(ctx, in, func(r result.Result) error { out[r.IOC] = r; return nil }, enrich.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(items) {
		t.Fatalf("%d results for %d items", len(out), len(items))
	}
	return out
}

// reasonProviders names the providers the reasons cite ("virustotal: ...").
func reasonProviders(r result.Result) []string {
	var out []string
	for _, s := range r.Reasons {
		p, _, ok := strings.Cut(s, ": ")
		if ok && !slices.Contains(out, p) && !strings.Contains(s, "skipped") && !strings.Contains(s, "not counted") {
			out = append(out, p)
		}
	}
	return out
}

func amber(i ioc.IOC) enrich.Item { return enrich.Item{IOC: i, TLP: tlp.Amber} }

// newFakeRuntime starts the fakes of all providers with their defaults and a
// runtime on them (env added to the fake's environment), with a store in
// the test's temporary directory and 30 s per IOC.
func newFakeRuntime(t *testing.T, env ...string) (*fakeintel.Server, *runtime) {
	t.Helper()
	f := fakeintel.New(fakeintel.Options{})
	f.Start()
	t.Cleanup(f.Close)
	return f, newRuntime(t, f, filepath.Join(t.TempDir(), "iocane.db"), enrich.Options{IOCTimeout: 30 * time.Second}, env...)
}

func TestEndToEndVerdicts(t *testing.T) {
	f, rt := newFakeRuntime(t, "IOCANE_INTERNAL_SUFFIXES=acme-corp.com")
	for _, p := range fakeintel.Providers {
		if rt.source(p) == nil {
			t.Fatalf("%s not built: %q", p, rt.built.Skipped[p])
		}
	}
	internalIP := ioc.IOC{Type: ioc.IPv4, Value: "10.0.0.5"}
	internalDomain := ioc.IOC{Type: ioc.Domain, Value: "fileserver.corp.internal"}
	corpDomain := ioc.IOC{Type: ioc.Domain, Value: "intranet.acme-corp.com"}

	res := enrichAll(t, rt.engine,
		amber(fakeintel.MaliciousIP), amber(fakeintel.MaliciousDomain), amber(fakeintel.MaliciousURL),
		amber(fakeintel.MaliciousSHA256), amber(fakeintel.BenignIP), amber(fakeintel.BenignDomain),
		amber(internalIP), amber(internalDomain), amber(corpDomain))

	// Malicious IOCs: malicious, with reasons from several providers,
	// including those that certainly know each type.
	for i, want := range map[ioc.IOC][]string{
		fakeintel.MaliciousIP:     {"virustotal", "abuseipdb", "threatfox", "greynoise", "otx"},
		fakeintel.MaliciousDomain: {"virustotal", "passivetotal", "safebrowsing", "urlhaus"},
		fakeintel.MaliciousURL:    {"virustotal", "urlhaus", "safebrowsing", "urlscan"},
		fakeintel.MaliciousSHA256: {"virustotal", "malwarebazaar", "threatfox"},
	} {
		r := res[i]
		got := reasonProviders(r)
		if r.Verdict != result.Malicious {
			t.Errorf("%s: verdict %s (score %d), want malicious; reasons %q", i.Value, r.Verdict, r.Score, r.Reasons)
		}
		for _, p := range want {
			s, _ := r.Source(p)
			floor := 0.5
			if p == "abuseipdb" {
				floor = 0.3 // the fake's address is a Tor exit, whose reports are discounted (abuseipdb README)
			}
			if !slices.Contains(got, p) || s.Status != "ok" || s.Malicious < floor {
				t.Errorf("%s: %s is %s with malicious signal %.2f, want ok ≥ %.1f and among the reasons %q",
					i.Value, p, s.Status, s.Malicious, floor, r.Reasons)
			}
		}
		if r.DBotScore != 3 {
			t.Errorf("%s: dbot_score %d, want 3", i.Value, r.DBotScore)
		}
	}

	// Benign IOCs: benign or unknown, never suspicious or malicious.
	for _, i := range []ioc.IOC{fakeintel.BenignIP, fakeintel.BenignDomain} {
		if r := res[i]; r.Verdict != result.Benign && r.Verdict != result.Unknown {
			t.Errorf("%s: verdict %s (score %d), want benign or unknown; reasons %q", i.Value, r.Verdict, r.Score, r.Reasons)
		}
	}

	// Internal IOCs reach no provider; the request logs prove it.
	for _, i := range []ioc.IOC{internalIP, internalDomain, corpDomain} {
		if p, saw := f.Saw(i.Value); saw {
			t.Errorf("%s reached %s: %+v", i.Value, p, f.Requests(p))
		}
		r := res[i]
		if !r.Internal || r.Verdict == result.Malicious || r.Verdict == result.Suspicious {
			t.Errorf("%s: internal %v verdict %s", i.Value, r.Internal, r.Verdict)
		}
		external := 0
		for _, s := range r.Sources {
			if src := rt.source(s.Provider); src != nil && !src.Spec.Local {
				external++
				if s.Status != "skipped" || !strings.Contains(s.Reason, "internal") {
					t.Errorf("%s: %s is %s (%s), want skipped as internal", i.Value, s.Provider, s.Status, s.Reason)
				}
			}
		}
		if external == 0 {
			t.Errorf("%s: no external source listed as skipped: %+v", i.Value, r.Sources)
		}
	}

	for _, r := range res {
		checkContract(t, r)
	}
}

// TestEndToEndTLPRed sends a malicious IP marked TLP:RED: no external
// provider may see it (your own MISP may), and the result lists every
// external provider as skipped with the TLP reason.
func TestEndToEndTLPRed(t *testing.T) {
	f, rt := newFakeRuntime(t)
	res := enrichAll(t, rt.engine, enrich.Item{IOC: fakeintel.MaliciousIP, TLP: tlp.Red})
	r := res[fakeintel.MaliciousIP]
	for _, p := range fakeintel.Providers {
		if p == "misp" {
			continue // your own instance: TLP:RED is allowed there (docs/design.md)
		}
		if n := len(f.Requests(p)); n > 0 {
			t.Errorf("TLP:RED reached %s: %+v", p, f.Requests(p))
		}
	}
	skipped := 0
	for _, s := range r.Sources {
		switch {
		case s.Provider == "misp":
			if s.Status != "ok" {
				t.Errorf("misp: %s (%s), want ok: your own MISP takes TLP:RED", s.Status, s.Reason)
			}
		case s.Status == "skipped" && strings.Contains(s.Reason, "TLP:RED"):
			skipped++
		case rt.source(s.Provider) != nil && !rt.source(s.Provider).Spec.Local:
			t.Errorf("%s: %s (%s), want skipped for TLP:RED", s.Provider, s.Status, s.Reason)
		}
	}
	if skipped < 4 { // abuseipdb shodan virustotal + greynoise otx passivetotal urlscan urlhaus threatfox
		t.Errorf("%d providers skipped for TLP:RED, want every external one: %+v", skipped, r.Sources)
	}
	if r.TLP != tlp.Red {
		t.Errorf("tlp %s", r.TLP)
	}
	checkContract(t, r)
}

// checkContract checks r's JSON against the docs/design.md result contract.
func checkContract(t *testing.T, r result.Result) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ioc", "verdict", "score", "confidence", "reasons", "sources", "dbot_score", "tlp", "enriched_at"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: no %q in %s", r.IOC.Value, k, b)
		}
	}
	i, _ := m["ioc"].(map[string]any)
	if i["type"] != string(r.IOC.Type) || i["value"] != r.IOC.Value {
		t.Errorf("ioc = %v", m["ioc"])
	}
	if v, _ := m["verdict"].(string); !slices.Contains([]string{"malicious", "suspicious", "benign", "unknown"}, v) {
		t.Errorf("verdict %q", v)
	}
	for _, k := range []string{"score", "confidence"} {
		if n, ok := m[k].(float64); !ok || n < 0 || n > 100 || n != float64(int(n)) {
			t.Errorf("%s = %v, want an integer 0-100", k, m[k])
		}
	}
	if n, ok := m["dbot_score"].(float64); !ok || n < 0 || n > 3 {
		t.Errorf("dbot_score = %v", m["dbot_score"])
	}
	if s, _ := m["tlp"].(string); !slices.Contains([]string{"clear", "green", "amber", "amber+strict", "red"}, s) {
		t.Errorf("tlp = %v", m["tlp"])
	}
	if s, _ := m["enriched_at"].(string); s == "" {
		t.Errorf("enriched_at = %v", m["enriched_at"])
	} else if _, err := time.Parse(time.RFC3339, s); err != nil {
		t.Errorf("enriched_at: %v", err)
	}
	if _, ok := m["reasons"].([]any); !ok {
		t.Errorf("reasons = %v, want a list", m["reasons"])
	}
	srcs, _ := m["sources"].([]any)
	if len(srcs) == 0 {
		t.Errorf("%s: no sources", r.IOC.Value)
	}
	for _, x := range srcs {
		s, _ := x.(map[string]any)
		st, _ := s["status"].(string)
		if p, _ := s["provider"].(string); p == "" {
			t.Errorf("source without provider: %v", s)
		}
		if !slices.Contains([]string{"ok", "not_found", "error", "skipped", "rate_limited"}, st) {
			t.Errorf("source %v: status %q", s["provider"], st)
		}
		if _, ok := s["cached"].(bool); !ok {
			t.Errorf("source %v: cached = %v, want a bool", s["provider"], s["cached"])
		}
		if _, ok := s["latency_ms"].(float64); !ok {
			t.Errorf("source %v: latency_ms = %v", s["provider"], s["latency_ms"])
		}
		if st == "skipped" && s["reason"] == "" {
			t.Errorf("source %v skipped without a reason", s["provider"])
		}
		if st == "error" {
			t.Errorf("%s: source %v failed: %v", r.IOC.Value, s["provider"], s["reason"])
		}
	}
}

// Defender TI with its token endpoint given (token_url) needs no tenant_id:
// the tenant only fills in the default token URL. It is built and answers.
func TestEndToEndPassiveTotalTokenURLWithoutTenant(t *testing.T) {
	_, rt := newFakeRuntime(t, "IOCANE_PASSIVETOTAL_TENANT_ID=")
	if rt.source("passivetotal") == nil {
		t.Fatalf("passivetotal not built without tenant_id: %q", rt.built.Skipped["passivetotal"])
	}
	res := enrichAll(t, rt.engine, amber(fakeintel.MaliciousDomain))
	for _, s := range res[fakeintel.MaliciousDomain].Sources {
		if s.Provider == "passivetotal" && s.Status != "ok" {
			t.Errorf("passivetotal: %s (%s), want ok", s.Status, s.Reason)
		}
	}
}
