package browsertest_test

import (
	"bytes"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/browsertest"
)

// csp is the policy of the web console: no inline script and no eval.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'"

// serve serves testdata with the console's Content-Security-Policy.
func serve(t *testing.T) *httptest.Server {
	t.Helper()
	files := http.FileServer(http.Dir("testdata"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestGoodPageUnderCSP(t *testing.T) {
	srv := serve(t)
	b := browsertest.Start(t)
	b.Navigate(srv.URL + "/good.html")

	if got := b.Text("h1"); got != "Sign in" {
		t.Errorf("h1 = %q, want %q", got, "Sign in")
	}
	browsertest.AssertNoAxeViolations(t, b, "good.html")

	path := filepath.Join(t.TempDir(), "shots", "good.png")
	b.Screenshot(path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if w := img.Bounds().Dx(); w != browsertest.WindowWidth {
		t.Errorf("screenshot width = %d, want %d", w, browsertest.WindowWidth)
	}
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("page errors: %q", errs)
	}
}

func TestAxeFindsViolations(t *testing.T) {
	srv := serve(t)
	b := browsertest.Start(t)
	b.Navigate(srv.URL + "/bad.html")

	var ids []string
	for _, v := range b.Axe(t) {
		ids = append(ids, v.ID)
		if len(v.Nodes) == 0 || len(v.Nodes[0].Target) == 0 || v.Nodes[0].HTML == "" {
			t.Errorf("violation %s has no node: %+v", v.ID, v)
		}
	}
	for _, want := range []string{"image-alt", "label"} {
		if !slices.Contains(ids, want) {
			t.Errorf("axe found %q, want %q among them", ids, want)
		}
	}
}

func TestNoJS(t *testing.T) {
	srv := serve(t)
	for _, tc := range []struct {
		name  string
		start func(testing.TB) *browsertest.Browser
		want  string
	}{
		{"js", browsertest.Start, "set by script"},
		{"nojs", browsertest.StartNoJS, "set by server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.start(t)
			b.Navigate(srv.URL + "/nojs.html")
			if got := b.Text("#msg"); got != tc.want {
				t.Errorf("text = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	srv := serve(t)
	b := browsertest.Start(t)

	b.Navigate(srv.URL + "/throw.html")
	errs := b.Errors()
	if len(errs) != 1 || !strings.Contains(errs[0], "boom from throw.js") {
		t.Errorf("errors after throw.html = %q, want the exception", errs)
	}

	b.Navigate(srv.URL + "/inline.html")
	errs = b.Errors()[len(errs):]
	if len(errs) != 1 || !strings.Contains(errs[0], "Content Security Policy") {
		t.Errorf("errors after inline.html = %q, want the CSP violation", errs)
	}
}
