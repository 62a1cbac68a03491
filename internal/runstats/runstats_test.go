package runstats

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
)

type recordingObserver struct{ events []string }

func (r *recordingObserver) Request(p string, code int, _ error, _ time.Duration) {
	r.events = append(r.events, p+" request")
}
func (r *recordingObserver) Retry(p, reason string) { r.events = append(r.events, p+" retry "+reason) }
func (r *recordingObserver) RateLimited(p string)   { r.events = append(r.events, p+" 429") }
func (r *recordingObserver) BreakerState(p, from, to string) {
	r.events = append(r.events, p+" breaker "+from+"→"+to)
}

func TestHTTPCounter(t *testing.T) {
	next := &recordingObserver{}
	c := &HTTPCounter{Next: next}
	c.Request("virustotal", 429, nil, time.Millisecond)
	c.RateLimited("virustotal")
	c.Retry("virustotal", "429")
	c.Request("virustotal", 200, nil, time.Millisecond)
	c.Request("abuseipdb", 503, nil, time.Millisecond)
	c.BreakerState("abuseipdb", "closed", "open")
	assert.Equal(t, []HTTP{
		{Provider: "abuseipdb", Requests: 1},
		{Provider: "virustotal", Requests: 2, HTTP429: 1, Retries: 1},
	}, c.Stats())
	assert.Equal(t, []string{"virustotal request", "virustotal 429", "virustotal retry 429", "virustotal request",
		"abuseipdb request", "abuseipdb breaker closed→open"}, next.events)

	var alone HTTPCounter // no Next
	alone.Retry("x", "5xx")
	alone.BreakerState("x", "closed", "open")
	assert.Equal(t, []HTTP{{Provider: "x", Retries: 1}}, alone.Stats())
}

func TestRecorder(t *testing.T) {
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	rs := []result.Result{
		{IOC: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}, Verdict: result.Malicious, Sources: []result.Source{
			{Provider: "virustotal", Status: "ok", LatencyMS: 140},
			{Provider: "abuseipdb", Status: "ok", Cached: true},
			{Provider: "urlscan", Status: "skipped", Reason: "no API key"},
		}},
		{IOC: ioc.IOC{Type: ioc.IPv4, Value: "8.8.8.8"}, Verdict: result.Benign, Sources: []result.Source{
			{Provider: "virustotal", Status: "ok", LatencyMS: 60},
		}},
		{IOC: ioc.IOC{Type: ioc.Domain, Value: "example.com"}, Verdict: result.Unknown, Sources: []result.Source{
			{Provider: "virustotal", Status: "not_found", LatencyMS: 40000},
		}},
	}
	var rec Recorder
	for _, r := range rs {
		rec.Add(r)
	}
	got := rec.Run("job", "splunk", start, start.Add(time.Second))
	assert.Equal(t, int64(3), rec.Done())
	assert.Equal(t, map[string]int64{"virustotal": 3}, rec.Calls())
	h := func(i int) []int64 { x := make([]int64, len(LatencyBuckets)); x[i] = 1; return x }
	vt := h(4)
	vt[5] = 1 // 60 ms ≤ 100, 140 ms ≤ 250
	assert.Equal(t, Run{
		Kind: "job", Input: "splunk", StartedAt: start, FinishedAt: start.Add(time.Second),
		IOCs: map[string]map[result.Verdict]int64{"ipv4": {result.Malicious: 1, result.Benign: 1}, "domain": {result.Unknown: 1}},
		Sources: []Source{
			{Provider: "abuseipdb", Status: "ok", Cached: true, Count: 1, Hist: h(0)},
			{Provider: "virustotal", Status: "not_found", Count: 1, LatencyMS: 40000, Hist: h(12)},
			{Provider: "virustotal", Status: "ok", Count: 2, LatencyMS: 200, Hist: vt},
		},
	}, got)
}
