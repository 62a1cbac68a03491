package enrich

import (
	"sort"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/store"
)

// Stats counts what a run did: results by type and verdict, and provider
// outcomes with latency histograms, for progress display and the run record.
type Stats struct {
	mu      sync.Mutex
	done    int64
	iocs    map[string]map[result.Verdict]int64
	sources map[statKey]*store.SourceStats
}

type statKey struct {
	provider, status string
	cached           bool
}

func newStats() *Stats {
	return &Stats{iocs: map[string]map[result.Verdict]int64{}, sources: map[statKey]*store.SourceStats{}}
}

func (s *Stats) result(r result.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done++
	t := string(r.IOC.Type)
	if s.iocs[t] == nil {
		s.iocs[t] = map[result.Verdict]int64{}
	}
	s.iocs[t][r.Verdict]++
}

func (s *Stats) source(name string, st provider.Status, cached bool, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := statKey{name, string(st), cached}
	c := s.sources[k]
	if c == nil {
		c = &store.SourceStats{Provider: name, Status: string(st), Cached: cached, Hist: make([]int64, len(store.LatencyBuckets))}
		s.sources[k] = c
	}
	ms := d.Milliseconds()
	c.Count++
	c.LatencyMS += ms
	for i, ub := range store.LatencyBuckets {
		if ms <= ub {
			c.Hist[i]++
			break
		}
	}
}

// Done returns how many IOCs have a result.
func (s *Stats) Done() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// Calls returns, per provider, the look-ups made (not cached, not skipped).
func (s *Stats) Calls() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for k, c := range s.sources {
		if !k.cached {
			out[k.provider] += c.Count
		}
	}
	return out
}

// Run returns the stats as a store record.
func (s *Stats) Run(kind, input string, started, finished time.Time) store.RunStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := store.RunStats{Kind: kind, Input: input, StartedAt: started, FinishedAt: finished, IOCs: map[string]map[result.Verdict]int64{}}
	for t, m := range s.iocs {
		r.IOCs[t] = map[result.Verdict]int64{}
		for v, n := range m {
			r.IOCs[t][v] = n
		}
	}
	for _, c := range s.sources {
		cp := *c
		cp.Hist = append([]int64(nil), c.Hist...)
		r.Sources = append(r.Sources, cp)
	}
	sort.Slice(r.Sources, func(i, j int) bool {
		a, b := r.Sources[i], r.Sources[j]
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		return a.Status < b.Status
	})
	return r
}
