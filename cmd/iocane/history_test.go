package main

// Issue 15, acceptance 1 and 2: an IOC's history and sightings across three
// alerts, and an analyst verdict that settles an IOC without a provider
// call, through `iocane serve` against the fake providers.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
)

const (
	e2eTriage = "e2e-triage-5b1c9d0e7f2a4836"
	e2eRead   = "e2e-reader-3e8a6f1b0c9d2745"
)

// tokensConfig writes a config with a triage and a read-only token.
func tokensConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "iocane.yaml")
	yaml := fmt.Sprintf(`history:
  misp_sightings: true
server:
  tokens:
    - {name: soc-lead, token: %s, scopes: [triage, read]}
    - {name: dashboard, token: %s, scopes: [read]}
`, e2eTriage, e2eRead)
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// alertJob posts a generic alert naming value, waits for its job and
// returns the job's result for the IOC.
func alertJob(t *testing.T, base, alertID string, i ioc.IOC) result.Result {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"rule": "Outbound to rare host", "src_ip": i.Value})
	resp, got := call(t, "POST", base+"/v1/webhooks/generic?id="+alertID, e2eAdmin, body, map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != 202 {
		t.Fatalf("webhook %s: %d %s", alertID, resp.StatusCode, got)
	}
	var job struct{ ID, State string }
	json.Unmarshal([]byte(got), &job)
	for deadline := time.Now().Add(60 * time.Second); job.State != "completed"; {
		if time.Now().After(deadline) || job.State == "failed" {
			t.Fatalf("job %s: %s", job.ID, got)
		}
		time.Sleep(50 * time.Millisecond)
		_, got = call(t, "GET", base+"/v1/jobs/"+job.ID, e2eAdmin, nil, nil)
		json.Unmarshal([]byte(got), &job)
	}
	_, got = call(t, "GET", base+"/v1/jobs/"+job.ID+"/results", e2eAdmin, nil, nil)
	for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
		var r result.Result
		if err := json.Unmarshal([]byte(line), &r); err == nil && r.IOC == i {
			return r
		}
	}
	t.Fatalf("no result for %s in job %s: %s", i, job.ID, got)
	return result.Result{}
}

func TestHistoryAndAnalystVerdictEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	env := append(fake.Env(), "IOCANE_ADMIN_TOKEN="+e2eAdmin)
	base, logs, _ := startServe(t, env, "--config", tokensConfig(t))
	ip := ioc.IOC{Type: ioc.IPv4, Value: "45.155.205.233"} // unknown to the fake at first
	purge := func() {
		if resp, got := call(t, "DELETE", base+"/v1/cache", e2eAdmin, nil, nil); resp.StatusCode != 200 {
			t.Fatalf("purge: %d %s", resp.StatusCode, got)
		}
	}

	// Acceptance 1: three alerts, the providers' data changing before the third.
	r1 := alertJob(t, base, "alert-1", ip)
	purge()
	r2 := alertJob(t, base, "alert-2", ip)
	fake.SetClass(ip, fakeintel.Malicious)
	purge()
	r3 := alertJob(t, base, "alert-3", ip)
	if r1.PreviousVerdict != "" || !r1.FirstSeen.IsZero() {
		t.Errorf("first result knows a past: %+v", r1)
	}
	if r2.PreviousVerdict != r1.Verdict || r2.Sightings != 1 || r2.FirstSeen.IsZero() {
		t.Errorf("second result: previous %q sightings %d first_seen %v", r2.PreviousVerdict, r2.Sightings, r2.FirstSeen)
	}
	if r3.Verdict != result.Malicious || r3.PreviousVerdict != r2.Verdict || r3.Sightings != 2 || !r3.Changed() {
		t.Errorf("third result: verdict %s previous %q sightings %d: %+v", r3.Verdict, r3.PreviousVerdict, r3.Sightings, r3.Sources)
	}
	resp, got := call(t, "GET", base+"/v1/iocs/ipv4/"+ip.Value+"/history", e2eRead, nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("history: %d %s", resp.StatusCode, got)
	}
	var rep history.Report
	if err := json.Unmarshal([]byte(got), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.History) != 3 || len(rep.Sightings) != 3 {
		t.Fatalf("history %d entries, %d sightings, want 3 and 3: %s", len(rep.History), len(rep.Sightings), got)
	}
	for k, want := range []string{"generic:alert-3", "generic:alert-2", "generic:alert-1"} {
		if rep.Sightings[k].Alert != want || rep.History[k].Alert != want || rep.History[k].Origin != "generic" || rep.History[k].Job == "" {
			t.Errorf("entry %d: sighting %+v, history %+v, want alert %s", k, rep.Sightings[k], rep.History[k], want)
		}
	}
	if rep.History[0].Verdict != result.Malicious || rep.History[2].Verdict != r1.Verdict {
		t.Errorf("verdicts newest first: %s, %s, %s", rep.History[0].Verdict, rep.History[1].Verdict, rep.History[2].Verdict)
	}
	if len(rep.BySource) != 1 || rep.BySource[0].Source != "generic" || rep.BySource[0].Count != 3 {
		t.Errorf("by source: %+v", rep.BySource)
	}

	// Acceptance 2: an analyst calls the known-bad IP benign.
	bad := fakeintel.MaliciousIP
	verdict := []byte(`{"verdict": "benign", "reason": "our pentest box", "expires": "30d"}`)
	path := base + "/v1/iocs/ipv4/" + url.PathEscape(bad.Value) + "/verdict"
	if resp, got := call(t, "POST", path, e2eRead, verdict, nil); resp.StatusCode != 403 {
		t.Errorf("read token: %d %s, want 403", resp.StatusCode, got)
	}
	if resp, got := call(t, "POST", path, e2eTriage, []byte(`{"verdict": "fine", "reason": "x"}`), nil); resp.StatusCode != 422 {
		t.Errorf("bad verdict: %d %s, want 422", resp.StatusCode, got)
	}
	if resp, got := call(t, "POST", path, e2eTriage, verdict, nil); resp.StatusCode != 200 {
		t.Fatalf("set verdict: %d %s", resp.StatusCode, got)
	}
	// history.misp_sightings: the verdict reaches MISP as a false positive.
	var pushed string
	for deadline := time.Now().Add(10 * time.Second); pushed == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, r := range fake.Requests("misp") {
			if strings.HasSuffix(r.Path, "/sightings/add") {
				pushed = string(r.Body)
			}
		}
	}
	if !strings.Contains(pushed, `"value":"`+bad.Value+`"`) || !strings.Contains(pushed, `"type":"1"`) {
		t.Errorf("MISP sighting pushed: %q", pushed)
	}
	purge()
	before := fake.TotalCalls()
	resp, got = call(t, "POST", base+"/v1/enrich", e2eAdmin, []byte(`{"iocs": ["`+bad.Value+`"]}`), map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != 200 {
		t.Fatalf("enrich: %d %s", resp.StatusCode, got)
	}
	var rs []result.Result
	json.Unmarshal([]byte(got), &rs)
	if len(rs) != 1 || rs[0].Verdict != result.Benign || len(rs[0].Reasons) == 0 ||
		!strings.HasPrefix(rs[0].Reasons[0], "analyst (soc-lead): benign until ") || !strings.HasSuffix(rs[0].Reasons[0], ": our pentest box") {
		t.Fatalf("enrichment after the verdict: %s", got)
	}
	if n := fake.TotalCalls() - before; n != 0 {
		t.Errorf("the fake providers saw %d calls for an IOC an analyst settled", n)
	}
	if resp, got := call(t, "DELETE", path, e2eRead, nil, nil); resp.StatusCode != 403 {
		t.Errorf("read token delete: %d %s, want 403", resp.StatusCode, got)
	}
	if resp, got := call(t, "DELETE", path, e2eTriage, nil, nil); resp.StatusCode != 204 {
		t.Fatalf("remove verdict: %d %s", resp.StatusCode, got)
	}
	_, got = call(t, "POST", base+"/v1/enrich", e2eAdmin, []byte(`{"iocs": ["`+bad.Value+`"]}`), map[string]string{"Content-Type": "application/json"})
	json.Unmarshal([]byte(got), &rs)
	if len(rs) != 1 || rs[0].Verdict != result.Malicious || rs[0].PreviousVerdict != result.Benign {
		t.Errorf("after removal: %s", got)
	}
	_, got = call(t, "GET", path[:len(path)-len("/verdict")]+"/history", e2eRead, nil, nil)
	for _, want := range []string{`"origin":"analyst"`, `verdict removed (was benign, set by soc-lead)`, `"analyst":"soc-lead"`} {
		if !strings.Contains(got, want) {
			t.Errorf("history lacks %s: %s", want, got)
		}
	}
	for _, secret := range []string{e2eAdmin, e2eTriage, e2eRead} {
		if strings.Contains(logs.String(), secret) {
			t.Error("a token reached the log")
		}
	}
}
