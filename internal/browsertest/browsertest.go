// Package browsertest drives a real headless Chromium from Go tests, so that
// the tests of the web console can load pages, read them, take screenshots,
// collect JavaScript errors and check accessibility with axe-core.
//
// # Finding the browser
//
// [Start] looks for the browser in this order: the path in the environment
// variable IOCANE_CHROMIUM, the command chromium on the PATH, and then
// /usr/bin/chromium. When none of them exists, the test fails if the
// environment variable CI is "true", and it is skipped otherwise. In both
// cases the message says that .ci/run installs the browser with
// "apt-get install -y chromium". So a developer without the browser can still
// run the other tests, but CI never passes without running these.
//
// # Flags
//
// The browser starts with exactly these flags, and no others that chromedp
// would add by default:
//
//   - --headless: no window; the tests run on machines with no display.
//   - --no-sandbox: the tests often run as root, where the sandbox of
//     Chromium refuses to start.
//   - --disable-gpu: the machines have no GPU.
//   - --disable-quic, --disable-background-networking,
//     --disable-component-update, --disable-sync and --disable-extensions:
//     the machines have no internet, so the browser must not try to reach
//     Google's services on its own. Such attempts would only slow the tests
//     and fill the log with network errors.
//   - --no-first-run: no welcome page.
//   - --user-data-dir: a fresh profile in t.TempDir for each browser.
//   - --window-size=1280,900: the same viewport on every machine, so
//     screenshots are comparable.
//
// chromedp adds --remote-debugging-pipe itself, to talk to the browser.
//
// # Timeouts
//
// Each helper bounds its work by [Timeout], so a page that hangs fails the test
// instead of hanging CI. The browser closes when the test ends.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Timeout bounds the start of the browser and each call of a helper.
const Timeout = 60 * time.Second

// The window size of every browser.
const (
	WindowWidth  = 1280
	WindowHeight = 900
)

// Browser is one headless Chromium with one tab. Its helpers report a failure
// with Fatalf on the test that started it, so call them only from the
// goroutine of that test.
type Browser struct {
	t   testing.TB
	ctx context.Context // the chromedp context of the tab

	mu   sync.Mutex
	errs []string
}

// Start starts a browser for the test t and closes it when t ends.
func Start(t testing.TB) *Browser {
	t.Helper()
	return start(t, false)
}

// StartNoJS is like [Start], but JavaScript is disabled in the tab, as for a
// person who has turned it off. Pages then show only what the server sent.
func StartNoJS(t testing.TB) *Browser {
	t.Helper()
	return start(t, true)
}

func start(t testing.TB, noJS bool) *Browser {
	t.Helper()
	path := findChromium()
	if path == "" {
		const msg = "browsertest: chromium not found (set IOCANE_CHROMIUM, or install it with `apt-get install -y chromium`, as .ci/run does)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(WindowWidth, WindowHeight),
	)
	b := &Browser{t: t}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(b.record))
	b.ctx = ctx
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("browsertest: closing chromium: %v", err)
		}
		cancel()
		allocCancel()
	})

	// The first Do starts the browser and binds it to ctx, so it must not get
	// a context with a deadline. Cancel ctx instead if the start hangs.
	timer := time.AfterFunc(Timeout, cancel)
	err := chromedp.Do(ctx)
	if !timer.Stop() {
		err = fmt.Errorf("no answer within %v: %w", Timeout, err)
	}
	if err != nil {
		t.Fatalf("browsertest: starting %s: %v", path, err)
	}
	if noJS {
		b.Run(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled,
				emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))
	}
	return b
}

// findChromium returns the path of the browser, or "" when there is none.
func findChromium() string {
	if p := os.Getenv("IOCANE_CHROMIUM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return ""
}

// Context returns a context for the tab, bounded by [Timeout], for the
// chromedp calls that the helpers do not cover. Call cancel when done.
func (b *Browser) Context() (ctx context.Context, cancel context.CancelFunc) {
	return context.WithTimeout(b.ctx, Timeout)
}

// Run runs the actions in the tab, in order, and fails the test at the first
// error.
func (b *Browser) Run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.Context()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browsertest: %v", err)
	}
}

// Navigate loads url in the tab and waits for the load event.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.Run(chromedp.Navigate(url))
}

// Text returns the visible text of the first element that matches the CSS
// selector. It waits for such an element, up to [Timeout].
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	ctx, cancel := b.Context()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		b.t.Fatalf("browsertest: text of %q: %v", selector, err)
	}
	return s
}

// Screenshot writes a PNG of the whole page, beyond the window, to path, and
// creates its directory.
func (b *Browser) Screenshot(path string) {
	b.t.Helper()
	ctx, cancel := b.Context()
	defer cancel()
	// Quality 100 is the one that gives a PNG; lower ones give a JPEG.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browsertest: screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatalf("browsertest: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("browsertest: %v", err)
	}
}

// Errors returns the errors that the pages in the tab reported so far:
// uncaught exceptions, calls of console.error, and the entries of level
// error in the browser log, such as violations of the Content-Security-Policy
// and failed loads.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// record keeps the events that Errors returns. chromedp calls it on the
// goroutine that reads the browser's messages, before the command that caused
// the event returns.
func (b *Browser) record(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			desc, _, _ := strings.Cut(d.Exception.Description, "\n")
			msg += " " + desc
		}
		msg = fmt.Sprintf("exception: %s (%s:%d)", msg, d.URL, d.LineNumber+1)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var args []string
		for _, a := range ev.Args {
			var s string
			if a.Type != runtime.RemoteObjectTypeString || json.Unmarshal(a.Value, &s) != nil {
				s = a.Description
			}
			args = append(args, s)
		}
		msg = "console.error: " + strings.Join(args, " ")
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level != log.EntryLevelError {
			return
		}
		msg = fmt.Sprintf("log %s: %s (%s)", e.Source, e.Text, e.URL)
	default:
		return
	}
	b.mu.Lock()
	b.errs = append(b.errs, msg)
	b.mu.Unlock()
}

// Count returns how many elements match the CSS selector now, without
// waiting.
func (b *Browser) Count(selector string) int {
	b.t.Helper()
	ctx, cancel := b.Context()
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", selector)))
	if err != nil {
		b.t.Fatalf("browsertest: count %q: %v", selector, err)
	}
	return n
}

// Location returns the URL of the page in the tab.
func (b *Browser) Location() string {
	b.t.Helper()
	ctx, cancel := b.Context()
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browsertest: location: %v", err)
	}
	return u
}
