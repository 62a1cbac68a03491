package server

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/iocane/iocane/internal/httpx"
	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/runstats"
)

// Metrics holds iocane's Prometheus metrics. It is the httpx.Observer given
// to every provider's client (enrich.BuildOptions.Observer), so provider
// calls, statuses, 429s, retries, latencies and breaker changes are counted
// as they happen; quota left, engine statistics (statuses, cache hits and
// misses) and queue depth are read on each scrape.
type Metrics struct {
	reg *prometheus.Registry

	provRequests *prometheus.CounterVec
	provLatency  *prometheus.HistogramVec
	provRetries  *prometheus.CounterVec
	provLimited  *prometheus.CounterVec
	breaker      *prometheus.GaugeVec
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	alerts       *prometheus.CounterVec
	jobDuration  *prometheus.HistogramVec
	jobWait      *prometheus.HistogramVec
	jobsIn       *prometheus.CounterVec
	deliveries   *prometheus.CounterVec
	turnaround   *prometheus.HistogramVec

	mu     sync.Mutex
	quotas func(ctx context.Context) ([]QuotaSample, error)
	stats  func() []runstats.Source
	queue  jobs.Queue
}

var (
	_ httpx.Observer        = (*Metrics)(nil)
	_ httpx.BreakerObserver = (*Metrics)(nil)
	_ jobs.Observer         = (*Metrics)(nil)
	_ integrations.Observer = (*Metrics)(nil)
)

// QuotaSample is one provider quota window's remaining requests.
type QuotaSample struct {
	Provider, Period string
	Limit, Remaining int64
}

