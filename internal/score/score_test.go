package score

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
)

const (
	gA = provider.ReliabilityA
	gB = provider.ReliabilityB
	gC = provider.ReliabilityC
	gD = provider.ReliabilityD
	gE = provider.ReliabilityE
)

func ok(name string, rel provider.Reliability, mal, ben float64, summary string) Evidence {
	return Evidence{Provider: name, Status: provider.StatusOK, Malicious: mal, Benign: ben, Reliability: rel, Summary: summary}
}

func notFound(name string, rel provider.Reliability) Evidence {
	return Evidence{Provider: name, Status: provider.StatusNotFound, Reliability: rel}
}

func failed(name string, st provider.Status, reason string) Evidence {
	return Evidence{Provider: name, Status: st, Reason: reason, Reliability: gA}
}

func vtCounts(mal, susp, harmless, undetected int) Evidence {
	e := ok("virustotal", gB, 0, 0, "")
	e.Data = map[string]any{"malicious": mal, "suspicious": susp, "harmless": harmless, "undetected": undetected}
	return e
}

func abuse(conf any) Evidence {
	e := ok("abuseipdb", gB, 0, 0, "")
	e.Data = map[string]any{"abuse_confidence_score": conf}
	return e
}

// Common evidence, on the provider.Finding scale.
var (
	vt12of94   = ok("virustotal", gB, 0.95, 0, "12/94 engines flag it malicious")
	vt1of90    = ok("virustotal", gB, 0.2, 0.1, "1/90 engines flag it malicious")
	vt3of90    = ok("virustotal", gB, 0.6, 0, "3/90 engines flag it malicious")
	vt0of90    = ok("virustotal", gB, 0, 0.2, "0/90 engines flag it malicious")
	abuse100   = ok("abuseipdb", gB, 1.0, 0, "confidence 100 from 3319 reports")
	abuse60    = ok("abuseipdb", gB, 0.6, 0, "confidence 60 from 12 reports")
	abuse25    = ok("abuseipdb", gB, 0.25, 0, "confidence 25 from 2 reports")
	abuse0     = ok("abuseipdb", gB, 0, 0, "confidence 0 from 0 reports")
	abuseWL    = ok("abuseipdb", gB, 0, 0.95, "whitelisted by AbuseIPDB")
	mbSample   = ok("malwarebazaar", gB, 1.0, 0, "sample of AgentTesla")
	urlhausHit = ok("urlhaus", gB, 0.95, 0, "online malware_download URL")
	tfHigh     = ok("threatfox", gC, 0.9, 0, "botnet_cc, confidence 100")
	sbMatch    = ok("safebrowsing", gA, 1.0, 0, "SOCIAL_ENGINEERING match")
	riot       = ok("greynoise", gB, 0, 0.95, "RIOT: Google Public DNS")
	gnNoise    = ok("greynoise", gB, 0.4, 0, "mass scanner, classification unknown")
	allowHit   = ok("allowlist", gA, 0, 1.0, "on allow-list corp-allow.txt")
	otxAllow   = ok("otx", gC, 0, 0.9, "allow-list validation: Alexa top 1M")
	otxPulses  = ok("otx", gC, 0.6, 0, "in 4 pulses by 3 authors")
	otxWeak    = ok("otx", gC, 0.3, 0, "in 1 pulse")
	shodanNF   = notFound("shodan", gB)
	mispNF     = notFound("misp", gA)
	vtNF       = notFound("virustotal", gB)
	mbNF       = notFound("malwarebazaar", gB)
	shodanErr  = failed("shodan", provider.StatusError, "timeout")
	urlscanSk  = failed("urlscan", provider.StatusSkipped, "no API key")
	vtRL       = failed("virustotal", provider.StatusRateLimited, "quota spent")
	weakD      = ok("feeds", gD, 1.0, 0, "listed in community feed")
	weakE      = ok("feeds", gE, 1.0, 0, "listed in unvetted feed")
	cdnEdge    = context(0.7, "known infrastructure: Cloudflare edge, MISP warninglist")
	viaHost    = context(0, "host is known infrastructure: code hosting, MISP warninglist")
	blockHit   = Evidence{Provider: "blocklist", Status: provider.StatusOK, Malicious: 1, Reliability: gA, Local: true, Summary: "on block-list corp"}
)

