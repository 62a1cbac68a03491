package enrich

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/iocane/iocane/internal/cache"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// fake is an in-process provider whose answers the test scripts.
type fake struct {
	name   string
	calls  atomic.Int64
	answer func(i ioc.IOC) (provider.Finding, error)
	gate   chan struct{} // when set, each Lookup waits for it (or ctx)
}

func (f *fake) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	f.calls.Add(1)
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return provider.Finding{}, ctx.Err()
		}
	}
	if f.answer == nil {
		return provider.Finding{Provider: f.name, Status: provider.StatusNotFound}, nil
	}
	return f.answer(i)
}

func src(name string, local bool, max tlp.Level, p provider.Provider, types ...ioc.Type) *Source {
	if len(types) == 0 {
		types = []ioc.Type{ioc.IPv4, ioc.Domain, ioc.URL, ioc.SHA256}
	}
	return &Source{
		Spec: provider.Spec{Name: name, Types: types, Local: local, MaxTLP: max, TTL: time.Hour, NotFoundTTL: time.Minute,
			Reliability: provider.ReliabilityB},
		Provider: p, MaxTLP: max, Rate: ratelimit.Rate{N: 100, Per: time.Second},
	}
}

func malicious(name string) func(ioc.IOC) (provider.Finding, error) {
	return func(i ioc.IOC) (provider.Finding, error) {
		return provider.Finding{Provider: name, Status: provider.StatusOK, Malicious: 0.95, Summary: "known bad"}, nil
	}
}

func newEngine(t *testing.T, o Options) *Engine {
	t.Helper()
	e := New(o)
	e.Start(context.Background())
	t.Cleanup(e.Close)
	return e
}

var public = ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}

func TestFanOutAndScore(t *testing.T) {
	a := &fake{name: "ta", answer: malicious("ta")}
	b := &fake{name: "tb"}
	e := newEngine(t, Options{Sources: []*Source{src("ta", false, tlp.Amber, a), src("tb", false, tlp.Amber, b)},
		Skipped: map[string]string{}, Only: []string{"ta", "tb"}})
	r := e.Enrich(context.Background(), Item{IOC: public, TLP: tlp.Amber})
	if r.Verdict != result.Malicious {
		t.Errorf("verdict = %s (score %d, reasons %v), want malicious", r.Verdict, r.Score, r.Reasons)
	}
	if s, _ := r.Source("tb"); s.Status != "not_found" {
		t.Errorf("tb status = %q", s.Status)
	}
	if a.calls.Load() != 1 || b.calls.Load() != 1 {
		t.Errorf("calls = %d, %d; want 1 each", a.calls.Load(), b.calls.Load())
	}
	if r.DBotScore != 3 || r.EnrichedAt.IsZero() || r.TLP != tlp.Amber {
		t.Errorf("result fields: %+v", r)
	}
}

func TestPolicyBeforeQuota(t *testing.T) {
	ext := &fake{name: "ext", answer: malicious("ext")}
	own := &fake{name: "ownmisp"}
	allow := &fake{name: "allowlist", answer: func(i ioc.IOC) (provider.Finding, error) {
		if i.Value == "trusted-partner.com" {
			return provider.Finding{Provider: "allowlist", Status: provider.StatusOK, Benign: 1, Summary: "on allow-list corp"}, nil
		}
		return provider.Finding{Provider: "allowlist", Status: provider.StatusNotFound}, nil
	}}
	e := newEngine(t, Options{Sources: []*Source{
		src("ext", false, tlp.Amber, ext), src("ownmisp", false, tlp.Red, own), src("allowlist", true, tlp.Red, allow),
	}, Only: []string{"ext", "ownmisp"}})
	ctx := context.Background()

	cases := []struct {
		name     string
		it       Item
		skipWant string // ext's skip reason prefix
		ownAsked bool
	}{
		{"private address", Item{IOC: ioc.IOC{Type: ioc.IPv4, Value: "10.1.2.3"}, TLP: tlp.Amber}, "internal", false},
		{"internal domain", Item{IOC: ioc.IOC{Type: ioc.Domain, Value: "dc01.corp"}, TLP: tlp.Amber}, "internal", false},
		{"tlp red", Item{IOC: public, TLP: tlp.Red}, "TLP:RED is above ext's limit TLP:AMBER", true},
		{"allow-listed", Item{IOC: ioc.IOC{Type: ioc.Domain, Value: "trusted-partner.com"}, TLP: tlp.Amber}, "allow-listed", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ext.calls.Store(0)
			own.calls.Store(0)
			r := e.Enrich(ctx, c.it)
			s, _ := r.Source("ext")
			if s.Status != "skipped" || len(s.Reason) < len(c.skipWant) || s.Reason[:len(c.skipWant)] != c.skipWant {
				t.Errorf("ext = %s %q, want skipped %q", s.Status, s.Reason, c.skipWant)
			}
			if ext.calls.Load() != 0 {
				t.Errorf("external provider called %d times", ext.calls.Load())
			}
			if got := own.calls.Load() == 1; got != c.ownAsked {
				t.Errorf("own MISP asked = %v, want %v", got, c.ownAsked)
			}
			if _, ok := r.Source("allowlist"); !ok {
				t.Error("local allow-list not consulted")
			}
		})
	}
	r := e.Enrich(ctx, Item{IOC: ioc.IOC{Type: ioc.Domain, Value: "trusted-partner.com"}, TLP: tlp.Amber})
	if r.Verdict != result.Benign {
		t.Errorf("allow-listed verdict = %s, want benign (reasons %v)", r.Verdict, r.Reasons)
	}
}

