// Package runstats is what one run did, aggregated: the IOCs by type and
// verdict, each provider's outcomes with a latency histogram, and the HTTP
// layer's requests, 429s and retries. A CLI run and a server job record the
// same shape, built by the same Recorder, so the weekly report reads one kind
// of record whatever produced it.
//
// It sits below enrich, store and report: the engine keeps a Recorder for its
// progress line, the store persists a Run, and the report sums them.
package runstats

import (
	"sort"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/result"
)

// Run is what one run (a CLI enrich or a server job) did.
type Run struct {
	Kind       string // "cli" or "job"
	Input      string // file name, "-" for stdin, or the job's source
	StartedAt  time.Time
	FinishedAt time.Time
	// IOCs counts results by IOC type and verdict.
	IOCs map[string]map[result.Verdict]int64
	// Sources aggregates provider outcomes.
	Sources []Source
	// HTTP counts what the HTTP layer did per provider (every attempt,
	// 429 answers, retries); empty when the run did not observe it.
	HTTP []HTTP
}

// HTTP counts one provider's HTTP activity in a run.
type HTTP struct {
	Provider string
	Requests int64 // attempts actually sent, retries included
	HTTP429  int64 // 429 answers and requests the quota refused
	Retries  int64
}

// Source aggregates one provider × status × cached cell.
type Source struct {
	Provider  string
	Status    string
	Cached    bool
	Count     int64
	LatencyMS int64 // sum
	// Hist counts latencies per bucket upper bound in ms (LatencyBuckets);
	// the report derives p50/p95 from it.
	Hist []int64
}

// LatencyBuckets are the upper bounds, in ms, of the latency histogram.
var LatencyBuckets = []int64{5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 1 << 62}

// Recorder accumulates results into a Run. Skipped sources are left out:
// they were not asked. It is safe for concurrent use; the zero Recorder is
// empty and ready.
type Recorder struct {
	mu    sync.Mutex
	done  int64
	iocs  map[string]map[result.Verdict]int64
	cells map[cellKey]*Source
}

type cellKey struct {
	provider, status string
	cached           bool
}

// Add counts one result.
func (r *Recorder) Add(res result.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.iocs == nil {
		r.iocs, r.cells = map[string]map[result.Verdict]int64{}, map[cellKey]*Source{}
	}
	r.done++
	t := string(res.IOC.Type)
	if r.iocs[t] == nil {
		r.iocs[t] = map[result.Verdict]int64{}
	}
	r.iocs[t][res.Verdict]++
	for _, s := range res.Sources {
		if s.Status == "skipped" {
			continue
		}
		k := cellKey{s.Provider, s.Status, s.Cached}
		c := r.cells[k]
		if c == nil {
			c = &Source{Provider: s.Provider, Status: s.Status, Cached: s.Cached, Hist: make([]int64, len(LatencyBuckets))}
			r.cells[k] = c
		}
		c.Count++
		c.LatencyMS += s.LatencyMS
		for i, ub := range LatencyBuckets {
			if s.LatencyMS <= ub {
				c.Hist[i]++
				break
			}
		}
	}
}

// Done returns how many results have been added.
func (r *Recorder) Done() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

// Calls returns, per provider, the look-ups made (not cached, not skipped).
func (r *Recorder) Calls() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int64{}
	for k, c := range r.cells {
		if !k.cached {
			out[k.provider] += c.Count
		}
	}
	return out
}

// Run returns a copy of what was recorded as a Run of kind and input.
func (r *Recorder) Run(kind, input string, started, finished time.Time) Run {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Run{Kind: kind, Input: input, StartedAt: started, FinishedAt: finished, IOCs: map[string]map[result.Verdict]int64{}}
	for t, m := range r.iocs {
		out.IOCs[t] = map[result.Verdict]int64{}
		for v, n := range m {
			out.IOCs[t][v] = n
		}
	}
	for _, c := range r.cells {
		cp := *c
		cp.Hist = append([]int64(nil), c.Hist...)
		out.Sources = append(out.Sources, cp)
	}
	sort.Slice(out.Sources, func(i, j int) bool {
		a, b := out.Sources[i], out.Sources[j]
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		if a.Status != b.Status {
			return a.Status < b.Status
		}
		return !a.Cached && b.Cached
	})
	return out
}
