package console_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/console"
	"github.com/iocane/iocane/internal/enrich"
)

const phishing = `From: "PayPal" <service@secure-paypa1.com>
Subject: Your account is limited

Verify at hxxps://login-evil[.]example-pay[.]com/verify?id=7 now.
Our relay 185.220.101.47 and the intranet box 10.0.0.5 saw it.
`

// TestNoJavaScriptFlow is the console with plain HTTP requests: sign in,
// paste text, see the preview, run it, and reload the job page until its
// rows are all there.
func TestNoJavaScriptFlow(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, adminToken)

	resp, page := e.post(t, c, "/ui/enrich", url.Values{"text": {phishing}, "tlp": {"amber"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{
		"IOCs found", "Nothing has been sent yet",
		"185[.]220[.]101[.]47", "login-evil[.]example-pay[.]com", // defanged, never live
		"internal (private): never sent out</strong>: ", // 10.0.0.5 reaches no provider
		"<th scope=\"row\">virustotal</th>",             // the quota it would spend
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the preview lacks %q", want)
		}
	}
	if strings.Contains(page, "href=\"hxxp") || strings.Contains(page, "href=\"https://login-evil") {
		t.Error("the preview links to an IOC")
	}

	resp, page = e.post(t, c, "/ui/enrich", url.Values{"draft": {draftOf(t, page)}, "tlp": {"amber"}, "action": {"run"}})
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/ui/jobs/") {
		t.Fatalf("run: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	jobPath := resp.Request.URL.Path
	e.waitJob(t)
	_, page = e.get(t, c, jobPath)
	for _, want := range []string{"Job completed", `class="v-malicious"`, `<span class="badge malicious">malicious</span>`,
		"known bad: 42 engines flag it", "virustotal: ok", "185[.]220[.]101[.]47", `rel="noopener noreferrer"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the job page lacks %q", want)
		}
	}
	if strings.Contains(page, "hx-trigger") {
		t.Error("a finished job's rows still refresh")
	}
	// Filter, and export.
	_, page = e.get(t, c, jobPath+"?verdict=malicious")
	if strings.Count(page, "<tr class=\"v-") != strings.Count(page, "<tr class=\"v-malicious\"") || !strings.Contains(page, "v-malicious") {
		t.Errorf("?verdict=malicious shows other rows")
	}
	resp, body := e.get(t, c, jobPath+"/export?format=stix")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"type": "bundle"`) && !strings.Contains(body, `"type":"bundle"`) {
		t.Errorf("STIX export: %d %.200s", resp.StatusCode, body)
	}
	// The IOC page shows every source.
	resp, page = e.get(t, c, "/ui/ioc?type=domain&value=login-evil.example-pay.com")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ioc page: %d", resp.StatusCode)
	}
	for _, n := range providerNames[:4] {
		if !strings.Contains(page, "<th scope=\"row\">"+n+"</th>") {
			t.Errorf("the IOC page lacks source %s", n)
		}
	}
	// The jobs list has it.
	_, page = e.get(t, c, "/ui/jobs")
	if !strings.Contains(page, strings.TrimPrefix(jobPath, "/ui/jobs/")) || !strings.Contains(page, "console") {
		t.Errorf("the jobs list lacks the job")
	}
}

// TestRunningJobRefreshes: a running job's rows carry the htmx refresh and
// the live region; the refresh answers the fragment alone.
func TestRunningJobRefreshes(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, adminToken)
	resp, page := e.post(t, c, "/ui/enrich", url.Values{"text": {ips(3000)}, "action": {"run"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("run: %d", resp.StatusCode)
	}
	id := strings.TrimPrefix(resp.Request.URL.Path, "/ui/jobs/")
	if !strings.Contains(page, `role="status" aria-live="polite"`) {
		t.Error("no live region")
	}
	if !strings.Contains(page, "Job completed") && !strings.Contains(page, `hx-trigger="every 2s"`) {
		t.Errorf("a running job's rows do not refresh:\n%s", page)
	}
	_, frag := e.get(t, c, "/ui/jobs/"+id+"/rows?page=2")
	if strings.Contains(frag, "<html") || !strings.HasPrefix(strings.TrimSpace(frag), `<section id="live"`) {
		t.Errorf("the refresh is not the fragment: %.200s", frag)
	}
	e.waitJob(t)
	_, frag = e.get(t, c, "/ui/jobs/"+id+"/rows")
	if strings.Contains(frag, "hx-trigger") || !strings.Contains(frag, "3000 of 3000 IOCs done") {
		t.Errorf("the finished job's fragment: %.300s", frag)
	}
	if !strings.Contains(frag, "Page 1 of 60") || !strings.Contains(frag, `rel="next"`) {
		t.Errorf("3000 rows are not paged by 50: %.300s", frag)
	}
}

// TestReadTokenCannotEnrich: a read token's session is not offered the
// enrich page, and its posts are refused without a job.
func TestReadTokenCannotEnrich(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, readerToken)
	_, page := e.get(t, c, "/ui/jobs")
	if strings.Contains(page, `href="/ui/enrich"`) {
		t.Error("a read token is offered the enrich page")
	}
	resp, page := e.post(t, c, "/ui/enrich", url.Values{"text": {"185.220.101.47"}, "action": {"run"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "ingest scope") {
		t.Errorf("read token's enrich: %d\n%s", resp.StatusCode, page)
	}
	if _, n, _ := e.Queue.List(t.Context(), 0, 10); n != 0 {
		t.Errorf("%d jobs after a refused post", n)
	}
}

// TestCrossSitePostIsRefused: a form posted from another site is refused,
// sign-in included, and no job is made.
func TestCrossSitePostIsRefused(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, adminToken)
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://evil.example"},
	} {
		for _, path := range []string{"/ui/enrich", "/ui/login", "/ui/logout"} {
			req, _ := http.NewRequest("POST", e.URL+path, strings.NewReader("text=185.220.101.47&action=run&token="+adminToken))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range h {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with %v: %d, want 403", path, h, resp.StatusCode)
			}
		}
	}
	if _, n, _ := e.Queue.List(t.Context(), 0, 10); n != 0 {
		t.Errorf("%d jobs after cross-site posts", n)
	}
	// The same-origin post still works.
	if resp, _ := e.post(t, c, "/ui/enrich", url.Values{"text": {"185.220.101.47"}}); resp.StatusCode != http.StatusOK {
		t.Errorf("same-origin post: %d", resp.StatusCode)
	}
}

// TestSecurityHeadersOnEveryPage: the CSP, framing and referrer headers
// are on every page, signed in or not, errors included.
func TestSecurityHeadersOnEveryPage(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, adminToken)
	resp, _ := e.post(t, c, "/ui/enrich", url.Values{"text": {"185.220.101.47"}, "action": {"run"}})
	job := resp.Request.URL.Path
	e.waitJob(t)
	pages := []string{"/ui/login", "/ui/enrich", "/ui/jobs", job, job + "/rows", "/ui/ioc?type=ipv4&value=185.220.101.47",
		"/ui/providers", "/ui/report", "/ui/no-such-page", "/ui/jobs/nope", "/ui/static/console.css"}
	for _, p := range pages {
		resp, _ := e.get(t, c, p)
		h := resp.Header
		if h.Get("Content-Security-Policy") != console.CSP || h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s (%d): CSP %q, XFO %q, Referrer-Policy %q", p, resp.StatusCode, h.Get("Content-Security-Policy"), h.Get("X-Frame-Options"), h.Get("Referrer-Policy"))
		}
		if strings.Contains(console.CSP, "unsafe") {
			t.Fatal("the CSP allows unsafe sources")
		}
	}
	// Signed out, a page sends the browser to sign in.
	resp, _ = e.get(t, client(t), "/ui/jobs")
	if resp.Request.URL.Path != "/ui/login" || resp.Request.URL.Query().Get("next") != "/ui/jobs" {
		t.Errorf("signed out: ended at %s", resp.Request.URL)
	}
}

