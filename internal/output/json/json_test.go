package json_test

import (
	encjson "encoding/json"
	"testing"

	"github.com/iocane/iocane/internal/output/outputtest"
	"github.com/iocane/iocane/internal/result"

	_ "github.com/iocane/iocane/internal/output/json"
)

func TestGolden(t *testing.T) {
	for _, format := range []string{"json", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			got := outputtest.Render(t, format, outputtest.Options(), outputtest.Results())
			outputtest.Golden(t, "results."+format, got)
		})
	}
}

func TestArrayRoundTrips(t *testing.T) {
	got := outputtest.Render(t, "json", outputtest.Options(), outputtest.Results())
	var back []result.Result
	if err := encjson.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	want := outputtest.Results()
	if len(back) != len(want) {
		t.Fatalf("%d results back, want %d", len(back), len(want))
	}
	for i := range want {
		if back[i].IOC != want[i].IOC || back[i].Verdict != want[i].Verdict || back[i].Score != want[i].Score ||
			back[i].TLP != want[i].TLP || !back[i].EnrichedAt.Equal(want[i].EnrichedAt) || len(back[i].Sources) != len(want[i].Sources) {
			t.Errorf("result %d: got %+v, want %+v", i, back[i], want[i])
		}
	}
}

// TestContractFields checks the fixed field names of docs/design.md on one line.
func TestContractFields(t *testing.T) {
	got := outputtest.Render(t, "jsonl", outputtest.Options(), outputtest.Results()[:1])
	var m map[string]any
	if err := encjson.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ioc", "verdict", "score", "confidence", "reasons", "sources", "dbot_score", "tlp", "enriched_at"} {
		if _, ok := m[k]; !ok {
			t.Errorf("field %q missing from %s", k, got)
		}
	}
	src := m["sources"].([]any)[0].(map[string]any)
	for _, k := range []string{"provider", "status", "cached", "latency_ms", "summary", "link", "data"} {
		if _, ok := src[k]; !ok {
			t.Errorf("source field %q missing", k)
		}
	}
}

func TestEmpty(t *testing.T) {
	for format, want := range map[string]string{"json": "[]\n", "jsonl": ""} {
		got := outputtest.Render(t, format, outputtest.Options(), nil)
		if string(got) != want {
			t.Errorf("%s with no results: %q, want %q", format, got, want)
		}
		var rs []result.Result
		if format == "json" {
			if err := encjson.Unmarshal(got, &rs); err != nil {
				t.Error(err)
			}
		}
	}
	got := outputtest.Render(t, "json", outputtest.Options(), []result.Result{{}})
	var rs []map[string]any
	if err := encjson.Unmarshal(got, &rs); err != nil {
		t.Fatal(err)
	}
	if rs[0]["reasons"] == nil || rs[0]["sources"] == nil {
		t.Errorf("nil slices must be written as []: %s", got)
	}
}
