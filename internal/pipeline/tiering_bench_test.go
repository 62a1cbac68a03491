package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
)

// tieringWorkload is issue 14's mixed workload: n IOCs, half public IPv4
// and half domains, 30 % known-bad to the free sources, 30 % known-good,
// 40 % unknown.
func tieringWorkload(n int) ([]ioc.IOC, map[ioc.IOC]fakeintel.Class) {
	classes := map[ioc.IOC]fakeintel.Class{}
	var iocs []ioc.IOC
	for k := range n {
		i := ioc.IOC{Type: ioc.IPv4, Value: fmt.Sprintf("45.%d.%d.%d", 100+k/65536, k/256%256, k%256)}
		if k%2 == 1 {
			i = ioc.IOC{Type: ioc.Domain, Value: fmt.Sprintf("host-%d.tiering-test.net", k)}
		}
		switch k % 10 {
		case 0, 1, 2:
			classes[i] = fakeintel.Malicious
		case 3, 4, 5:
			classes[i] = fakeintel.Benign
		}
		iocs = append(iocs, i)
	}
	return iocs, classes
}

// runTiering enriches the workload on a fresh store with tiering on or off
// and returns the results and the fake's calls per provider.
func runTiering(tb testing.TB, iocs []ioc.IOC, classes map[ioc.IOC]fakeintel.Class, on bool) (map[ioc.IOC]result.Result, map[string]int, time.Duration) {
	f := fakeintel.New(fakeintel.Options{Verdicts: classes, Latency: fakeintel.Each(20 * time.Millisecond)})
	f.Start()
	defer f.Close()
	rt := newRuntime(tb, f, filepath.Join(tb.TempDir(), "iocane.db"), enrich.Options{IOCTimeout: 30 * time.Second, Tiering: on})
	defer rt.close()
	in := make(chan enrich.Item, len(iocs))
	for _, i := range iocs {
		in <- amber(i)
	}
	close(in)
	out := map[ioc.IOC]result.Result{}
	start := time.Now()
	if err := rt.engine.Run(context.Background(), in, func(r result.Result) error { out[r.IOC] = r; return nil }, enrich.RunOptions{}); err != nil {
		tb.Fatal(err)
	}
	wall := time.Since(start)
	calls := map[string]int{}
	for _, p := range fakeintel.Providers {
		calls[p] = f.Calls(p)
	}
	return out, calls, wall
}

// BenchmarkTiering (issue 14, acceptance 1) measures --tiering on against
// off on 1,000 IOCs: scarce calls (VirusTotal, Shodan), all calls, verdict
// agreement (malicious and suspicious must agree 100 %) and wall time.
//
//	go test ./internal/pipeline -run '^$' -bench Tiering -benchtime 1x
func BenchmarkTiering(b *testing.B) {
	iocs, classes := tieringWorkload(1000)
	for b.Loop() {
		off, offCalls, offWall := runTiering(b, iocs, classes, false)
		on, onCalls, onWall := runTiering(b, iocs, classes, true)
		sum := func(c map[string]int, names ...string) (n int) {
			for _, p := range names {
				n += c[p]
			}
			return n
		}
		all := func(c map[string]int) (n int) {
			for _, v := range c {
				n += v
			}
			return n
		}
		agree, lost := 0, 0
		for i, r := range off {
			if on[i].Verdict == r.Verdict {
				agree++
			} else if r.Verdict == result.Malicious || r.Verdict == result.Suspicious {
				lost++
				b.Logf("lost: %s %s off, %s on", i, r.Verdict, on[i].Verdict)
			}
		}
		scarceOff, scarceOn := sum(offCalls, "virustotal", "shodan"), sum(onCalls, "virustotal", "shodan")
		b.Logf("off: %d VT+Shodan calls, %d calls in all, %v; on: %d VT+Shodan calls, %d calls in all, %v",
			scarceOff, all(offCalls), offWall.Round(time.Millisecond), scarceOn, all(onCalls), onWall.Round(time.Millisecond))
		b.Logf("calls off %v", offCalls)
		b.Logf("calls on  %v", onCalls)
		b.ReportMetric(100*(1-float64(scarceOn)/float64(scarceOff)), "%scarce_saved")
		b.ReportMetric(100*float64(agree)/float64(len(off)), "%agree")
		b.ReportMetric(float64(lost), "mal_sus_lost")
		b.ReportMetric(offWall.Seconds(), "off_s")
		b.ReportMetric(onWall.Seconds(), "on_s")
	}
}

// TestTieringKeepsMaliciousVerdicts is the benchmark's check at a size a
// test can afford: on 200 IOCs tiering saves at least half the scarce
// calls and loses no malicious or suspicious verdict.
func TestTieringKeepsMaliciousVerdicts(t *testing.T) {
	iocs, classes := tieringWorkload(200)
	off, offCalls, _ := runTiering(t, iocs, classes, false)
	on, onCalls, _ := runTiering(t, iocs, classes, true)
	for i, r := range off {
		if (r.Verdict == result.Malicious || r.Verdict == result.Suspicious) && on[i].Verdict != r.Verdict {
			t.Errorf("%s: %s with tiering off, %s on", i, r.Verdict, on[i].Verdict)
		}
	}
	scarceOff, scarceOn := offCalls["virustotal"]+offCalls["shodan"], onCalls["virustotal"]+onCalls["shodan"]
	if scarceOn*2 > scarceOff {
		t.Errorf("scarce calls %d with tiering, %d without: less than half saved", scarceOn, scarceOff)
	}
	settled := 0
	for _, r := range on {
		for _, s := range r.Sources {
			if s.Status == "skipped" && len(s.Reason) > 8 && s.Reason[:8] == "tiering:" {
				settled++
				break
			}
		}
	}
	if settled == 0 {
		t.Error("no source skipped with a tiering: reason")
	}
}
