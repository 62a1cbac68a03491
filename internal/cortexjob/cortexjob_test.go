package cortexjob

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/pipeline"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
)

// job writes input as JOBDIR/input/input.json and returns JOBDIR.
func job(t *testing.T, input string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "input"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "input", "input.json"), []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// shape is the JSON's structure: each key path with its JSON kind, arrays
// read through their first element, the "full" and "input" objects (whose
// content is the analyzer's own) by kind only.
func shape(v any, path string, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		out[path] = "object"
		if path == ".full" || path == ".input" {
			return
		}
		for k, e := range v {
			shape(e, path+"."+k, out)
		}
	case []any:
		out[path] = "array"
		if len(v) > 0 {
			shape(v[0], path+"[]", out)
		}
	case string:
		out[path] = "string"
	case bool:
		out[path] = "bool"
	case float64:
		out[path] = "number"
	default:
		out[path] = "null"
	}
}

func shapeOf(m map[string]any) map[string]string {
	out := map[string]string{}
	shape(m, "", out)
	return out
}

// TestReportForEachDataType is issue 16's acceptance 1: for each data type
// the output is one report with the structure cortexutils' Analyzer.report
// writes (testdata/cortexutils_report.json): success, summary.taxonomies,
// full, artifacts and operations.
func TestReportForEachDataType(t *testing.T) {
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	want := shapeOf(readJSON(t, "testdata/cortexutils_report.json"))
	for _, tc := range []struct {
		dataType, data string
		verdict        result.Verdict
		artifacts      []string
	}{
		{"ip", fakeintel.MaliciousIP.Value, result.Malicious, nil},
		{"domain", fakeintel.MaliciousDomain.Value, result.Malicious, nil},
		{"fqdn", fakeintel.MaliciousDomain.Value, result.Malicious, nil},
		{"url", fakeintel.MaliciousURL.Value, result.Malicious, []string{"domain:sskymedia.com"}},
		{"hash", fakeintel.MaliciousSHA256.Value, result.Malicious, nil},
		{"mail", "payroll@" + fakeintel.MaliciousDomain.Value, "", []string{"domain:" + fakeintel.MaliciousDomain.Value}},
	} {
		t.Run(tc.dataType, func(t *testing.T) {
			in, _ := json.Marshal(map[string]any{"dataType": tc.dataType, "data": tc.data, "tlp": 2, "pap": 2, "config": map[string]any{}})
			dir := job(t, string(in))
			o := Options{Pipeline: pipeline.Options{DBPath: filepath.Join(t.TempDir(), "iocane.db"), Environ: fake.Env()}}
			if err := Run(context.Background(), dir, o); err != nil {
				t.Fatal(err)
			}
			out := readJSON(t, filepath.Join(dir, "output", "output.json"))
			got := shapeOf(out)
			for path, kind := range want {
				if path == ".artifacts[]" || strings.HasPrefix(path, ".artifacts[].") {
					continue // checked below: this observable may have none
				}
				if got[path] != kind {
					t.Errorf("%s is %q, cortexutils writes %q", path, got[path], kind)
				}
			}
			var rep Report
			b, _ := json.Marshal(out)
			json.Unmarshal(b, &rep)
			if !rep.Success || rep.Full.IOC.Value != tc.data || len(rep.Summary.Taxonomies) == 0 || rep.Summary.Taxonomies[0].Predicate != "Score" {
				t.Errorf("report %s", b)
			}
			if tc.verdict != "" && rep.Full.Verdict != tc.verdict {
				t.Errorf("verdict %s, want %s", rep.Full.Verdict, tc.verdict)
			}
			var arts []string
			for _, a := range rep.Artifacts {
				if a.DataType == "" || a.Data == "" {
					t.Errorf("artifact %+v", a)
				}
				arts = append(arts, a.DataType+":"+a.Data)
			}
			if !slices.Equal(arts, tc.artifacts) {
				t.Errorf("artifacts %v, want %v", arts, tc.artifacts)
			}
		})
	}
}

// A job iocane cannot do gets cortexutils' error output: success false,
// the input echoed with its secrets REMOVED, errorMessage; Run fails, so
// the exit status is 1.
func TestErrorOutput(t *testing.T) {
	want := shapeOf(readJSON(t, "testdata/cortexutils_error.json"))
	for _, tc := range []struct{ input, msg string }{
		{`{"dataType": "pdf", "data": "x", "config": {"api_key": "s3cret", "url": "http://x", "Token": "t0k"}}`, `dataType "pdf"`},
		{`{"dataType": "ip", "data": "evil.example", "config": {"virustotal_api_key": "s3cret"}}`, "not a ip"},
		{`{"dataType": "ip", "config": {}}`, "missing data"},
		{`not json`, "not a JSON object"},
	} {
		dir := job(t, tc.input)
		err := Run(context.Background(), dir, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want %q", tc.input, err, tc.msg)
		}
		out := readJSON(t, filepath.Join(dir, "output", "output.json"))
		if out["success"] != false || !strings.Contains(out["errorMessage"].(string), tc.msg) {
			t.Errorf("%s: output %v", tc.input, out)
		}
		if b, _ := json.Marshal(out); strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "t0k") {
			t.Errorf("a secret is in the error output: %s", b)
		}
		if strings.HasPrefix(tc.input, `{"dataType": "pdf"`) {
			got := shapeOf(out)
			var paths []string
			for p := range want {
				paths = append(paths, p)
			}
			sort.Strings(paths)
			for _, p := range paths {
				if got[p] != want[p] {
					t.Errorf("%s is %q, cortexutils writes %q", p, got[p], want[p])
				}
			}
		}
	}
}

