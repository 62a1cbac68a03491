package taxii

import (
	"context"
	"runtime"
	"testing"
)

// BenchmarkSync100k reads 100,000 indicators served in pages of 1,000 by
// the fake server (in the same process, over loopback HTTP, so its work is
// in the figures). peak-heap-MiB is the largest HeapInuse above the
// pre-sync baseline, sampled once per page.
func BenchmarkSync100k(b *testing.B) {
	const total = 100_000
	f := newFakeServer(b)
	raws := make([][]byte, total)
	for n := range raws {
		raws[n] = indicatorJSON(n)
	}
	f.add(raws...)
	cfg := testConfig(f.srv.URL + "/taxii2/")
	cfg.PageSize = 1000
	c := newClient(b, cfg)

	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	baseline, peak := ms.HeapInuse, uint64(0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		_, err := c.Sync(context.Background(), "", func(Indicator) error {
			if n++; n%1000 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
			return nil
		})
		if err != nil || n != total {
			b.Fatalf("emitted %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "indicators/s")
	b.ReportMetric(float64(peak-min(peak, baseline))/(1<<20), "peak-heap-MiB")
}
