package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/server"
)

// TestServeTLPRedStaysIn is issue 17's acceptance 3: a generic webhook
// marked TLP:RED in any spelling SIEMs send reaches no third-party provider
// (the fake's request log stays empty), and the Slack and Teams messages
// about it name no indicator, only that one was withheld. The IOC is on a
// local block-list, so it is malicious and the notification rules fire.
func TestServeTLPRedStaysIn(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	slack, teams := newRecorder(t), newRecorder(t)
	block := filepath.Join(t.TempDir(), "block.txt")
	ip := fakeintel.MaliciousIP.Value
	if err := os.WriteFile(block, []byte(ip+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(fake.Env(), "IOCANE_ADMIN_TOKEN="+e2eAdmin, "IOCANE_WEBHOOK_SECRET="+e2eSecret,
		"IOCANE_BLOCKLIST_PATHS="+block, "IOCANE_SLACK_WEBHOOK_URL="+slack.URL+"/services/T0/B0/x",
		"IOCANE_TEAMS_WEBHOOK_URL="+teams.URL+"/workflows/x", "IOCANE_NOTIFY_RATE=100/m")
	base, _, stop := startServe(t, env)

	markings := []string{`"TLP": "red"`, `"tlp": "TLP:RED"`, `"Tlp": "RED"`, `"TLP": 3`, `"tlp": "amber+strict"`, `"TLP": "TLP:AMBER+STRICT"`}
	for i, m := range markings {
		body := []byte(`{"id": "tlp-` + strconv.Itoa(i) + `", "note": "beacon to ` + ip + `", ` + m + `}`)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		hdr := map[string]string{"Content-Type": "application/json", server.HeaderTimestamp: ts,
			server.HeaderSignature: server.Sign([]byte(e2eSecret), ts, body)}
		resp, got := call(t, "POST", base+"/v1/webhooks/generic", e2eAdmin, body, hdr)
		if resp.StatusCode != 202 {
			t.Fatalf("%s: %d %s", m, resp.StatusCode, got)
		}
		var job struct{ ID, State string }
		json.Unmarshal([]byte(got), &job)
		deadline := time.Now().Add(60 * time.Second)
		for job.State != "completed" {
			if time.Now().After(deadline) || job.State == "failed" {
				t.Fatalf("%s: job %s", m, got)
			}
			time.Sleep(20 * time.Millisecond)
			_, got = call(t, "GET", base+"/v1/jobs/"+job.ID, e2eAdmin, nil, nil)
			json.Unmarshal([]byte(got), &job)
		}
		_, got = call(t, "GET", base+"/v1/jobs/"+job.ID+"/results", e2eAdmin, nil, nil)
		if !strings.Contains(got, `"verdict":"malicious"`) {
			t.Errorf("%s: the block-listed IP is not malicious: %s", m, got)
		}
	}
	if err := stop(); err != nil { // flushes the notifications
		t.Fatal(err)
	}
	for _, p := range fakeintel.Providers {
		if p == "misp" {
			continue // your own instance, cleared for RED (max_tlp red)
		}
		for _, r := range fake.Requests(p) {
			t.Errorf("third-party provider %s was asked about a TLP:RED or AMBER+STRICT alert: %s %s %s", p, r.Method, r.Path, r.Body)
		}
	}
	for name, h := range map[string]*recorder{"slack": slack, "teams": teams} {
		bodies := h.bodies()
		if len(bodies) == 0 {
			t.Errorf("%s: no message at all; want one saying the indicator was withheld", name)
		}
		for _, b := range bodies {
			if strings.Contains(b, strings.Split(ip, ".")[0]+"[.]") || strings.Contains(b, ip) {
				t.Errorf("%s got the indicator: %s", name, b)
			}
			if !strings.Contains(b, "indicator withheld: see the result") && !strings.Contains(b, "digest") {
				t.Errorf("%s: message does not say what was withheld: %s", name, b)
			}
		}
	}
}
