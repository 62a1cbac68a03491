package integrations

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iocane/iocane/internal/result"
)

// Sorted returns rs worst verdict first, then by score (highest first),
// type and value; rs is not modified.
func Sorted(rs []result.Result) []result.Result {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(a, b result.Result) int {
		if d := b.Verdict.Rank() - a.Verdict.Rank(); d != 0 {
			return d
		}
		if a.Score != b.Score {
			return b.Score - a.Score
		}
		if c := strings.Compare(string(a.IOC.Type), string(b.IOC.Type)); c != 0 {
			return c
		}
		return strings.Compare(a.IOC.Value, b.IOC.Value)
	})
	return out
}

// Summary counts d's results per verdict: "2 malicious, 1 benign".
func Summary(rs []result.Result) string {
	n := map[result.Verdict]int{}
	for _, r := range rs {
		n[r.Verdict]++
	}
	var parts []string
	for _, v := range []result.Verdict{result.Malicious, result.Suspicious, result.Benign, result.Unknown} {
		if n[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[v], v))
		}
	}
	if len(parts) == 0 {
		return "no IOC"
	}
	return strings.Join(parts, ", ")
}

// TopReasons returns at most n of r's reasons.
func TopReasons(r result.Result, n int) []string {
	if len(r.Reasons) > n {
		return r.Reasons[:n]
	}
	return r.Reasons
}

// VerdictTable renders d as a Markdown summary: a heading line, then one
// table row per IOC (verdict, score, type, value, top reasons), worst
// first, then the link to the full result. IOC values are shown in code
// spans, so no viewer turns a malicious URL into a link.
func VerdictTable(d Delivery) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**iocane enrichment**: %s (job `%s`)\n\n", Summary(d.Results), d.Job.ID)
	b.WriteString("| Verdict | Score | Type | IOC | Reasons |\n|---|---|---|---|---|\n")
	for _, r := range Sorted(d.Results) {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s |\n", r.Verdict, r.Score, r.IOC.Type, code(r.IOC.Value),
			cell(strings.Join(TopReasons(r, 3), "; ")))
	}
	if d.Link != "" {
		fmt.Fprintf(&b, "\nFull result: %s\n", d.Link)
	}
	return b.String()
}

// code puts s in a Markdown code span that s cannot close.
func code(s string) string {
	s = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// cell escapes s for a Markdown table cell.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}
