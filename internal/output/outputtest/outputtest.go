// Package outputtest holds what the output format tests share: a fixed set
// of Results covering every verdict and IOC kind, and golden-file checking
// (go test ./internal/output/... -update rewrites the golden files).
package outputtest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/output"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/score"
	"github.com/iocane/iocane/internal/tlp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// At is the fixed EnrichedAt of the fixtures, so golden files are stable.
var At = time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)

// Options are the writer options the golden tests use: a fixed clock.
func Options() output.Options {
	return output.Options{Now: func() time.Time { return At }}
}

var grades = map[string]provider.Reliability{
	"virustotal": provider.ReliabilityB, "abuseipdb": provider.ReliabilityB, "greynoise": provider.ReliabilityB,
	"shodan": provider.ReliabilityB, "malwarebazaar": provider.ReliabilityB, "threatfox": provider.ReliabilityB,
	"urlscan": provider.ReliabilityC, "safebrowsing": provider.ReliabilityA, "otx": provider.ReliabilityC,
	"misp": provider.ReliabilityA,
}

func scored(i ioc.IOC, level tlp.Level, offset time.Duration, sources ...result.Source) result.Result {
	r := result.Result{IOC: i, Sources: sources, TLP: level, EnrichedAt: At.Add(offset)}
	ev := score.FromSources(sources, func(name string) provider.Reliability { return grades[name] })
	score.Score(score.DefaultPolicy(), ev).Apply(&r)
	return r
}

// Results returns the shared fixtures, in this order: a malicious IP
// (VirusTotal and AbuseIPDB), benign 8.8.8.8 (GreyNoise RIOT), an unknown
// SHA-256 (rate limited, not found and skipped sources), a suspicious URL
// (with a quote and an ampersand, to test escaping), a CVE and a malicious
// e-mail address marked TLP:RED.
func Results() []result.Result {
	return []result.Result{
		scored(ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}, tlp.Amber, 0,
			result.Source{Provider: "virustotal", Status: "ok", LatencyMS: 143, Summary: "12/94 engines flag it malicious",
				Link: "https://www.virustotal.com/gui/ip-address/185.220.101.47",
				Data: map[string]any{"malicious": 12, "suspicious": 2, "harmless": 60, "undetected": 20, "asn": 208294, "country": "DE"},
				Tags: []string{"tor"}, Malicious: 0.95},
			result.Source{Provider: "abuseipdb", Status: "ok", Cached: true, Summary: "confidence 100 from 3319 reports",
				Link: "https://www.abuseipdb.com/check/185.220.101.47",
				Data: map[string]any{"abuse_confidence_score": 100, "total_reports": 3319, "is_tor": true}, Malicious: 1},
			result.Source{Provider: "shodan", Status: "not_found", LatencyMS: 88},
			result.Source{Provider: "urlscan", Status: "skipped", Reason: "no API key"},
		),
		scored(ioc.IOC{Type: ioc.IPv4, Value: "8.8.8.8"}, tlp.Green, time.Second,
			result.Source{Provider: "greynoise", Status: "ok", LatencyMS: 61, Summary: "RIOT: Google Public DNS",
				Link: "https://viz.greynoise.io/riot/8.8.8.8", Data: map[string]any{"riot": true, "name": "Google Public DNS"}, Benign: 0.95},
			result.Source{Provider: "abuseipdb", Status: "ok", LatencyMS: 97, Summary: "confidence 0 from 0 reports",
				Link: "https://www.abuseipdb.com/check/8.8.8.8", Data: map[string]any{"abuse_confidence_score": 0, "total_reports": 0}},
			result.Source{Provider: "shodan", Status: "skipped", Reason: "no API key"},
			result.Source{Provider: "urlscan", Status: "skipped", Reason: "no API key"},
		),
		scored(ioc.IOC{Type: ioc.SHA256, Value: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}, tlp.Amber, 2*time.Second,
			result.Source{Provider: "virustotal", Status: "rate_limited", Reason: "quota spent: 500/d"},
			result.Source{Provider: "malwarebazaar", Status: "not_found", LatencyMS: 212},
			result.Source{Provider: "threatfox", Status: "not_found", LatencyMS: 190},
			result.Source{Provider: "misp", Status: "skipped", Reason: "no base URL configured"},
		),
		scored(ioc.IOC{Type: ioc.URL, Value: "http://login-paypa1.example.com/verify?id=1&next='home'"}, tlp.Amber, 3*time.Second,
			result.Source{Provider: "virustotal", Status: "ok", LatencyMS: 301, Summary: "3/90 engines flag it malicious",
				Link: "https://www.virustotal.com/gui/url/3b1a0a1e5f2b4c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d",
				Data: map[string]any{"malicious": 3, "suspicious": 1, "harmless": 70, "undetected": 16}, Malicious: 0.6},
			result.Source{Provider: "safebrowsing", Status: "not_found", LatencyMS: 45},
			result.Source{Provider: "urlscan", Status: "error", Reason: "deadline"},
		),
		scored(ioc.IOC{Type: ioc.CVE, Value: "CVE-2021-44228"}, tlp.Clear, 4*time.Second,
			result.Source{Provider: "otx", Status: "ok", LatencyMS: 420, Summary: "in 57 pulses by 31 authors",
				Link: "https://otx.alienvault.com/indicator/cve/CVE-2021-44228", Data: map[string]any{"pulses": 57},
				Tags: []string{"log4shell"}, Malicious: 0.6},
		),
		func() result.Result {
			r := scored(ioc.IOC{Type: ioc.Email, Value: "billing@evil-mail.example"}, tlp.Red, 5*time.Second,
				result.Source{Provider: "misp", Status: "ok", LatencyMS: 33, Summary: "in event 1234 (phishing campaign)",
					Link: "https://misp.corp.example/events/view/1234", Tags: []string{"phishing"}, Malicious: 0.9},
				result.Source{Provider: "virustotal", Status: "skipped", Reason: "TLP:RED above max TLP amber"},
			)
			r.Context = map[string]string{"file": "alert.eml", "part": "From"}
			return r
		}(),
	}
}

// Golden compares got with testdata/<name>, or rewrites the file with -update.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/output/... -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// Render writes rs through a new writer for format and returns the bytes.
func Render(t testing.TB, format string, opt output.Options, rs []result.Result) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := output.New(format, &buf, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
