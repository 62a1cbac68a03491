package jobs

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// jobBody returns about size bytes of alert text in the shape of the
// probe's 9.4 MB body: log lines, each with a few IOCs among ordinary words.
func jobBody(size int) string {
	var b strings.Builder
	b.Grow(size + 256)
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "2026-12-01T10:%02d:%02dZ host-%d sshd[%d]: connection from 45.%d.%d.%d to hxxp://update-%d[.]example-cdn[.]com/path/%d?id=%x user admin%d failed, sample %064x seen by the gateway\n",
			i/60%60, i%60, i%50, 1000+i, 10+i/62500%200, i/250%250, i%250+1, i%9000, i, i*7919, i%17, i*2654435761)
	}
	return b.String()
}

// BenchmarkJobBodyMemory runs one job whose input is a 9.4 MB body of
// about 113,000 distinct IOCs through the queue (store, extraction,
// dedupe, engine with an instant provider, result batches) and reports the
// peak of live heap objects sampled every millisecond, in MB and as a
// multiple of the body's size (issue 17: a 9.4 MB body took 783 MB RSS).
func BenchmarkJobBodyMemory(b *testing.B) {
	body := jobBody(9_400_000)
	for b.Loop() {
		h := newHarness(b, newEngine(b, newFake(), 16, nil), "", Options{})
		runtime.GC()
		var peak atomic.Uint64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		if _, _, err := h.q.Submit(context.Background(), Spec{Input: []byte(body), InputFormat: "text"}); err != nil {
			b.Fatal(err)
		}
		var j Job
		select {
		case j = <-h.done:
		case <-time.After(10 * time.Minute):
			b.Fatal("the job did not finish within 10 minutes")
		}
		close(stop)
		<-sampled
		b.ReportMetric(float64(peak.Load())/1e6, "peak-heap-MB")
		b.ReportMetric(float64(peak.Load())/float64(len(body)), "peak/body")
		b.ReportMetric(float64(j.Counts.IOCs), "iocs")
	}
}