// With config.url the analyzer asks that server, with the token and the
// observable's TLP, and reports what it answers.
func TestRemoteMode(t *testing.T) {
	var gotAuth string
	var gotBody map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		json.NewDecoder(r.Body).Decode(&gotBody)
		if r.URL.Path != "/v1/enrich" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[{"ioc": {"type": "ipv4", "value": "185.220.101.47"}, "verdict": "malicious", "score": 87, "confidence": 90,
			"reasons": ["abuseipdb: confidence 100"], "sources": [{"provider": "abuseipdb", "status": "ok", "malicious_signal": 1, "benign_signal": 0}],
			"tlp": "red", "dbot_score": 3, "enriched_at": "2026-12-03T10:00:00Z"}]`))
	}))
	defer srv.Close()
	dir := job(t, `{"dataType": "ip", "data": "185.220.101.47", "tlp": 3, "config": {"url": "`+srv.URL+`/", "token": "tok-123"}}`)
	if err := Run(context.Background(), dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if gotAuth != "Bearer tok-123" || gotBody["tlp"] != "red" || !reflect.DeepEqual(gotBody["iocs"], []any{"185.220.101.47"}) {
		t.Errorf("request: %q %v", gotAuth, gotBody)
	}
	out := readJSON(t, filepath.Join(dir, "output", "output.json"))
	tax := out["summary"].(map[string]any)["taxonomies"].([]any)[0].(map[string]any)
	if out["success"] != true || tax["level"] != "malicious" || tax["value"] != "87" {
		t.Errorf("output %v", out)
	}
	// A server that refuses: the error names the status, never the token.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad token tok-123", http.StatusUnauthorized)
	}))
	defer bad.Close()
	dir = job(t, `{"dataType": "ip", "data": "185.220.101.47", "config": {"url": "`+bad.URL+`", "token": "tok-123"}}`)
	err := Run(context.Background(), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "tok-123") {
		t.Errorf("error %v", err)
	}
}

// The analyzer definition Cortex installs names the data types Run takes,
// a configuration item for the server and for every credential a
// registered provider needs, and the wrapper script that runs Run.
func TestAnalyzerDefinition(t *testing.T) {
	var def struct {
		DataTypeList       []string `json:"dataTypeList"`
		Command            string   `json:"command"`
		BaseConfig         string   `json:"baseConfig"`
		ConfigurationItems []struct {
			Name, Type string
		} `json:"configurationItems"`
	}
	b, err := os.ReadFile("../../contrib/cortex/iocane/iocane_Enrich.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &def); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(def.DataTypeList, DataTypes) || def.Command != "iocane/iocane_analyzer.sh" || def.BaseConfig == "" {
		t.Errorf("definition %+v", def)
	}
	if _, err := os.Stat("../../contrib/cortex/" + def.Command); err != nil {
		t.Errorf("command: %v", err)
	}
	var names []string
	for _, it := range def.ConfigurationItems {
		names = append(names, it.Name)
	}
	want := []string{"url", "token"}
	for _, s := range provider.All() {
		if s.Local {
			continue
		}
		for _, c := range s.Credentials {
			want = append(want, s.Name+"_"+c)
		}
		if s.OptionalKey && !slices.Contains(s.Credentials, "api_key") {
			want = append(want, s.Name+"_api_key")
		}
	}
	for _, w := range want {
		if !slices.Contains(names, w) {
			t.Errorf("no configuration item %s", w)
		}
	}
}

// FuzzInput: whatever input.json holds, Run writes an output.json that is
// JSON with a success member, and fails only through its error, never a
// panic. Nothing leaves the machine: a local run has no keys (an empty
// environment) and a remote one a closed port.
func FuzzInput(f *testing.F) {
	f.Add(`{"dataType": "ip", "data": "185.220.101.47", "tlp": 2, "config": {"url": "http://127.0.0.1:1"}}`)
	f.Add(`{"dataType": "mail", "data": "a@b.example", "tlp": 9, "config": {"url": "http://127.0.0.1:1", "token": 5}}`)
	f.Add(`{"dataType": "hash", "data": "` + strings.Repeat("a", 64) + `", "config": {"url": "http://127.0.0.1:1", "api_key": "x"}}`)
	f.Add(`[]`)
	f.Add(`{"dataType": 3}`)
	f.Fuzz(func(t *testing.T, input string) {
		dir := job(t, input)
		o := Options{HTTP: &http.Client{Timeout: time.Second},
			Pipeline: pipeline.Options{DBPath: filepath.Join(t.TempDir(), "iocane.db"), Environ: []string{}}}
		_ = Run(context.Background(), dir, o)
		b, err := os.ReadFile(filepath.Join(dir, "output", "output.json"))
		if err != nil {
			t.Fatalf("no output.json for %q: %v", input, err)
		}
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("output.json is not JSON: %v", err)
		}
		if _, ok := out["success"].(bool); !ok {
			t.Fatalf("output.json has no success: %s", b)
		}
	})
}
