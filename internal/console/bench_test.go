package console_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// withEvil marks every tenth IP of ips(n) malicious ("evil" in a value
// makes the fakes say so) by adding a domain for it, so the page has
// every verdict colour.
func jobInput(n int) string {
	var b strings.Builder
	b.WriteString(ips(n - n/10))
	for i := range n / 10 {
		fmt.Fprintf(&b, "evil-%d.example.com\n", i)
	}
	return b.String()
}

// submit runs input as a job through the console and waits for it.
func (e *env) submit(t testing.TB, c *http.Client, input string) string {
	t.Helper()
	resp, _ := e.post(t, c, "/ui/enrich", url.Values{"text": {input}, "action": {"run"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("run: %d", resp.StatusCode)
	}
	e.waitJob(t)
	return resp.Request.URL.Path
}

// pageWeight is what a browser fetches for a page: the HTML, the style
// sheet, htmx and the icon as sent to a browser that takes gzip (total),
// and the HTML's own size uncompressed.
func (e *env) pageWeight(t testing.TB, c *http.Client, path string) (html, total int) {
	t.Helper()
	_, page := e.get(t, c, path)
	html = len(page)
	for _, asset := range []string{path, "/ui/static/console.css", "/ui/static/htmx.min.js", "/ui/static/favicon.svg"} {
		req, _ := http.NewRequest("GET", e.URL+asset, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		for _, ck := range c.Jar.Cookies(req.URL) {
			req.AddCookie(ck)
		}
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", asset, resp.StatusCode)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		total += len(b)
	}
	return html, total
}

// TestPageWeight: a full job page (50 rows, 12 sources each) with its
// style sheet and htmx weighs under 150 KB as sent, and its HTML alone
// under 150 KB uncompressed too.
func TestPageWeight(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, adminToken)
	job := e.submit(t, c, jobInput(60))
	for _, p := range []string{job, "/ui/enrich", "/ui/jobs", "/ui/providers", "/ui/ioc?type=domain&value=evil-1.example.com"} {
		html, total := e.pageWeight(t, c, p)
		t.Logf("%s: HTML %d bytes uncompressed; sent with its assets %d bytes", p, html, total)
		if total > 150_000 || html > 150_000 {
			t.Errorf("%s weighs %d bytes sent, %d bytes of HTML: over 150 KB", p, total, html)
		}
	}
}

// BenchmarkJobPage10k opens a job of 10,000 IOCs (12 sources each) as the
// browser does: the first page, rendered on the server, worst first.
func BenchmarkJobPage10k(b *testing.B) {
	e := newEnv(b)
	c := e.signIn(b, adminToken)
	job := e.submit(b, c, jobInput(10_000))
	var cookie string
	u, _ := url.Parse(e.URL + job)
	for _, ck := range c.Jar.Cookies(u) {
		cookie = ck.Name + "=" + ck.Value
	}
	h := e.Console.Handler()
	var size int
	for b.Loop() {
		req := httptest.NewRequest("GET", job, nil)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Results 1 to 50 of 10000") {
			b.Fatalf("job page: %d %.300s", rec.Code, rec.Body.String())
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "html-bytes")
}
