package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/result"
)

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decodeProblem(t *testing.T, body string) Problem {
	t.Helper()
	var p Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("not a problem body: %v: %s", err, body)
	}
	return p
}

// TestBadInput sends every endpoint the bad requests the issue lists; each
// must get the right 4xx with a problem body whose detail says what to fix.
func TestBadInput(t *testing.T) {
	big := strings.Repeat("a", 2048)
	tooMany := `{"iocs": [` + strings.Repeat(`"1.1.1.1",`, 0)
	for i := range 101 {
		if i > 0 {
			tooMany += ","
		}
		tooMany += fmt.Sprintf(`"185.220.%d.%d"`, i/250, i%250+1)
	}
	tooMany += `]}`
	cases := []struct {
		name   string
		req    req
		status int
		slug   string
		detail string // a fragment the detail must hold
	}{
		// POST /v1/enrich
		{"enrich malformed json", req{method: "POST", path: "/v1/enrich", token: ingestSecret, ctype: "application/json", body: `{"iocs": [`}, 400, probMalformedJSON, "not valid JSON"},
		{"enrich wrong type field", req{method: "POST", path: "/v1/enrich", token: ingestSecret, ctype: "application/json", body: `{"iocs": "1.2.3.4"}`}, 400, probMalformedJSON, `"iocs" field`},
		{"enrich wrong content type", req{method: "POST", path: "/v1/enrich", token: ingestSecret, ctype: "image/png", body: `x`}, 415, probMediaType, "application/json"},
		{"enrich empty body", req{method: "POST", path: "/v1/enrich", token: ingestSecret, ctype: "application/json", body: "  "}, 400, probEmptyBody, "send the IOCs"},
		{"enrich oversized", req{method: "POST", path: "/v1/enrich", token: ingestSecret, ctype: "text/plain", body: big}, 413, probTooLarge, "1 KiB"},
		{"enrich not an ioc", req{method: "POST", path: "/v1/enrich", token: ingestSecret, ctype: "application/json", body: `{"iocs": ["not an ioc"]}`}, 422, probUnprocessable, "fix or remove"},
		{"enrich empty list", req{method: "POST", path: "/v1/enrich", token: ingestSecret, ctype: "application/json", body: `{"iocs": []}`}, 422, probUnprocessable, "at least one"},
		{"enrich no iocs in text", req{method: "POST", path: "/v1/enrich", token: ingestSecret, ctype: "text/plain", body: "hello"}, 422, probUnprocessable, "no IOCs"},
		{"enrich bad tlp", req{method: "POST", path: "/v1/enrich?tlp=purple", token: ingestSecret, ctype: "text/plain", body: "1.2.3.4"}, 400, probBadRequest, "want clear"},
		{"enrich bad timeout", req{method: "POST", path: "/v1/enrich?timeout=5h", token: ingestSecret, ctype: "text/plain", body: "1.2.3.4"}, 400, probBadRequest, "at most"},
		{"enrich bad format", req{method: "POST", path: "/v1/enrich?format=pdf", token: ingestSecret, ctype: "text/plain", body: "1.2.3.4"}, 400, probBadRequest, "unknown input format"},
		{"enrich no token", req{method: "POST", path: "/v1/enrich", ctype: "text/plain", body: "1.2.3.4"}, 401, probUnauthorized, "Authorization: Bearer"},
		{"enrich bad token", req{method: "POST", path: "/v1/enrich", token: "nope", ctype: "text/plain", body: "1.2.3.4"}, 401, probUnauthorized, "not valid"},
		{"enrich wrong scope", req{method: "POST", path: "/v1/enrich", token: readSecret, ctype: "text/plain", body: "1.2.3.4"}, 403, probForbidden, "ingest scope"},
		// POST /v1/jobs
		{"jobs malformed json", req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "application/json", body: `{"iocs": ["1.2.3.4"`}, 400, probMalformedJSON, "not valid JSON"},
		{"jobs wrong content type", req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "application/pdf", body: `x`}, 415, probMediaType, "text/plain"},
		{"jobs bad content type header", req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "text/;;", body: `x`}, 415, probMediaType, "does not parse"},
		{"jobs empty body", req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "text/plain"}, 400, probEmptyBody, "empty"},
		{"jobs oversized", req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "text/plain", body: big}, 413, probTooLarge, "split the input"},
		{"jobs unknown provider", req{method: "POST", path: "/v1/jobs?providers=virustotal,nope", token: ingestSecret, ctype: "text/plain", body: "1.2.3.4"}, 400, probBadRequest, `"nope"`},
		{"jobs long idempotency key", req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "text/plain", body: "1.2.3.4", header: map[string]string{"Idempotency-Key": strings.Repeat("k", 300)}}, 400, probBadRequest, "shorter key"},
		{"jobs no token", req{method: "POST", path: "/v1/jobs", ctype: "text/plain", body: "1.2.3.4"}, 401, probUnauthorized, "Bearer"},
		{"jobs wrong scope", req{method: "POST", path: "/v1/jobs", token: readSecret, ctype: "text/plain", body: "1.2.3.4"}, 403, probForbidden, "ingest"},
		// GET/DELETE /v1/jobs/{id}, results
		{"job unknown id", req{method: "GET", path: "/v1/jobs/nope", token: readSecret}, 404, probNotFound, `"nope"`},
		{"job results unknown id", req{method: "GET", path: "/v1/jobs/nope/results", token: readSecret}, 404, probNotFound, `"nope"`},
		{"job cancel unknown id", req{method: "DELETE", path: "/v1/jobs/nope", token: ingestSecret}, 404, probNotFound, `"nope"`},
		{"job no token", req{method: "GET", path: "/v1/jobs/nope"}, 401, probUnauthorized, "Bearer"},
		{"job wrong scope", req{method: "GET", path: "/v1/jobs/nope", token: ingestSecret}, 403, probForbidden, "read scope"},
		{"job results wrong scope", req{method: "GET", path: "/v1/jobs/nope/results", token: ingestSecret}, 403, probForbidden, "read scope"},
		{"job cancel wrong scope", req{method: "DELETE", path: "/v1/jobs/nope", token: readSecret}, 403, probForbidden, "ingest scope"},
		{"job wrong method", req{method: "PUT", path: "/v1/jobs/x", token: adminSecret}, 405, probMethod, "GET, DELETE"},
		// POST /v1/webhooks/{kind}
		{"webhook unknown kind", req{method: "POST", path: "/v1/webhooks/qradar", token: ingestSecret, ctype: "application/json", body: `{}`, sign: true}, 404, probUnknownWebhook, "splunk"},
		{"webhook malformed json", req{method: "POST", path: "/v1/webhooks/splunk", token: ingestSecret, ctype: "application/json", body: `{"result": `, sign: true}, 400, probMalformedJSON, "JSON"},
		{"webhook trailing json", req{method: "POST", path: "/v1/webhooks/generic", token: ingestSecret, ctype: "application/json", body: `{} {}`, sign: true}, 400, probMalformedJSON, "trailing"},
		{"webhook not an object", req{method: "POST", path: "/v1/webhooks/generic", token: ingestSecret, ctype: "application/json", body: `[1]`, sign: true}, 422, probUnprocessable, "not an object"},
		{"webhook wrong content type", req{method: "POST", path: "/v1/webhooks/splunk", token: ingestSecret, ctype: "text/plain", body: `{}`, sign: true}, 415, probMediaType, "application/json"},
		{"webhook empty body", req{method: "POST", path: "/v1/webhooks/splunk", token: ingestSecret, ctype: "application/json", sign: true}, 400, probEmptyBody, "empty"},
		{"webhook oversized", req{method: "POST", path: "/v1/webhooks/generic", token: ingestSecret, ctype: "application/json", body: `{"a":"` + big + `"}`, sign: true}, 413, probTooLarge, "limit"},
		{"webhook splunk without result", req{method: "POST", path: "/v1/webhooks/splunk", token: ingestSecret, ctype: "application/json", body: `{"sid": "1"}`, sign: true}, 422, probUnprocessable, `"result"`},
		{"webhook elastic without ids", req{method: "POST", path: "/v1/webhooks/elastic", token: ingestSecret, ctype: "application/json", body: `{"x": "1.2.3.4"}`, sign: true}, 422, probUnprocessable, "alert_id"},
		{"webhook thehive case event", req{method: "POST", path: "/v1/webhooks/thehive", token: ingestSecret, ctype: "application/json", body: `{"objectType": "Case", "operation": "create", "object": {}}`, sign: true}, 422, probUnprocessable, "AlertCreated"},
		{"webhook thehive without object", req{method: "POST", path: "/v1/webhooks/thehive", token: ingestSecret, ctype: "application/json", body: `{"objectType": "Alert", "operation": "create"}`, sign: true}, 422, probUnprocessable, `"object"`},
		{"webhook no token", req{method: "POST", path: "/v1/webhooks/splunk", ctype: "application/json", body: `{}`, sign: true}, 401, probUnauthorized, "?token="},
		{"webhook bad query token", req{method: "POST", path: "/v1/webhooks/splunk?token=wrong", ctype: "application/json", body: `{}`, sign: true}, 401, probUnauthorized, "not valid"},
		{"webhook wrong scope", req{method: "POST", path: "/v1/webhooks/splunk", token: readSecret, ctype: "application/json", body: `{}`, sign: true}, 403, probForbidden, "ingest"},
		{"webhook unsigned", req{method: "POST", path: "/v1/webhooks/splunk", token: ingestSecret, ctype: "application/json", body: `{"result": {}}`}, 401, probBadSignature, "X-Iocane-Signature"},
		{"webhook wrong hmac", req{method: "POST", path: "/v1/webhooks/splunk", token: ingestSecret, ctype: "application/json", body: `{"result": {}}`,
			header: map[string]string{HeaderTimestamp: "1800000000", HeaderSignature: "sha256=" + strings.Repeat("ab", 32)}}, 401, probBadSignature, "does not match"},
		{"webhook stale hmac", req{method: "POST", path: "/v1/webhooks/splunk", token: ingestSecret, ctype: "application/json", body: `{"result": {}}`,
			header: map[string]string{HeaderTimestamp: "1799999000", HeaderSignature: Sign([]byte(hookSecret), "1799999000", []byte(`{"result": {}}`))}}, 401, probBadSignature, "5 minutes"},
		{"webhook future hmac", req{method: "POST", path: "/v1/webhooks/splunk", token: ingestSecret, ctype: "application/json", body: `{"result": {}}`,
			header: map[string]string{HeaderTimestamp: "1800000400", HeaderSignature: Sign([]byte(hookSecret), "1800000400", []byte(`{"result": {}}`))}}, 401, probBadSignature, "5 minutes"},
		{"webhook bad timestamp", req{method: "POST", path: "/v1/webhooks/splunk", token: ingestSecret, ctype: "application/json", body: `{"result": {}}`,
			header: map[string]string{HeaderTimestamp: "yesterday", HeaderSignature: "sha256=00"}}, 401, probBadSignature, "Unix time"},
		// GET /v1/iocs/{type}/{value}
		{"ioc none stored", req{method: "GET", path: "/v1/iocs/ipv4/185.220.101.47", token: readSecret}, 404, probNotFound, "enrich it first"},
		{"ioc unknown type", req{method: "GET", path: "/v1/iocs/mac/00:11", token: readSecret}, 400, probBadRequest, "unknown IOC type"},
		{"ioc bad value", req{method: "GET", path: "/v1/iocs/ipv4/999.1.1.1", token: readSecret}, 400, probBadRequest, "not a valid ipv4"},
		{"ioc no token", req{method: "GET", path: "/v1/iocs/ipv4/1.2.3.4"}, 401, probUnauthorized, "Bearer"},
		{"ioc wrong scope", req{method: "GET", path: "/v1/iocs/ipv4/1.2.3.4", token: ingestSecret}, 403, probForbidden, "read"},
		// others
		{"providers no token", req{method: "GET", path: "/v1/providers"}, 401, probUnauthorized, "Bearer"},
		{"providers wrong scope", req{method: "GET", path: "/v1/providers", token: ingestSecret}, 403, probForbidden, "read"},
		{"cache wrong scope", req{method: "DELETE", path: "/v1/cache", token: readSecret}, 403, probForbidden, "admin"},
		{"cache bad older_than", req{method: "DELETE", path: "/v1/cache?older_than=old", token: adminSecret}, 400, probBadRequest, "24h"},
		{"metrics no token", req{method: "GET", path: "/metrics"}, 401, probUnauthorized, "Bearer"},
		{"unknown path", req{method: "GET", path: "/v2/everything", token: adminSecret}, 404, probNotFound, "/openapi.yaml"},
		{"healthz wrong method", req{method: "POST", path: "/healthz"}, 405, probMethod, "GET"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.MaxBody = 1024 })
			if c.name == "enrich too many" {
				h = newHarness(t, nil)
			}
			w := h.do(c.req)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			p := decodeProblem(t, w.Body.String())
			if p.Status != c.status || !strings.HasSuffix(p.Type, "#problem-"+c.slug) {
				t.Errorf("problem %+v, want status %d type %s", p, c.status, c.slug)
			}
			if !strings.Contains(p.Detail, c.detail) {
				t.Errorf("detail %q does not say %q", p.Detail, c.detail)
			}
			if p.Instance == "" || p.Instance != w.Header().Get("X-Request-Id") {
				t.Errorf("instance %q, X-Request-Id %q", p.Instance, w.Header().Get("X-Request-Id"))
			}
			if len(h.q.jobs) != 0 {
				t.Errorf("a bad request made a job")
			}
		})
	}
	t.Run("enrich too many", func(t *testing.T) {
		h := newHarness(t, nil)
		w := h.do(req{method: "POST", path: "/v1/enrich", token: ingestSecret, ctype: "application/json", body: tooMany})
		if w.Code != 422 || !strings.Contains(w.Body.String(), "POST /v1/jobs") {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
}

func TestEnrichSync(t *testing.T) {
	h := newHarness(t, nil)
	w := h.do(req{method: "POST", path: "/v1/enrich", token: ingestSecret, ctype: "application/json", body: `{"iocs": ["evil[.]com", "1.2.3.4", "evil.com"], "tlp": "green"}`})
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var rs []result.Result
	if err := json.Unmarshal(w.Body.Bytes(), &rs); err != nil {
		t.Fatal(err, w.Body)
	}
	if len(rs) != 2 || rs[0].IOC.Value != "evil.com" || rs[0].Verdict != result.Malicious || rs[0].TLP.String() != "green" {
		t.Fatalf("results %+v", rs)
	}
	// Stored for GET /v1/iocs.
	w = h.do(req{method: "GET", path: "/v1/iocs/domain/evil.com", token: readSecret})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"verdict":"malicious"`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	// JSONL, from text.
	w = h.do(req{method: "POST", path: "/v1/enrich", token: ingestSecret, ctype: "text/plain", body: "seen 8.8.8.8 and hxxp://evil[.]org/x today",
		header: map[string]string{"Accept": "application/x-ndjson"}})
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	if lines := strings.Count(strings.TrimSpace(w.Body.String()), "\n") + 1; lines != 3 {
		t.Errorf("want 3 JSONL lines (ip, url, its host), got %d: %s", lines, w.Body)
	}
	// The defanged original stays with the IOC, as in the CLI and jobs.
	if !strings.Contains(w.Body.String(), `"raw":"hxxp://evil[.]org/x"`) {
		t.Errorf("the URL's raw context was dropped: %s", w.Body)
	}
}

func TestJobs(t *testing.T) {
	h := newHarness(t, nil)
	w := h.do(req{method: "POST", path: "/v1/jobs?tlp=green&providers=virustotal", token: ingestSecret, ctype: "application/json",
		body: `{"iocs": ["1.2.3.4", "evil[.]com"]}`, header: map[string]string{"Idempotency-Key": "k1"}})
	if w.Code != 202 || w.Header().Get("Location") != "/v1/jobs/job-1" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	spec := h.q.spec("job-1")
	if spec.InputFormat != "text" || string(spec.Input) != "1.2.3.4\nevil.com\n" || spec.TLP != "green" || spec.Source != "api" ||
		len(spec.Providers) != 1 || spec.IdempotencyKey != "k1" {
		t.Fatalf("spec %+v input %q", spec, spec.Input)
	}
	// The same key returns the first job.
	w = h.do(req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "text/plain", body: "5.6.7.8", header: map[string]string{"Idempotency-Key": "k1"}})
	if w.Code != 202 || w.Header().Get("Idempotent-Replayed") != "true" || !strings.Contains(w.Body.String(), `"id":"job-1"`) {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	// A STIX body is stored as received.
	bundle := `{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [{"type": "indicator", "spec_version": "2.1",
		"id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2026-11-26T16:00:00Z", "modified": "2026-11-26T16:00:00Z",
		"pattern": "[ipv4-addr:value = '185.220.101.47']", "pattern_type": "stix", "valid_from": "2026-11-26T16:00:00Z"}]}`
	w = h.do(req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "application/stix+json", body: bundle})
	if w.Code != 202 || h.q.spec("job-2").InputFormat != "stix" {
		t.Fatalf("%d %s %+v", w.Code, w.Body, h.q.spec("job-2"))
	}
	// Status, results, cancel.
	h.q.results["job-1"] = []result.Result{fakeEngine{}.Enrich(t.Context(), itemOf(t, "evil.com"))}
	w = h.do(req{method: "GET", path: "/v1/jobs/job-1", token: readSecret})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"state":"queued"`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	w = h.do(req{method: "GET", path: "/v1/jobs/job-1/results", token: readSecret})
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/x-ndjson" || w.Header().Get("X-Job-State") != "queued" ||
		!strings.Contains(w.Body.String(), `"verdict":"malicious"`) {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	w = h.do(req{method: "DELETE", path: "/v1/jobs/job-1", token: ingestSecret})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"state":"canceled"`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	w = h.do(req{method: "DELETE", path: "/v1/jobs/job-1", token: ingestSecret})
	if w.Code != 409 || !strings.Contains(w.Body.String(), "already canceled") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	// A queue that cannot store refuses the job: nothing accepted is lost.
	h.q.fail = errors.New("disk full")
	w = h.do(req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "text/plain", body: "9.9.9.9"})
	if w.Code != 503 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestWebhooks(t *testing.T) {
	cases := []struct {
		kind, path, body string
		header           map[string]string
		want             jobs.AlertRef
		key              string
		tlp              string
		in               []string // fragments of the stored input
		notIn            []string
	}{
		{kind: "splunk", body: readFile(t, "testdata/splunk_alert.json"),
			want: jobs.AlertRef{System: "splunk", ID: "scheduler__admin_U0EtVGhyZWF0SW50ZWxsaWdlbmNl__RMD5c2a7e1f09b3d4e61_at_1748941200_4471",
				Link: "https://splunk-es.northwind.local:8000/app/SA-ThreatIntelligence/@go?sid=scheduler__admin_U0EtVGhyZWF0SW50ZWxsaWdlbmNl__RMD5c2a7e1f09b3d4e61_at_1748941200_4471"},
			key: "splunk:scheduler__", tlp: "amber", in: []string{"185.220.101.47", "secure-paypa1[.]com", "d40eb676"}, notIn: []string{"splunk-es"}},
		{kind: "elastic", body: readFile(t, "testdata/elastic_alert.json"),
			want: jobs.AlertRef{System: "elastic", ID: "5d6a0f8e-4c2b-4f7e-9a31-2b8c7d1e0f44", Link: "https://kibana.northwind.local:5601/app/security/alerts/redirect/5d6a0f8e-4c2b-4f7e-9a31-2b8c7d1e0f44"},
			key:  "elastic:5d6a0f8e-4c2b-4f7e-9a31-2b8c7d1e0f44", tlp: "amber", in: []string{"91.215.85.17", "update-check"}, notIn: []string{"kibana.northwind"}},
		{kind: "thehive", body: readFile(t, "testdata/thehive_alert.json"),
			want: jobs.AlertRef{System: "thehive", ID: "~41016"}, key: "thehive:~41016", tlp: "amber",
			in: []string{"185.220.101.47", "evil-login[.]com", "d40eb676"}, notIn: []string{"northwind.local"}},
		{kind: "generic", path: "/v1/webhooks/generic?id=INC-7&link=https://soar.example/7&tlp=red", body: `{"note": "beacon to 45.9.148.3"}`,
			want: jobs.AlertRef{System: "generic", ID: "INC-7", Link: "https://soar.example/7"}, key: "generic:INC-7", tlp: "red", in: []string{"45.9.148.3"}},
		{kind: "generic", body: `{"note": "beacon to 45.9.148.3"}`, header: map[string]string{"X-Alert-Id": "A-1", "Idempotency-Key": "mine"},
			want: jobs.AlertRef{System: "generic", ID: "A-1"}, key: "mine", tlp: "amber"},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			h := newHarness(t, nil)
			path := c.path
			if path == "" {
				path = "/v1/webhooks/" + c.kind
			}
			w := h.do(req{method: "POST", path: path, token: ingestSecret, ctype: "application/json; charset=utf-8", body: c.body, sign: true, header: c.header})
			if w.Code != 202 {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			spec := h.q.spec("job-1")
			a := spec.Alert
			if a == nil || a.System != c.want.System || a.ID != c.want.ID || a.Link != c.want.Link {
				t.Fatalf("alert %+v, want %+v", a, c.want)
			}
			if !strings.HasPrefix(spec.IdempotencyKey, c.key) || spec.Source != c.kind || spec.TLP != c.tlp || spec.InputFormat != "json" {
				t.Errorf("spec %+v", spec)
			}
			for _, f := range c.in {
				if !strings.Contains(string(spec.Input), f) {
					t.Errorf("input lacks %q: %s", f, spec.Input)
				}
			}
			for _, f := range c.notIn {
				if strings.Contains(string(spec.Input), f) {
					t.Errorf("input holds the SIEM's own %q: %s", f, spec.Input)
				}
			}
			// A redelivery (new signature, same alert) returns the same job.
			h.now = h.now.Add(time.Second)
			w = h.do(req{method: "POST", path: path, token: ingestSecret, ctype: "application/json", body: c.body, sign: true, header: c.header})
			if w.Code != 202 || w.Header().Get("Idempotent-Replayed") != "true" || len(h.q.jobs) != 1 {
				t.Fatalf("redelivery: %d %v %s", w.Code, w.Header(), w.Body)
			}
		})
	}
}

func TestWebhookQueryTokenAndNoSecret(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.WebhookSecret = nil })
	w := h.do(req{method: "POST", path: "/v1/webhooks/splunk?token=" + ingestSecret, ctype: "application/json", body: readFile(t, "testdata/splunk_alert.json")})
	if w.Code != 202 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	// ?token= is for webhooks only.
	w = h.do(req{method: "GET", path: "/v1/jobs/job-1?token=" + readSecret})
	if w.Code != 401 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestSecurity(t *testing.T) {
	h := newHarness(t, nil)
	body := readFile(t, "testdata/splunk_alert.json")
	check := func(name string, w interface{ Result() *http.Response }, want int) {
		t.Helper()
		if got := w.Result().StatusCode; got != want {
			t.Errorf("%s: status %d, want %d", name, got, want)
		}
	}
	check("no token", h.do(req{method: "POST", path: "/v1/webhooks/splunk", ctype: "application/json", body: body, sign: true}), 401)
	check("wrong scope", h.do(req{method: "POST", path: "/v1/webhooks/splunk", token: readSecret, ctype: "application/json", body: body, sign: true}), 403)
	bad := map[string]string{HeaderTimestamp: "1800000000", HeaderSignature: Sign([]byte("not-the-secret"), "1800000000", []byte(body))}
	check("bad hmac", h.do(req{method: "POST", path: "/v1/webhooks/splunk", token: ingestSecret, ctype: "application/json", body: body, header: bad}), 401)
	check("good hmac", h.do(req{method: "POST", path: "/v1/webhooks/splunk", token: ingestSecret, ctype: "application/json", body: body, sign: true}), 202)
	h.now = h.now.Add(4 * time.Minute) // still inside the window
	replay := map[string]string{HeaderTimestamp: "1800000000", HeaderSignature: Sign([]byte(hookSecret), "1800000000", []byte(body))}
	w := h.do(req{method: "POST", path: "/v1/webhooks/splunk", token: ingestSecret, ctype: "application/json", body: body, header: replay})
	check("replayed hmac", w, 401)
	if p := decodeProblem(t, w.Body.String()); !strings.HasSuffix(p.Type, probReplay) {
		t.Errorf("replay problem %+v", p)
	}
	// Much later the timestamp alone refuses it, and the replay memory is rotated.
	h.now = h.now.Add(30 * time.Minute)
	check("old replay", h.do(req{method: "POST", path: "/v1/webhooks/splunk", token: ingestSecret, ctype: "application/json", body: body, header: replay}), 401)
	check("bad token via query", h.do(req{method: "POST", path: "/v1/webhooks/splunk?token=" + readSecret + "x", ctype: "application/json", body: body, sign: true}), 401)
	check("read token via query", h.do(req{method: "POST", path: "/v1/webhooks/splunk?token=" + readSecret, ctype: "application/json", body: body, sign: true}), 403)

	logs := h.log.String()
	if !strings.Contains(logs, `"token":"splunk-prod"`) || !strings.Contains(logs, `"token":"dashboard"`) {
		t.Errorf("the access log should name tokens:\n%s", logs)
	}
	for _, secret := range []string{adminSecret, ingestSecret, readSecret, hookSecret, strings.TrimPrefix(replay[HeaderSignature], "sha256=")} {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret appears in the log: %q", secret)
		}
	}
	if strings.Contains(logs, "?token") || strings.Contains(logs, "token=") {
		t.Errorf("a query string reached the log:\n%s", logs)
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.TokenRate, o.TokenBurst = 1, 2 })
	get := req{method: "GET", path: "/v1/providers", token: readSecret}
	for i := range 2 {
		if w := h.do(get); w.Code != 200 {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	w := h.do(get)
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	// Another token has its own budget; time refills this one.
	if w := h.do(req{method: "GET", path: "/v1/providers", token: adminSecret}); w.Code != 200 {
		t.Fatalf("admin: %d", w.Code)
	}
	h.now = h.now.Add(time.Second)
	if w := h.do(get); w.Code != 200 {
		t.Fatalf("after refill: %d", w.Code)
	}
}

func TestNoTokensRefused(t *testing.T) {
	_, err := New(Options{Engine: fakeEngine{}, Queue: newFakeQueue(), Store: &fakeStore{}})
	if !errors.Is(err, ErrNoTokens) {
		t.Fatalf("err %v", err)
	}
	h := newHarness(t, func(o *Options) { o.Tokens, o.InsecureNoAuth, o.WebhookSecret = nil, true, nil })
	if w := h.do(req{method: "GET", path: "/v1/providers"}); w.Code != 200 {
		t.Fatalf("%d", w.Code)
	}
}

func TestHealthRequestIDAndMetrics(t *testing.T) {
	h := newHarness(t, nil)
	w := h.do(req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "abc-123"}})
	if w.Code != 200 || w.Header().Get("X-Request-Id") != "abc-123" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	w = h.do(req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "bad id\x01"}})
	if id := w.Header().Get("X-Request-Id"); id == "" || strings.Contains(id, "bad") {
		t.Fatalf("request id %q", id)
	}
	if w := h.do(req{method: "GET", path: "/readyz"}); w.Code != 200 {
		t.Fatalf("readyz %d", w.Code)
	}
	h.store.down = errors.New("store: schema version 0, want 1")
	if w := h.do(req{method: "GET", path: "/readyz"}); w.Code != 503 || !strings.Contains(w.Body.String(), "schema version") {
		t.Fatalf("readyz down: %d %s", w.Code, w.Body)
	}
	if w := h.do(req{method: "GET", path: "/openapi.yaml"}); w.Code != 200 || !strings.HasPrefix(w.Body.String(), "openapi: 3.1") {
		t.Fatalf("openapi %d", w.Code)
	}
	if w := h.do(req{method: "DELETE", path: "/v1/cache?provider=virustotal", token: adminSecret}); w.Code != 200 || !strings.Contains(w.Body.String(), `"purged":3`) {
		t.Fatalf("purge %d %s", w.Code, w.Body)
	}
	h.do(req{method: "POST", path: "/v1/webhooks/generic?id=1", token: ingestSecret, ctype: "application/json", body: `{"ip": "45.9.148.3"}`, sign: true})
	m := h.srv.Metrics()
	m.Request("virustotal", 200, nil, 120*time.Millisecond)
	m.Request("virustotal", 0, errors.New("reset"), time.Second)
	m.Retry("virustotal", "5xx")
	m.RateLimited("abuseipdb")
	m.BreakerState("shodan", "closed", "open")
	m.JobFinished(jobs.Job{Source: "splunk", State: jobs.Completed}, 3*time.Second)
	m.SetQuotas(func(context.Context) ([]QuotaSample, error) {
		return []QuotaSample{{Provider: "virustotal", Period: "day", Limit: 500, Remaining: 498}}, nil
	})
	w = h.do(req{method: "GET", path: "/metrics", token: readSecret})
	for _, want := range []string{
		`iocane_provider_requests_total{code="200",provider="virustotal"} 1`,
		`iocane_provider_requests_total{code="error",provider="virustotal"} 1`,
		`iocane_provider_retries_total{provider="virustotal",reason="5xx"} 1`,
		`iocane_provider_rate_limited_total{provider="abuseipdb"} 1`,
		`iocane_provider_breaker_state{provider="shodan"} 2`,
		`iocane_provider_quota_remaining{period="day",provider="virustotal"} 498`,
		`iocane_alerts_received_total{kind="generic"} 1`,
		`iocane_queue_jobs{state="queued"} 1`,
		`iocane_deferred_lookups{provider="virustotal"} 7`,
		`iocane_job_duration_seconds_count{source="splunk",state="completed"} 1`,
		`iocane_http_requests_total{code="200",method="GET",route="/healthz"} 2`,
		`iocane_provider_request_duration_seconds_bucket{provider="virustotal",le="0.25"} 1`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestWebhookTLPSpellings: every parser reads the marking whatever the key's
// case and the value's form (TLP:RED, red, RED, TheHive's 3, amber+strict),
// and of two markings the stricter wins. A RED alert read as unmarked
// would reach every third-party provider.
func TestWebhookTLPSpellings(t *testing.T) {
	wrap := map[string]func(members string) string{
		"generic": func(m string) string { return `{"note": "beacon to 45.9.148.3", ` + m + `}` },
		"elastic": func(m string) string { return `{"alert_id": "a-1", "rule_name": "r", "note": "45.9.148.3", ` + m + `}` },
		"splunk":  func(m string) string { return `{"sid": "s-1", "result": {"dest": "45.9.148.3", ` + m + `}}` },
		"thehive": func(m string) string {
			return `{"objectType": "Alert", "operation": "Creation", "object": {"_id": "~1", "title": "45.9.148.3", ` + m + `}}`
		},
	}
	cases := []struct{ members, want string }{
		{`"TLP": "red"`, "red"},
		{`"tlp": "TLP:RED"`, "red"},
		{`"Tlp": "RED"`, "red"},
		{`"TLP": 3`, "red"},
		{`"tlp": "3"`, "red"},
		{`"TLP": "amber+strict"`, "amber+strict"},
		{`"tlp": "TLP:AMBER+STRICT"`, "amber+strict"},
		{`"TLP": "purple"`, "red"},
		{`"tlp": "green", "TLP": "red"`, "red"},
		{`"TLP": 4`, "amber+strict"},
		{`"tlp": "amber"`, "amber"},
		{`"other": 1`, "amber"}, // none: the default
	}
	for kind, body := range wrap {
		for _, c := range cases {
			h := newHarness(t, nil)
			b := body(c.members)
			w := h.do(req{method: "POST", path: "/v1/webhooks/" + kind, token: ingestSecret, ctype: "application/json", body: b, sign: true})
			if w.Code != 202 {
				t.Fatalf("%s %s: %d %s", kind, c.members, w.Code, w.Body)
			}
			if got := h.q.spec("job-1").TLP; got != c.want {
				t.Errorf("%s {%s}: job TLP %q, want %q", kind, c.members, got, c.want)
			}
		}
	}
}

// TestBodiesReadOrRefusedAtIntake: a gzip body is read (decompressed
// within max_body, the signature over the bytes sent); an encoding iocane
// cannot read is 415 and a body nested deeper than the JSON reader goes is
// 422, at once, rather than a job that is accepted and then fails or finds
// nothing.
func TestBodiesReadOrRefusedAtIntake(t *testing.T) {
	gz := func(s string) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.String()
	}
	deep := strings.Repeat(`{"a":`, input.MaxJSONDepth+1) + `"45.9.148.3"` + strings.Repeat("}", input.MaxJSONDepth+1)
	gzipped := map[string]string{"Content-Encoding": "gzip"}
	for _, c := range []struct {
		name   string
		r      req
		status int
		detail string
	}{
		{"webhook gzip", req{method: "POST", path: "/v1/webhooks/generic", token: ingestSecret, ctype: "application/json", body: gz(`{"note": "beacon to 45.9.148.3"}`), sign: true, header: gzipped}, 202, ""},
		{"jobs gzip", req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "text/plain", body: gz("beacon to 45.9.148.3"), header: gzipped}, 202, ""},
		{"jobs gzip bomb", req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "text/plain", body: gz(strings.Repeat("a", 1<<21)), header: gzipped}, 413, "decompresses to more than"},
		{"jobs not gzip", req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "text/plain", body: "plain", header: gzipped}, 400, "does not decompress"},
		{"jobs brotli", req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "text/plain", body: "x", header: map[string]string{"Content-Encoding": "br"}}, 415, "Content-Encoding"},
		{"webhook too deep", req{method: "POST", path: "/v1/webhooks/generic", token: ingestSecret, ctype: "application/json", body: deep, sign: true}, 422, "nested deeper than 1000"},
		{"jobs too deep", req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "application/json", body: deep}, 422, "nested deeper than 1000"},
		{"jobs deep enough", req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "application/json",
			body: strings.Repeat(`[`, input.MaxJSONDepth) + `"45.9.148.3"` + strings.Repeat("]", input.MaxJSONDepth)}, 202, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.MaxBody = 1 << 20 })
			w := h.do(c.r)
			if w.Code != c.status || !strings.Contains(w.Body.String(), c.detail) {
				t.Fatalf("%d %s; want %d with %q", w.Code, w.Body, c.status, c.detail)
			}
			if c.status == 202 && !strings.Contains(string(h.q.spec("job-1").Input), "45.9.148.3") {
				t.Errorf("the job's input lacks the IOC: %q", h.q.spec("job-1").Input)
			}
		})
	}
}

// TestWebhookPivotAndPAP: a webhook's job pivots one step by default (or
// as ?pivot= says), and carries the PAP of TheHive's pap field or ?pap=,
// the stricter winning; a bad value is 400.
func TestWebhookPivotAndPAP(t *testing.T) {
	thehive := `{"objectType": "Alert", "operation": "Creation", "object": {"_id": "~1", "title": "45.9.148.3", "pap": 2}}`
	generic := `{"note": "beacon to 45.9.148.3"}`
	for _, c := range []struct {
		kind, query, body string
		pivot             int
		pap               string
		code              int
	}{
		{"generic", "", generic, 1, "green", 202},
		{"generic", "?pivot=0", generic, 0, "green", 202},
		{"generic", "?pivot=2&pap=red", generic, 2, "red", 202},
		{"thehive", "", thehive, 1, "amber", 202},
		{"thehive", "?pap=green", thehive, 1, "amber", 202}, // the alert's own AMBER is stricter
		{"generic", "?pivot=3", generic, 0, "", 400},
		{"generic", "?pap=purple", generic, 0, "", 400},
	} {
		h := newHarness(t, func(o *Options) { o.WebhookPivot = 1 })
		w := h.do(req{method: "POST", path: "/v1/webhooks/" + c.kind + c.query, token: ingestSecret, ctype: "application/json", body: c.body, sign: true})
		if w.Code != c.code {
			t.Errorf("%s%s: %d %s", c.kind, c.query, w.Code, w.Body)
			continue
		}
		if c.code != 202 {
			continue
		}
		if s := h.q.spec("job-1"); s.Pivot != c.pivot || s.PAP != c.pap {
			t.Errorf("%s%s: pivot %d pap %q, want %d %q", c.kind, c.query, s.Pivot, s.PAP, c.pivot, c.pap)
		}
	}
}
