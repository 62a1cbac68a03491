// Package report builds iocane's weekly pipeline report from the run
// statistics in the store: what was enriched (by IOC type and input
// source), the verdicts, what each provider cost (calls, status mix, 429s,
// retries, latency, quota), what the cache saved, how fast alerts were
// updated, and how each figure moved against the previous window.
//
// The report is built once (Build) into a Report value, which renders as
// JSON (the contract the tests check figure by figure), Markdown, or one
// self-contained HTML file with inline SVG charts that needs no script, no
// font and no network, so it can be e-mailed.
//
// Decisions:
//   - Input source is the job's source for server jobs ("splunk", "api",
//     ...) and "cli" for CLI runs; a run belongs to the window it started
//     in.
//   - A call is a look-up that went to the provider's side of the engine:
//     not cached and not skipped (rate_limited, the quota refusing or the
//     provider answering 429 after retries, counts as a call that did not
//     get an answer). Latency percentiles are over calls only, estimated
//     from the stored histograms by linear interpolation inside the bucket,
//     as Prometheus' histogram_quantile does; the open last bucket reports
//     its lower bound.
//   - The cache hit ratio is cached answers over cached answers plus calls;
//     every cached answer is a call not made, and at a provider with a quota
//     a unit of quota saved.
//   - Quota counters are kept per calendar window in UTC (ratelimit), so
//     "quota used" sums every counter whose window overlaps the report
//     window and "available" is the limit times the number of those windows.
//   - HTTP 429 answers and transport retries are only known when runs
//     recorded them (runstats.Run.HTTP); otherwise those figures are null
//     and the renderings say "not recorded".
package report

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/runstats"
	"github.com/iocane/iocane/internal/store"
)

// DefaultSince is the report window when none is given.
const DefaultSince = 7 * 24 * time.Hour

// Verdicts lists the verdicts in report order.
var Verdicts = []result.Verdict{result.Malicious, result.Suspicious, result.Benign, result.Unknown}

// Statuses lists the source statuses in report order.
var Statuses = []string{"ok", "not_found", "error", "rate_limited", "skipped"}

// Delivery is one write-back or notification outcome, as the integrations
// dispatcher records it.
type Delivery struct {
	JobID string
	Sink  string // "thehive", "splunk", "slack", ...
	// Notify is true for a notification (Slack, Teams, e-mail, webhook
	// notifier), false for a write-back to the alert's system.
	Notify   bool
	OK       bool
	Attempts int
	// Received is when the alert reached iocane; Finished is when the
	// delivery landed or was given up.
	Received time.Time
	Finished time.Time
}

// Source is where a report's figures come from; *store.DB with its
// QuotaStore, wrapped by StoreSource, is the usual one.
type Source interface {
	Runs(ctx context.Context, from, to time.Time) ([]store.Run, error)
	QuotaCounts(ctx context.Context, prefix string) (map[string]int64, error)
}

// DeliverySource lists write-back and notification outcomes finished in
// [from, to). ok is false when the store does not record them (yet).
type DeliverySource func(ctx context.Context, from, to time.Time) (ds []Delivery, ok bool, err error)

// StoreSource adapts the store.
func StoreSource(db *store.DB) Source { return storeSource{db} }

type storeSource struct{ db *store.DB }

func (s storeSource) Runs(ctx context.Context, from, to time.Time) ([]store.Run, error) {
	return s.db.Runs(ctx, from, to)
}

func (s storeSource) QuotaCounts(ctx context.Context, prefix string) (map[string]int64, error) {
	return s.db.Quotas().Counts(ctx, prefix)
}

func (s storeSource) FeedFigures(ctx context.Context, from, to time.Time) ([]store.FeedFigure, error) {
	return s.db.FeedFigures(ctx, from, to)
}

// FeedSource is a Source that also knows the threat feeds' figures.
type FeedSource interface {
	FeedFigures(ctx context.Context, from, to time.Time) ([]store.FeedFigure, error)
}

// Options says which report to build.
type Options struct {
	// Now is the end of the window. Default time.Now.
	Now time.Time
	// Since is the window's length. Default DefaultSince (7 days).
	Since time.Duration
	// Quotas are the configured quota windows per provider (from the
	// config); providers without any have no quota figure.
	Quotas map[string][]ratelimit.Window
	// Deliveries reads write-back and notification outcomes; nil means
	// not recorded.
	Deliveries DeliverySource
}

// Report is the whole report; its JSON form is a contract.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	Window      Window    `json:"window"`
	Previous    Window    `json:"previous_window"`
	Current     Figures   `json:"current"`
	Before      Figures   `json:"previous"`
	// Change compares the headline figures, current against previous.
	Change []Change `json:"change"`
}

