package ioc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
)

// extractCase is one entry of testdata/extract_cases.json: an input and the
// exact set of IOCs (deduplicated, order-independent) it must yield.
type extractCase struct {
	Name  string `json:"name"`
	Input string `json:"input"`
	Want  []IOC  `json:"want"`
}

func loadCases(t testing.TB) []extractCase {
	t.Helper()
	data, err := os.ReadFile("testdata/extract_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs []extractCase
	if err := json.Unmarshal(data, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

// extractSet runs Extract and returns the deduplicated result.
func extractSet(in []byte) map[IOC]bool {
	got := map[IOC]bool{}
	Extract(in, func(m Match) { got[m.IOC] = true })
	return got
}

func setString(m map[IOC]bool) string {
	var s []string
	for i := range m {
		s = append(s, i.String())
	}
	sort.Strings(s)
	return "[" + strings.Join(s, " ") + "]"
}

func TestExtractCases(t *testing.T) {
	cs := loadCases(t)
	if len(cs) < 150 {
		t.Errorf("only %d cases, want at least 150", len(cs))
	}
	names := map[string]bool{}
	for _, c := range cs {
		if names[c.Name] {
			t.Errorf("duplicate case name %q", c.Name)
		}
		names[c.Name] = true
		t.Run(c.Name, func(t *testing.T) {
			want := map[IOC]bool{}
			for _, w := range c.Want {
				want[w] = true
			}
			got := extractSet([]byte(c.Input))
			if setString(got) != setString(want) {
				t.Errorf("Extract(%q)\n got %s\nwant %s", c.Input, setString(got), setString(want))
			}
		})
	}
}

// TestPrecisionRecall logs per-type true positives, false positives, false
// negatives, precision and recall over the case corpus.
func TestPrecisionRecall(t *testing.T) {
	type counts struct{ tp, fp, fn int }
	per := map[Type]*counts{}
	get := func(ty Type) *counts {
		if per[ty] == nil {
			per[ty] = &counts{}
		}
		return per[ty]
	}
	for _, c := range loadCases(t) {
		want := map[IOC]bool{}
		for _, w := range c.Want {
			want[w] = true
			get(w.Type)
		}
		got := extractSet([]byte(c.Input))
		for g := range got {
			if want[g] {
				get(g.Type).tp++
			} else {
				get(g.Type).fp++
			}
		}
		for w := range want {
			if !got[w] {
				get(w.Type).fn++
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-8s %5s %5s %5s %9s %9s\n", "type", "TP", "FP", "FN", "precision", "recall")
	var all counts
	for _, ty := range Types {
		c := per[ty]
		if c == nil {
			continue
		}
		all.tp, all.fp, all.fn = all.tp+c.tp, all.fp+c.fp, all.fn+c.fn
		fmt.Fprintf(&b, "%-8s %5d %5d %5d %9s %9s\n", ty, c.tp, c.fp, c.fn, ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn))
	}
	fmt.Fprintf(&b, "%-8s %5d %5d %5d %9s %9s\n", "all", all.tp, all.fp, all.fn, ratio(all.tp, all.tp+all.fp), ratio(all.tp, all.tp+all.fn))
	t.Log(b.String())
	if all.fp != 0 || all.fn != 0 {
		t.Errorf("corpus not at 100%%: %d false positives, %d false negatives", all.fp, all.fn)
	}
}

func ratio(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}

// TestExtractReaderAgrees checks that streaming in small chunks finds what
// Extract finds, at the same offsets, on realistic multi-line input.
func TestExtractReaderAgrees(t *testing.T) {
	var in bytes.Buffer
	for _, c := range loadCases(t) {
		in.WriteString(c.Input)
		in.WriteString("\n")
	}
	var want []Match
	Extract(in.Bytes(), func(m Match) { want = append(want, m) })
	for _, size := range []int{512, 4096, 1 << 20} {
		old := chunkSize
		chunkSize = size
		var got []Match
		err := ExtractReader(bytes.NewReader(in.Bytes()), func(m Match) { got = append(got, m) })
		chunkSize = old
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("chunk %d: ExtractReader found %d matches, Extract %d", size, len(got), len(want))
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Errorf("first difference at %d: %+v vs %+v", i, got[i], want[i])
					break
				}
			}
		}
	}
}
