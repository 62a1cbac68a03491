package report

import "slices"

// changes compares the headline figures of two windows.
func changes(cur, prev Figures) []Change {
	var out []Change
	add := func(name string, c, p *float64) {
		ch := Change{Figure: name, Current: c, Previous: p}
		if c != nil && p != nil {
			ch.Delta = ptr(round(*c-*p, 4))
			if *p != 0 {
				ch.DeltaPct = ptr(round(100*(*c-*p)/(*p), 1))
			}
		}
		out = append(out, ch)
	}
	n := func(v int64) *float64 { return ptr(float64(v)) }
	add("runs", n(cur.Runs), n(prev.Runs))
	add("iocs.total", n(cur.IOCs.Total), n(prev.IOCs.Total))
	for _, v := range Verdicts {
		add("verdicts."+string(v), n(cur.Verdicts[string(v)]), n(prev.Verdicts[string(v)]))
	}
	add("cache.hit_ratio", ptr(cur.Cache.HitRatio), ptr(prev.Cache.HitRatio))
	add("cache.quota_saved", n(cur.Cache.QuotaSaved), n(prev.Cache.QuotaSaved))

	names := map[string]bool{}
	for _, p := range cur.Providers {
		names[p.Name] = true
	}
	for _, p := range prev.Providers {
		names[p.Name] = true
	}
	sorted := make([]string, 0, len(names))
	for name := range names {
		sorted = append(sorted, name)
	}
	slices.Sort(sorted)
	for _, name := range sorted {
		c, p := findProvider(cur, name), findProvider(prev, name)
		add("providers."+name+".calls", n(c.Calls), n(p.Calls))
		add("providers."+name+".rate_limited", n(c.RateLimited), n(p.RateLimited))
		add("providers."+name+".p50_ms", c.P50MS, p.P50MS)
		add("providers."+name+".p95_ms", c.P95MS, p.P95MS)
	}

	add("alerts.p50_ms", cur.Alerts.P50MS, prev.Alerts.P50MS)
	add("alerts.p95_ms", cur.Alerts.P95MS, prev.Alerts.P95MS)
	if cur.Deliveries.Recorded || prev.Deliveries.Recorded {
		add("deliveries.writeback.ok", n(cur.Deliveries.WriteBack.OK), n(prev.Deliveries.WriteBack.OK))
		add("deliveries.writeback.failed", n(cur.Deliveries.WriteBack.Failed), n(prev.Deliveries.WriteBack.Failed))
		add("deliveries.notify.ok", n(cur.Deliveries.Notify.OK), n(prev.Deliveries.Notify.OK))
		add("deliveries.notify.failed", n(cur.Deliveries.Notify.Failed), n(prev.Deliveries.Notify.Failed))
	}
	return out
}

// findProvider returns the named provider's figures, zero when absent.
func findProvider(f Figures, name string) Provider {
	for _, p := range f.Providers {
		if p.Name == name {
			return p
		}
	}
	return Provider{Name: name}
}
