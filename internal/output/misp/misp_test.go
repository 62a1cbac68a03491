package misp_test

import (
	"encoding/json"
	"testing"

	"github.com/iocane/iocane/internal/output/misp"
	"github.com/iocane/iocane/internal/output/outputtest"
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