func TestCacheMeansNoSecondCall(t *testing.T) {
	a := &fake{name: "ta", answer: malicious("ta")}
	b := &fake{name: "tb", answer: func(ioc.IOC) (provider.Finding, error) { return provider.Finding{}, errors.New("boom") }}
	c := cache.NewMemory(100)
	e := newEngine(t, Options{Sources: []*Source{src("ta", false, tlp.Amber, a), src("tb", false, tlp.Amber, b)}, Cache: c, Only: []string{"ta", "tb"}})
	ctx := context.Background()
	first := e.Enrich(ctx, Item{IOC: public, TLP: tlp.Amber})
	second := e.Enrich(ctx, Item{IOC: public, TLP: tlp.Amber})
	if a.calls.Load() != 1 {
		t.Errorf("cached provider called %d times, want 1", a.calls.Load())
	}
	if b.calls.Load() != 2 {
		t.Errorf("an error answer was cached: failing provider called %d times, want 2", b.calls.Load())
	}
	s1, _ := first.Source("ta")
	s2, _ := second.Source("ta")
	if s1.Cached || !s2.Cached || s2.Summary != "known bad" || second.Verdict != first.Verdict {
		t.Errorf("cached flags/answers: first %+v second %+v", s1, s2)
	}
	e2 := newEngine(t, Options{Sources: []*Source{src("ta", false, tlp.Amber, a)}, Cache: c, NoCache: true, Only: []string{"ta"}})
	e2.Enrich(ctx, Item{IOC: public, TLP: tlp.Amber})
	if a.calls.Load() != 2 {
		t.Error("NoCache still read the cache")
	}
}

// Twenty look-ups of one IOC while the first is in flight make one call.
// In a synctest bubble, Wait returns once the first call is blocked at its
// gate and the other nineteen are blocked waiting for it.
func TestConcurrentSameIOCCollapses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		a := &fake{name: "ta", answer: malicious("ta"), gate: gate}
		e := newEngine(t, Options{Sources: []*Source{src("ta", false, tlp.Amber, a)}, Only: []string{"ta"}})
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r := e.Enrich(context.Background(), Item{IOC: public, TLP: tlp.Amber}); r.Verdict != result.Malicious {
					t.Errorf("verdict %s", r.Verdict)
				}
			}()
		}
		synctest.Wait() // every look-up has arrived and is blocked
		if n := a.calls.Load(); n != 1 {
			t.Errorf("20 concurrent look-ups of one IOC made %d calls, want 1", n)
		}
		close(gate)
		wg.Wait()
		if n := a.calls.Load(); n != 1 {
			t.Errorf("after the answer: %d calls, want 1", n)
		}
	})
}