func context(discount float64, summary string) Evidence {
	return Evidence{Provider: "knowninfra", Status: provider.StatusOK, Reliability: gA, Context: true, Discount: discount, Summary: summary}
}

type scoreCase struct {
	name     string
	policy   Policy
	ev       []Evidence
	verdict  result.Verdict
	lo, hi   int // score range, inclusive
	firstHas string
}

func cases() []scoreCase {
	seed := Policy{Mode: ModeSeed}
	return []scoreCase{
		{name: "no evidence at all", ev: nil, verdict: result.Unknown, lo: 0, hi: 0, firstHas: "no source answered"},
		{name: "all sources fail", ev: []Evidence{shodanErr, urlscanSk, vtRL}, verdict: result.Unknown, lo: 0, hi: 0, firstHas: "no source answered"},
		{name: "not found everywhere", ev: []Evidence{vtNF, shodanNF, mispNF, mbNF}, verdict: result.Unknown, lo: 0, hi: 0},
		{name: "one strong malicious source, rest not found", ev: []Evidence{mbSample, vtNF, mispNF}, verdict: result.Malicious, lo: 85, hi: 90, firstHas: "malwarebazaar"},
		{name: "one strong malicious source, rest silent", ev: []Evidence{mbSample, shodanErr, urlscanSk, vtRL}, verdict: result.Malicious, lo: 85, hi: 90},
		{name: "conclusive C source alone is malicious", ev: []Evidence{tfHigh}, verdict: result.Malicious, lo: 70, hi: 70},
		{name: "conclusive source beats weak clean VT", ev: []Evidence{mbSample, vt0of90}, verdict: result.Malicious, lo: 85, hi: 90, firstHas: "malwarebazaar"},
		{name: "D source alone stays suspicious", ev: []Evidence{weakD}, verdict: result.Suspicious, lo: 64, hi: 64},
		{name: "E source alone stays suspicious", ev: []Evidence{weakE}, verdict: result.Suspicious, lo: 52, hi: 52},
		{name: "VT and AbuseIPDB agree malicious", ev: []Evidence{vt12of94, abuse100, shodanNF, urlscanSk}, verdict: result.Malicious, lo: 97, hi: 99, firstHas: "abuseipdb"},
		{name: "one weak VT engine among clean answers", ev: []Evidence{vt1of90, abuse0, shodanNF}, verdict: result.Unknown, lo: 10, hi: 29},
		{name: "one weak VT engine alone", ev: []Evidence{vt1of90}, verdict: result.Unknown, lo: 10, hi: 29},
		{name: "allow-listed but VT 1/90", ev: []Evidence{allowHit, vt1of90}, verdict: result.Benign, lo: 0, hi: 5, firstHas: "allowlist"},
		{name: "VT 0/90 only", ev: []Evidence{vt0of90}, verdict: result.Unknown, lo: 0, hi: 0},
		{name: "VT 0/90 and AbuseIPDB 0", ev: []Evidence{vt0of90, abuse0}, verdict: result.Unknown, lo: 0, hi: 0},
		{name: "GreyNoise RIOT and AbuseIPDB 0", ev: []Evidence{riot, abuse0, shodanNF}, verdict: result.Benign, lo: 0, hi: 0, firstHas: "greynoise"},
		{name: "AbuseIPDB whitelisted", ev: []Evidence{abuseWL, vt0of90}, verdict: result.Benign, lo: 0, hi: 0},
		{name: "OTX allow-list validation", ev: []Evidence{otxAllow, vtNF}, verdict: result.Benign, lo: 0, hi: 0},
		{name: "strong benign vs strong malicious conflict", ev: []Evidence{allowHit, vt12of94}, verdict: result.Suspicious, lo: 30, hi: 69, firstHas: "conflict"},
		{name: "RIOT vs AbuseIPDB 100 conflict", ev: []Evidence{riot, abuse100}, verdict: result.Suspicious, lo: 30, hi: 69, firstHas: "conflict"},
		{name: "two sources disagree: VT 3/90 vs OTX allow-list", ev: []Evidence{vt3of90, otxAllow}, verdict: result.Suspicious, lo: 30, hi: 40, firstHas: "otx"},
		{name: "two sources disagree: AbuseIPDB 60 vs clean VT", ev: []Evidence{abuse60, vt0of90}, verdict: result.Suspicious, lo: 45, hi: 55},
		{name: "moderate malicious corroborated", ev: []Evidence{vt3of90, abuse60, otxPulses}, verdict: result.Malicious, lo: 85, hi: 95},
		{name: "three weak hits add up to suspicious", ev: []Evidence{abuse25, otxWeak, gnNoise}, verdict: result.Suspicious, lo: 50, hi: 65},
		{name: "VT 3/90 alone is suspicious", ev: []Evidence{vt3of90, shodanNF}, verdict: result.Suspicious, lo: 50, hi: 55},
		{name: "URL: Safe Browsing match", ev: []Evidence{sbMatch, urlscanSk, vtNF}, verdict: result.Malicious, lo: 100, hi: 100},
		{name: "URL: URLhaus and VT agree", ev: []Evidence{urlhausHit, vt12of94}, verdict: result.Malicious, lo: 95, hi: 99},
		{name: "low confidence floor makes unknown", policy: Policy{MinConfidence: 60}, ev: []Evidence{weakE}, verdict: result.Unknown, lo: 52, hi: 52, firstHas: "confidence"},
		{name: "stricter malicious threshold", policy: Policy{Malicious: 90, Suspicious: 40}, ev: []Evidence{vt3of90, abuse60}, verdict: result.Suspicious, lo: 75, hi: 80},
		{name: "stricter threshold still honours conclusive source", policy: Policy{Malicious: 90}, ev: []Evidence{tfHigh}, verdict: result.Malicious, lo: 90, hi: 90},
		{name: "reliability override demotes a source below the evidence floor", policy: Policy{Reliability: map[string]provider.Reliability{"threatfox": "E"}}, ev: []Evidence{tfHigh}, verdict: result.Unknown, lo: 46, hi: 47, firstHas: "confidence"},
		{name: "not_found cannot make benign", ev: []Evidence{vtNF, mispNF, mbNF, shodanNF, notFound("otx", gC)}, verdict: result.Unknown, lo: 0, hi: 0},
		{name: "signals are clamped", ev: []Evidence{ok("x", gA, 7, -3, "odd")}, verdict: result.Malicious, lo: 100, hi: 100},
		{name: "not_found signals are ignored", ev: []Evidence{{Provider: "x", Status: provider.StatusNotFound, Malicious: 1, Reliability: gA}}, verdict: result.Unknown, lo: 0, hi: 0},

		{name: "known infrastructure lowers third-party signals", ev: []Evidence{vt3of90, abuse25, cdnEdge}, verdict: result.Unknown, lo: 15, hi: 25},
		{name: "known infrastructure is not benign evidence", ev: []Evidence{cdnEdge, vtNF}, verdict: result.Unknown, lo: 0, hi: 0},
		{name: "known infrastructure keeps strong corroborated evidence", ev: []Evidence{vt12of94, abuse100, tfHigh, context(0.3, "AWS")}, verdict: result.Malicious, lo: 85, hi: 95},
		{name: "known infrastructure never lowers the user's block-list", ev: []Evidence{blockHit, cdnEdge}, verdict: result.Malicious, lo: 100, hi: 100, firstHas: "blocklist"},
		{name: "a host-level hit on a URL lowers nothing", ev: []Evidence{urlhausHit, viaHost}, verdict: result.Malicious, lo: 84, hi: 84, firstHas: "urlhaus"},
		{name: "seed ignores context", policy: seed, ev: []Evidence{vtCounts(47, 0, 40, 7), abuse(100), cdnEdge}, verdict: result.Malicious, lo: 70, hi: 70},

		// Seed mode reproduces VT ratio × 60 + AbuseIPDB × 40 exactly.
		{name: "seed: VT 12/94 and AbuseIPDB 100", policy: seed, ev: []Evidence{vtCounts(12, 2, 60, 20), abuse(100)}, verdict: result.Suspicious, lo: 48, hi: 48},
		{name: "seed: VT 47/94 and AbuseIPDB 100", policy: seed, ev: []Evidence{vtCounts(47, 0, 40, 7), abuse(100)}, verdict: result.Malicious, lo: 70, hi: 70},
		{name: "seed: AbuseIPDB missing counts as 0", policy: seed, ev: []Evidence{vtCounts(94, 0, 0, 0), failed("abuseipdb", provider.StatusError, "timeout")}, verdict: result.Suspicious, lo: 60, hi: 60},
		{name: "seed: AbuseIPDB alone", policy: seed, ev: []Evidence{abuse(float64(75))}, verdict: result.Suspicious, lo: 30, hi: 30},
		{name: "seed: clean is benign", policy: seed, ev: []Evidence{vtCounts(0, 0, 70, 20), abuse(0)}, verdict: result.Benign, lo: 0, hi: 0},
		{name: "seed: json numbers from cache", policy: seed, ev: []Evidence{vtCounts(45, 5, 40, 10), abuse("50")}, verdict: result.Suspicious, lo: 47, hi: 47},
		{name: "seed: nothing answered", policy: seed, ev: []Evidence{vtRL}, verdict: result.Unknown, lo: 0, hi: 0},
	}
}

