// Package cachetest holds the conformance suite every cache.Cache backend
// passes: the in-memory layer, the SQLite store's and Redis's. The same
// test, run against each, is what lets a layer be swapped for another.
package cachetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/cache"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

// Cache checks c: an unknown key is a miss; an entry comes back as it was
// put (the stored fields of its Finding, its times to the millisecond); a
// second put replaces the first; provider, type and value each tell keys
// apart; and an entry whose ExpiresAt has passed is a miss. now is the
// clock c reads (the suite never waits); prefix keeps the test's keys
// apart from others in a shared backend.
func Cache(t *testing.T, c cache.Cache, now func() time.Time, prefix string) {
	ctx := context.Background()
	run := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
	key := func(name string) cache.Key {
		return cache.Key{Provider: "virustotal", IOC: ioc.IOC{Type: ioc.Domain, Value: run + "-" + name + ".example"}}
	}
	finding := func(summary string) provider.Finding {
		return provider.Finding{Provider: "virustotal", Status: provider.StatusOK, Malicious: 0.75, Benign: 0.1, Summary: summary,
			Link: "https://www.virustotal.com/gui/domain/x", Data: map[string]any{"malicious": float64(12)}, Tags: []string{"phishing"},
			Latency: 143 * time.Millisecond}
	}
	entry := func(f provider.Finding, ttl time.Duration) cache.Entry {
		at := now().Truncate(time.Millisecond)
		return cache.Entry{Finding: f, StoredAt: at, ExpiresAt: at.Add(ttl)}
	}

	t.Run("MissOnUnknown", func(t *testing.T) {
		if _, ok, err := c.Get(ctx, key("unknown")); ok || err != nil {
			t.Fatalf("Get of an unknown key: ok=%v err=%v", ok, err)
		}
	})
	t.Run("RoundTrip", func(t *testing.T) {
		k, want := key("round"), entry(finding("12/94 engines"), time.Hour)
		if err := c.Put(ctx, k, want); err != nil {
			t.Fatal(err)
		}
		got, ok, err := c.Get(ctx, k)
		if !ok || err != nil {
			t.Fatalf("Get after Put: ok=%v err=%v", ok, err)
		}
		f, w := got.Finding, want.Finding
		if f.Provider != w.Provider || f.Status != w.Status || f.Malicious != w.Malicious || f.Benign != w.Benign ||
			f.Summary != w.Summary || f.Link != w.Link || f.Latency != w.Latency || fmt.Sprint(f.Data) != fmt.Sprint(w.Data) ||
			fmt.Sprint(f.Tags) != fmt.Sprint(w.Tags) {
			t.Errorf("finding came back as %+v, put %+v", f, w)
		}
		if !got.StoredAt.Equal(want.StoredAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
			t.Errorf("times came back as %v..%v, put %v..%v", got.StoredAt, got.ExpiresAt, want.StoredAt, want.ExpiresAt)
		}
	})
	t.Run("PutReplaces", func(t *testing.T) {
		k := key("replace")
		nf := finding("")
		nf.Status, nf.Malicious, nf.Benign, nf.Data, nf.Tags = provider.StatusNotFound, 0, 0, nil, nil
		for _, e := range []cache.Entry{entry(finding("first"), time.Hour), entry(nf, time.Minute)} {
			if err := c.Put(ctx, k, e); err != nil {
				t.Fatal(err)
			}
		}
		got, ok, _ := c.Get(ctx, k)
		if !ok || got.Finding.Status != provider.StatusNotFound {
			t.Fatalf("after a second Put: ok=%v status=%q, want not_found", ok, got.Finding.Status)
		}
	})
	t.Run("KeysAreDistinct", func(t *testing.T) {
		k := key("distinct")
		if err := c.Put(ctx, k, entry(finding("one"), time.Hour)); err != nil {
			t.Fatal(err)
		}
		others := []cache.Key{{Provider: "urlhaus", IOC: k.IOC}, {Provider: k.Provider, IOC: ioc.IOC{Type: ioc.URL, Value: k.IOC.Value}},
			{Provider: k.Provider, IOC: ioc.IOC{Type: k.IOC.Type, Value: "other." + k.IOC.Value}}}
		for _, o := range others {
			if _, ok, _ := c.Get(ctx, o); ok {
				t.Errorf("%+v answers for %+v", o, k)
			}
		}
	})
	t.Run("ExpiredIsAMiss", func(t *testing.T) {
		k := key("expired")
		if err := c.Put(ctx, k, entry(finding("fresh"), time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := c.Put(ctx, k, entry(finding("stale"), -time.Second)); err != nil {
			t.Fatal(err)
		}
		if e, ok, err := c.Get(ctx, k); ok || err != nil {
			t.Fatalf("an entry that expired a second ago: ok=%v err=%v (%q)", ok, err, e.Finding.Summary)
		}
	})
}
