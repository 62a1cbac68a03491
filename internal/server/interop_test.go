package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// A request Go's server cannot parse is answered with problem+json and an
// X-Request-Id, like every other error, not Go's bare text.
func TestMalformedRequestGetsAProblem(t *testing.T) {
	h := newHarness(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	for _, tc := range []struct {
		name, raw string
		code      int
	}{
		{"malformed header", "GET /healthz HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n", 400},
		{"header too large", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 80<<10) + "\r\n\r\n", 431},
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, tc.raw)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var p Problem
		err = json.NewDecoder(resp.Body).Decode(&p)
		c.Close()
		if resp.StatusCode != tc.code || resp.Header.Get("Content-Type") != "application/problem+json" ||
			resp.Header.Get("X-Request-Id") == "" || err != nil || p.Status != tc.code || p.Instance != resp.Header.Get("X-Request-Id") {
			t.Errorf("%s: %d %v %+v %v", tc.name, resp.StatusCode, resp.Header, p, err)
		}
	}
}

// A job that could only find nothing ([] or an empty bundle) is refused
// with 422, as the synchronous endpoint refuses it.
func TestEmptyJobRefused(t *testing.T) {
	for _, body := range []string{`[]`, `{}`, `{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": []}`} {
		h := newHarness(t, nil)
		w := h.do(req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "application/json", body: body})
		if w.Code != 422 || !strings.Contains(w.Body.String(), "no IOCs") || len(h.q.jobs) != 0 {
			t.Errorf("%s: %d %s, %d jobs", body, w.Code, w.Body, len(h.q.jobs))
		}
	}
}

// The route label of the HTTP metrics is the path pattern alone, the same
// for a 405 as for the route's own answers.
func TestRouteLabelWithoutMethod(t *testing.T) {
	h := newHarness(t, nil)
	h.do(req{method: "GET", path: "/v1/jobs/nope", token: readSecret})
	h.do(req{method: "PUT", path: "/v1/jobs/nope", token: adminSecret})
	w := h.do(req{method: "GET", path: "/metrics", token: adminSecret})
	for _, want := range []string{`code="404",method="GET",route="/v1/jobs/{id}"`, `code="405",method="PUT",route="/v1/jobs/{id}"`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(w.Body.String(), `route="GET `) {
		t.Error("a route label still carries the method")
	}
}

// /openapi.yaml is served as a YAML document, and declared as one: an
// object, not a string.
func TestOpenAPIDeclaresItselfAnObject(t *testing.T) {
	var doc map[string]any
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var v any = doc
	for _, k := range []string{"paths", "/openapi.yaml", "get", "responses", "200", "content", "application/yaml", "schema", "type"} {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	if v != "object" {
		t.Errorf("/openapi.yaml is declared as %v", v)
	}
}
