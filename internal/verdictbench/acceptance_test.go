package verdictbench

import (
	"slices"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/result"
)

// acceptance returns the named scenario of testdata/acceptance.json, run
// end to end like a benchmark case.
func acceptance(t *testing.T, name string) result.Result {
	t.Helper()
	for _, c := range loadCases(t, "acceptance.json") {
		if c.Name == name {
			r := run(t, c)
			t.Logf("%s: %s score %d confidence %d; reasons %q", c.IOC, r.Verdict, r.Score, r.Confidence, r.Reasons)
			return r
		}
	}
	t.Fatalf("no acceptance scenario %q", name)
	return result.Result{}
}

// Issue 18, acceptance 2: a CDN edge with one or two VirusTotal engines
// and GreyNoise RIOT is benign or unknown.
func TestAcceptanceCDNEdgeWithRIOT(t *testing.T) {
	for _, name := range []string{"cdn-edge-1mal-0susp-riot", "cdn-edge-2mal-0susp-riot", "cdn-edge-1mal-2susp-riot", "cdn-edge-2mal-1susp-riot"} {
		t.Run(name, func(t *testing.T) {
			r := acceptance(t, name)
			if r.Verdict != result.Benign && r.Verdict != result.Unknown {
				t.Errorf("verdict %s, want benign or unknown", r.Verdict)
			}
			if !slices.ContainsFunc(r.Reasons, func(s string) bool { return strings.HasPrefix(s, "knowninfra: known infrastructure: Cloudflare edge") }) {
				t.Errorf("reasons do not name the Cloudflare edge: %q", r.Reasons)
			}
		})
	}
}

// Issue 18, acceptance 2: a GreyNoise-benign scanner with AbuseIPDB 100 is
// not malicious.
func TestAcceptanceBenignScanner(t *testing.T) {
	r := acceptance(t, "benign-scanner-abuse100")
	if r.Verdict == result.Malicious {
		t.Errorf("verdict malicious, score %d", r.Score)
	}
}

// Issue 18, acceptance 2: a malware URL on a code-hosting domain is
// malicious while the domain is not; the host's known-infrastructure hit
// lowers nothing about the URL.
func TestAcceptanceMalwareOnCodeHosting(t *testing.T) {
	u := acceptance(t, "malware-url-on-code-hosting")
	if u.Verdict != result.Malicious {
		t.Errorf("URL: verdict %s, want malicious", u.Verdict)
	}
	if s, ok := u.Source("knowninfra"); !ok || s.Status != "ok" || s.Data["discount"] != 0.0 {
		t.Errorf("URL: knowninfra source %+v, want ok with discount 0", s)
	}
	if slices.ContainsFunc(u.Reasons, func(s string) bool { return strings.HasPrefix(s, "knowninfra:") }) {
		t.Errorf("URL: the host's context is among the reasons: %q", u.Reasons)
	}
	d := acceptance(t, "code-hosting-domain")
	if d.Verdict == result.Malicious {
		t.Errorf("domain: verdict malicious, score %d", d.Score)
	}
}

// Issue 18, acceptance 2: a phishing domain that Safe Browsing flags and
// VirusTotal does not yet know is at least suspicious.
func TestAcceptancePhishingDomainSafeBrowsingOnly(t *testing.T) {
	r := acceptance(t, "phishing-domain-sb-only")
	if r.Verdict != result.Suspicious && r.Verdict != result.Malicious {
		t.Errorf("verdict %s, want suspicious or malicious", r.Verdict)
	}
}
