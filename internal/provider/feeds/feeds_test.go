package feeds

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/store"
)

type indicators []store.FeedIndicator

func (s indicators) FeedIndicators(_ context.Context, now time.Time, fn func(store.FeedIndicator)) error {
	for _, fi := range s {
		if fi.Expires.After(now) {
			fn(fi)
		}
	}
	return nil
}

func TestMatcher(t *testing.T) {
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	clock := now
	m := NewMatcher(func() time.Time { return clock })
	c2 := ioc.IOC{Type: ioc.IPv4, Value: "91.215.85.142"}
	src := indicators{
		{Feed: "feodo", IOC: c2, FirstSeen: now.AddDate(0, 0, -30), Confidence: 90, Expires: now.Add(time.Hour)},
		{Feed: "spamhaus", IOC: c2, FirstSeen: now.AddDate(0, 0, -2), Confidence: 60, Expires: now.Add(48 * time.Hour)},
	}
	if n, err := m.Load(context.Background(), src); err != nil || n != 2 {
		t.Fatalf("load %d, %v", n, err)
	}
	f, _ := m.Lookup(context.Background(), c2)
	if f.Status != provider.StatusOK || f.Malicious != 0.9 || f.Summary != "on feodo since 2026-11-04, spamhaus since 2026-12-02" {
		t.Errorf("both feeds: %+v", f)
	}
	clock = now.Add(2 * time.Hour) // feodo's indicator expired
	f, _ = m.Lookup(context.Background(), c2)
	if f.Malicious != 0.6 || !strings.HasPrefix(f.Summary, "on spamhaus") {
		t.Errorf("after feodo's expiry: %+v", f)
	}
	if f, _ := m.Lookup(context.Background(), ioc.IOC{Type: ioc.IPv4, Value: "45.155.205.233"}); f.Status != provider.StatusNotFound {
		t.Errorf("an IOC no feed holds: %+v", f)
	}
}

// BenchmarkLookup1M (issue 13, acceptance 5): look-ups per second against
// 1,000,000 feed indicators held in memory, half of them hits.
//
//	go test ./internal/provider/feeds -run '^$' -bench Lookup1M
func BenchmarkLookup1M(b *testing.B) {
	now := time.Now()
	src := make(indicators, 1_000_000)
	for k := range src {
		src[k] = store.FeedIndicator{Feed: "big", IOC: ioc.IOC{Type: ioc.IPv4, Value: fmt.Sprintf("45.%d.%d.%d", k>>16&255, k>>8&255, k&255)},
			FirstSeen: now, Confidence: 80, Expires: now.Add(time.Hour)}
	}
	m := NewMatcher(nil)
	if _, err := m.Load(context.Background(), src); err != nil {
		b.Fatal(err)
	}
	probes := make([]ioc.IOC, 4096)
	for k := range probes {
		v := fmt.Sprintf("45.%d.%d.%d", k*7%256, k*13%256, k%256)
		if k%2 == 1 {
			v = fmt.Sprintf("46.%d.%d.%d", k%256, k*3%256, k*5%256)
		}
		probes[k] = ioc.IOC{Type: ioc.IPv4, Value: v}
	}
	ctx := context.Background()
	b.ResetTimer()
	k := 0
	for b.Loop() {
		_, _ = m.Lookup(ctx, probes[k&4095])
		k++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}
