package splunksoar

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/integrations/integrationstest"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

const token = "soar-token-0123456789abcdef="

func delivery() integrations.Delivery {
	return integrations.Delivery{
		Job: jobs.Job{ID: "job-9", State: jobs.Completed, Source: "generic",
			Alert: &jobs.AlertRef{System: "generic", ID: "evt-1", Extra: map[string]string{"container_id": "93"}}},
		Results: []result.Result{
			{IOC: ioc.IOC{Type: ioc.URL, Value: "http://evil-login.com/a"}, Verdict: result.Suspicious, Score: 50, TLP: tlp.Amber, Reasons: []string{"urlhaus: listed"}},
			{IOC: ioc.IOC{Type: ioc.SHA256, Value: strings.Repeat("c", 64)}, Verdict: result.Malicious, Score: 95, DBotScore: 3, TLP: tlp.Amber,
				Reasons: []string{"malwarebazaar: Emotet", "virustotal: 60/70"}},
		},
	}
}

func TestArtifactsAndNote(t *testing.T) {
	f := integrationstest.NewSOAR(token)
	defer f.Close()
	s := New(f.URL, provider.NewSecret(token), nil)
	d := delivery()
	if !s.Applies(d) {
		t.Fatal("does not apply to an alert with a container id")
	}
	if err := s.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	arts := f.Artifacts()
	if len(arts) != 2 {
		t.Fatalf("artifacts %v", arts)
	}
	a := arts[0]
	cef := a["cef"].(map[string]any)
	if a["container_id"] != 93.0 || a["label"] != "iocane" || a["severity"] != "high" || a["run_automation"] != false ||
		a["source_data_identifier"] != "iocane:job-9:sha256:"+strings.Repeat("c", 64) ||
		cef["fileHashSha256"] != strings.Repeat("c", 64) || cef["iocaneVerdict"] != "malicious" || cef["iocaneScore"] != 95.0 ||
		cef["iocaneReasons"] != "malwarebazaar: Emotet; virustotal: 60/70" || cef["iocaneDBotScore"] != 3.0 {
		t.Errorf("artifact %v", a)
	}
	if types := a["cef_types"].(map[string]any)["fileHashSha256"].([]any); types[0] != "sha256" {
		t.Errorf("cef_types %v", a["cef_types"])
	}
	if b := arts[1]; b["cef"].(map[string]any)["requestURL"] != "http://evil-login.com/a" || b["severity"] != "medium" || b["run_automation"] != true {
		t.Errorf("second artifact %v", b)
	}
	notes := f.Notes()
	if len(notes) != 1 || notes[0]["container_id"] != 93.0 || notes[0]["note_type"] != "general" || notes[0]["note_format"] != "markdown" ||
		notes[0]["title"] != "iocane enrichment: 1 malicious, 1 suspicious" ||
		!strings.Contains(notes[0]["content"].(string), "| malicious | 95 | sha256 | `"+strings.Repeat("c", 64)+"` | malwarebazaar: Emotet; virustotal: 60/70 |") {
		t.Errorf("note %v", notes)
	}
	for _, r := range f.Requests() {
		if r.Header.Get("ph-auth-token") != token {
			t.Errorf("%s: ph-auth-token %q", r.Path, r.Header.Get("ph-auth-token"))
		}
	}
}

func TestLostAnswerAndErrors(t *testing.T) {
	f := integrationstest.NewSOAR(token)
	defer f.Close()
	f.LandThenFail("POST", "/rest/artifact", 1, 503)
	s := New(f.URL, provider.NewSecret(token), nil)
	ctx := integrations.WithProgress(context.Background(), integrations.NewMemoryProgress())
	if err := s.Deliver(ctx, delivery()); err == nil || errors.Is(err, integrations.ErrPermanent) {
		t.Fatalf("first attempt: %v, want a retryable error", err)
	}
	if err := s.Deliver(ctx, delivery()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Artifacts()); n != 2 {
		t.Errorf("%d artifacts, want 2 (the landed one answered existing_artifact_id)", n)
	}
	bad := New(f.URL, provider.NewSecret("wrong"), nil)
	if err := bad.Deliver(context.Background(), delivery()); !errors.Is(err, integrations.ErrPermanent) || strings.Contains(err.Error(), "wrong") {
		t.Errorf("bad token: %v", err)
	}
	d := delivery()
	d.Job.Alert.Extra = nil
	if s.Applies(d) {
		t.Error("applies without a container id")
	}
}

// An IPv6 artifact's contains type is ipv6, which SOAR's actions match on;
// ip is for IPv4.
func TestCEFContains(t *testing.T) {
	for typ, want := range map[ioc.Type][2]string{ioc.IPv4: {"sourceAddress", "ip"}, ioc.IPv6: {"sourceAddress", "ipv6"},
		ioc.Domain: {"destinationDnsDomain", "domain"}, ioc.SHA256: {"fileHashSha256", "sha256"}} {
		if f, c := CEFField(typ); f != want[0] || c != want[1] {
			t.Errorf("%s: %s %s, want %v", typ, f, c, want)
		}
	}
}