func TestDeadlineKeepsWhatArrived(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := &fake{name: "slow", gate: make(chan struct{})}
		fast := &fake{name: "fast", answer: malicious("fast")}
		e := newEngine(t, Options{Sources: []*Source{src("slow", false, tlp.Amber, slow), src("fast", false, tlp.Amber, fast)},
			Only: []string{"slow", "fast"}, IOCTimeout: 50 * time.Millisecond})
		start := time.Now()
		r := e.Enrich(context.Background(), Item{IOC: public, TLP: tlp.Amber})
		if d := time.Since(start); d != 50*time.Millisecond {
			t.Errorf("Enrich returned after %v, want the 50ms deadline", d)
		}
		s, _ := r.Source("slow")
		f, _ := r.Source("fast")
		if s.Status != "error" || s.Reason != "deadline" {
			t.Errorf("slow = %s %q, want error deadline", s.Status, s.Reason)
		}
		if f.Status != "ok" || r.Verdict != result.Malicious {
			t.Errorf("fast = %s, verdict %s", f.Status, r.Verdict)
		}
		close(slow.gate)
	})
}

// A provider stuck on every call holds back no other: the fast one answers
// all fifty IOCs while the slow one's only worker is blocked.
func TestSlowProviderDoesNotHoldBackOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := &fake{name: "slow", gate: make(chan struct{})}
		fast := &fake{name: "fast"}
		e := newEngine(t, Options{Sources: []*Source{src("slow", false, tlp.Amber, slow), src("fast", false, tlp.Amber, fast)}, Only: []string{"slow", "fast"}})
		e.sources["slow"].Workers = 1
		in := make(chan Item)
		go func() {
			defer close(in)
			for n := range 50 {
				in <- Item{IOC: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101." + strconv.Itoa(n)}, TLP: tlp.Amber}
			}
		}()
		done := make(chan error, 1)
		var got atomic.Int64
		go func() {
			done <- e.Run(context.Background(), in, func(result.Result) error { got.Add(1); return nil }, RunOptions{Window: 100})
		}()
		synctest.Wait() // everything that can run has run: only the slow provider is left
		if n := fast.calls.Load(); n != 50 {
			t.Fatalf("fast provider made %d of 50 calls while the slow one was stuck", n)
		}
		if got.Load() != 0 {
			t.Fatalf("%d results emitted before the slow provider answered", got.Load())
		}
		close(slow.gate)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got.Load() != 50 {
			t.Errorf("emitted %d results, want 50", got.Load())
		}
	})
}

func TestRunOrderedAndEmitError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &fake{name: "ta", answer: func(i ioc.IOC) (provider.Finding, error) {
			if i.Value == "185.220.101.0" {
				time.Sleep(20 * time.Millisecond) // the first finishes last (fake time: the bubble's clock)
			}
			return provider.Finding{Provider: "ta", Status: provider.StatusNotFound}, nil
		}}
		e := newEngine(t, Options{Sources: []*Source{src("ta", false, tlp.Amber, a)}, Only: []string{"ta"}})
		stopFeeds := make(chan struct{}) // a Run that fails stops reading: its feeder must not block forever
		defer close(stopFeeds)
		feed := func(n int) <-chan Item {
			in := make(chan Item)
			go func() {
				defer close(in)
				for k := range n {
					select {
					case in <- Item{IOC: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101." + strconv.Itoa(k)}, TLP: tlp.Amber}:
					case <-stopFeeds:
						return
					}
				}
			}()
			return in
		}
		var order []string
		err := e.Run(context.Background(), feed(30), func(r result.Result) error { order = append(order, r.IOC.Value); return nil }, RunOptions{Ordered: true, Window: 8})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range order {
			if v != "185.220.101."+strconv.Itoa(k) {
				t.Fatalf("ordered output %d = %s", k, v)
			}
		}
		if len(order) != 30 {
			t.Fatalf("emitted %d, want 30", len(order))
		}
		stop := errors.New("disk full")
		n := 0
		err = e.Run(context.Background(), feed(30), func(result.Result) error { n++; return stop }, RunOptions{Window: 4})
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("emit error: err=%v after %d emits, want disk full after 1", err, n)
		}
	})
}

func TestItemProvidersRestrict(t *testing.T) {
	a := &fake{name: "ta", answer: malicious("ta")}
	b := &fake{name: "tb"}
	e := newEngine(t, Options{Sources: []*Source{src("ta", false, tlp.Amber, a), src("tb", false, tlp.Amber, b)}, Only: []string{"ta", "tb"}})
	r := e.Enrich(context.Background(), Item{IOC: public, TLP: tlp.Amber, Providers: []string{"tb"}})
	if _, ok := r.Source("ta"); ok || a.calls.Load() != 0 || b.calls.Load() != 1 {
		t.Errorf("item restricted to tb: ta listed=%v, calls ta=%d tb=%d", ok, a.calls.Load(), b.calls.Load())
	}
}