func TestScore(t *testing.T) {
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			o := Score(tc.policy, tc.ev)
			if o.Verdict != tc.verdict || o.Score < tc.lo || o.Score > tc.hi {
				t.Errorf("got %s score %d (confidence %d), want %s score in [%d,%d]\nreasons: %q",
					o.Verdict, o.Score, o.Confidence, tc.verdict, tc.lo, tc.hi, o.Reasons)
			}
			if o.Confidence < 0 || o.Confidence > 100 {
				t.Errorf("confidence %d out of range", o.Confidence)
			}
			if tc.firstHas != "" && (len(o.Reasons) == 0 || !strings.Contains(o.Reasons[0], tc.firstHas)) {
				t.Errorf("first reason %q, want it to mention %q", o.Reasons, tc.firstHas)
			}
			checkEvidenceOnly(t, tc.policy, tc.ev, o.Reasons)
		})
	}
	if n := len(cases()); n < 30 {
		t.Fatalf("only %d cases", n)
	}
}

// checkEvidenceOnly holds reasons to the rule: a source whose signal
// counted is named by its fact; a source that answered with no signal is
// not named; a source that did not answer is named in the one "not
// counted" line, which comes last.
func checkEvidenceOnly(t *testing.T, p Policy, ev []Evidence, reasons []string) {
	t.Helper()
	last := ""
	if n := len(reasons); n > 0 && strings.HasPrefix(reasons[n-1], "not counted: ") {
		last = reasons[n-1]
	}
	for _, e := range ev {
		named := slices.ContainsFunc(reasons, func(r string) bool { return strings.HasPrefix(r, e.Provider+": ") })
		moved := e.Status == provider.StatusOK && (clamp01(e.Malicious) > 0 || clamp01(e.Benign) > 0)
		if e.Context {
			moved = e.Status == provider.StatusOK && e.Discount > 0 && p.Mode != ModeSeed &&
				slices.ContainsFunc(ev, func(o Evidence) bool {
					return !o.Context && !o.Local && o.Status == provider.StatusOK && o.Malicious > 0
				})
		}
		switch {
		case !e.Status.Answered():
			if named || !strings.Contains(last, e.Provider) {
				t.Errorf("%s (%s) should be named in the last line only: %q", e.Provider, e.Status, reasons)
			}
		case moved && p.Mode != ModeSeed && !named:
			t.Errorf("no reason names %s: %q", e.Provider, reasons)
		case !moved && named:
			t.Errorf("%s moved nothing but is named: %q", e.Provider, reasons)
		}
	}
}

