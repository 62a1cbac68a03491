package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/integrations/integrationstest"
	"github.com/iocane/iocane/internal/server"
)

const (
	wbHiveKey = "e2e-thehive-key-5a6b7c8d9e0f"
	wbHEC     = "e2e-hec-11112222-3333-4444"
)

// waitFor polls cond for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWriteBackEndToEnd is the write-back part of issue 6 acceptance 1: a
// TheHive alert-created webhook into the running server ends as exact
// observables, tags and one comment at a fake TheHive; a Splunk alert ends
// as HEC events carrying its sid.
func TestWriteBackEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	hive := integrationstest.NewTheHive(wbHiveKey, map[string]string{"~40964": "", "~40999": ""})
	defer hive.Close()
	hec := integrationstest.NewHEC(wbHEC)
	defer hec.Close()
	slack, teams := newRecorder(t), newRecorder(t)
	env := append(fake.Env(), "IOCANE_ADMIN_TOKEN="+e2eAdmin, "IOCANE_WEBHOOK_SECRET="+e2eSecret,
		"IOCANE_THEHIVE_BASE_URL="+hive.URL, "IOCANE_THEHIVE_API_KEY="+wbHiveKey,
		"IOCANE_SPLUNK_HEC_URL="+hec.URL, "IOCANE_SPLUNK_TOKEN="+wbHEC,
		"IOCANE_SLACK_WEBHOOK_URL="+slack.URL+"/services/T000/B000/"+wbSlackToken,
		"IOCANE_TEAMS_WEBHOOK_URL="+teams.URL+"/workflows/"+wbSlackToken)
	base, logs, stop := startServe(t, env)

	post := func(kind string, v any) string {
		body, _ := json.Marshal(v)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		hdr := map[string]string{"Content-Type": "application/json", server.HeaderTimestamp: ts,
			server.HeaderSignature: server.Sign([]byte(e2eSecret), ts, body)}
		resp, got := call(t, "POST", base+"/v1/webhooks/"+kind, e2eAdmin, body, hdr)
		if resp.StatusCode != 202 {
			t.Fatalf("%s webhook: %d %s", kind, resp.StatusCode, got)
		}
		var j struct{ ID string }
		json.Unmarshal([]byte(got), &j)
		return j.ID
	}
	start := time.Now()
	post("thehive", map[string]any{
		"objectType": "Alert", "operation": "Creation", "objectId": "~40964",
		"object": map[string]any{
			"_id": "~40964", "_type": "Alert", "type": "external", "source": "mail-gateway", "sourceRef": "MG-2026-1187",
			"title": "Phishing reported by finance", "tlp": 2,
			"description": "User clicked " + strings.ReplaceAll(fakeintel.MaliciousURL.Value, "http", "hxxp") +
				"; the host then contacted " + fakeintel.MaliciousIP.Value + ". Resolver: " + fakeintel.BenignIP.Value,
		},
	})
	waitFor(t, "the TheHive comment", func() bool { return len(hive.Comments("alert/~40964")) > 0 })
	took := time.Since(start)

	obs := hive.Observables("alert/~40964")
	byData := map[string]integrationstest.Observable{}
	for _, o := range obs {
		byData[o.Data] = o
	}
	want := map[string]struct {
		dataType, tag string
		ioc           bool
	}{
		fakeintel.MaliciousIP.Value:  {"ip", "iocane:malicious", true},
		fakeintel.MaliciousURL.Value: {"url", "iocane:malicious", true},
		"sskymedia.com":              {"domain", "", false},
		fakeintel.BenignIP.Value:     {"ip", "iocane:benign", false},
	}
	for data, w := range want {
		o, ok := byData[data]
		if !ok {
			t.Errorf("no observable for %s (have %+v)", data, obs)
			continue
		}
		if o.DataType != w.dataType || o.TLP != 2 || len(o.Tags) != 1 || !strings.HasPrefix(o.Tags[0], "iocane:") ||
			(w.tag != "" && o.Tags[0] != w.tag) || o.IOC != w.ioc || !strings.HasPrefix(o.Message, "iocane: ") {
			t.Errorf("observable %s: %+v, want dataType %s tag %q tlp 2", data, o, w.dataType, w.tag)
		}
	}
	if len(obs) != len(byData) {
		t.Errorf("duplicate observables: %+v", obs)
	}
	cs := hive.Comments("alert/~40964")
	if len(cs) != 1 || !strings.Contains(cs[0].Message, "| malicious | ") ||
		!strings.Contains(cs[0].Message, "`"+fakeintel.MaliciousIP.Value+"`") || !strings.Contains(cs[0].Message, "| Verdict | Score | Type | IOC | Reasons |") {
		t.Errorf("comments %+v", cs)
	}
	for _, r := range hive.Requests() {
		if r.Header.Get("Authorization") != "Bearer "+wbHiveKey {
			t.Errorf("TheHive request without the key: %s %s", r.Method, r.Path)
		}
	}
	if n := len(hec.Events()); n != 0 {
		t.Errorf("%d HEC events for a TheHive alert", n)
	}
	t.Logf("TheHive: alert received → alert updated in %v; %d observables, %d comment", took, len(obs), len(cs))

	// The analyst hears of it once per channel, with the malicious IOCs.
	waitFor(t, "the Slack message and the Teams card", func() bool { return len(slack.bodies()) >= 1 && len(teams.bodies()) >= 1 })
	if sb, tb := slack.bodies(), teams.bodies(); len(sb) != 1 || len(tb) != 1 {
		t.Fatalf("%d Slack messages and %d Teams cards for one malicious alert, want 1 each", len(sb), len(tb))
	}
	if sb := slack.bodies()[0]; !strings.Contains(sb, `"blocks"`) || !strings.Contains(sb, "malicious") || !strings.Contains(sb, "~40964") {
		t.Errorf("Slack message: %.600s", sb)
	}
	if tb := teams.bodies()[0]; !strings.Contains(tb, "AdaptiveCard") || !strings.Contains(tb, "malicious") {
		t.Errorf("Teams card: %.600s", tb)
	}

	// A benign-only alert is written back but notifies nobody.
	post("thehive", map[string]any{
		"objectType": "Alert", "operation": "Creation", "objectId": "~40999",
		"object": map[string]any{"_id": "~40999", "_type": "Alert", "title": "DNS to a public resolver", "tlp": 2,
			"description": "Host resolved names through " + fakeintel.BenignIP.Value},
	})
	waitFor(t, "the benign alert's comment", func() bool { return len(hive.Comments("alert/~40999")) > 0 })
	// That no notification about it arrives is checked after the server
	// stopped: by then every delivery has finished and held notifications
	// were flushed, so "nothing arrived" is a fact, not a guess after a sleep.

	sid := "scheduler__admin__search__RMD5wb_at_1800000000_91"
	post("splunk", map[string]any{
		"sid": sid, "search_name": "Threat - Outbound to known bad - Rule",
		"result": map[string]any{"src_ip": fakeintel.MaliciousIP.Value, "file_hash": fakeintel.MaliciousSHA256.Value},
	})
	waitFor(t, "HEC events", func() bool { return len(hec.Events()) >= 2 })
	var iocs []string
	for _, e := range hec.Events() {
		ev := e["event"].(map[string]any)
		fields := e["fields"].(map[string]any)
		if ev["sid"] != sid || fields["sid"] != sid || ev["search_name"] != "Threat - Outbound to known bad - Rule" ||
			e["sourcetype"] != "iocane:enrichment" || ev["verdict"] != "malicious" {
			t.Errorf("HEC event %v", e)
		}
		iocs = append(iocs, ev["ioc"].(string))
	}
	slices.Sort(iocs)
	if want := []string{fakeintel.MaliciousSHA256.Value, fakeintel.MaliciousIP.Value}; !slices.Equal(iocs, want) {
		t.Errorf("HEC IOCs %v, want %v", iocs, want)
	}
	if n := len(hive.Matching("POST", "/api/v1/alert/~40964")); n != len(obs)+1 {
		t.Errorf("TheHive got %d POSTs for the first alert after the Splunk alert, want %d", n, len(obs)+1)
	}

	resp, metricsText := call(t, "GET", base+"/metrics", e2eAdmin, nil, nil)
	for _, want := range []string{`iocane_deliveries_total{kind="writeback",result="ok",sink="thehive"}`,
		`iocane_deliveries_total{kind="notify",result="ok",sink="slack"}`, `iocane_alert_turnaround_seconds_count{sink="thehive"}`} {
		if resp.StatusCode != 200 || !strings.Contains(metricsText, want) {
			t.Errorf("/metrics (%d) lacks %s", resp.StatusCode, want)
		}
	}

	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	// Stopped: every delivery is done. The benign-only alert notified
	// nobody; the two malicious alerts (TheHive's and Splunk's) notified
	// each channel once.
	for name, r := range map[string]*recorder{"Slack": slack, "Teams": teams} {
		bodies := r.bodies()
		for _, b := range bodies {
			if strings.Contains(b, "~40999") {
				t.Errorf("the benign-only alert notified %s: %.300s", name, b)
			}
		}
		if len(bodies) != 2 {
			t.Errorf("%d %s messages for two malicious alerts, want 2", len(bodies), name)
		}
	}
	l := logs.String()
	if !strings.Contains(l, `"msg":"write-back: delivered"`) {
		t.Errorf("no delivery logged:\n%s", l)
	}
	for _, s := range []string{wbHiveKey, wbHEC, wbSlackToken} {
		if strings.Contains(l, s) {
			t.Errorf("a write-back credential appears in the log: %q", s)
		}
	}
}

// wbSlackToken stands for the secret part of a Slack or Teams webhook URL.
const wbSlackToken = "XoxbWebhookSECRET0123456789"

// recorder is a webhook receiver that keeps every body it is sent.
type recorder struct {
	*httptest.Server
	mu  sync.Mutex
	got []string
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, string(b))
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) bodies() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}
