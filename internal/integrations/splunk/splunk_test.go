package splunk

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/integrations/integrationstest"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

const token = "11111111-2222-3333-4444-555555555555"

func delivery(n int) integrations.Delivery {
	at := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	d := integrations.Delivery{Job: jobs.Job{ID: "job-7", State: jobs.Completed, Source: "splunk", FinishedAt: at,
		Alert: &jobs.AlertRef{System: "splunk", ID: "scheduler__admin__search__RMD5_at_1800000000_77",
			Extra: map[string]string{"search_name": "Threat - Outbound to known bad - Rule"}}}}
	for i := range n {
		d.Results = append(d.Results, result.Result{IOC: ioc.IOC{Type: ioc.IPv4, Value: fmt.Sprintf("185.220.101.%d", i)},
			Verdict: result.Malicious, Score: 87, Confidence: 72, DBotScore: 3, TLP: tlp.Amber, EnrichedAt: at,
			Reasons: []string{"virustotal: 12/94 engines flag it malicious"},
			Sources: []result.Source{{Provider: "virustotal", Status: "ok", Summary: "12/94", Link: "https://www.virustotal.com/gui/ip-address/x"}}})
	}
	return d
}

func TestEventsCarrySID(t *testing.T) {
	f := integrationstest.NewHEC(token)
	defer f.Close()
	s := New(f.URL, provider.NewSecret(token), nil)
	s.Index = "threat_intel"
	d := delivery(2)
	if !s.Applies(d) {
		t.Fatal("does not apply to a Splunk alert")
	}
	if err := s.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	reqs := f.Requests()
	if len(reqs) != 1 || reqs[0].Header.Get("Authorization") != "Splunk "+token || reqs[0].Path != "/services/collector/event" {
		t.Fatalf("requests %+v", reqs)
	}
	evs := f.Events()
	if len(evs) != 2 {
		t.Fatalf("events %v", evs)
	}
	e := evs[0]
	body := e["event"].(map[string]any)
	fields := e["fields"].(map[string]any)
	if e["sourcetype"] != "iocane:enrichment" || e["source"] != "iocane" || e["index"] != "threat_intel" || e["time"] != float64(time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC).Unix()) {
		t.Errorf("envelope %v", e)
	}
	if body["sid"] != d.Job.Alert.ID || body["search_name"] != "Threat - Outbound to known bad - Rule" || body["ioc"] != "185.220.101.0" ||
		body["verdict"] != "malicious" || body["score"] != 87.0 || body["dbot_score"] != 3.0 || body["tlp"] != "amber" || body["job_id"] != "job-7" {
		t.Errorf("event %v", body)
	}
	if fields["sid"] != d.Job.Alert.ID || fields["search_name"] != "Threat - Outbound to known bad - Rule" || fields["verdict"] != "malicious" {
		t.Errorf("fields %v", fields)
	}
}

func TestBatches(t *testing.T) {
	f := integrationstest.NewHEC(token)
	defer f.Close()
	s := New(f.URL+"/services/collector/event", provider.NewSecret(token), nil)
	if err := s.Deliver(context.Background(), delivery(250)); err != nil {
		t.Fatal(err)
	}
	if len(f.Requests()) != 3 || len(f.Events()) != 250 {
		t.Errorf("%d requests, %d events", len(f.Requests()), len(f.Events()))
	}
}

func TestErrors(t *testing.T) {
	f := integrationstest.NewHEC(token)
	defer f.Close()
	bad := New(f.URL, provider.NewSecret("wrong-token-0000"), nil)
	if err := bad.Deliver(context.Background(), delivery(1)); !errors.Is(err, integrations.ErrPermanent) {
		t.Errorf("bad token: %v, want permanent", err)
	}
	f.Fail("POST", "/services/collector", 1, 503)
	s := New(f.URL, provider.NewSecret(token), nil)
	if err := s.Deliver(context.Background(), delivery(1)); err == nil || errors.Is(err, integrations.ErrPermanent) {
		t.Errorf("503: %v, want retryable", err)
	}
	d := delivery(1)
	d.Job.Alert.System = "thehive"
	if s.Applies(d) {
		t.Error("applies to a TheHive alert without scope all")
	}
	s.All = true
	if !s.Applies(d) {
		t.Error("scope all does not apply")
	}
}
