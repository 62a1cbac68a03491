package dbot_test

import (
	"encoding/json"
	"testing"

	"github.com/iocane/iocane/internal/output"
	"github.com/iocane/iocane/internal/output/dbot"
	"github.com/iocane/iocane/internal/output/outputtest"
)

type context struct {
	DBotScore []dbot.Score
	IP        []struct {
		Address   string
		Malicious *dbot.Malicious
	}
	File  []map[string]string
	Email []map[string]any
	CVE   []map[string]any
	URL   []map[string]any
}

func TestGolden(t *testing.T) {
	got := outputtest.Render(t, "dbot", outputtest.Options(), outputtest.Results())
	outputtest.Golden(t, "context.json", got)
	var c context
	if err := json.Unmarshal(got, &c); err != nil {
		t.Fatal(err)
	}
	want := []dbot.Score{
		{"185.220.101.47", "ip", "iocane", 3, dbot.DefaultReliability},
		{"8.8.8.8", "ip", "iocane", 1, dbot.DefaultReliability},
		{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "file", "iocane", 0, dbot.DefaultReliability},
		{"http://login-paypa1.example.com/verify?id=1&next='home'", "url", "iocane", 2, dbot.DefaultReliability},
		{"CVE-2021-44228", "cve", "iocane", 2, dbot.DefaultReliability},
		{"billing@evil-mail.example", "email", "iocane", 3, dbot.DefaultReliability},
	}
	if len(c.DBotScore) != len(want) {
		t.Fatalf("%d DBotScore entries", len(c.DBotScore))
	}
	for i := range want {
		if c.DBotScore[i] != want[i] {
			t.Errorf("DBotScore %d: %+v, want %+v", i, c.DBotScore[i], want[i])
		}
	}
	if len(c.IP) != 2 || c.IP[0].Malicious == nil || c.IP[0].Malicious.Vendor != "iocane" || c.IP[1].Malicious != nil {
		t.Errorf("IP context %+v", c.IP)
	}
	if c.File[0]["SHA256"] == "" || c.Email[0]["Malicious"] == nil || c.CVE[0]["ID"] != "CVE-2021-44228" || c.URL[0]["Malicious"] != nil {
		t.Errorf("indicator context: %+v %+v %+v %+v", c.File, c.Email, c.CVE, c.URL)
	}
}

func TestReliabilityOption(t *testing.T) {
	opt := outputtest.Options()
	opt.Reliability = "A - Completely reliable"
	got := outputtest.Render(t, "dbot", opt, outputtest.Results()[:1])
	var c context
	if err := json.Unmarshal(got, &c); err != nil {
		t.Fatal(err)
	}
	if c.DBotScore[0].Reliability != "A - Completely reliable" {
		t.Errorf("reliability %q", c.DBotScore[0].Reliability)
	}
	empty := outputtest.Render(t, "dbot", output.Options{}, nil)
	var m map[string]any
	if err := json.Unmarshal(empty, &m); err != nil || m["DBotScore"] == nil {
		t.Errorf("empty context %s (%v)", empty, err)
	}
}