// NewMetrics builds the metrics on a registry of their own, with the Go and
// process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.provRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "iocane_provider_requests_total",
		Help: "HTTP requests sent to providers (every attempt), by HTTP status code (\"error\" for transport errors)."}, []string{"provider", "code"})
	m.provLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "iocane_provider_request_duration_seconds",
		Help: "Time to a provider's response headers.", Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20}}, []string{"provider"})
	m.provRetries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "iocane_provider_retries_total",
		Help: "Provider request retries, by reason (429, 5xx, timeout, reset)."}, []string{"provider", "reason"})
	m.provLimited = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "iocane_provider_rate_limited_total",
		Help: "429 answers from providers and requests refused by the local quota."}, []string{"provider"})
	m.breaker = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "iocane_provider_breaker_state",
		Help: "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open."}, []string{"provider"})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "iocane_http_requests_total",
		Help: "HTTP requests served, by route pattern, method and status code."}, []string{"route", "method", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "iocane_http_request_duration_seconds",
		Help: "Time to serve an HTTP request, by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"})
	m.alerts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "iocane_alerts_received_total",
		Help: "SIEM/SOAR alerts accepted by webhook kind."}, []string{"kind"})
	m.jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "iocane_job_duration_seconds",
		Help: "Time from a job's start to its end state, by source and state.", Buckets: []float64{.1, .5, 1, 5, 15, 60, 300, 900, 3600}}, []string{"source", "state"})
	m.jobWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "iocane_job_queue_wait_seconds",
		Help: "Time from a job's submission to the start of an attempt, by source.", Buckets: []float64{.01, .05, .1, .5, 1, 5, 15, 60, 300}}, []string{"source"})
	m.jobsIn = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "iocane_jobs_submitted_total",
		Help: "Jobs submitted, by source and whether an idempotency key matched an earlier job."}, []string{"source", "existing"})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "iocane_deliveries_total",
		Help: "Write-backs and notifications finished, by sink, kind (writeback, notify) and result (ok, failed)."}, []string{"sink", "kind", "result"})
	m.turnaround = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "iocane_alert_turnaround_seconds",
		Help: "Time from an alert's receipt to its delivery landing, by sink.", Buckets: []float64{1, 5, 15, 30, 60, 300, 900, 3600}}, []string{"sink"})
	m.reg.MustRegister(m.provRequests, m.provLatency, m.provRetries, m.provLimited, m.breaker,
		m.httpRequests, m.httpDuration, m.alerts, m.jobDuration, m.jobWait, m.jobsIn, m.deliveries, m.turnaround, scrapeCollector{m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Request implements httpx.Observer.
func (m *Metrics) Request(provider string, code int, err error, d time.Duration) {
	c := "error"
	if code > 0 {
		c = strconv.Itoa(code)
	}
	m.provRequests.WithLabelValues(provider, c).Inc()
	m.provLatency.WithLabelValues(provider).Observe(d.Seconds())
}

// Retry implements httpx.Observer.
func (m *Metrics) Retry(provider, reason string) {
	m.provRetries.WithLabelValues(provider, reason).Inc()
}

// RateLimited implements httpx.Observer.
func (m *Metrics) RateLimited(provider string) { m.provLimited.WithLabelValues(provider).Inc() }

// BreakerState implements httpx.BreakerObserver.
func (m *Metrics) BreakerState(provider, _, to string) {
	v := 0.0
	switch to {
	case "half-open":
		v = 1
	case "open":
		v = 2
	}
	m.breaker.WithLabelValues(provider).Set(v)
}

// JobSubmitted counts a submission (jobs.Observer).
func (m *Metrics) JobSubmitted(source string, existing bool) {
	m.jobsIn.WithLabelValues(source, strconv.FormatBool(existing)).Inc()
}

// JobStarted records how long a job waited in the queue (jobs.Observer).
func (m *Metrics) JobStarted(j jobs.Job, waited time.Duration) {
	m.jobWait.WithLabelValues(j.Source).Observe(waited.Seconds())
}

// JobFinished records a job's run time once it reaches an end state
// (jobs.Observer).
func (m *Metrics) JobFinished(j jobs.Job, ran time.Duration) {
	m.jobDuration.WithLabelValues(j.Source, string(j.State)).Observe(ran.Seconds())
}

// SetQuotas sets the function that reads quota left on each scrape.
func (m *Metrics) SetQuotas(f func(ctx context.Context) ([]QuotaSample, error)) {
	m.mu.Lock()
	m.quotas = f
	m.mu.Unlock()
}

// SetEngineStats sets the function that reads the engine's per-provider
// outcome counts (enrich.Stats.Run(...).Sources) on each scrape.
func (m *Metrics) SetEngineStats(f func() []runstats.Source) {
	m.mu.Lock()
	m.stats = f
	m.mu.Unlock()
}

func (m *Metrics) watchQueue(q jobs.Queue) {
	m.mu.Lock()
	m.queue = q
	m.mu.Unlock()
}

// Delivered counts a finished write-back or notification
// (integrations.Observer) and, when it landed, the alert's turnaround.
func (m *Metrics) Delivered(o integrations.Outcome) {
	result := "failed"
	if o.OK {
		result = "ok"
		if !o.Received.IsZero() && o.Finished.After(o.Received) {
			m.turnaround.WithLabelValues(o.Sink).Observe(o.Finished.Sub(o.Received).Seconds())
		}
	}
	m.deliveries.WithLabelValues(o.Sink, o.Kind, result).Inc()
}

func (m *Metrics) alert(kind string) { m.alerts.WithLabelValues(kind).Inc() }

func (m *Metrics) httpRequest(route, method string, code int, d time.Duration) {
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Registry returns the registry, for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// scrapeCollector reads the values that are cheaper to ask for on a scrape
// than to track: quota left, engine outcome counts and queue depth.
type scrapeCollector struct{ m *Metrics }

var (
	descQuota   = prometheus.NewDesc("iocane_provider_quota_remaining", "Requests left in the provider's quota window.", []string{"provider", "period"}, nil)
	descQuotaL  = prometheus.NewDesc("iocane_provider_quota_limit", "The provider's quota per window.", []string{"provider", "period"}, nil)
	descLookups = prometheus.NewDesc("iocane_provider_lookups_total", "Look-ups by provider, status (ok, not_found, error, rate_limited) and whether the cache answered.", []string{"provider", "status", "cached"}, nil)
	descHits    = prometheus.NewDesc("iocane_cache_hits_total", "Look-ups answered from the cache.", []string{"provider"}, nil)
	descMisses  = prometheus.NewDesc("iocane_cache_misses_total", "Look-ups that went to the provider.", []string{"provider"}, nil)
	descQueue   = prometheus.NewDesc("iocane_queue_jobs", "Jobs queued or running.", []string{"state"}, nil)
	descBacklog = prometheus.NewDesc("iocane_deferred_lookups", "Look-ups of server jobs deferred to the backlog, waiting for the provider's budget.", []string{"provider"}, nil)
)

// backlog is a queue that keeps deferred look-ups (jobs.SQLiteQueue).
type backlog interface {
	DeferredLookups(ctx context.Context) (map[string]int, error)
}

func (c scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQuota, descQuotaL, descLookups, descHits, descMisses, descQueue, descBacklog} {
		ch <- d
	}
}

func (c scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	quotas, stats, queue := c.m.quotas, c.m.stats, c.m.queue
	c.m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if quotas != nil {
		if qs, err := quotas(ctx); err == nil {
			for _, q := range qs {
				ch <- prometheus.MustNewConstMetric(descQuota, prometheus.GaugeValue, float64(q.Remaining), q.Provider, q.Period)
				ch <- prometheus.MustNewConstMetric(descQuotaL, prometheus.GaugeValue, float64(q.Limit), q.Provider, q.Period)
			}
		}
	}
	if stats != nil {
		hits, misses := map[string]int64{}, map[string]int64{}
		for _, s := range stats() {
			ch <- prometheus.MustNewConstMetric(descLookups, prometheus.CounterValue, float64(s.Count), s.Provider, s.Status, strconv.FormatBool(s.Cached))
			if s.Cached {
				hits[s.Provider] += s.Count
			} else {
				misses[s.Provider] += s.Count
			}
		}
		for p := range merged(hits, misses) {
			ch <- prometheus.MustNewConstMetric(descHits, prometheus.CounterValue, float64(hits[p]), p)
			ch <- prometheus.MustNewConstMetric(descMisses, prometheus.CounterValue, float64(misses[p]), p)
		}
	}
	if queue != nil {
		if q, r, err := queue.Depth(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(q), "queued")
			ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(r), "running")
		}
		if b, ok := queue.(backlog); ok {
			if ds, err := b.DeferredLookups(ctx); err == nil {
				for p, n := range ds {
					ch <- prometheus.MustNewConstMetric(descBacklog, prometheus.GaugeValue, float64(n), p)
				}
			}
		}
	}
}

func merged(a, b map[string]int64) map[string]struct{} {
	out := map[string]struct{}{}
	for k := range a {
		out[k] = struct{}{}
	}
	for k := range b {
		out[k] = struct{}{}
	}
	return out
}
