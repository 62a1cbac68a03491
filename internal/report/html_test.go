package report

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

var htmlOut = flag.String("html-out", "", "also write the seeded report's HTML to this file (for the screenshot)")

func renderSeeded(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, "html", seedReport(t)))
	if *htmlOut != "" {
		require.NoError(t, os.WriteFile(*htmlOut, buf.Bytes(), 0o644))
	}
	return buf.String()
}

// find returns every element under n with the given tag.
func find(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	return strings.Contains(" "+attr(n, "class")+" ", " "+class+" ")
}

func TestHTMLCharts(t *testing.T) {
	doc, err := html.Parse(strings.NewReader(renderSeeded(t)))
	require.NoError(t, err)
	svgs := map[string]*html.Node{}
	for _, s := range find(doc, "svg") {
		svgs[attr(s, "id")] = s
	}
	require.Len(t, svgs, 3, "three charts")

	// Daily volume: one group per day overlapping the window (8), one
	// rect per non-empty verdict of a day: 1 + 4 + 2 + 1 segments.
	daily := svgs["chart-daily"]
	require.NotNil(t, daily)
	var days []*html.Node
	for _, g := range find(daily, "g") {
		if hasClass(g, "day") {
			days = append(days, g)
		}
	}
	assert.Len(t, days, 8)
	assert.Len(t, find(daily, "rect"), 8)
	// The tallest bar (the 24th, 10 IOCs) is 160 px; the 26th (5) is 80.
	heights := map[string]int{}
	for _, g := range days {
		texts := find(g, "text")
		require.Len(t, texts, 2)
		total := 0
		for _, r := range find(g, "rect") {
			h := 0
			for _, c := range attr(r, "height") {
				h = h*10 + int(c-'0')
			}
			total += h
		}
		heights[texts[1].FirstChild.Data] = total
	}
	assert.Equal(t, map[string]int{"11-23": 16, "11-24": 160, "11-25": 0, "11-26": 80, "11-27": 0, "11-28": 0, "11-29": 80, "11-30": 0}, heights)

	// Latency: one row per provider with latencies (greynoise has none),
	// a p50 and a p95 bar each.
	lat := svgs["chart-latency"]
	require.NotNil(t, lat)
	var p50, p95 int
	for _, r := range find(lat, "rect") {
		switch {
		case hasClass(r, "p50"):
			p50++
		case hasClass(r, "p95"):
			p95++
		}
	}
	assert.Equal(t, 2, p50)
	assert.Equal(t, 2, p95)
	assert.Contains(t, textOf(lat), "virustotal")
	assert.Contains(t, textOf(lat), "p95 431.3 ms")
	assert.NotContains(t, textOf(lat), "greynoise")

	// Verdict donut: one arc per verdict present (all four), the total inside.
	donut := svgs["chart-verdicts"]
	require.NotNil(t, donut)
	var arcs []*html.Node
	for _, c := range find(donut, "circle") {
		if hasClass(c, "arc") {
			arcs = append(arcs, c)
		}
	}
	require.Len(t, arcs, 4)
	assert.Equal(t, "#c0392b", attr(arcs[0], "stroke"))
	assert.Equal(t, "0", attr(arcs[0], "stroke-dashoffset"))
	assert.Contains(t, textOf(donut), "21")
	assert.Contains(t, textOf(donut), "malicious: 6 (28.6%)")
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// TestHTMLSelfContained: no script, no external resource of any kind;
// the only URL is the SVG namespace, which is a name, not a fetch.
func TestHTMLSelfContained(t *testing.T) {
	out := renderSeeded(t)
	doc, err := html.Parse(strings.NewReader(out))
	require.NoError(t, err)
	for _, tag := range []string{"script", "link", "img", "iframe", "object", "embed", "style"} {
		assert.Empty(t, find(doc, tag), "no <%s>", tag)
	}
	urls := regexp.MustCompile(`(?i)(https?:|//[a-z0-9])[^\s"'<>)]*`).FindAllString(out, -1)
	for _, u := range urls {
		assert.Equal(t, "http://www.w3.org/2000/svg", u, "external reference")
	}
	assert.NotContains(t, strings.ToLower(out), "url(")
	assert.NotContains(t, strings.ToLower(out), "@import")
}

// TestHTMLEscapes: names from the store (input sources, providers) are
// data, never markup.
func TestHTMLEscapes(t *testing.T) {
	r := seedReport(t)
	r.Current.IOCs.BySource[`<script>alert(1)</script>`] = 1
	r.Current.Providers[0].Name = `"><img src=x onerror=alert(1)>`
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, "html", r))
	out := buf.String()
	assert.NotContains(t, out, "<script>")
	assert.NotContains(t, out, "<img")
	assert.Contains(t, out, "&lt;script&gt;")

	var md bytes.Buffer
	require.NoError(t, Write(&md, "md", r))
	assert.NotContains(t, md.String(), "<script>")
}
