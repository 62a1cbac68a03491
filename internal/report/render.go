package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Formats lists the output formats, the default first.
var Formats = []string{"md", "json", "html"}

// Write renders r in format ("json", "md" or "html") to w.
func Write(w io.Writer, format string, r *Report) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "md":
		return writeMarkdown(w, r)
	case "html":
		return writeHTML(w, r)
	}
	return fmt.Errorf("report: unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// Title names the report, e.g. for an e-mail subject.
func (r *Report) Title() string {
	return "iocane pipeline report, " + r.Window.From.Format("2 Jan") + " – " + r.Window.To.Format("2 Jan 2006")
}

func writeMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	c, p := r.Current, r.Before
	fmt.Fprintf(&b, "# %s\n\n", r.Title())
	fmt.Fprintf(&b, "Window %s → %s (previous: %s → %s).\n\n",
		fmtTime(r.Window.From), fmtTime(r.Window.To), fmtTime(r.Previous.From), fmtTime(r.Previous.To))

	b.WriteString("## Volume\n\n| | this window | previous | change |\n|---|--:|--:|--:|\n")
	fmt.Fprintf(&b, "| IOCs processed | %d | %d | %s |\n", c.IOCs.Total, p.IOCs.Total, r.DeltaText("iocs.total"))
	fmt.Fprintf(&b, "| runs (CLI runs and server jobs) | %d | %d | %s |\n\n", c.Runs, p.Runs, r.DeltaText("runs"))
	b.WriteString("| IOC type | IOCs |\n|---|--:|\n")
	for _, k := range sortedKeys(c.IOCs.ByType) {
		fmt.Fprintf(&b, "| %s | %d |\n", mdEscape(k), c.IOCs.ByType[k])
	}
	b.WriteString("\n| input source | IOCs |\n|---|--:|\n")
	for _, k := range sortedKeys(c.IOCs.BySource) {
		fmt.Fprintf(&b, "| %s | %d |\n", mdEscape(k), c.IOCs.BySource[k])
	}
	b.WriteString("\n| day (UTC) | IOCs | malicious | suspicious | benign | unknown |\n|---|--:|--:|--:|--:|--:|\n")
	for _, d := range c.Daily {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", d.Date, d.IOCs,
			d.Verdicts["malicious"], d.Verdicts["suspicious"], d.Verdicts["benign"], d.Verdicts["unknown"])
	}

	b.WriteString("\n## Verdicts\n\n| verdict | IOCs | share | previous | change |\n|---|--:|--:|--:|--:|\n")
	for _, v := range Verdicts {
		n := c.Verdicts[string(v)]
		fmt.Fprintf(&b, "| %s | %d | %s | %d | %s |\n", v, n, share(n, c.IOCs.Total), p.Verdicts[string(v)], r.DeltaText("verdicts."+string(v)))
	}

	b.WriteString("\n## Providers\n\n")
	if len(c.Providers) == 0 {
		b.WriteString("No provider look-ups in this window.\n")
	} else {
		b.WriteString("| provider | calls | ok | not found | error | rate limited | 429s | retries | p50 | p95 | cached | quota used / available |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
		for _, pr := range c.Providers {
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %s | %s | %s | %s | %d | %s |\n", mdEscape(pr.Name), pr.Calls,
				pr.Statuses["ok"], pr.Statuses["not_found"], pr.Statuses["error"], pr.RateLimited,
				optInt(pr.HTTP429), optInt(pr.Retries), fmtMS(pr.P50MS), fmtMS(pr.P95MS), pr.Cached, quotaText(pr.Quota))
		}
		b.WriteString("\n429s count 429 answers and requests the quota refused. \"not recorded\": no run in the window recorded HTTP counters for the provider (CLI runs do; server jobs share their HTTP clients, see /metrics).\n")
	}

	if len(c.Feeds) > 0 {
		b.WriteString("\n## Feeds\n\n| feed | added | removed | expired | matched | alerts matched |\n|---|--:|--:|--:|--:|--:|\n")
		for _, f := range c.Feeds {
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", mdEscape(f.Feed), f.Added, f.Removed, f.Expired, f.Matched, f.Alerts)
		}
		b.WriteString("\nMatched counts the server-job results the feed matched; alerts matched, the alerts among their jobs.\n")
	}

	fmt.Fprintf(&b, "\n## Cache\n\n%d of %d look-ups answered from the cache (hit ratio %s, previous %s): %d calls not made, %d of them at providers with a quota.\n",
		c.Cache.Hits, c.Cache.Lookups, fmtPct(c.Cache.HitRatio), fmtPct(p.Cache.HitRatio), c.Cache.Hits, c.Cache.QuotaSaved)

	b.WriteString("\n## Alerts and deliveries\n\n")
	if !c.Deliveries.Recorded {
		b.WriteString("No data: write-back and notification outcomes are not recorded in this store.\n")
	} else {
		fmt.Fprintf(&b, "Alert received → alert updated: p50 %s, p95 %s over %d alerts (previous p50 %s, p95 %s).\n\n",
			fmtMS(c.Alerts.P50MS), fmtMS(c.Alerts.P95MS), c.Alerts.Updated, fmtMS(p.Alerts.P50MS), fmtMS(p.Alerts.P95MS))
		b.WriteString("| | ok | failed | retries |\n|---|--:|--:|--:|\n")
		fmt.Fprintf(&b, "| write-back | %d | %d | %d |\n", c.Deliveries.WriteBack.OK, c.Deliveries.WriteBack.Failed, c.Deliveries.WriteBack.Retries)
		fmt.Fprintf(&b, "| notification | %d | %d | %d |\n", c.Deliveries.Notify.OK, c.Deliveries.Notify.Failed, c.Deliveries.Notify.Retries)
		for _, s := range c.Deliveries.BySink {
			fmt.Fprintf(&b, "| sink: %s | %d | %d | %d |\n", mdEscape(s.Sink), s.OK, s.Failed, s.Retries)
		}
	}

	b.WriteString("\n## Week over week\n\n| figure | this window | previous | change |\n|---|--:|--:|--:|\n")
	for _, ch := range r.Change {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdEscape(ch.Figure), optNum(ch.Current), optNum(ch.Previous), ch.Text())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DeltaText formats the change of a named figure, "–" when unknown.