func TestReasons(t *testing.T) {
	o := Score(Policy{}, []Evidence{shodanErr, abuse100, vt12of94, shodanNF, urlscanSk, abuse0, vtRL,
		failed("misp", provider.StatusSkipped, "no API key"), failed("otx", provider.StatusSkipped, "no API key")})
	want := []string{
		"abuseipdb: confidence 100 from 3319 reports",
		"virustotal: 12/94 engines flag it malicious",
		"not counted: shodan failed (timeout); urlscan, misp, otx skipped (no API key); virustotal deferred (quota spent)",
	}
	if !slices.Equal(o.Reasons, want) {
		t.Errorf("reasons\n got %q\nwant %q", o.Reasons, want)
	}
}

func TestAllowListedKeepsVTFact(t *testing.T) {
	o := Score(Policy{}, []Evidence{vt1of90, allowHit})
	if !slices.Contains(o.Reasons, "virustotal: 1/90 engines flag it malicious") {
		t.Errorf("VT fact missing from %q", o.Reasons)
	}
}

// TestConfidenceGrows checks that confidence rises with the number,
// reliability and agreement of the answering sources.
func TestConfidenceGrows(t *testing.T) {
	one := Score(Policy{}, []Evidence{vt12of94}).Confidence
	two := Score(Policy{}, []Evidence{vt12of94, abuse100}).Confidence
	weak := Score(Policy{}, []Evidence{ok("virustotal", gE, 0.95, 0, "")}).Confidence
	conflict := Score(Policy{}, []Evidence{vt12of94, abuse100, allowHit}).Confidence
	agree := Score(Policy{}, []Evidence{vt12of94, abuse100, mbSample}).Confidence
	if !(one < two && weak < one && conflict < agree) {
		t.Errorf("confidence: one %d two %d weak %d conflict %d agree %d", one, two, weak, conflict, agree)
	}
}

