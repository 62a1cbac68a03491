package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
)

// Results streams a job's results page by page in a stable order;
// ResultsPage gives the same order one page at a time, filters by verdict
// and type and sorts the worst first; List gives jobs newest first.
func TestResultsPaging(t *testing.T) { backends(t, testResultsPaging) }

func testResultsPaging(t *testing.T, db string) {
	ctx := context.Background()
	h := newHarness(t, newEngine(t, newFake(), 8, nil), db, Options{})
	const n = 1100 // more than two of Results' pages
	var lines []string
	evil := 0
	for i := range n {
		if i%7 == 0 {
			lines = append(lines, fmt.Sprintf("evil-%04d.badsite.com", i))
			evil++
		} else {
			lines = append(lines, fmt.Sprintf("host-%04d.badsite.com", i))
		}
	}
	lines = append(lines, "185.220.101.47") // another type
	j, _, err := h.q.Submit(ctx, Spec{InputFormat: "text", Input: []byte(strings.Join(lines, "\n"))})
	if err != nil {
		t.Fatal(err)
	}
	if fin := h.wait(t); fin.State != Completed || fin.Counts.Done != n+1 || fin.Counts.Malicious != evil {
		t.Fatalf("job = %+v, want %d done, %d malicious", fin, n+1, evil)
	}

	all := collect(t, h.q, j.ID)
	if len(all) != n+1 {
		t.Fatalf("Results gave %d, want %d", len(all), n+1)
	}
	seen := map[ioc.IOC]bool{}
	for _, r := range all {
		if seen[r.IOC] {
			t.Fatalf("Results gave %s twice", r.IOC)
		}
		seen[r.IOC] = true
	}

	// Pages in IOC order, concatenated, are Results.
	var paged []result.Result
	for off := 0; ; off += 100 {
		_, page, total, err := h.q.ResultsPage(ctx, j.ID, ResultQuery{Offset: off, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if total != n+1 {
			t.Fatalf("total %d, want %d", total, n+1)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
	}
	if !slices.EqualFunc(paged, all, func(a, b result.Result) bool { return a.IOC == b.IOC }) {
		t.Errorf("pages of ResultsPage differ from Results")
	}

	_, mal, total, err := h.q.ResultsPage(ctx, j.ID, ResultQuery{Verdict: result.Malicious, Limit: 1000})
	if err != nil || total != evil || len(mal) != evil {
		t.Fatalf("malicious page: %d of %d (%v), want %d", len(mal), total, err, evil)
	}
	for _, r := range mal {
		if r.Verdict != result.Malicious {
			t.Errorf("%s is %s in the malicious page", r.IOC, r.Verdict)
		}
	}
	_, ipv4, total, err := h.q.ResultsPage(ctx, j.ID, ResultQuery{Type: string(ioc.IPv4), Limit: 10})
	if err != nil || total != 1 || len(ipv4) != 1 || ipv4[0].IOC.Value != "185.220.101.47" {
		t.Errorf("ipv4 page: %v of %d (%v)", ipv4, total, err)
	}
	_, worst, _, err := h.q.ResultsPage(ctx, j.ID, ResultQuery{Worst: true, Offset: evil - 2, Limit: 4})
	if err != nil || len(worst) != 4 {
		t.Fatalf("worst page: %d (%v)", len(worst), err)
	}
	for i, r := range worst {
		if want := i < 2; (r.Verdict == result.Malicious) != want {
			t.Errorf("worst-first page at %d: %s is %s", evil-2+i, r.IOC, r.Verdict)
		}
	}
	if _, _, _, err := h.q.ResultsPage(ctx, "nope", ResultQuery{Limit: 1}); err == nil {
		t.Errorf("ResultsPage of an unknown job: no error")
	}

	// List: newest first, with the total.
	var ids []string
	for i := range 3 {
		k, _, err := h.q.Submit(ctx, Spec{InputFormat: "text", Input: fmt.Appendf(nil, "host-list-%d.badsite.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.ID)
		h.wait(t)
	}
	first, total, err := h.q.List(ctx, 0, 2)
	if err != nil || total != 4 || len(first) != 2 || first[0].ID != ids[2] || first[1].ID != ids[1] {
		t.Fatalf("List(0, 2) = %v, %d, %v; want the last two submitted, 4 in all", first, total, err)
	}
	rest, _, err := h.q.List(ctx, 2, 10)
	if err != nil || len(rest) != 2 || rest[0].ID != ids[0] || rest[1].ID != j.ID || rest[1].Counts.Done != n+1 {
		t.Fatalf("List(2, 10) = %+v, %v", rest, err)
	}
}
