package browsertest

import (
	_ "embed"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core 4.14.1 from npm, under the Mozilla Public License 2.0;
// see axe/LICENSE and axe/README.md.
//
//go:embed axe/axe.min.js
var axeSource string

// axeRun runs axe on the document with the WCAG 2.0, 2.1 and 2.2 A and AA
// rules and returns the violations in the shape of []Violation.
const axeRun = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
	.then(r => r.violations.map(v => ({
		id: v.id, impact: v.impact || '', help: v.help, helpUrl: v.helpUrl,
		nodes: v.nodes.map(n => ({target: n.target.map(String), html: n.html})),
	})))`

// maxHTML is the length at which Axe clips the HTML of a node.
const maxHTML = 200

// Violation is one rule of axe-core that the page breaks.
type Violation struct {
	ID      string          `json:"id"`     // the rule, such as "image-alt"
	Impact  string          `json:"impact"` // minor, moderate, serious or critical
	Help    string          `json:"help"`   // what the rule asks for
	HelpURL string          `json:"helpUrl"`
	Nodes   []ViolationNode `json:"nodes"`
}

// ViolationNode is an element that breaks a rule.
type ViolationNode struct {
	Target []string `json:"target"` // CSS selectors, one per frame or shadow root
	HTML   string   `json:"html"`   // the element's opening HTML, clipped
}

// Axe injects axe-core into the page in the tab and returns the violations of
// the WCAG 2.x A and AA rules. It reports failures to t, which can be a subtest
// of the test that started the browser.
//
// Axe runs through the DevTools protocol, which the page's
// Content-Security-Policy does not restrict, so it works on pages that allow
// no inline script and no eval.
func (b *Browser) Axe(t testing.TB) []Violation {
	t.Helper()
	ctx, cancel := b.Context()
	defer cancel()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === 'object'`))
	if err == nil && !loaded {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSource))
	}
	if err != nil {
		t.Fatalf("browsertest: injecting axe-core: %v", err)
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browsertest: running axe-core: %v", err)
	}
	for i := range vs {
		for j := range vs[i].Nodes {
			n := &vs[i].Nodes[j]
			if len(n.HTML) > maxHTML {
				n.HTML = strings.ToValidUTF8(n.HTML[:maxHTML], "") + "…"
			}
		}
	}
	return vs
}

// AssertNoAxeViolations runs [Browser.Axe] on the page in the tab of b, and
// fails t with one paragraph per violation if there are any. page names the
// page in the message.
func AssertNoAxeViolations(t testing.TB, b *Browser, page string) {
	t.Helper()
	vs := b.Axe(t)
	if len(vs) == 0 {
		return
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "axe-core: page %s has %d accessibility violation(s):", page, len(vs))
	for _, v := range vs {
		fmt.Fprintf(&sb, "\n\n%s (%s): %s\n  %s", v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&sb, "\n  - %s: %s", strings.Join(n.Target, " "), n.HTML)
		}
	}
	t.Error(sb.String())
}
