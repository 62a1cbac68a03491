package pipeline

// Throughput benchmarks (issue 4, acceptance 2 and 3), against the loopback
// fake providers limited to 100 requests/s each with 50 ms latency:
//
//	go test -run '^$' -bench 'Throughput10k|WarmRerun' -benchtime 1x -timeout 20m ./internal/enrich
//
// BenchmarkThroughput10k enriches 10,000 distinct public IPv4 addresses
// with four IP providers (each sees every IOC, so the rate-limit bound is
// 10,000 ÷ 100/s = 100 s), then runs the seed's sequential loop (VT, sleep
// 0.25 s, AbuseIPDB, per IP) on a 200-IOC sample against the same fake.
// BenchmarkWarmRerun enriches the same 10,000 again on the warm store.
// IOCANE_BENCH_N sets another IOC count for a quick look.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/metrics"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

const (
	benchRate    = 100 // requests/s each fake provider allows, and iocane's rate
	benchLatency = 50 * time.Millisecond
	seedSample   = 200
	seedSleep    = 250 * time.Millisecond
)

// benchProviders take IPv4 addresses; each sees every IOC of the run.
var benchProviders = []string{"abuseipdb", "virustotal", "shodan", "greynoise"}

// cold is the cold run's store and time, shared with BenchmarkWarmRerun.
var cold struct {
	dir  string
	wall time.Duration
	n    int
}

func benchN() int {
	if n, err := strconv.Atoi(os.Getenv("IOCANE_BENCH_N")); err == nil && n > 0 {
		return n
	}
	return 10_000
}

// benchIPs are n distinct public IPv4 addresses from 23.0.0.0/8, none of
// them in the fake's scenario: every provider answers not-found (AbuseIPDB:
// unreported), which is cached like any answer.
func benchIPs(n int) []ioc.IOC {
	out := make([]ioc.IOC, n)
	for i := range out {
		k := i + 1
		out[i] = ioc.IOC{Type: ioc.IPv4, Value: fmt.Sprintf("23.%d.%d.%d", k>>16&255, k>>8&255, k&255)}
	}
	return out
}

func newBenchFake() *fakeintel.Server {
	f := fakeintel.New(fakeintel.Options{Rate: fakeintel.Each(float64(benchRate)), Latency: fakeintel.Each(benchLatency)})
	f.Start()
	return f
}

// bulk runs iocs through a runtime on the store in dir, as `iocane enrich
// --providers ...` does, and returns the wall time and the outcome counts.
func bulk(b *testing.B, f *fakeintel.Server, dir string, iocs []ioc.IOC) (time.Duration, map[string]int) {
	b.Helper()
	rt := newRuntime(b, f, filepath.Join(dir, "iocane.db"), enrich.Options{Only: benchProviders})
	defer rt.close()
	in := make(chan enrich.Item, 1024)
	go func() {
		defer close(in)
		for _, i := range iocs {
			in <- enrich.Item{IOC: i, TLP: tlp.Amber}
		}
	}()
	counts := map[string]int{}
	start := time.Now()
	err := rt.engine.Run(context.Background(), in, func(r result.Result) error {
		for _, s := range r.Sources {
			counts[s.Status]++
			if s.Cached {
				counts["cached"]++
			}
		}
		return nil
	}, enrich.RunOptions{})
	wall := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	return wall, counts
}

func BenchmarkThroughput10k(b *testing.B) {
	n := benchN()
	iocs := benchIPs(n)
	f := newBenchFake()
	defer f.Close()
	dir, err := os.MkdirTemp("", "iocane-bench-")
	if err != nil {
		b.Fatal(err)
	}
	if !warmWillRun() {
		b.Cleanup(func() { os.RemoveAll(dir) })
	}

	b.ResetTimer()
	sched0 := schedLatency()
	wall, counts := bulk(b, f, dir, iocs)
	b.StopTimer()
	sl := schedLatency().since(sched0)
	b.Logf("go scheduler: %d goroutine wake-ups waited ≥ 100 ms to run (longest bucket ≥ %s); GC pauses: longest ≥ %s",
		sl.over100ms, sl.longest, gcPauseMax())
	cold.dir, cold.wall, cold.n = dir, wall, n

	bound := time.Duration(n) * time.Second / benchRate
	calls := 0
	for _, p := range benchProviders {
		calls += f.Calls(p)
	}
	b.Logf("cold: %d IOCs × %d providers in %s (bound %s); fake calls %d, 429s %d; statuses %v",
		n, len(benchProviders), wall.Round(time.Millisecond), bound, calls, f.TotalTooMany(), counts)
	for _, p := range benchProviders {
		st := arrivals(f.Requests(p))
		b.Logf("%-10s arrivals: max gap %s, max %d in any 100 ms, max %d in any 1 s; 429s %d (first after a %s gap)",
			p, st.maxGap.Round(time.Millisecond), st.max100ms, st.max1s, f.TooMany(p), st.gapBefore429.Round(time.Millisecond))
	}
	if counts["error"] > 0 || counts["rate_limited"] > 0 {
		b.Errorf("%d sources failed, %d rate limited", counts["error"], counts["rate_limited"])
	}

	// The seed's way, on a sample: one IP at a time, VT, a 0.25 s sleep,
	// AbuseIPDB, with plain net/http against the same (now idle) fake.
	tooMany := f.TotalTooMany()
	f.Reset()
	m := min(seedSample, max(10, n/50)) // 200 for the 10,000 run
	sample := benchIPs(n + m)[n:]       // not in the cache
	seedStart := time.Now()
	for _, i := range sample {
		seedCall(b, f.URL("virustotal")+"/ip_addresses/"+i.Value, "x-apikey", fakeintel.Key("virustotal"))
		time.Sleep(seedSleep)
		seedCall(b, f.URL("abuseipdb")+"/check?maxAgeInDays=90&ipAddress="+i.Value, "Key", fakeintel.Key("abuseipdb"))
	}
	seedWall := time.Since(seedStart)

	enginePer := wall.Seconds() / float64(n)
	seedPer := seedWall.Seconds() / float64(len(sample))
	b.ReportMetric(wall.Seconds(), "wall_s")
	b.ReportMetric(bound.Seconds(), "bound_s")
	b.ReportMetric(wall.Seconds()/bound.Seconds(), "wall/bound")
	b.ReportMetric(float64(tooMany), "429s")
	b.ReportMetric(enginePer, "engine_s/ioc")
	b.ReportMetric(seedPer, "seed_s/ioc")
	b.ReportMetric(seedPer/enginePer, "seed/engine")
}

