package report

import (
	"sort"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/httpx"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/store"
)

// HTTPCounter is an httpx.Observer that counts, per provider, the requests
// sent, the 429 answers (and quota refusals) and the retries, so a run can
// record them (store.RunStats.HTTP). It passes every event on to Next, if
// set, breaker state changes included.
type HTTPCounter struct {
	Next httpx.Observer

	mu sync.Mutex
	m  map[string]*store.HTTPStats
}

var (
	_ httpx.Observer        = (*HTTPCounter)(nil)
	_ httpx.BreakerObserver = (*HTTPCounter)(nil)
)

func (c *HTTPCounter) cell(provider string) *store.HTTPStats {
	if c.m == nil {
		c.m = map[string]*store.HTTPStats{}
	}
	s := c.m[provider]
	if s == nil {
		s = &store.HTTPStats{Provider: provider}
		c.m[provider] = s
	}
	return s
}

// Request counts one attempt sent.
func (c *HTTPCounter) Request(provider string, code int, err error, d time.Duration) {
	c.mu.Lock()
	c.cell(provider).Requests++
	c.mu.Unlock()
	if c.Next != nil {
		c.Next.Request(provider, code, err, d)
	}
}

// Retry counts one retry.
func (c *HTTPCounter) Retry(provider, reason string) {
	c.mu.Lock()
	c.cell(provider).Retries++
	c.mu.Unlock()
	if c.Next != nil {
		c.Next.Retry(provider, reason)
	}
}

// RateLimited counts one 429 answer or quota refusal.
func (c *HTTPCounter) RateLimited(provider string) {
	c.mu.Lock()
	c.cell(provider).HTTP429++
	c.mu.Unlock()
	if c.Next != nil {
		c.Next.RateLimited(provider)
	}
}

// BreakerState passes a breaker change on to Next.
func (c *HTTPCounter) BreakerState(provider, from, to string) {
	if b, ok := c.Next.(httpx.BreakerObserver); ok {
		b.BreakerState(provider, from, to)
	}
}

// Stats returns the counts so far, by provider name.
func (c *HTTPCounter) Stats() []store.HTTPStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]store.HTTPStats, 0, len(c.m))
	for _, s := range c.m {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out
}

// RunFromResults builds a run record from finished results, for a run whose
// engine is shared with others (a server job); see RunBuilder.
func RunFromResults(kind, input string, started, finished time.Time, rs []result.Result) store.RunStats {
	b := NewRunBuilder(kind, input)
	for _, r := range rs {
		b.Add(r)
	}
	return b.Run(started, finished)
}

// RunBuilder accumulates finished results into a run record: IOCs by type
// and verdict, and each source's status, cache flag and latency. Skipped
// sources are left out, as the engine's own statistics leave out the
// sources it did not ask.
type RunBuilder struct {
	kind, input string
	iocs        map[string]map[result.Verdict]int64
	cells       map[cellKey]*store.SourceStats
}

type cellKey struct {
	provider, status string
	cached           bool
}

// NewRunBuilder starts a run record of kind ("job") and input source.
func NewRunBuilder(kind, input string) *RunBuilder {
	return &RunBuilder{kind: kind, input: input, iocs: map[string]map[result.Verdict]int64{}, cells: map[cellKey]*store.SourceStats{}}
}

// Add counts one result.
func (b *RunBuilder) Add(res result.Result) {
	t := string(res.IOC.Type)
	if b.iocs[t] == nil {
		b.iocs[t] = map[result.Verdict]int64{}
	}
	b.iocs[t][res.Verdict]++
	for _, s := range res.Sources {
		if s.Status == "skipped" {
			continue
		}
		k := cellKey{s.Provider, s.Status, s.Cached}
		c := b.cells[k]
		if c == nil {
			c = &store.SourceStats{Provider: s.Provider, Status: s.Status, Cached: s.Cached, Hist: make([]int64, len(store.LatencyBuckets))}
			b.cells[k] = c
		}
		c.Count++
		c.LatencyMS += s.LatencyMS
		for i, ub := range store.LatencyBuckets {
			if s.LatencyMS <= ub {
				c.Hist[i]++
				break
			}
		}
	}
}

// Run returns the record.
func (b *RunBuilder) Run(started, finished time.Time) store.RunStats {
	r := store.RunStats{Kind: b.kind, Input: b.input, StartedAt: started, FinishedAt: finished, IOCs: b.iocs}
	for _, c := range b.cells {
		r.Sources = append(r.Sources, *c)
	}
	sort.Slice(r.Sources, func(i, j int) bool {
		a, b := r.Sources[i], r.Sources[j]
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		if a.Status != b.Status {
			return a.Status < b.Status
		}
		return !a.Cached && b.Cached
	})
	return r
}
