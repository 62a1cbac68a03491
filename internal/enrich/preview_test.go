package enrich

import (
	"context"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/cache"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/tlp"
)

// countingProvider counts its calls; a preview must make none.
type countingProvider struct{ calls int }

func (p *countingProvider) Lookup(context.Context, ioc.IOC) (provider.Finding, error) {
	p.calls++
	return provider.Finding{Status: provider.StatusNotFound}, nil
}

// TestPreviewAsksNobody: a preview says which providers would be asked,
// which the cache would answer and why the others would not be asked,
// and calls no provider.
func TestPreviewAsksNobody(t *testing.T) {
	green, amber := &countingProvider{}, &countingProvider{}
	src := func(name string, p provider.Provider, max tlp.Level) *Source {
		return &Source{Spec: provider.Spec{Name: name, Types: []ioc.Type{ioc.IPv4}, MaxTLP: max, TTL: time.Hour},
			Provider: p, MaxTLP: max, Workers: 1, Rate: ratelimit.Rate{N: 100, Per: time.Second}}
	}
	mem := cache.NewMemory(100)
	e := New(Options{Sources: []*Source{src("greenonly", green, tlp.Green), src("amberok", amber, tlp.Amber)}, Cache: mem,
		Routing: map[ioc.Type][]string{ioc.IPv4: {"greenonly", "amberok"}}})
	e.Start(t.Context())
	defer e.Close()
	ctx := t.Context()
	ip := ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}
	mem.Put(ctx, cache.Key{Provider: "amberok", IOC: ip}, cache.Entry{Finding: provider.Finding{Status: provider.StatusOK}, ExpiresAt: time.Now().Add(time.Hour)})

	steps := map[string]Step{}
	for _, s := range e.Preview(ctx, Item{IOC: ip, TLP: tlp.Amber}) {
		steps[s.Provider] = s
	}
	if s := steps["greenonly"]; s.Ask || s.Reason != "TLP:AMBER is above greenonly's limit TLP:GREEN" {
		t.Errorf("greenonly: %+v", s)
	}
	if s := steps["amberok"]; s.Ask || !s.Cached {
		t.Errorf("amberok should be answered by the cache: %+v", s)
	}
	internal := e.Preview(ctx, Item{IOC: ioc.IOC{Type: ioc.IPv4, Value: "10.0.0.5"}, TLP: tlp.Clear})
	for _, s := range internal {
		if s.Ask || s.Cached {
			t.Errorf("an internal address would reach %s", s.Provider)
		}
	}
	fresh := e.Preview(ctx, Item{IOC: ioc.IOC{Type: ioc.IPv4, Value: "45.1.2.3"}, TLP: tlp.Green})
	asked := 0
	for _, s := range fresh {
		if s.Ask {
			asked++
		}
	}
	if asked != 2 {
		t.Errorf("a fresh TLP:GREEN IP would ask %d providers, want 2: %+v", asked, fresh)
	}
	if green.calls+amber.calls != 0 {
		t.Errorf("the preview called providers %d times", green.calls+amber.calls)
	}
}
