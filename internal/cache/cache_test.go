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
