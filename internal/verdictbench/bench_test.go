package verdictbench

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/result"
)

// classes are the verdict classes in matrix order.
var classes = []result.Verdict{result.Malicious, result.Suspicious, result.Unknown, result.Benign}

// minCases is the size the issue asks the benchmark to keep.
const minCases = 200

// TestVerdictBenchmark runs every labelled case and prints the confusion
// matrix (rows: label, columns: verdict) with -v. It fails when a benign- or
// unknown-labelled case comes out malicious, or a malicious-labelled case
// benign; other disagreements are listed, not failed.
func TestVerdictBenchmark(t *testing.T) {
	cases := loadCases(t, "cases/*.json")
	if len(cases) < minCases {
		t.Errorf("%d cases, want at least %d", len(cases), minCases)
	}
	matrix := map[result.Verdict]map[result.Verdict]int{}
	for _, v := range classes {
		matrix[v] = map[result.Verdict]int{}
	}
	var misses []string
	for _, c := range cases {
		r := run(t, c)
		matrix[c.Label][r.Verdict]++
		if r.Verdict == c.Label {
			continue
		}
		line := fmt.Sprintf("%s/%s (%s): label %s, got %s score %d: %s", c.file, c.Name, c.IOC, c.Label, r.Verdict, r.Score, strings.Join(r.Reasons, "; "))
		misses = append(misses, line)
		if hardMiss(c.Label, r.Verdict) {
			t.Errorf("hard rule: %s", line)
		}
	}
	t.Logf("verdict benchmark: %d cases\n%s", len(cases), formatMatrix(matrix))
	for _, m := range misses {
		t.Logf("off-diagonal: %s", m)
	}
}

// hardMiss is the rule the benchmark enforces: nothing labelled benign or
// unknown is called malicious, nothing labelled malicious benign.
func hardMiss(label, got result.Verdict) bool {
	switch label {
	case result.Benign, result.Unknown:
		return got == result.Malicious
	case result.Malicious:
		return got == result.Benign
	}
	return false
}

// formatMatrix prints rows (label) by columns (verdict), with totals and
// the share of each row on the diagonal.
func formatMatrix(m map[result.Verdict]map[result.Verdict]int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s", "label \\ verdict")
	for _, v := range classes {
		fmt.Fprintf(&b, "%11s", v)
	}
	fmt.Fprintf(&b, "%8s%9s\n", "total", "agree")
	agree, total := 0, 0
	for _, l := range classes {
		fmt.Fprintf(&b, "%-18s", l)
		n := 0
		for _, v := range classes {
			fmt.Fprintf(&b, "%11d", m[l][v])
			n += m[l][v]
		}
		pct := 0.0
		if n > 0 {
			pct = 100 * float64(m[l][l]) / float64(n)
		}
		fmt.Fprintf(&b, "%8d%8.0f%%\n", n, pct)
		agree += m[l][l]
		total += n
	}
	if total > 0 {
		fmt.Fprintf(&b, "agreement %d/%d (%.0f%%)", agree, total, 100*float64(agree)/float64(total))
	}
	return b.String()
}
