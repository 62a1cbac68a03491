package enrich

import (
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/score"
)

// TestInherit is the table of the inherited score: bounded between the
// suspicious threshold and just under malicious, only through the
// infrastructure relations, never over an analyst or an allow-list.
func TestInherit(t *testing.T) {
	c2 := result.Result{IOC: ioc.IOC{Type: ioc.IPv4, Value: "91.215.85.142"}, Verdict: result.Malicious, Score: 100,
		Sources: []result.Source{{Provider: "threatfox", Status: "ok", Malicious: 0.95, Tags: []string{"botnet_cc"}},
			{Provider: "misp", Status: "ok", Malicious: 0.9}, {Provider: "shodan", Status: "ok"}}}
	weakC2 := c2
	weakC2.Score = 72
	sus := c2
	sus.Verdict, sus.Score = result.Suspicious, 50
	const chain = "resolves to 91.215.85.142 (malicious: threatfox botnet_cc, misp)"
	for _, c := range []struct {
		name      string
		parent    result.Result
		rel       string
		child     result.Result
		verdict   result.Verdict
		score     int
		firstWhy  string
		anyReason string
	}{
		{name: "unknown domain resolving to a C2 is suspicious", parent: result.Result{Verdict: result.Unknown, Reasons: []string{"x"}},
			rel: RelResolvesTo, child: c2, verdict: result.Suspicious, score: 60, firstWhy: chain},
		{name: "the inherited score stays under malicious", parent: result.Result{Verdict: result.Unknown}, rel: RelHost,
			child: result.Result{IOC: c2.IOC, Verdict: result.Malicious, Score: 100}, verdict: result.Suspicious, score: 60},
		{name: "a weaker malicious target passes on less", parent: result.Result{Verdict: result.Unknown}, rel: RelResolvesTo,
			child: weakC2, verdict: result.Suspicious, score: 43},
		{name: "a suspicious target gives nothing", parent: result.Result{Verdict: result.Unknown, Score: 5}, rel: RelResolvesTo,
			child: sus, verdict: result.Unknown, score: 5},
		{name: "a payload is not infrastructure", parent: result.Result{Verdict: result.Unknown}, rel: RelPayload,
			child: c2, verdict: result.Unknown, score: 0},
		{name: "a domain found on an IP does not taint the IP", parent: result.Result{Verdict: result.Unknown}, rel: RelResolvedFrom,
			child: c2, verdict: result.Unknown, score: 0},
		{name: "a higher own score stands, the chain is noted", parent: result.Result{Verdict: result.Malicious, Score: 90, Reasons: []string{"own"}},
			rel: RelResolvesTo, child: c2, verdict: result.Malicious, score: 90, firstWhy: "own", anyReason: chain},
		{name: "an allow-listed domain is left alone", parent: result.Result{Verdict: result.Benign,
			Sources: []result.Source{{Provider: "allowlist", Status: "ok", Benign: 1}}}, rel: RelResolvesTo, child: c2, verdict: result.Benign},
		{name: "an analyst's verdict is left alone", parent: result.Result{Verdict: result.Benign,
			Sources: []result.Source{{Provider: "analyst", Status: "ok", Benign: 1}}}, rel: RelResolvesTo, child: c2, verdict: result.Benign},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := New(Options{Policy: score.DefaultPolicy()})
			r := c.parent
			e.inherit(&r, []relation{{ioc: c.child.IOC, rel: c.rel}}, []result.Result{c.child})
			if r.Verdict != c.verdict || r.Score != c.score {
				t.Errorf("verdict %s score %d, want %s %d (%q)", r.Verdict, r.Score, c.verdict, c.score, r.Reasons)
			}
			if c.firstWhy != "" && (len(r.Reasons) == 0 || r.Reasons[0] != c.firstWhy) {
				t.Errorf("first reason %q, want %q", r.Reasons, c.firstWhy)
			}
			if c.anyReason != "" && !strings.Contains(strings.Join(r.Reasons, "\n"), c.anyReason) {
				t.Errorf("reasons %q lack %q", r.Reasons, c.anyReason)
			}
			if r.Verdict == result.Suspicious && r.Confidence < 20 {
				t.Errorf("confidence %d would turn the verdict unknown", r.Confidence)
			}
		})
	}
}

func TestURLHost(t *testing.T) {
	for in, want := range map[string]string{
		"http://evil.example/a":                 "evil.example",
		"https://user:pw@evil.example:8443/x?y": "evil.example",
		"http://[2001:db8::1]:80/":              "2001:db8::1",
		"http://185.220.101.47/stage2":          "185.220.101.47",
		"not a url":                             "",
	} {
		if got := urlHost(in); got != want {
			t.Errorf("urlHost(%q) = %q, want %q", in, got, want)
		}
	}
}