// Window is a half-open time range [From, To).
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Figures are one window's numbers.
type Figures struct {
	Runs     int64            `json:"runs"`
	IOCs     IOCs             `json:"iocs"`
	Verdicts map[string]int64 `json:"verdicts"`
	// Daily is the IOC volume per UTC day overlapping the window.
	Daily      []Day      `json:"daily"`
	Providers  []Provider `json:"providers"`
	Cache      Cache      `json:"cache"`
	Alerts     Alerts     `json:"alerts"`
	Deliveries Deliveries `json:"deliveries"`
	// Feeds is what each threat feed did (feeds:), when the store keeps
	// feeds.
	Feeds []store.FeedFigure `json:"feeds"`
}

// IOCs counts the IOCs processed.
type IOCs struct {
	Total    int64            `json:"total"`
	ByType   map[string]int64 `json:"by_type"`
	BySource map[string]int64 `json:"by_source"`
}

// Day is one day's volume.
type Day struct {
	Date     string           `json:"date"` // 2006-01-02, UTC
	IOCs     int64            `json:"iocs"`
	Verdicts map[string]int64 `json:"verdicts"`
}

// Provider is one provider's figures.
type Provider struct {
	Name string `json:"name"`
	// Calls are look-ups not answered from the cache and not skipped.
	Calls int64 `json:"calls"`
	// Cached are answers from the cache: calls not made.
	Cached int64 `json:"cached"`
	// Statuses is the status mix of calls (skipped: of every look-up).
	Statuses map[string]int64 `json:"statuses"`
	// RateLimited counts calls that ended rate_limited (quota spent, or
	// 429 after every retry).
	RateLimited int64 `json:"rate_limited"`
	// HTTP429 and Retries come from the HTTP layer; null when the runs did
	// not record them.
	HTTP429  *int64   `json:"http_429"`
	Retries  *int64   `json:"retries"`
	Requests *int64   `json:"http_requests"`
	P50MS    *float64 `json:"p50_ms"`
	P95MS    *float64 `json:"p95_ms"`
	// Quota has one entry per configured quota window.
	Quota []Quota `json:"quota"`
}

// Quota is usage of one configured quota window over the report window.
type Quota struct {
	Period    string  `json:"period"` // "h", "d" or "mo"
	Limit     int64   `json:"limit"`  // per period
	Periods   int     `json:"periods"`
	Used      int64   `json:"used"`
	Available int64   `json:"available"`
	UsedPct   float64 `json:"used_pct"`
}

// Cache is what the answer cache did.
type Cache struct {
	Lookups  int64   `json:"lookups"` // cached + calls, local sources left out
	Hits     int64   `json:"hits"`
	HitRatio float64 `json:"hit_ratio"`
	// QuotaSaved is cached answers at providers that have a quota.
	QuotaSaved int64 `json:"quota_saved"`
}

// Alerts is the time from an alert's receipt to its first successful
// write-back.
type Alerts struct {
	Recorded bool     `json:"recorded"`
	Updated  int64    `json:"updated"`
	P50MS    *float64 `json:"p50_ms"`
	P95MS    *float64 `json:"p95_ms"`
}

// Deliveries counts write-back and notification outcomes.
type Deliveries struct {
	Recorded  bool         `json:"recorded"`
	WriteBack Outcomes     `json:"writeback"`
	Notify    Outcomes     `json:"notify"`
	BySink    []SinkCounts `json:"by_sink"`
}

// Outcomes counts successes, failures and retries.
type Outcomes struct {
	OK      int64 `json:"ok"`
	Failed  int64 `json:"failed"`
	Retries int64 `json:"retries"`
}

// SinkCounts is one sink's outcomes.
type SinkCounts struct {
	Sink string `json:"sink"`
	Outcomes
}

// Change is one headline figure now and before.
type Change struct {
	Figure   string   `json:"figure"`
	Current  *float64 `json:"current"`
	Previous *float64 `json:"previous"`
	Delta    *float64 `json:"delta"`
	// DeltaPct is null when the previous figure is null or zero.
	DeltaPct *float64 `json:"delta_pct"`
}

// Build reads the store and computes the report.
func Build(ctx context.Context, src Source, o Options) (*Report, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Since <= 0 {
		o.Since = DefaultSince
	}
	to := o.Now.UTC()
	cur := Window{From: to.Add(-o.Since), To: to}
	prev := Window{From: cur.From.Add(-o.Since), To: cur.From}
	r := &Report{GeneratedAt: to, Window: cur, Previous: prev}
	var err error
	if r.Current, err = figures(ctx, src, o, cur); err != nil {
		return nil, err
	}
	if r.Before, err = figures(ctx, src, o, prev); err != nil {
		return nil, err
	}
	r.Change = changes(r.Current, r.Before)
	return r, nil
}

