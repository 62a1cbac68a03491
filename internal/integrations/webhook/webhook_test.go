package webhook

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/integrations/integrationstest"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/server"
	"github.com/iocane/iocane/internal/tlp"
)

const secret = "outbound-secret-0123456789"

func TestSignedPost(t *testing.T) {
	f := integrationstest.NewReceiver()
	defer f.Close()
	s := New(provider.NewSecret(f.URL+"/hook?token=abc"), provider.NewSecret(secret), nil)
	s.now = func() time.Time { return time.Unix(1800000000, 0) }
	d := integrations.Delivery{Job: jobs.Job{ID: "job-5", State: jobs.Completed, Alert: &jobs.AlertRef{System: "generic", ID: "a1"}},
		Results: []result.Result{{IOC: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}, Verdict: result.Malicious, Score: 87}}}
	if err := s.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	r := f.Requests()[0]
	ts := r.Header.Get(server.HeaderTimestamp)
	if ts != strconv.Itoa(1800000000) || r.Header.Get(server.HeaderSignature) != server.Sign([]byte(secret), ts, r.Body) ||
		r.Header.Get("Idempotency-Key") != "iocane-job-job-5" || r.Path != "/hook?token=abc" {
		t.Errorf("request %s %v", r.Path, r.Header)
	}
	var p Payload
	if err := r.JSON(&p); err != nil || p.Job.ID != "job-5" || len(p.Results) != 1 || p.Results[0].Verdict != result.Malicious {
		t.Errorf("payload %+v %v", p, err)
	}
	if HeaderSignature != server.HeaderSignature || HeaderTimestamp != server.HeaderTimestamp {
		t.Error("header names differ from the intake's")
	}
}

func TestErrorsHideTheURL(t *testing.T) {
	f := integrationstest.NewReceiver()
	defer f.Close()
	f.Fail("POST", "/", 1, 500)
	s := New(provider.NewSecret(f.URL+"/hook/SECRETPATH"), provider.Secret{}, nil)
	d := integrations.Delivery{Job: jobs.Job{ID: "j", Alert: &jobs.AlertRef{}}, Results: []result.Result{{}}}
	err := s.Deliver(context.Background(), d)
	if err == nil || errors.Is(err, integrations.ErrPermanent) {
		t.Errorf("500: %v, want retryable", err)
	}
	f.Close()
	err = s.Deliver(context.Background(), d)
	if err == nil {
		t.Fatal("no error from a closed server")
	}
	if s := err.Error(); strings.Contains(s, "SECRETPATH") {
		t.Errorf("the URL leaks: %s", s)
	}
}

// A result marked stricter than max_tlp (default amber) is left out of the
// payload and counted; max_tlp: red sends it.
func TestTLPRedResultsWithheld(t *testing.T) {
	f := integrationstest.NewReceiver()
	defer f.Close()
	d := integrations.Delivery{Job: jobs.Job{ID: "job-6", State: jobs.Completed, Alert: &jobs.AlertRef{System: "generic", ID: "a2"}},
		Results: []result.Result{
			{IOC: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}, Verdict: result.Malicious, Score: 87, TLP: tlp.Red},
			{IOC: ioc.IOC{Type: ioc.Domain, Value: "evil.example"}, Verdict: result.Malicious, Score: 80, TLP: tlp.Amber},
		}}
	if err := New(provider.NewSecret(f.URL+"/hook"), provider.Secret{}, nil).Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	r := f.Requests()[0]
	var p Payload
	if err := r.JSON(&p); err != nil || len(p.Results) != 1 || p.Withheld != 1 || strings.Contains(string(r.Body), "185.220.101.47") {
		t.Errorf("default max_tlp: payload %s %v; want the amber result only and withheld 1", r.Body, err)
	}
	s, err := integrations.Config{Sinks: []integrations.Settings{{Name: Name, Values: map[string]string{"max_tlp": "red", "scope": "alerts"},
		Secrets: map[string]provider.Secret{"url": provider.NewSecret(f.URL + "/hook")}}}}.Build(integrations.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s[0].Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if r := f.Requests()[1]; !strings.Contains(string(r.Body), "185.220.101.47") {
		t.Errorf("max_tlp red: the red result is not sent: %s", r.Body)
	}
}
