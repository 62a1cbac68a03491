package server

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestOpenAPIMatchesRoutes fails when a registered route is not in
// openapi.yaml, or the description names an operation the server does not
// have.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	methods := []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for m := range item {
			if slices.Contains(methods, m) {
				documented[strings.ToUpper(m)+" "+path] = true
			}
		}
	}
	rest := regexp.MustCompile(`\{(\w+)\.\.\.\}`)
	h := newHarness(t, nil)
	served := map[string]bool{}
	for _, rt := range h.srv.Routes() {
		op := rt.Method + " " + rest.ReplaceAllString(rt.Path, "{$1}")
		served[op] = true
		if !documented[op] {
			t.Errorf("route %s is not documented in openapi.yaml", op)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("openapi.yaml documents %s, which the server does not serve", op)
		}
	}
	// Every route answers through the mux (none is shadowed by another).
	for _, rt := range h.srv.Routes() {
		path := strings.NewReplacer("{id}", "x", "{kind}", "generic", "{type}", "ipv4", "{value...}", "1.2.3.4", "{value}", "1.2.3.4").Replace(rt.Path)
		w := h.do(req{method: rt.Method, path: path})
		if w.Code == 404 && strings.Contains(w.Body.String(), "no endpoint") || w.Code == 405 {
			t.Errorf("%s is not reachable: %d %s", rt.Pattern(), w.Code, w.Body)
		}
	}
}