// arrivalStats describes how evenly requests reached a fake provider.
type arrivalStats struct {
	maxGap          time.Duration // longest silence between two arrivals
	max100ms, max1s int           // most arrivals in any 100 ms / 1 s window
	gapBefore429    time.Duration // the longest silence in the second before the first 429
}

func arrivals(reqs []fakeintel.Request) arrivalStats {
	slices.SortFunc(reqs, func(a, b fakeintel.Request) int { return a.At.Compare(b.At) })
	var st arrivalStats
	lo100, lo1s, first429 := 0, 0, -1
	for i, r := range reqs {
		if i > 0 {
			st.maxGap = max(st.maxGap, r.At.Sub(reqs[i-1].At))
		}
		for r.At.Sub(reqs[lo100].At) >= 100*time.Millisecond {
			lo100++
		}
		for r.At.Sub(reqs[lo1s].At) >= time.Second {
			lo1s++
		}
		st.max100ms, st.max1s = max(st.max100ms, i-lo100+1), max(st.max1s, i-lo1s+1)
		if r.Status == http.StatusTooManyRequests && first429 < 0 {
			first429 = i
		}
	}
	for i := first429; i > 0 && first429 >= 0 && reqs[first429].At.Sub(reqs[i].At) < time.Second; i-- {
		st.gapBefore429 = max(st.gapBefore429, reqs[i].At.Sub(reqs[i-1].At))
	}
	return st
}

// schedStats is the runtime's histogram of how long runnable goroutines
// waited for a CPU: long waits with the process otherwise idle mean the
// machine, not the code, held the work back.
type schedStats struct {
	counts  []uint64
	buckets []float64
}

type schedDelta struct {
	over100ms uint64
	longest   time.Duration
}

func schedLatency() schedStats {
	m := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(m)
	h := m[0].Value.Float64Histogram()
	return schedStats{slices.Clone(h.Counts), h.Buckets}
}

func (s schedStats) since(o schedStats) schedDelta {
	var d schedDelta
	for i, c := range s.counts {
		n := c - o.counts[i]
		if n == 0 {
			continue
		}
		lo := s.buckets[i]
		if lo >= 0.1 {
			d.over100ms += n
		}
		d.longest = time.Duration(lo * float64(time.Second))
	}
	return d
}

func gcPauseMax() time.Duration {
	m := []metrics.Sample{{Name: "/sched/pauses/total/gc:seconds"}}
	metrics.Read(m)
	h := m[0].Value.Float64Histogram()
	var longest float64
	for i, c := range h.Counts {
		if c > 0 {
			longest = h.Buckets[i]
		}
	}
	return time.Duration(longest * float64(time.Second))
}

// seedCall is one request of the seed's loop: GET with the key header,
// read and decode the JSON body.
func seedCall(b *testing.B, u, header, key string) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set(header, key)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &v); err != nil || (resp.StatusCode != 200 && resp.StatusCode != 404) {
		b.Fatalf("seed loop: %s: %d %s", u, resp.StatusCode, body)
	}
}

func BenchmarkWarmRerun(b *testing.B) {
	if cold.dir == "" {
		b.Log("no cold run in this process: running it first (not timed)")
		f := newBenchFake()
		dir, err := os.MkdirTemp("", "iocane-bench-")
		if err != nil {
			b.Fatal(err)
		}
		cold.wall, _ = bulk(b, f, dir, benchIPs(benchN()))
		cold.dir, cold.n = dir, benchN()
		f.Close()
	}
	defer os.RemoveAll(cold.dir)
	f := newBenchFake()
	defer f.Close()

	b.ResetTimer()
	wall, counts := bulk(b, f, cold.dir, benchIPs(cold.n))
	b.StopTimer()

	calls := f.TotalCalls()
	b.Logf("warm: %d IOCs in %s; provider calls %d; statuses %v", cold.n, wall.Round(time.Millisecond), calls, counts)
	if calls != 0 {
		b.Errorf("warm re-run made %d provider calls, want 0", calls)
	}
	b.ReportMetric(wall.Seconds(), "wall_s")
	b.ReportMetric(float64(calls), "provider_calls")
	b.ReportMetric(float64(counts["cached"]), "cached_sources")
	b.ReportMetric(cold.wall.Seconds()/wall.Seconds(), "speedup")
}

// warmWillRun reports whether -bench selects BenchmarkWarmRerun too, in
// which case the cold run's store must outlive BenchmarkThroughput10k.
func warmWillRun() bool {
	fl := flag.Lookup("test.bench")
	if fl == nil {
		return false
	}
	re, err := regexp.Compile(fl.Value.String())
	return err == nil && re.MatchString("WarmRerun")
}
