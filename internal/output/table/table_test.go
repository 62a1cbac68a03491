package table_test

import (
	"strings"
	"testing"

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
