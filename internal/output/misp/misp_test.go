package misp_test

import (
	"encoding/json"
	"testing"

	"github.com/iocane/iocane/internal/output/misp"
	"github.com/iocane/iocane/internal/output/outputtest"
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

func TestDistributionFollowsTLP(t *testing.T) {
	rs := outputtest.Results()
	for _, tc := range []struct {
		idx  int
		dist string
		tag  string
	}{{4, "3", "tlp:clear"}, {1, "1", "tlp:green"}, {0, "0", "tlp:amber"}} {
		ev := misp.Build(rs[tc.idx:tc.idx+1], outputtest.At)
		if ev.Distribution != tc.dist || ev.Tag[0].Name != tc.tag {
			t.Errorf("%s: distribution %s tag %s, want %s %s", rs[tc.idx].TLP, ev.Distribution, ev.Tag[0].Name, tc.dist, tc.tag)
		}
	}
	empty := misp.Build(nil, outputtest.At)
	if empty.Attribute == nil || empty.Date != "2026-11-26" || empty.ThreatLevelID != "4" {
		t.Errorf("empty event %+v", empty)
	}
}
