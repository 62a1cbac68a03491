package stix

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/output/outputtest"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// schemaBase is the $id prefix of the OASIS STIX 2.1 JSON schemas.
const schemaBase = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"

// schemaDir finds shared/stix2-json-schemas in the test directory or one of
// its ancestors: /work/shared beside /work/main, or shared/ beside the repo
// root of a CI clone. The test fails, not skips, when it is absent.
func schemaDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "stix2-json-schemas", "schemas")
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("shared/stix2-json-schemas not found beside any parent of the test directory; the STIX output cannot be validated")
		}
		dir = parent
	}
}

// dirLoader serves the schema $ids from the local copy.
type dirLoader string

func (d dirLoader) Load(url string) (any, error) {
	rel, ok := strings.CutPrefix(url, schemaBase)
	if !ok {
		return nil, fmt.Errorf("schema %s is not in the STIX set", url)
	}
	f, err := os.Open(filepath.Join(string(d), filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}

type validator struct {
	t       *testing.T
	c       *jsonschema.Compiler
	schemas map[string]*jsonschema.Schema
}

func newValidator(t *testing.T) *validator {
	c := jsonschema.NewCompiler()
	c.UseLoader(dirLoader(schemaDir(t)))
	c.AssertFormat()
	return &validator{t: t, c: c, schemas: map[string]*jsonschema.Schema{}}
}

// schemaFor maps a STIX type to its schema file.
func schemaFor(typ string) string {
	switch typ {
	case "bundle", "marking-definition":
		return "common/" + typ + ".json"
	case "relationship", "sighting":
		return "sros/" + typ + ".json"
	case "identity", "indicator", "note", "opinion", "report", "vulnerability":
		return "sdos/" + typ + ".json"
	}
	return "observables/" + typ + ".json"
}

func (v *validator) validate(file string, doc []byte) error {
	s, ok := v.schemas[file]
	if !ok {
		var err error
		if s, err = v.c.Compile(schemaBase + file); err != nil {
			v.t.Fatalf("compile %s: %v", file, err)
		}
		v.schemas[file] = s
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(doc)))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

// checkBundle validates each object on its own schema, then the bundle.
func checkBundle(t *testing.T, v *validator, doc []byte) []map[string]any {
	t.Helper()
	defer func() {
		if err := v.validate("common/bundle.json", doc); err != nil && !t.Failed() {
			t.Errorf("bundle fails the schema: %v", err)
		}
	}()
	var b struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(doc, &b); err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	for _, raw := range b.Objects {
		var o map[string]any
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		if err := v.validate(schemaFor(o["type"].(string)), raw); err != nil {
			t.Errorf("%s fails its schema: %v\n%s", o["id"], err, raw)
		}
		objs = append(objs, o)
	}
	return objs
}

func TestGoldenAndSchema(t *testing.T) {
	got := outputtest.Render(t, "stix", outputtest.Options(), outputtest.Results())
	outputtest.Golden(t, "bundle.json", got)
	objs := checkBundle(t, newValidator(t), got)

	count := map[string]int{}
	byID := map[string]map[string]any{}
	for _, o := range objs {
		count[o["type"].(string)]++
		byID[o["id"].(string)] = o
	}
	// Malicious IP, suspicious URL and malicious e-mail get indicators; the
	// suspicious CVE has no observable pattern; benign and unknown get none.
	want := map[string]int{"identity": 1, "marking-definition": 4, "indicator": 3, "relationship": 3, "report": 1,
		"ipv4-addr": 2, "file": 1, "url": 1, "email-addr": 1, "vulnerability": 1}
	for typ, n := range want {
		if count[typ] != n {
			t.Errorf("%d %s objects, want %d (all: %v)", count[typ], typ, n, count)
		}
	}
	ind := byID["indicator--"+uuid5(iocaneNamespace, "indicator|url:http://login-paypa1.example.com/verify?id=1&next='home'")]
	if ind == nil {
		t.Fatal("no indicator for the URL")
	}
	if p := ind["pattern"]; p != `[url:value = 'http://login-paypa1.example.com/verify?id=1&next=\'home\'']` {
		t.Errorf("url pattern %v", p)
	}
	if ind["object_marking_refs"].([]any)[0] != MarkingIDs[tlp.Amber] || ind["created_by_ref"] != IdentityID {
		t.Errorf("indicator markings/creator: %v", ind)
	}
	for _, o := range objs {
		if o["type"] != "marking-definition" && o["type"] != "identity" && o["object_marking_refs"] == nil {
			t.Errorf("%s carries no TLP marking", o["id"])
		}
		refs, _ := o["object_refs"].([]any)
		for _, k := range []string{"created_by_ref", "source_ref", "target_ref"} {
			if ref, ok := o[k].(string); ok {
				refs = append(refs, ref)
			}
		}
		for _, ref := range refs {
			if byID[ref.(string)] == nil {
				t.Errorf("%s points at %s, which is not in the bundle", o["id"], ref)
			}
		}
	}
	var rep map[string]any
	for _, o := range objs {
		if o["type"] == "report" {
			rep = o
		}
	}
	if d, _ := rep["description"].(string); !strings.Contains(d, "benign ipv4 8.8.8.8: score 0, confidence 81 — greynoise: RIOT") {
		t.Errorf("report does not carry the benign verdict: %q", d)
	}
	if rep["object_marking_refs"].([]any)[0] != MarkingIDs[tlp.Red] {
		t.Errorf("report marking %v, want the run's most restricted (red)", rep["object_marking_refs"])
	}
}

// TestEveryTypeAndLevel validates a bundle with every IOC type and TLP level.
func TestEveryTypeAndLevel(t *testing.T) {
	values := map[ioc.Type]string{
		ioc.IPv4: "203.0.113.7", ioc.IPv6: "2001:db8::1", ioc.Domain: "evil.example", ioc.URL: `https://x.example/a\b`,
		ioc.Email: "a@b.example", ioc.MD5: strings.Repeat("a", 32), ioc.SHA1: strings.Repeat("b", 40),
		ioc.SHA256: strings.Repeat("c", 64), ioc.SHA512: strings.Repeat("d", 128), ioc.CVE: "CVE-2024-3094",
		ioc.ASN: "AS13335", ioc.BTC: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
	}
	var rs []result.Result
	for i, typ := range ioc.Types {
		rs = append(rs, result.Result{IOC: ioc.IOC{Type: typ, Value: values[typ]}, Verdict: result.Malicious, Score: 90,
			Confidence: 80, Reasons: []string{"x: y"}, TLP: tlp.Level(i % 6), EnrichedAt: outputtest.At})
	}
	got := outputtest.Render(t, "stix", outputtest.Options(), rs)
	objs := checkBundle(t, newValidator(t), got)
	patterns := map[string]bool{}
	for _, o := range objs {
		if p, ok := o["pattern"].(string); ok {
			patterns[p] = true
		}
	}
	for _, p := range []string{`[url:value = 'https://x.example/a\\b']`, `[file:hashes.'SHA-512' = '` + values[ioc.SHA512] + `']`,
		`[autonomous-system:number = 13335]`, `[ipv6-addr:value = '2001:db8::1']`} {
		if !patterns[p] {
			t.Errorf("pattern %s missing from %v", p, patterns)
		}
	}
}

func TestEmptyBundleIsValid(t *testing.T) {
	got := outputtest.Render(t, "stix", outputtest.Options(), nil)
	checkBundle(t, newValidator(t), got)
}

// TestInvalidObjectsFail proves the validation can fail.
func TestInvalidObjectsFail(t *testing.T) {
	v := newValidator(t)
	bad := []struct{ file, doc string }{
		{"observables/ipv4-addr.json", `{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--not-a-uuid","value":"1.2.3.4"}`},
		{"sdos/indicator.json", `{"type":"indicator","spec_version":"2.1","id":"indicator--2f689bf9-0ff2-545f-aa61-e495eb8cecc7","created":"2026-11-26T16:00:00Z","modified":"2026-11-26T16:00:00.000Z","pattern":"[x:y = 'z']","pattern_type":"stix","valid_from":"2026-11-26T16:00:00Z"}`},
		{"common/marking-definition.json", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421","created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER"}`},
	}
	for _, b := range bad {
		if err := v.validate(b.file, []byte(b.doc)); err == nil {
			t.Errorf("%s accepted %s", b.file, b.doc)
		}
	}
}

// TestSCOIDs checks the deterministic ids against Python's uuid.uuid5 (the
// algorithm the stix2 library uses) and the RFC namespace example.
func TestSCOIDs(t *testing.T) {
	dns := "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	if got := uuid5(dns, "python.org"); got != "886313e1-3b8a-5372-9b90-0c9aee199e5d" {
		t.Errorf("uuid5(dns, python.org) = %s", got)
	}
	o, _ := observable(ioc.IOC{Type: ioc.IPv4, Value: "8.8.8.8"})
	if o.ID != "ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7" {
		t.Errorf("8.8.8.8 id %s", o.ID)
	}
	o, _ = observable(ioc.IOC{Type: ioc.SHA256, Value: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"})
	if o.ID != "file--a7928fbf-e7c8-52e1-9d22-c8c4d008ad01" {
		t.Errorf("file id %s", o.ID)
	}
}

// TestPivotRelationships (issue 14, acceptance 5): results with related
// IOCs give resolves-to and related-to relationships between their
// observables, and the bundle still validates against the OASIS schemas.
// A related IOC with no result in the bundle gets no dangling reference.
func TestPivotRelationships(t *testing.T) {
	at := outputtest.At
	domain := result.Result{IOC: ioc.IOC{Type: ioc.Domain, Value: "login-micros0ft-verify.net"}, Verdict: result.Suspicious, Score: 60,
		Confidence: 40, Reasons: []string{"resolves to 185.220.101.47 (malicious: threatfox botnet_cc)"}, TLP: tlp.Amber, EnrichedAt: at,
		Related: []result.Related{{Type: ioc.IPv4, Value: "185.220.101.47", Relation: "resolves-to", Verdict: result.Malicious, Score: 100},
			{Type: ioc.IPv4, Value: "198.51.100.9", Relation: "resolves-to"}}}
	ip := result.Result{IOC: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}, Verdict: result.Malicious, Score: 100, Confidence: 90,
		TLP: tlp.Amber, EnrichedAt: at, Context: map[string]string{"pivot_from": "domain:login-micros0ft-verify.net", "relation": "resolves-to"},
		Related: []result.Related{{Type: ioc.Domain, Value: "c2.example", Relation: "resolved-from"}}}
	host := result.Result{IOC: ioc.IOC{Type: ioc.Domain, Value: "c2.example"}, Verdict: result.Unknown, TLP: tlp.Amber, EnrichedAt: at}
	url := result.Result{IOC: ioc.IOC{Type: ioc.URL, Value: "http://login-micros0ft-verify.net/o365"}, Verdict: result.Suspicious, Score: 60,
		Confidence: 40, TLP: tlp.Amber, EnrichedAt: at,
		Related: []result.Related{{Type: ioc.Domain, Value: "login-micros0ft-verify.net", Relation: "host", Verdict: result.Suspicious, Score: 60}}}
	got := outputtest.Render(t, "stix", outputtest.Options(), []result.Result{domain, ip, host, url})
	objs := checkBundle(t, newValidator(t), got)
	ids := map[string]string{}
	for _, o := range objs {
		if v, ok := o["value"].(string); ok {
			ids[v] = o["id"].(string)
		}
	}
	want := map[string]bool{
		"resolves-to " + ids["login-micros0ft-verify.net"] + " " + ids["185.220.101.47"]:                        true,
		"resolves-to " + ids["c2.example"] + " " + ids["185.220.101.47"]:                                        true,
		"related-to " + ids["http://login-micros0ft-verify.net/o365"] + " " + ids["login-micros0ft-verify.net"]: true,
	}
	n := 0
	for _, o := range objs {
		if o["type"] != "relationship" || o["relationship_type"] == "based-on" {
			continue
		}
		n++
		k := fmt.Sprintf("%s %s %s", o["relationship_type"], o["source_ref"], o["target_ref"])
		if !want[k] {
			t.Errorf("unexpected relationship %s", k)
		}
	}
	if n != len(want) {
		t.Errorf("%d pivot relationships, want %d (none to 198.51.100.9, which has no result)", n, len(want))
	}
}