func figures(ctx context.Context, src Source, o Options, w Window) (Figures, error) {
	runs, err := src.Runs(ctx, w.From, w.To)
	if err != nil {
		return Figures{}, fmt.Errorf("report: %w", err)
	}
	f := Figures{
		Feeds:    []store.FeedFigure{},
		Runs:     int64(len(runs)),
		IOCs:     IOCs{ByType: map[string]int64{}, BySource: map[string]int64{}},
		Verdicts: map[string]int64{},
	}
	for _, v := range Verdicts {
		f.Verdicts[string(v)] = 0
	}
	days := map[string]*Day{}
	for d := startOfDay(w.From); d.Before(w.To); d = d.AddDate(0, 0, 1) {
		day := &Day{Date: d.Format(time.DateOnly), Verdicts: map[string]int64{}}
		for _, v := range Verdicts {
			day.Verdicts[string(v)] = 0
		}
		days[day.Date] = day
		f.Daily = append(f.Daily, Day{Date: day.Date})
	}

	type acc struct {
		p       Provider
		hist    []int64
		httpSet bool
		h429    int64
		retries int64
		reqs    int64
	}
	provs := map[string]*acc{}
	get := func(name string) *acc {
		a := provs[name]
		if a == nil {
			a = &acc{p: Provider{Name: name, Statuses: map[string]int64{}}}
			for _, s := range Statuses {
				a.p.Statuses[s] = 0
			}
			provs[name] = a
		}
		return a
	}
	for _, run := range runs {
		source := "cli"
		if run.Kind != "cli" {
			source = cmp.Or(run.Input, run.Kind)
		}
		day := days[run.StartedAt.UTC().Format(time.DateOnly)]
		for typ, byVerdict := range run.IOCs {
			for v, n := range byVerdict {
				f.IOCs.Total += n
				f.IOCs.ByType[typ] += n
				f.IOCs.BySource[source] += n
				f.Verdicts[string(v)] += n
				if day != nil {
					day.IOCs += n
					day.Verdicts[string(v)] += n
				}
			}
		}
		for _, s := range run.Sources {
			a := get(s.Provider)
			switch {
			case s.Status == "skipped":
				a.p.Statuses["skipped"] += s.Count
			case s.Cached:
				a.p.Cached += s.Count
			default:
				a.p.Calls += s.Count
				a.p.Statuses[s.Status] += s.Count
				if s.Status == "rate_limited" {
					a.p.RateLimited += s.Count
				}
				if len(a.hist) < len(s.Hist) {
					a.hist = append(a.hist, make([]int64, len(s.Hist)-len(a.hist))...)
				}
				for i, n := range s.Hist {
					a.hist[i] += n
				}
			}
		}
		for _, h := range run.HTTP {
			a := get(h.Provider)
			a.httpSet = true
			a.h429 += h.HTTP429
			a.retries += h.Retries
			a.reqs += h.Requests
		}
	}
	for i := range f.Daily {
		f.Daily[i] = *days[f.Daily[i].Date]
	}

	// Providers with quota spent in the window appear even without runs
	// (another process, or runs not recorded).
	counts, err := src.QuotaCounts(ctx, "")
	if err != nil {
		return Figures{}, fmt.Errorf("report: %w", err)
	}
	for name, windows := range o.Quotas {
		for _, qw := range windows {
			q := quotaUse(qw, name, w, counts)
			if q.Used == 0 && provs[name] == nil {
				continue
			}
			a := get(name)
			a.p.Quota = append(a.p.Quota, q)
		}
	}

	for _, a := range provs {
		p := a.p
		if a.httpSet {
			p.HTTP429, p.Retries, p.Requests = ptr(a.h429), ptr(a.retries), ptr(a.reqs)
		}
		p.P50MS = quantile(0.50, a.hist)
		p.P95MS = quantile(0.95, a.hist)
		if p.Quota == nil {
			p.Quota = []Quota{}
		}
		f.Providers = append(f.Providers, p)
		if spec, ok := provider.Get(p.Name); ok && spec.Local {
			continue // local sources are never cached: not cache lookups
		}
		f.Cache.Hits += p.Cached
		f.Cache.Lookups += p.Cached + p.Calls
		if len(o.Quotas[p.Name]) > 0 {
			f.Cache.QuotaSaved += p.Cached
		}
	}
	slices.SortFunc(f.Providers, func(a, b Provider) int { return cmp.Compare(a.Name, b.Name) })
	if f.Providers == nil {
		f.Providers = []Provider{}
	}
	if f.Cache.Lookups > 0 {
		f.Cache.HitRatio = round(float64(f.Cache.Hits)/float64(f.Cache.Lookups), 4)
	}

	f.Deliveries.BySink = []SinkCounts{}
	if o.Deliveries != nil {
		ds, ok, err := o.Deliveries(ctx, w.From, w.To)
		if err != nil {
			return Figures{}, fmt.Errorf("report: deliveries: %w", err)
		}
		if ok {
			f.Alerts, f.Deliveries = deliveries(ds)
		}
	}
	if fs, ok := src.(FeedSource); ok {
		if f.Feeds, err = fs.FeedFigures(ctx, w.From, w.To); err != nil {
			return Figures{}, fmt.Errorf("report: %w", err)
		}
	}
	return f, nil
}