func (r *Report) DeltaText(figure string) string {
	for _, ch := range r.Change {
		if ch.Figure == figure {
			return ch.Text()
		}
	}
	return "–"
}

// Text formats the change, e.g. "+12 (+4.5%)", or "–" when unknown.
func (ch Change) Text() string {
	if ch.Delta == nil {
		return "–"
	}
	s := signed(*ch.Delta)
	if ch.DeltaPct != nil {
		s += " (" + signed(*ch.DeltaPct) + "%)"
	}
	return s
}

func signed(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if x > 0 {
		return "+" + s
	}
	if x == 0 {
		return "0"
	}
	return s
}

func optNum(x *float64) string {
	if x == nil {
		return "–"
	}
	return strconv.FormatFloat(*x, 'f', -1, 64)
}

func optInt(x *int64) string {
	if x == nil {
		return "not recorded"
	}
	return strconv.FormatInt(*x, 10)
}

func fmtMS(x *float64) string {
	if x == nil {
		return "–"
	}
	if *x >= 1000 {
		return strconv.FormatFloat(round(*x/1000, 1), 'f', -1, 64) + " s"
	}
	return strconv.FormatFloat(*x, 'f', -1, 64) + " ms"
}

func fmtPct(ratio float64) string { return strconv.FormatFloat(round(100*ratio, 1), 'f', -1, 64) + "%" }

func share(n, total int64) string {
	if total == 0 {
		return "–"
	}
	return fmtPct(float64(n) / float64(total))
}

func quotaText(qs []Quota) string {
	if len(qs) == 0 {
		return "no quota"
	}
	parts := make([]string, 0, len(qs))
	for _, q := range qs {
		parts = append(parts, fmt.Sprintf("%d / %d (%d×%d/%s, %s%%)", q.Used, q.Available, q.Periods, q.Limit, q.Period,
			strconv.FormatFloat(q.UsedPct, 'f', -1, 64)))
	}
	return strings.Join(parts, "; ")
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// mdEscape keeps a value from breaking a Markdown table.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			if m[a] > m[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return keys
}
