package redisrl

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/iocane/iocane/internal/backend"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/redisx"
	"github.com/iocane/iocane/internal/redisx/redistest"
	"github.com/iocane/iocane/internal/tcpproxy"
)

// switchable is a shared limiter whose Redis can be switched off: each
// Wait is one call through Health, refused while down, as a stopped Redis
// refuses it.
type switchable struct {
	h     *redisx.Health
	down  atomic.Bool
	calls atomic.Int64 // calls that reached "Redis"
	turns atomic.Int64 // turns it gave
}

func (s *switchable) Wait(ctx context.Context) error {
	err := s.h.Call(ctx, func(context.Context) error {
		s.calls.Add(1)
		if s.down.Load() {
			return syscall.ECONNREFUSED
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.turns.Add(1)
	return nil
}

// lines counts the records logged at each level.
type lines struct {
	mu sync.Mutex
	by map[slog.Level][]string
}

func (l *lines) handler() slog.Handler {
	return slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		s := string(p)
		lvl := slog.LevelInfo
		if strings.Contains(s, "level=WARN") {
			lvl = slog.LevelWarn
		}
		l.by[lvl] = append(l.by[lvl], s)
		return len(p), nil
	}), nil)
}

func (l *lines) count(lvl slog.Level) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.by[lvl])
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestFallbackDuringOutage: with Redis down, a replica paces at rate ×
// share (3/s × 1/3 = 1/s: 10 turns in 10 s of fake time, never the 30 the
// rate alone allows, never unlimited), logs the outage once, exports the
// gauge at 0, probes Redis about once a second rather than on every
// turn, and when Redis answers again logs the recovery once, sets the
// gauge to 1 and goes back to the shared limiter.
func TestFallbackDuringOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &backend.Status{}
		logs := &lines{by: map[slog.Level][]string{}}
		h := &redisx.Health{Status: st, Logger: slog.New(logs.handler())}
		h.Start()
		shared := &switchable{h: h}
		l := NewFallbackLimiter(shared, ratelimit.Rate{N: 3, Per: time.Second}, 1.0/3)
		ctx := context.Background()

		if err := l.Wait(ctx); err != nil || shared.turns.Load() != 1 {
			t.Fatalf("Redis up: %v, %d shared turns", err, shared.turns.Load())
		}
		if up, known := st.Up(redisx.Name); !up || !known {
			t.Fatalf("gauge before the outage: up=%v known=%v", up, known)
		}

		shared.down.Store(true)
		start, n := time.Now(), 0
		for n < 1000 { // an unlimited fallback would never advance the fake clock
			if err := l.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			if time.Since(start) >= 10*time.Second {
				break
			}
			n++
		}
		if n != 10 {
			t.Errorf("%d turns in 10 s with Redis down at 3/s × 1/3, want 10", n)
		}
		if up, _ := st.Up(redisx.Name); up {
			t.Error("gauge still 1 during the outage")
		}
		if w := logs.count(slog.LevelWarn); w != 1 {
			t.Errorf("%d warnings for one outage, want 1", w)
		}
		if c := shared.calls.Load() - 1; c < 9 || c > 11 {
			t.Errorf("%d calls to Redis in a 10 s outage, want about one a second", c)
		}

		shared.down.Store(false)
		time.Sleep(redisx.DefaultProbeEvery)
		before := shared.turns.Load()
		for range 5 {
			if err := l.Wait(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := shared.turns.Load() - before; got != 5 {
			t.Errorf("%d of 5 turns from the shared limiter after recovery", got)
		}
		if up, _ := st.Up(redisx.Name); !up {
			t.Error("gauge still 0 after recovery")
		}
		if i := logs.count(slog.LevelInfo); i != 1 {
			t.Errorf("%d recovery lines, want 1", i)
		}
	})
}

// TestFallbackQuotaStore: with Redis down, quota counting moves to the
// local store (never unlimited), and back to Redis when it answers.
func TestFallbackQuotaStore(t *testing.T) {
	c := client(t)
	h := &redisx.Health{ProbeEvery: time.Nanosecond}
	p, pu := proxyURL(t, c.Options().Addr)
	pc, err := redisx.NewClient(redisx.Settings{URL: redisx.URL(pu)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	shared := NewQuotaStore(pc)
	shared.Health = h
	local := ratelimit.NewMemoryStore()
	s := &FallbackQuotaStore{Shared: shared, Local: local}
	name, windows := "fallback-quota-"+time.Now().Format("150405.000000000"), []ratelimit.Window{{N: 3, Period: ratelimit.Day}}
	q := ratelimit.NewQuota(name, windows, s)
	ctx := context.Background()
	for range 2 {
		if err := q.Take(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Redis's counts are mirrored to the store, for the report.
	if u, err := ratelimit.NewQuota(name, windows, local).Usage(ctx); err != nil || u[0].Used != 2 {
		t.Errorf("the store mirrors %+v, %v; want 2 used", u, err)
	}
	p.Down()
	taken := 0
	for range 10 {
		if q.Take(ctx) == nil {
			taken++
		}
	}
	if taken != 1 {
		t.Errorf("with Redis down, %d of 10 takes went through; the store mirrors the 2 taken before, so 1 of 3 is left", taken)
	}

	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	if err := q.Take(ctx); err != nil {
		t.Errorf("third take after recovery, counted in Redis: %v", err)
	}
	if err := q.Take(ctx); !errors.Is(err, ratelimit.ErrQuotaExceeded) {
		t.Errorf("fourth take after recovery: %v, want the shared quota spent", err)
	}
}

// TestFallbackOnRealOutage: the same through a real Redis behind a proxy
// that is closed and reopened: turns keep coming (from the local limiter)
// while it is closed, the gauge goes to 0, and the limiter finds Redis
// again by itself. No timing is asserted, only what happens.
func TestFallbackOnRealOutage(t *testing.T) {
	c := client(t)
	p, pu := proxyURL(t, c.Options().Addr)
	pc, err := redisx.NewClient(redisx.Settings{URL: redisx.URL(pu)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	st := &backend.Status{}
	h := &redisx.Health{Status: st, ProbeEvery: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	shared := NewLimiter(pc, "outage-test-"+time.Now().Format("150405.000000000"), ratelimit.Rate{N: 1000, Per: time.Second})
	shared.Health = h
	l := NewFallbackLimiter(shared, ratelimit.Rate{N: 1000, Per: time.Second}, 1.0/3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := l.Wait(ctx); err != nil || !h.Up() {
		t.Fatalf("through the proxy: %v, up=%v", err, h.Up())
	}
	p.Down()
	for range 5 {
		if err := l.Wait(ctx); err != nil {
			t.Fatalf("Redis down: %v (want a local turn)", err)
		}
	}
	if up, _ := st.Up(redisx.Name); up {
		t.Fatal("gauge still 1 with the proxy closed")
	}
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	for !h.Up() {
		if err := l.Wait(ctx); err != nil {
			t.Fatalf("Redis back, still not found: %v", err)
		}
	}
	if up, _ := st.Up(redisx.Name); !up {
		t.Error("gauge still 0 after recovery")
	}
}

// proxyURL starts a proxy in front of the test Redis, closed when the
// test ends, and returns the Redis URL through it.
func proxyURL(t *testing.T, target string) (*tcpproxy.Proxy, string) {
	p, err := tcpproxy.New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	u, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.Addr()
	return p, u.String()
}
