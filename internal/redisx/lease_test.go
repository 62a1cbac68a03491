package redisx_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/redisx"
	"github.com/iocane/iocane/internal/redisx/redistest"
)

func unique(name string) string { return name + "-" + time.Now().Format("150405.000000000") }

// TestLease: one holder at a time; release frees the lease only for its
// holder; a lease renews while held and expires when its holder is gone.
func TestLease(t *testing.T) {
	c := redistest.Client(t, "")
	ls := &redisx.Leases{C: c}
	ctx := context.Background()
	key := unique("virustotal:ipv4:203.0.113.9")
	rel, ok, err := ls.Acquire(ctx, key, 600*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("first Acquire: ok=%v err=%v", ok, err)
	}
	if _, ok, err := ls.Acquire(ctx, key, time.Second); ok || err != nil {
		t.Fatalf("second Acquire while held: ok=%v err=%v", ok, err)
	}
	// Held longer than its TTL: renewed, still ours.
	time.Sleep(time.Second) // Redis keeps its own time: this cannot be faked
	if _, ok, _ := ls.Acquire(ctx, key, time.Second); ok {
		t.Fatal("a held lease expired while its holder worked")
	}
	rel()
	rel2, ok, err := ls.Acquire(ctx, key, time.Minute)
	if err != nil || !ok {
		t.Fatalf("Acquire after release: ok=%v err=%v", ok, err)
	}
	defer rel2()
	// A stale holder's release (its token gone) must not free another's lease.
	if err := c.Set(ctx, redisx.LeaseKey(key), "someone-else", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	rel2()
	if v := c.Get(ctx, redisx.LeaseKey(key)).Val(); v != "someone-else" {
		t.Errorf("release deleted a lease that was not ours (now %q)", v)
	}
	c.Del(ctx, redisx.LeaseKey(key))
}

func TestLeaseOutage(t *testing.T) {
	dead, err := redisx.NewClient(redisx.Settings{URL: redisx.URL(redistest.DeadURL(t))})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	_, ok, err := (&redisx.Leases{C: dead}).Acquire(context.Background(), "k", time.Second)
	if ok || !errors.Is(err, redisx.ErrUnavailable) {
		t.Errorf("Acquire with Redis down: ok=%v err=%v, want ErrUnavailable", ok, err)
	}
}

type memReplays map[string]bool

func (m memReplays) Replayed(_ context.Context, sig string, _ time.Time) (bool, error) {
	seen := m[sig]
	m[sig] = true
	return seen, nil
}

// TestReplays: a signature is fresh once across replicas, and expires
// with it; with Redis down the fallback answers.
func TestReplays(t *testing.T) {
	c := redistest.Client(t, "")
	ctx := context.Background()
	a, b := &redisx.Replays{C: c}, &redisx.Replays{C: c}
	sig := unique("sig")
	if seen, err := a.Replayed(ctx, sig, time.Now().Add(time.Minute)); seen || err != nil {
		t.Fatalf("first use: %v %v", seen, err)
	}
	if seen, err := b.Replayed(ctx, sig, time.Now().Add(time.Minute)); !seen || err != nil {
		t.Fatalf("replay at another replica: %v %v", seen, err)
	}
	if ttl := c.PTTL(ctx, redisx.KeyPrefix+"replay:"+sig).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("replay mark TTL %v, want the signature's minute", ttl)
	}

	dead, err := redisx.NewClient(redisx.Settings{URL: redisx.URL(redistest.DeadURL(t))})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	fb := memReplays{}
	d := &redisx.Replays{C: dead, Fallback: fb}
	if seen, err := d.Replayed(ctx, "x", time.Now().Add(time.Minute)); seen || err != nil {
		t.Fatalf("first use, Redis down: %v %v", seen, err)
	}
	if seen, err := d.Replayed(ctx, "x", time.Now().Add(time.Minute)); !seen || err != nil {
		t.Fatalf("replay, Redis down: %v %v (want the fallback's answer)", seen, err)
	}
}
