package cache

import (
	"context"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

func TestCacheable(t *testing.T) {
	for s, want := range map[provider.Status]bool{
		provider.StatusOK: true, provider.StatusNotFound: true,
		provider.StatusError: false, provider.StatusSkipped: false, provider.StatusRateLimited: false,
	} {
		if got := Cacheable(provider.Finding{Status: s}); got != want {
			t.Errorf("Cacheable(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestMemoryExpiryAndLayered(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	front, back := NewMemory(100), NewMemory(100)
	front.now = func() time.Time { return now }
	back.now = front.now
	k := Key{"virustotal", ioc.IOC{Type: ioc.Domain, Value: "evil.example"}}
	e := Entry{Finding: provider.Finding{Provider: "virustotal", Status: provider.StatusOK}, StoredAt: now, ExpiresAt: now.Add(time.Minute)}
	_ = back.Put(ctx, k, e)
	l := Layered{Front: front, Back: back}
	if _, ok, _ := l.Get(ctx, k); !ok {
		t.Fatal("layered miss on a back hit")
	}
	if _, ok, _ := front.Get(ctx, k); !ok {
		t.Error("back hit did not fill the front")
	}
	now = now.Add(2 * time.Minute)
	if _, ok, _ := l.Get(ctx, k); ok {
		t.Error("expired entry returned")
	}
}

func TestEncodeDecodeKeepsSignals(t *testing.T) {
	f := provider.Finding{Provider: "otx", Status: provider.StatusOK, Malicious: 0.6, Benign: 0.05, Summary: "3 pulses", Tags: []string{"apt"}}
	b, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Decode("otx", b)
	if err != nil {
		t.Fatal(err)
	}
	if g.Malicious != 0.6 || g.Benign != 0.05 || g.Summary != "3 pulses" || g.Provider != "otx" {
		t.Errorf("decoded %+v", g)
	}
	if _, err := Decode("otx", []byte("{")); err == nil {
		t.Error("corrupt entry decoded")
	}
}

// TestMemoryPurge: a purge drops what the store's purge would, by provider
// and age, and keeps the rest.
func TestMemoryPurge(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	m := NewMemory(100)
	ip := ioc.IOC{Type: ioc.IPv4, Value: "45.155.205.233"}
	put := func(p string, age time.Duration) {
		m.Put(ctx, Key{Provider: p, IOC: ip}, Entry{StoredAt: now.Add(-age), ExpiresAt: now.Add(time.Hour)})
	}
	has := func(p string) bool { _, ok, _ := m.Get(ctx, Key{Provider: p, IOC: ip}); return ok }
	put("virustotal", 2*time.Hour)
	put("shodan", time.Minute)
	put("otx", 2*time.Hour)
	m.Purge("", time.Hour)
	if has("virustotal") || has("otx") || !has("shodan") {
		t.Errorf("older-than purge: vt %v otx %v shodan %v", has("virustotal"), has("otx"), has("shodan"))
	}
	put("virustotal", 0)
	m.Purge("shodan", 0)
	if has("shodan") || !has("virustotal") {
		t.Error("provider purge dropped the wrong entries")
	}
	m.Purge("", 0)
	if has("virustotal") {
		t.Error("full purge kept an entry")
	}
}
