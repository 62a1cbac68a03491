package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
)

// runEnrich runs `iocane enrich` in-process with env set for the test.
func runEnrichCmd(t *testing.T, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	t.Setenv("IOCANE_CONFIG", "")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"enrich", "--db", filepath.Join(t.TempDir(), "iocane.db")}, args...))
	err = root.Execute()
	return out.String(), errOut.String(), err
}

func decodeResults(t *testing.T, s string) []result.Result {
	t.Helper()
	var rs []result.Result
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l == "" {
			continue
		}
		var r result.Result
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("bad JSONL line %q: %v", l, err)
		}
		rs = append(rs, r)
	}
	return rs
}

// secretsOf returns every credential value in a fake's environment.
func secretsOf(env []string) []string {
	var out []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(k, "_API_KEY") || strings.HasSuffix(k, "_CLIENT_SECRET") {
			out = append(out, v)
		}
	}
	return out
}

// TestNoKeyInLogsErrorsOrOutput is issue 3 acceptance 4: the logs (with
// --verbose), errors and JSON output of a succeeding run and of failing runs
// (bad keys, unreachable providers, a 429 storm) never carry a key value.
func TestNoKeyInLogsErrorsOrOutput(t *testing.T) {
	iocs := []string{"185.220.101.47", "8.8.8.8", "evil-phish-login.com", "hxxps://evil-phish-login[.]com/verify",
		"44d88612fea8a8f36de82e1278abb02f", "CVE-2021-44228", "2a01:4f8:c2c:1234::1"}

	ok := fakeintel.New(fakeintel.Options{})
	ok.Start()
	defer ok.Close()
	storm := fakeintel.New(fakeintel.Options{Rate: fakeintel.Each(0.5)}) // answers 429 to nearly everything
	storm.Start()
	defer storm.Close()

	// Unreachable: every base URL points at a closed port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	var unreachable []string
	for _, kv := range ok.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(k, "_BASE_URL") || strings.HasSuffix(k, "_TOKEN_URL") {
			v = closed + "/x"
		}
		unreachable = append(unreachable, k+"="+v)
	}
	// Bad keys: the real fake, every credential wrong but still secret.
	var badKeys []string
	for _, kv := range ok.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(k, "_API_KEY") || strings.HasSuffix(k, "_CLIENT_SECRET") {
			v = "WRONG-" + v + "-SECRET"
		}
		badKeys = append(badKeys, k+"="+v)
	}

	runs := []struct {
		name string
		env  []string
	}{
		{"succeeding", ok.Env()},
		{"bad keys", badKeys},
		{"unreachable", unreachable},
		{"429 storm", nil},
	}
	for _, run := range runs {
		t.Run(run.name, func(t *testing.T) {
			env := run.env
			if run.name == "429 storm" {
				env = storm.Env()
				// iocane configured faster than the fake allows, so 429s happen.
				for _, p := range fakeintel.Providers {
					env = append(env, "IOCANE_"+strings.ToUpper(p)+"_RATE=unlimited")
				}
			}
			stdout, stderr, err := runEnrichCmd(t, env, append([]string{"--verbose", "--format", "json", "--timeout", "20s"}, iocs...)...)
			if err != nil {
				t.Fatalf("exit error %v\nstderr: %.2000s", err, stderr)
			}
			var rs []result.Result
			if err := json.Unmarshal([]byte(stdout), &rs); err != nil {
				t.Fatalf("output is not a JSON array: %v\n%.500s", err, stdout)
			}
			statuses := map[string]int{}
			for _, r := range rs {
				for _, s := range r.Sources {
					statuses[s.Status]++
				}
			}
			t.Logf("%d results, source statuses %v", len(rs), statuses)
			switch run.name {
			case "succeeding":
				if statuses["ok"] == 0 {
					t.Error("no source answered ok")
				}
			default:
				if statuses["error"]+statuses["rate_limited"] == 0 {
					t.Error("the failing run produced no error or rate_limited source")
				}
			}
			if !strings.Contains(stderr, "msg=lookup") {
				t.Errorf("--verbose logged no look-ups: %.500s", stderr)
			}
			texts := []string{stdout, stderr}
			if err != nil {
				texts = append(texts, err.Error())
			}
			for _, key := range secretsOf(env) {
				for _, txt := range texts {
					if strings.Contains(txt, key) {
						i := strings.Index(txt, key)
						t.Errorf("key %q leaked: …%s…", key, txt[max(0, i-120):min(len(txt), i+len(key)+40)])
					}
				}
			}
		})
	}
}

func TestEnrichUsageErrors(t *testing.T) {
	cases := map[string][]string{
		"nothing to enrich": {},
		"not an IOC":        {"hello"},
		"bad format":        {"--format", "xml", "8.8.8.8"},
		"bad tlp":           {"--tlp", "purple", "8.8.8.8"},
		"bad input format":  {"--input-format", "pdf", "-f", "x"},
		"unknown provider":  {"--providers", "virustotl", "8.8.8.8"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := runEnrichCmd(t, nil, args...)
			var ue usageError
			if !errors.As(err, &ue) && !isCobraUsage(err) {
				t.Errorf("err = %v, want a usage error (exit 2)", err)
			}
		})
	}
}

func TestEnrichOfflineReachesNoProvider(t *testing.T) {
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	stdout, _, err := runEnrichCmd(t, fake.Env(), "--offline", "--format", "jsonl", "185.220.101.47", "evil-phish-login.com")
	if err != nil {
		t.Fatal(err)
	}
	rs := decodeResults(t, stdout)
	if len(rs) != 2 {
		t.Fatalf("%d results, want 2", len(rs))
	}
	for _, r := range rs {
		for _, s := range r.Sources {
			if spec, _ := provider.Get(s.Provider); s.Status != "skipped" && !spec.Local {
				t.Errorf("%s: %s is %s in an offline run", r.IOC.Value, s.Provider, s.Status)
			}
		}
	}
	if n := fake.TotalCalls(); n != 0 {
		t.Errorf("offline run made %d provider calls", n)
	}
}

func TestEnrichInputFileAndTLPRed(t *testing.T) {
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	stdout, _, err := runEnrichCmd(t, fake.Env(), "--tlp", "red", "--format", "jsonl", "-f", "../../examples/phishing.eml")
	if err != nil {
		t.Fatal(err)
	}
	rs := decodeResults(t, stdout)
	if len(rs) < 10 {
		t.Fatalf("only %d results from the phishing e-mail", len(rs))
	}
	// TLP:RED reaches only MISP (your own instance) among external providers.
	for _, p := range fakeintel.Providers {
		if p != "misp" && fake.Calls(p) != 0 {
			t.Errorf("TLP:RED input reached %s (%d calls)", p, fake.Calls(p))
		}
	}
	for _, r := range rs {
		if r.TLP.String() != "red" {
			t.Errorf("%s carries TLP %s, want red", r.IOC.Value, r.TLP)
		}
	}
}

func TestEnrichProgressOnRequest(t *testing.T) {
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	_, stderr, err := runEnrichCmd(t, fake.Env(), "--progress", "always", "--format", "jsonl", "-f", "../../examples/phishing.eml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "IOCs") || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("--progress always drew no final progress line on stderr: %q", stderr)
	}
	_, stderr, err = runEnrichCmd(t, fake.Env(), "--format", "jsonl", "-f", "../../examples/phishing.eml")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr, "IOCs") {
		t.Errorf("progress drawn on a non-terminal without --progress always: %q", stderr)
	}
}
