package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/iocane/iocane/internal/browsertest"
	"github.com/iocane/iocane/internal/fakeintel"
)

// shotsDir is where the console tests put their screenshots: docs/ui with
// IOCANE_UPDATE_SCREENSHOTS=1 (they are the README's pictures), else a
// temporary folder.
func shotsDir(t *testing.T) string {
	if os.Getenv("IOCANE_UPDATE_SCREENSHOTS") == "1" {
		return filepath.Join("..", "..", "docs", "ui")
	}
	return t.TempDir()
}

// TestConsoleInChromium is issue 12's acceptance 1, 3 and 6: real
// Chromium against `iocane serve` on the loopback fakes signs in, pastes
// examples/phishing.eml, sees the preview, runs it and watches the rows
// arrive (htmx), opens a malicious IOC and every source's answer, and the
// providers' quota bars. axe-core finds no WCAG 2.2 AA violation on any
// page, no page reports a script error or a CSP violation, and each page
// is photographed.
func TestConsoleInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	env := append(fake.Env(), "IOCANE_ADMIN_TOKEN="+e2eAdmin, "IOCANE_VIRUSTOTAL_QUOTA=500/d", "IOCANE_VIRUSTOTAL_RATE=unlimited")
	base, logs, _ := startServe(t, env)
	eml, err := os.ReadFile(filepath.Join("..", "..", "examples", "phishing.eml"))
	if err != nil {
		t.Fatal(err)
	}
	shots := shotsDir(t)
	b := browsertest.Start(t)
	page := func(name string) {
		t.Helper()
		browsertest.AssertNoAxeViolations(t, b, name)
		b.Screenshot(filepath.Join(shots, name+".png"))
	}

	// Sign in.
	b.Navigate(base + "/")
	if got := b.Text("h1"); got != "Sign in" {
		t.Fatalf("/ leads to %q, want the sign-in page", got)
	}
	page("login")
	b.Run(chromedp.SetValue(chromedp.CSS("#token"), e2eAdmin), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#text")))

	// Paste the e-mail and preview it.
	// A textarea keeps line ends as \n, as when the e-mail is pasted.
	b.Run(chromedp.SetValue(chromedp.CSS("#text"), strings.ReplaceAll(string(eml), "\r\n", "\n")))
	page("enrich")
	b.Run(chromedp.Click(chromedp.CSS(`button[value=preview]`)), chromedp.WaitVisible(chromedp.CSS("table.preview")))
	preview := b.Text("main")
	for _, want := range []string{"IOCs found", "Nothing has been sent yet", "185[.]220[.]101[.]47", "secure-paypa1[.]com",
		"internal (private): never sent out", "500 of 500 left this day"} {
		if !strings.Contains(preview, want) {
			t.Errorf("the preview lacks %q", want)
		}
	}
	page("preview")

	// Run it; htmx refreshes the rows until the job is done.
	b.Run(chromedp.Click(chromedp.CSS(`button[value=run]`)), chromedp.WaitVisible(chromedp.CSS("#live")))
	ctx, cancel := b.Context()
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('.status').textContent.includes('Job completed')`,
		chromedp.WithPollingTimeout(90*time.Second)))
	cancel()
	if err != nil {
		t.Fatalf("the job page never said the job completed (rows refresh by htmx): %v; it says %q", err, b.Text(".status"))
	}
	rows := b.Count("table.results tbody tr")
	malicious := b.Count("table.results tbody tr.v-malicious")
	withReasons := b.Count("table.results tbody tr td ul.plain li")
	if rows < 10 || malicious == 0 || withReasons < rows {
		t.Errorf("job page: %d rows, %d malicious, %d reasons", rows, malicious, withReasons)
	}
	if b.Count(`table.results a[href^="http"]`) != b.Count(`table.results a[href^="http"][rel="noopener noreferrer"]`) {
		t.Error("a provider link can leak the page (no rel=noreferrer)")
	}
	page("job")

	// Open the first malicious IOC: every source that answered about it.
	b.Run(chromedp.Click(chromedp.CSS("tr.v-malicious th a")), chromedp.WaitVisible(chromedp.CSS("table.sources")))
	if n := b.Count("table.sources tbody tr"); n < 5 {
		t.Errorf("the IOC page lists %d sources", n)
	}
	page("ioc")

	b.Navigate(base + "/ui/jobs")
	page("jobs")
	b.Navigate(base + "/ui/providers")
	if n := b.Count("meter"); n == 0 {
		t.Error("no quota bar on the providers page")
	}
	if !strings.Contains(b.Text("table.providers"), "left this day") {
		t.Error("the providers page does not say what is left")
	}
	page("providers")
	b.Navigate(base + "/ui/report")
	page("report")

	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("the pages reported errors:\n%s", strings.Join(errs, "\n"))
	}
	if strings.Contains(logs.String(), e2eAdmin) {
		t.Error("the token is in the log")
	}
}

// TestConsoleWithoutJavaScript is acceptance 2 in a browser with
// JavaScript off: the forms alone sign in, preview, run, and the job page
// shows its rows on reload.
func TestConsoleWithoutJavaScript(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	base, _, _ := startServe(t, append(fake.Env(), "IOCANE_ADMIN_TOKEN="+e2eAdmin))
	b := browsertest.StartNoJS(t)
	b.Navigate(base + "/ui/login")
	b.Run(chromedp.SetValue(chromedp.CSS("#token"), e2eAdmin), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#text")))
	b.Run(chromedp.SetValue(chromedp.CSS("#text"), "Seen: 185.220.101[.]47 and hxxp://login-micros0ft-verify[.]net/a\n"),
		chromedp.Click(chromedp.CSS(`button[value=preview]`)), chromedp.WaitVisible(chromedp.CSS("table.preview")))
	b.Run(chromedp.Click(chromedp.CSS(`button[value=run]`)), chromedp.WaitVisible(chromedp.CSS("table.results")))
	loc := b.Location()
	for range 60 {
		if strings.Contains(b.Text(".status"), "Job completed") {
			break
		}
		time.Sleep(500 * time.Millisecond) // a reader reloading the page, not a timing assertion
		b.Navigate(loc)
	}
	if got := b.Text(".status"); !strings.Contains(got, "Job completed") {
		t.Fatalf("after reloads the job page says %q", got)
	}
	if n := b.Count("table.results tbody tr[class^=v-]"); n < 3 {
		t.Errorf("the job page lists %d rows", n)
	}
	u, _ := url.Parse(loc)
	if !strings.HasPrefix(u.Path, "/ui/jobs/") {
		t.Errorf("the run ended at %s", loc)
	}
	if resp, _ := call(t, "GET", base+"/", "", nil, nil); resp.Request.URL.Path != "/ui/login" || resp.StatusCode != http.StatusOK {
		t.Errorf("GET / ended at %s", resp.Request.URL)
	}
}