// TestHostileValuesAreText: markup in a provider's summary, data and link
// is shown as text, and a javascript: link is not a link.
func TestHostileValuesAreText(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, adminToken)
	resp, _ := e.post(t, c, "/ui/enrich", url.Values{"text": {"hostile-site.com\n"}, "action": {"run"}})
	job := resp.Request.URL.Path
	e.waitJob(t)
	for _, p := range []string{job, "/ui/ioc?type=domain&value=hostile-site.com"} {
		_, page := e.get(t, c, p)
		if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") || strings.Contains(page, "javascript:") {
			t.Errorf("%s renders markup or a javascript: link", p)
		}
		if p != job && !strings.Contains(page, "&lt;script&gt;alert(&#34;summary&#34;)&lt;/script&gt;") {
			t.Errorf("%s does not show the summary as text", p)
		}
	}
}

// TestSessionExpires: a session ends at its expiry and at sign-out; its
// cookie is HttpOnly and SameSite=Strict.
func TestSessionExpires(t *testing.T) {
	e := newEnv(t)
	c := client(t)
	resp, err := c.Do(mustForm(t, e.URL+"/ui/login", url.Values{"token": {adminToken}}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var ck *http.Cookie
	for r := resp; r != nil; r = r.Request.Response {
		for _, x := range r.Cookies() {
			if x.Name == console.CookieName {
				ck = x
			}
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/ui/" || ck.Secure {
		t.Fatalf("session cookie: %+v", ck)
	}
	if resp, _ := e.get(t, c, "/ui/jobs"); resp.Request.URL.Path != "/ui/jobs" {
		t.Fatalf("signed in, /ui/jobs ended at %s", resp.Request.URL)
	}
	e.Clock.Add(console.DefaultSessionTTL - time.Minute)
	if resp, _ := e.get(t, c, "/ui/jobs"); resp.Request.URL.Path != "/ui/jobs" {
		t.Fatalf("before expiry, /ui/jobs ended at %s", resp.Request.URL)
	}
	e.Clock.Add(2 * time.Minute)
	if resp, _ := e.get(t, c, "/ui/jobs"); resp.Request.URL.Path != "/ui/login" {
		t.Errorf("after expiry, /ui/jobs ended at %s", resp.Request.URL)
	}
	// Sign-out ends a session at once.
	c = e.signIn(t, adminToken)
	e.post(t, c, "/ui/logout", nil)
	if resp, _ := e.get(t, c, "/ui/jobs"); resp.Request.URL.Path != "/ui/login" {
		t.Errorf("after sign-out, /ui/jobs ended at %s", resp.Request.URL)
	}
	// A wrong token is told so.
	resp2, page := e.post(t, client(t), "/ui/login", url.Values{"token": {"nope"}})
	if resp2.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "not known") || strings.Contains(page, "nope") {
		t.Errorf("wrong token: %d", resp2.StatusCode)
	}
}

func mustForm(t *testing.T, u string, v url.Values) *http.Request {
	req, err := http.NewRequest("POST", u, strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// TestProvidersPage: quota as a meter with what is left and the reset, the
// breaker and the errors.
func TestProvidersPage(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, readerToken)
	_, page := e.get(t, c, "/ui/providers")
	for _, want := range []string{`<meter min="0" max="500" value="470"`, "30 of 500 left this day, resets 2026-12-05 00:00:00 UTC",
		`class="quota low"`, `<span class="breaker open">open</span>`, "no: no API key"} {
		if !strings.Contains(page, want) {
			t.Errorf("the providers page lacks %q", want)
		}
	}
}

var tagRE = regexp.MustCompile(`<script[^>]*>[^<]`)

// TestNoInlineScript: no page carries inline script or style.
func TestNoInlineScript(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, adminToken)
	for _, p := range []string{"/ui/login", "/ui/enrich", "/ui/jobs", "/ui/providers", "/ui/report"} {
		_, page := e.get(t, c, p)
		if tagRE.MatchString(page) || strings.Contains(page, "<style") || strings.Contains(page, " style=") || strings.Contains(page, " onclick=") {
			t.Errorf("%s has inline script or style", p)
		}
	}
}

// TestFileUpload: an uploaded e-mail is previewed and run like pasted
// text.
func TestFileUpload(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, adminToken)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "reported.eml")
	fw.Write([]byte(phishing))
	mw.WriteField("tlp", "green")
	mw.Close()
	resp, err := c.Post(e.URL+"/ui/enrich", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "found in reported.eml") || !strings.Contains(string(page), "185[.]220[.]101[.]47") {
		t.Fatalf("upload preview: %d\n%s", resp.StatusCode, page)
	}
	resp, _ = e.post(t, c, "/ui/enrich", url.Values{"draft": {draftOf(t, string(page))}, "tlp": {"green"}, "action": {"run"}})
	if !strings.HasPrefix(resp.Request.URL.Path, "/ui/jobs/") {
		t.Fatalf("run of the upload ended at %s", resp.Request.URL)
	}
	if j := e.waitJob(t); j.Counts.IOCs < 3 {
		t.Errorf("the uploaded e-mail's job has %d IOCs", j.Counts.IOCs)
	}
	// Nothing pasted, nothing chosen: a clear error, no job.
	resp, pageS := e.post(t, c, "/ui/enrich", url.Values{"text": {"  "}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(pageS, "nothing to enrich") {
		t.Errorf("empty input: %d", resp.StatusCode)
	}
}

// TestSecureCookieOverTLS: over TLS the session cookie is Secure.
func TestSecureCookieOverTLS(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewTLSServer(e.Console.Handler())
	defer srv.Close()
	resp, err := srv.Client().Do(mustForm(t, srv.URL+"/ui/login", url.Values{"token": {adminToken}}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var secure bool
	for r := resp; r != nil; r = r.Request.Response {
		for _, ck := range r.Cookies() {
			if ck.Name == console.CookieName {
				secure = ck.Secure
			}
		}
	}
	if !secure {
		t.Error("the session cookie is not Secure over TLS")
	}
}

// TestTokenRateLimitApplies: a session's pages count against its token's
// rate, as API requests do.
func TestTokenRateLimitApplies(t *testing.T) {
	tokens := map[string]console.Identity{adminToken: {Name: "soc-admin", Scopes: []string{console.ScopeAdmin}}}
	left := 2
	c, err := console.New(console.Options{
		Auth: func(s string) (console.Identity, bool) { id, ok := tokens[s]; return id, ok },
		Allow: func(name string) time.Duration {
			if left > 0 {
				left--
				return 0
			}
			return 3 * time.Second
		},
		Jobs:    newEnv(t).Queue,
		Preview: func(context.Context, enrich.Item) []enrich.Step { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	e := &env{URL: srv.URL}
	cl := client(t)
	e.post(t, cl, "/ui/login", url.Values{"token": {adminToken}}) // lands on /ui/enrich: one request
	e.get(t, cl, "/ui/jobs")
	resp, page := e.get(t, cl, "/ui/jobs")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3" || !strings.Contains(page, "over its request rate") {
		t.Errorf("over the token's rate: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
