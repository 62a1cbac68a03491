package misp_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/output/misp"
	"github.com/iocane/iocane/internal/output/outputtest"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

func TestGolden(t *testing.T) {
	got := outputtest.Render(t, "misp", outputtest.Options(), outputtest.Results())
	outputtest.Golden(t, "event.json", got)

	var doc struct{ Event misp.Event }
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	ev := doc.Event
	if ev.ThreatLevelID != "1" || ev.Distribution != "0" || ev.Tag[0].Name != "tlp:red" || ev.Date != "2026-11-26" {
		t.Errorf("event header %+v", ev)
	}
	want := []struct {
		typ, cat string
		toIDS    bool
		tags     [2]string
	}{
		{"ip-dst", "Network activity", true, [2]string{"tlp:amber", `iocane:verdict="malicious"`}},
		{"ip-dst", "Network activity", false, [2]string{"tlp:green", `iocane:verdict="benign"`}},
		{"sha256", "Payload delivery", false, [2]string{"tlp:amber", `iocane:verdict="unknown"`}},
		{"url", "Network activity", false, [2]string{"tlp:amber", `iocane:verdict="suspicious"`}},
		{"vulnerability", "External analysis", false, [2]string{"tlp:clear", `iocane:verdict="suspicious"`}},
		{"email-src", "Payload delivery", true, [2]string{"tlp:red", `iocane:verdict="malicious"`}},
	}
	if len(ev.Attribute) != len(want) {
		t.Fatalf("%d attributes", len(ev.Attribute))
	}
	for i, w := range want {
		a := ev.Attribute[i]
		if a.Type != w.typ || a.Category != w.cat || a.ToIDS != w.toIDS || a.Tag[0].Name != w.tags[0] || a.Tag[1].Name != w.tags[1] {
			t.Errorf("attribute %d: %+v, want %+v", i, a, w)
		}
	}
}

// The event is marked with the strictest of the input's TLP and its
// results', and is shared with your organisation only, whatever the TLP;
// an empty run is marked with the input's TLP, not tlp:clear.
func TestEventTLPAndDistribution(t *testing.T) {
	rs := outputtest.Results()
	for _, tc := range []struct {
		idx   int
		input tlp.Level
		tag   string
	}{{4, tlp.Clear, "tlp:clear"}, {1, tlp.Clear, "tlp:green"}, {0, tlp.Green, "tlp:amber"}, {4, tlp.Red, "tlp:red"}} {
		ev := misp.Build(rs[tc.idx:tc.idx+1], tc.input, outputtest.At)
		if ev.Distribution != "0" || ev.Tag[0].Name != tc.tag {
			t.Errorf("%s result, %s input: distribution %s tag %s, want 0 %s", rs[tc.idx].TLP, tc.input, ev.Distribution, ev.Tag[0].Name, tc.tag)
		}
	}
	empty := misp.Build(nil, tlp.Amber, outputtest.At)
	if empty.Attribute == nil || empty.Date != "2026-11-26" || empty.ThreatLevelID != "4" || empty.Distribution != "0" || empty.Tag[0].Name != "tlp:amber" {
		t.Errorf("empty event %+v", empty)
	}
}

// TestPivotObjects (issue 14): a domain with the address it resolves to
// becomes a domain-ip object referring to the address's attribute; a URL a
// url object referring to its host's; a related IOC with no attribute in
// the event gets no reference.
func TestPivotObjects(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	dom := ioc.IOC{Type: ioc.Domain, Value: "login-micros0ft-verify.net"}
	ip := ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}
	u := ioc.IOC{Type: ioc.URL, Value: "http://login-micros0ft-verify.net/o365"}
	rs := []result.Result{
		{IOC: dom, Verdict: result.Suspicious, EnrichedAt: at, Related: []result.Related{
			{Type: ioc.IPv4, Value: ip.Value, Relation: "resolves-to"}, {Type: ioc.IPv4, Value: "198.51.100.9", Relation: "resolves-to"}}},
		{IOC: ip, Verdict: result.Malicious, EnrichedAt: at},
		{IOC: u, Verdict: result.Suspicious, EnrichedAt: at, Related: []result.Related{{Type: ioc.Domain, Value: dom.Value, Relation: "host"}}},
	}
	ev := misp.Build(rs, tlp.Amber, at)
	if len(ev.Object) != 2 {
		t.Fatalf("%d objects: %+v", len(ev.Object), ev.Object)
	}
	uuids := map[string]string{}
	for _, a := range ev.Attribute {
		uuids[a.Value] = a.UUID
	}
	d, w := ev.Object[0], ev.Object[1]
	if d.Name != "domain-ip" || len(d.ObjectReference) != 1 || d.ObjectReference[0].ReferencedUUID != uuids[ip.Value] ||
		d.ObjectReference[0].RelationshipType != "resolves-to" || d.ObjectReference[0].ObjectUUID != d.UUID {
		t.Errorf("domain-ip object %+v", d)
	}
	if len(d.Attribute) != 2 || d.Attribute[0].ObjectRelation != "domain" || d.Attribute[1].ObjectRelation != "ip" || d.Attribute[1].Type != "ip-dst" {
		t.Errorf("domain-ip attributes %+v", d.Attribute)
	}
	if w.Name != "url" || len(w.ObjectReference) != 1 || w.ObjectReference[0].ReferencedUUID != uuids[dom.Value] || w.ObjectReference[0].RelationshipType != "related-to" {
		t.Errorf("url object %+v", w)
	}
}
