package xsoar

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/integrations/integrationstest"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
)

const key = "xsoar-key-0123456789ABCDEF"

func delivery(extra map[string]string, system, id string) integrations.Delivery {
	return integrations.Delivery{
		Job: jobs.Job{ID: "job-3", State: jobs.Completed, Alert: &jobs.AlertRef{System: system, ID: id, Extra: extra}},
		Results: []result.Result{{IOC: ioc.IOC{Type: ioc.Domain, Value: "evil-login.com"}, Verdict: result.Malicious, Score: 90,
			Reasons: []string{"urlhaus: 4 URLs"}}},
	}
}

func TestWarRoomEntry(t *testing.T) {
	for _, tc := range []struct {
		name, keyID string
		d           integrations.Delivery
	}{
		{"xsoar6 generic webhook", "", delivery(map[string]string{"incident_id": "42"}, "generic", "evt")},
		{"xsoar8 system xsoar", "7", delivery(nil, "xsoar", "42")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := integrationstest.NewXSOAR(key, tc.keyID)
			defer f.Close()
			s := New(f.URL+"/xsoar/public/v1", provider.NewSecret(key), nil)
			s.KeyID = tc.keyID
			if !s.Applies(tc.d) {
				t.Fatal("does not apply")
			}
			if err := s.Deliver(context.Background(), tc.d); err != nil {
				t.Fatal(err)
			}
			es := f.Entries()
			if len(es) != 1 || es[0]["investigationId"] != "42" || es[0]["markdown"] != true || fmt.Sprint(es[0]["tags"]) != "[iocane]" ||
				!strings.Contains(es[0]["data"].(string), "| malicious | 90 | domain | `evil-login.com` | urlhaus: 4 URLs |") {
				t.Errorf("entries %v", es)
			}
			r := f.Requests()[0]
			if r.Path != "/xsoar/public/v1/entry" || r.Header.Get("Authorization") != key || r.Header.Get("x-xdr-auth-id") != tc.keyID {
				t.Errorf("request %s %v", r.Path, r.Header)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	f := integrationstest.NewXSOAR(key, "")
	defer f.Close()
	d := delivery(map[string]string{"incident_id": "42"}, "generic", "")
	if err := New(f.URL, provider.NewSecret("nope-nope"), nil).Deliver(context.Background(), d); !errors.Is(err, integrations.ErrPermanent) {
		t.Errorf("bad key: %v", err)
	}
	f.Fail("POST", "/entry", 1, 502)
	if err := New(f.URL, provider.NewSecret(key), nil).Deliver(context.Background(), d); err == nil || errors.Is(err, integrations.ErrPermanent) {
		t.Errorf("502: %v", err)
	}
	if New(f.URL, provider.NewSecret(key), nil).Applies(delivery(nil, "splunk", "sid")) {
		t.Error("applies to a Splunk alert")
	}
}