// TestFailedSourcesNeverCount is the property that a source which did not
// answer (error, skipped, rate limited) changes neither score, confidence
// nor verdict, whatever the other evidence.
func TestFailedSourcesNeverCount(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	grades := []provider.Reliability{gA, gB, gC, gD, gE, provider.ReliabilityF, ""}
	statuses := []provider.Status{provider.StatusOK, provider.StatusOK, provider.StatusNotFound}
	failing := []provider.Status{provider.StatusError, provider.StatusSkipped, provider.StatusRateLimited, ""}
	for i := range 5000 {
		var ev []Evidence
		for j := range r.IntN(5) {
			ev = append(ev, Evidence{Provider: string(rune('a' + j)), Status: statuses[r.IntN(len(statuses))],
				Malicious: r.Float64() * r.Float64(), Benign: r.Float64() * r.Float64(), Reliability: grades[r.IntN(len(grades))]})
		}
		p := Policy{}
		if i%5 == 0 {
			p.Mode = ModeSeed
		}
		before := Score(p, ev)
		extra := Evidence{Provider: "z", Status: failing[r.IntN(len(failing))], Malicious: r.Float64(), Benign: r.Float64(),
			Reliability: gA, Data: map[string]any{"malicious": 90, "abuse_confidence_score": 100}}
		at := r.IntN(len(ev) + 1)
		after := Score(p, slices.Insert(slices.Clone(ev), at, extra))
		if before.Score != after.Score || before.Verdict != after.Verdict || before.Confidence != after.Confidence {
			t.Fatalf("adding %s changed %+v into %+v (evidence %+v)", extra.Status, before, after, ev)
		}
		// The source is named in one last "not counted" line, nowhere else.
		if len(after.Reasons) != len(before.Reasons)+1 || !slices.Equal(after.Reasons[:len(before.Reasons)], before.Reasons) ||
			!strings.HasPrefix(after.Reasons[len(before.Reasons)], "not counted: z ") {
			t.Fatalf("%s source: reasons %q, before %q", extra.Status, after.Reasons, before.Reasons)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Policy{}).Validate(); err != nil {
		t.Fatalf("zero policy: %v", err)
	}
	for _, p := range []Policy{{Mode: "magic"}, {Malicious: 20, Suspicious: 40}, {Malicious: 120}, {Strong: 2}, {Benign: -1}} {
		if err := p.Validate(); err == nil {
			t.Errorf("%+v: no error", p)
		}
	}
}

func TestApplyAndMappings(t *testing.T) {
	var r result.Result
	Score(Policy{}, []Evidence{vt12of94, abuse100}).Apply(&r)
	if r.Verdict != result.Malicious || r.DBotScore != 3 || len(r.Reasons) != 2 {
		t.Errorf("applied %+v", r)
	}
	if STIXConfidence(150) != 100 || STIXConfidence(-1) != 0 || STIXConfidence(72) != 72 {
		t.Error("STIXConfidence does not clamp to 0-100")
	}
	if CortexLevel(result.Benign) != "safe" || CortexLevel(result.Unknown) != "info" {
		t.Error("CortexLevel mapping")
	}
	ev := FromSources([]result.Source{{Provider: "virustotal", Status: "ok", Malicious: 0.5, Summary: "s"}},
		func(string) provider.Reliability { return gB })
	if len(ev) != 1 || ev[0].Status != provider.StatusOK || ev[0].Reliability != gB || ev[0].Malicious != 0.5 {
		t.Errorf("FromSources: %+v", ev)
	}
}

// TestSeedFormulaPinned pins the seed mode to the original script's formula,
// score = round(VT ratio × 60 + AbuseIPDB confidence/100 × 40), with a
// missing source as 0, whatever else the evidence holds (context, other
// providers, failures): teams migrating from the script get its numbers.
func TestSeedFormulaPinned(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 3000 {
		var ev []Evidence
		var ratio, conf float64
		vtOK, abuseOK := false, false
		if r.IntN(4) > 0 {
			mal, sus, harm, und := r.IntN(95), r.IntN(10), r.IntN(80), r.IntN(40)
			ev = append(ev, vtCounts(mal, sus, harm, und))
			if total := mal + sus + harm + und; total > 0 {
				ratio = float64(mal) / float64(total)
			}
			vtOK = true
		}
		if r.IntN(4) > 0 {
			c := r.IntN(101)
			ev = append(ev, abuse(c))
			conf, abuseOK = float64(c)/100, true
		}
		if r.IntN(2) == 0 {
			ev = append(ev, cdnEdge, otxPulses, shodanErr)
		}
		want := int(math.Round(ratio*60 + conf*40))
		wantV := result.Unknown
		switch {
		case want >= 70:
			wantV = result.Malicious
		case want >= 30:
			wantV = result.Suspicious
		case vtOK || abuseOK:
			wantV = result.Benign
		}
		o := Score(Policy{Mode: ModeSeed}, ev)
		if o.Score != want || o.Verdict != wantV {
			t.Fatalf("seed: got %s %d, want %s %d for %+v", o.Verdict, o.Score, wantV, want, ev)
		}
	}
}

func TestContextReason(t *testing.T) {
	o := Score(Policy{}, []Evidence{riot, vt1of90, cdnEdge, shodanNF})
	want := []string{
		"greynoise: RIOT: Google Public DNS",
		"knowninfra: known infrastructure: Cloudflare edge, MISP warninglist (lowers the other sources' malicious signals by 70%)",
		"virustotal: 1/90 engines flag it malicious",
	}
	if o.Verdict != result.Benign || !slices.Equal(o.Reasons, want) {
		t.Errorf("got %s %q\nwant benign %q", o.Verdict, o.Reasons, want)
	}
}
