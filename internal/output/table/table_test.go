package table_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/output"
	"github.com/iocane/iocane/internal/output/outputtest"
	"github.com/iocane/iocane/internal/result"

	_ "github.com/iocane/iocane/internal/output/table"
)

func TestGolden(t *testing.T) {
	got := outputtest.Render(t, "table", outputtest.Options(), outputtest.Results())
	outputtest.Golden(t, "results.txt", got)
	if strings.Contains(string(got), "\x1b[") {
		t.Error("colour codes without Options.Color")
	}
	for _, want := range []string{
		"skipped: shodan, urlscan (no API key); misp (no base URL configured); virustotal (TLP:RED above max TLP amber)",
		"deferred (quota): virustotal (quota spent: 500/d)",
		"failed: urlscan (deadline)",
		"6 IOCs: 2 malicious, 2 suspicious, 1 benign, 1 unknown",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("footer lacks %q", want)
		}
	}
}

func TestGoldenColor(t *testing.T) {
	opt := outputtest.Options()
	opt.Color = true
	got := outputtest.Render(t, "table", opt, outputtest.Results())
	outputtest.Golden(t, "results-color.txt", got)
	if !strings.Contains(string(got), "\x1b[1;31mmalicious ") {
		t.Error("malicious verdict not red")
	}
}

func TestControlCharactersReplaced(t *testing.T) {
	r := result.Result{IOC: ioc.IOC{Type: ioc.Domain, Value: "x.example"}, Verdict: result.Unknown,
		Reasons: []string{"misp: event \x1b]0;pwned\x07 title"}}
	got := outputtest.Render(t, "table", output.Options{}, []result.Result{r})
	if strings.ContainsAny(string(got), "\x1b\x07") {
		t.Errorf("control characters reached the terminal: %q", got)
	}
}

func TestEmpty(t *testing.T) {
	if got := outputtest.Render(t, "table", output.Options{}, nil); string(got) != "no IOCs\n" {
		t.Errorf("got %q", got)
	}
}

// TestLinesFitTheTerminal: with Options.Width no result line is wider than
// the terminal minus one column (so none wraps), the reasons are cut with
// "…" and a long URL keeps both ends; without it nothing is cut.
func TestLinesFitTheTerminal(t *testing.T) {
	long := "http://sskymedia.com/VMYB-ht_JAQo-gi/INV/" + strings.Repeat("a", 120) + "/invoice.doc"
	rs := append(outputtest.Results(), result.Result{IOC: ioc.IOC{Type: ioc.URL, Value: long}, Verdict: result.Malicious,
		Reasons: []string{"urlhaus: malware_download URL, online, listed by URLhaus " + strings.Repeat("x", 200), "virustotal: 7/97"}})
	ansi := regexp.MustCompile("\x1b\\[[0-9;]*m")
	for _, width := range []int{100, 160} {
		opt := outputtest.Options()
		opt.Color, opt.Width = true, width
		got := string(outputtest.Render(t, "table", opt, rs))
		lines := strings.Split(got, "\n")
		rows := lines[1 : len(rs)+1]
		for _, l := range rows {
			if n := utf8.RuneCountInString(ansi.ReplaceAllString(l, "")); n > width-1 {
				t.Errorf("width %d: a %d-column line: %q", width, n, l)
			}
		}
		last := rows[len(rows)-1]
		if !strings.Contains(last, "http://sskymedia.com") || !strings.Contains(last, "/invoice.doc") || !strings.Contains(last, "…") {
			t.Errorf("width %d: long URL line %q", width, last)
		}
		if reasons := strings.Contains(last, "urlhaus"); reasons != (width == 160) || reasons && !strings.HasSuffix(last, "…") {
			t.Errorf("width %d: the reasons of the long URL line (cut at 160, left out at 100): %q", width, last)
		}
		for _, r := range rs {
			if len(r.IOC.Value) <= 64 && !strings.Contains(got, r.IOC.Value) {
				t.Errorf("width %d: %s was cut", width, r.IOC.Value)
			}
		}
	}
	full := string(outputtest.Render(t, "table", outputtest.Options(), rs))
	if !strings.Contains(full, long) || !strings.Contains(full, strings.Repeat("x", 200)) {
		t.Error("without a width the table cut something")
	}
}

// TestChangedVerdictMarked: a verdict that changed since the last
// enrichment says what it was; an unchanged one says nothing.
func TestChangedVerdictMarked(t *testing.T) {
	changed := result.Result{IOC: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}, Verdict: result.Malicious, Score: 90,
		Reasons: []string{"threatfox: botnet_cc"}, PreviousVerdict: result.Benign}
	same := result.Result{IOC: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.48"}, Verdict: result.Malicious, Score: 90,
		Reasons: []string{"threatfox: botnet_cc"}, PreviousVerdict: result.Malicious}
	got := string(outputtest.Render(t, "table", output.Options{}, []result.Result{changed, same}))
	if !regexp.MustCompile(`185\.220\.101\.47 +\(was benign\) threatfox: botnet_cc`).MatchString(got) {
		t.Errorf("changed verdict not marked:\n%s", got)
	}
	if strings.Count(got, "(was ") != 1 {
		t.Errorf("unchanged verdict marked:\n%s", got)
	}
}
