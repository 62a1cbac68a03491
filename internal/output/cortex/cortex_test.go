package cortex_test

import (
	"encoding/json"
	"testing"

	"github.com/iocane/iocane/internal/output/cortex"
	"github.com/iocane/iocane/internal/output/outputtest"
)

func TestGolden(t *testing.T) {
	got := outputtest.Render(t, "cortex", outputtest.Options(), outputtest.Results())
	outputtest.Golden(t, "reports.json", got)
	var reps []cortex.Report
	if err := json.Unmarshal(got, &reps); err != nil {
		t.Fatal(err)
	}
	levels := []string{"malicious", "safe", "info", "suspicious", "suspicious", "malicious"}
	for i, rep := range reps {
		if !rep.Success || rep.Summary.Taxonomies[0].Level != levels[i] || rep.Summary.Taxonomies[0].Namespace != "iocane" {
			t.Errorf("report %d: %+v", i, rep.Summary)
		}
	}
	vt := reps[0].Summary.Taxonomies[1]
	if vt.Predicate != "virustotal" || vt.Level != "malicious" || vt.Value != "12/94 engines flag it malicious" {
		t.Errorf("virustotal taxonomy %+v", vt)
	}
	if gn := reps[1].Summary.Taxonomies[1]; gn.Predicate != "greynoise" || gn.Level != "safe" {
		t.Errorf("greynoise taxonomy %+v", gn)
	}
}

func TestOneResultIsOneReport(t *testing.T) {
	got := outputtest.Render(t, "cortex", outputtest.Options(), outputtest.Results()[:1])
	outputtest.Golden(t, "report-single.json", got)
	var rep cortex.Report
	if err := json.Unmarshal(got, &rep); err != nil {
		t.Fatalf("single result is not one report object: %v", err)
	}
	if rep.Full.IOC.Value != "185.220.101.47" || rep.Summary.Taxonomies[0].Value != "98" {
		t.Errorf("report %+v", rep)
	}
	if got := outputtest.Render(t, "cortex", outputtest.Options(), nil); string(got) != "[]\n" {
		t.Errorf("empty run: %q", got)
	}
}