// quotaUse sums the counters of every calendar window of qw overlapping w.
func quotaUse(qw ratelimit.Window, name string, w Window, counts map[string]int64) Quota {
	q := Quota{Period: qw.Period.String(), Limit: qw.N}
	for t := qw.Period.Start(w.From); t.Before(w.To); t = qw.Period.End(t) {
		q.Periods++
		q.Used += counts[qw.Key(name, t)]
	}
	q.Available = qw.N * int64(q.Periods)
	if q.Available > 0 {
		q.UsedPct = round(100*float64(q.Used)/float64(q.Available), 2)
	}
	return q
}

// deliveries computes the alert and delivery figures.
func deliveries(ds []Delivery) (Alerts, Deliveries) {
	a := Alerts{Recorded: true}
	d := Deliveries{Recorded: true, BySink: []SinkCounts{}}
	sinks := map[string]*SinkCounts{}
	firstUpdate := map[string]time.Duration{}
	for _, x := range ds {
		o := &d.WriteBack
		if x.Notify {
			o = &d.Notify
		}
		s := sinks[x.Sink]
		if s == nil {
			s = &SinkCounts{Sink: x.Sink}
			sinks[x.Sink] = s
		}
		retries := int64(max(0, x.Attempts-1))
		o.Retries += retries
		s.Retries += retries
		if !x.OK {
			o.Failed++
			s.Failed++
			continue
		}
		o.OK++
		s.OK++
		if !x.Notify && !x.Received.IsZero() {
			took := x.Finished.Sub(x.Received)
			if prev, seen := firstUpdate[x.JobID]; !seen || took < prev {
				firstUpdate[x.JobID] = took
			}
		}
	}
	for _, s := range sinks {
		d.BySink = append(d.BySink, *s)
	}
	slices.SortFunc(d.BySink, func(a, b SinkCounts) int { return cmp.Compare(a.Sink, b.Sink) })
	var took []float64
	for _, t := range firstUpdate {
		took = append(took, float64(t.Milliseconds()))
	}
	slices.Sort(took)
	a.Updated = int64(len(took))
	a.P50MS, a.P95MS = nearestRank(0.50, took), nearestRank(0.95, took)
	return a, d
}

// quantile estimates the q-quantile in ms from a histogram over
// runstats.LatencyBuckets, interpolating linearly inside the bucket.
func quantile(q float64, hist []int64) *float64 {
	var total int64
	for _, n := range hist {
		total += n
	}
	if total == 0 {
		return nil
	}
	rank := q * float64(total)
	var cum int64
	for i, n := range hist {
		if n == 0 || float64(cum+n) < rank {
			cum += n
			continue
		}
		lower := 0.0
		if i > 0 {
			lower = float64(runstats.LatencyBuckets[i-1])
		}
		if i >= len(runstats.LatencyBuckets)-1 {
			return ptr(lower) // the open last bucket
		}
		upper := float64(runstats.LatencyBuckets[i])
		return ptr(round(lower+(upper-lower)*(rank-float64(cum))/float64(n), 1))
	}
	return nil
}

// nearestRank is the q-quantile of sorted values by the nearest-rank method.
func nearestRank(q float64, sorted []float64) *float64 {
	if len(sorted) == 0 {
		return nil
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return ptr(sorted[max(0, i)])
}

func startOfDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// round rounds x half away from zero to digits decimals, after dropping
// float noise below 1e-6 (0.95 × 11 is 10.4499999…, and a p95 of 431.25
// must round to 431.3 as it would on paper).
func round(x float64, digits int) float64 {
	x = math.Round(x*1e6) / 1e6
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func ptr[T any](v T) *T { return &v }
