package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/redisx"
	"github.com/iocane/iocane/internal/redisx/redistest"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/store"
)

// fleet is several notifier sets on one Redis, each with its own client,
// as replicas are. Its keys are the test's own and are deleted after it.
type fleet struct {
	t      *testing.T
	url    string
	prefix string
	clock  *fakeClock
	c      Config
}

func newFleet(t *testing.T, c Config, clock *fakeClock) *fleet {
	t.Helper()
	url := redistest.URL(t)
	prefix := fmt.Sprintf("%stest:notify:%s:%d:", redisx.KeyPrefix, t.Name(), time.Now().UnixNano())
	t.Cleanup(func() {
		rc := redistest.Client(t, url)
		ctx := context.Background()
		keys, _ := rc.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rc.Del(ctx, keys...)
		}
	})
	return &fleet{t: t, url: url, prefix: prefix, clock: clock, c: c}
}

// replica starts one more set (a replica, or a restarted one).
func (f *fleet) replica(o Options) *Set {
	f.t.Helper()
	o.Shared, o.Now, o.keyPrefix = redistest.Client(f.t, f.url), f.clock.Now, f.prefix
	s, err := New(f.c, o)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func webhookConfig(wh *hook, rate ratelimit.Rate) Config {
	c := testConfig([]Rule{{Channel: Webhook, MinVerdict: result.Malicious}}, nil, nil, wh)
	c.Webhook.Rate = rate
	return c
}

func deliver(t *testing.T, s *Set, id string) (held bool) {
	t.Helper()
	err := s.Sinks()[0].Deliver(context.Background(), alertDelivery("splunk", id))
	if err != nil && !errors.Is(err, integrations.ErrHeld) {
		t.Fatalf("alert %s: %v", id, err)
	}
	return err != nil
}

// TestSharedDedupe: the same alert delivered to two replicas at once, many
// times over, is notified once; a replica started later (a restart) still
// knows it.
func TestSharedDedupe(t *testing.T) {
	clock := newClock()
	wh := newHook(t, clock)
	f := newFleet(t, webhookConfig(wh, ratelimit.Rate{N: 100, Per: time.Minute}), clock)
	a, b := f.replica(Options{}), f.replica(Options{})
	var wg sync.WaitGroup
	for i := range 20 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() { deliver(t, s, "dup-1") })
	}
	wg.Wait()
	if got := len(wh.requests()); got != 1 {
		t.Fatalf("%d messages for one alert sent to two replicas, want 1", got)
	}
	restarted := f.replica(Options{})
	deliver(t, restarted, "dup-1")
	deliver(t, restarted, "dup-2")
	deliver(t, a, "dup-2")
	if got := len(wh.requests()); got != 2 {
		t.Fatalf("%d messages after a restart, want 2 (dup-1 once, dup-2 once)", got)
	}
}

// TestSharedDedupeRetry: a send that fails forgets the alert in Redis too,
// so the Dispatcher's retry, on any replica, notifies it.
func TestSharedDedupeRetry(t *testing.T) {
	clock := newClock()
	wh := newHook(t, clock)
	f := newFleet(t, webhookConfig(wh, ratelimit.Rate{N: 100, Per: time.Minute}), clock)
	a, b := f.replica(Options{}), f.replica(Options{})
	wh.setAnswer(500, "down")
	if err := a.Sinks()[0].Deliver(context.Background(), alertDelivery("splunk", "retry-1")); err == nil {
		t.Fatal("a send answered 500 reported success")
	}
	wh.setAnswer(200, "ok")
	deliver(t, b, "retry-1")
	deliver(t, a, "retry-1")
	if got := len(wh.requests()); got != 2 {
		t.Fatalf("%d requests, want the failed one and one retry", got)
	}
}

// TestSharedStormWindow: the channel's rate is the fleet's: messages sent
// by one replica count against the others, and against a replica started
// later; each replica's held alerts go out in its digest when the window
// reopens, and no minute carries more than the rate.
func TestSharedStormWindow(t *testing.T) {
	const rate = 3
	clock := newClock()
	wh := newHook(t, clock)
	f := newFleet(t, webhookConfig(wh, ratelimit.Rate{N: rate, Per: time.Minute}), clock)
	a, b := f.replica(Options{}), f.replica(Options{})
	start := clock.Now()
	for i, s := range []*Set{a, a, b} {
		if deliver(t, s, fmt.Sprint("storm-", i)) {
			t.Fatalf("alert %d held with the window open", i)
		}
		clock.Advance(time.Second)
	}
	if !deliver(t, b, "storm-b") || !deliver(t, a, "storm-a") {
		t.Fatal("an alert beyond the fleet's rate was sent, not held")
	}
	restarted := f.replica(Options{})
	if !deliver(t, restarted, "storm-r") {
		t.Fatal("a restarted replica sent beyond the fleet's rate")
	}
	if got := len(wh.requests()); got != rate {
		t.Fatalf("%d messages within the window, want %d", got, rate)
	}
	n := b.Notifiers()[0]
	n.mu.Lock()
	next := n.win.next(context.Background(), clock.Now())
	n.mu.Unlock()
	if want := start.Add(time.Minute); !next.Equal(want) {
		t.Errorf("next send at %v, want %v (the first send leaves the window)", next, want)
	}

	clock.Advance(start.Add(time.Minute + 1500*time.Millisecond).Sub(clock.Now())) // sends at +0 s and +1 s left: two slots free
	for _, s := range []*Set{a, b, restarted} {
		if err := s.Notifiers()[0].Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	held := a.Notifiers()[0].Held() + b.Notifiers()[0].Held() + restarted.Notifiers()[0].Held()
	if got := len(wh.requests()); got != rate+2 || held != 1 {
		t.Fatalf("%d requests and %d held after two slots freed, want %d and 1", got, held, rate+2)
	}
	reqs := wh.requests()
	for i := range reqs {
		k := 0
		for j := i; j < len(reqs) && reqs[j].At.Sub(reqs[i].At) < time.Minute; j++ {
			k++
		}
		if k > rate {
			t.Errorf("%d messages within a minute from request %d", k, i)
		}
	}
}

// TestSharedRestoreAfterRestart: alerts a replica held for a digest when it
// died are restored and sent by its successor although the fleet's
// dedupe already counts them, and a redelivery is still not sent.
func TestSharedRestoreAfterRestart(t *testing.T) {
	clock := newClock()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "iocane.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wh := newHook(t, clock)
	f := newFleet(t, webhookConfig(wh, ratelimit.Rate{N: 2, Per: time.Minute}), clock)
	first := f.replica(Options{Held: db})
	for i := range 6 {
		deliver(t, first, fmt.Sprint("k", i))
	}
	second := f.replica(Options{Held: db}) // first died without Close
	if err := second.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := second.Notifiers()[0].Held(); got != 4 {
		t.Fatalf("%d alerts restored, want 4", got)
	}
	if deliver(t, second, "k3") || second.Notifiers()[0].Held() != 4 {
		t.Fatal("a redelivered held alert was held again")
	}
	if err := second.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(wh.requests()); got != 3 {
		t.Errorf("%d requests, want 2 messages and 1 digest", got)
	}
}

// TestSharedOutage: with Redis unreachable a replica still notifies an
// alert at most once, keeps its share of the channel's rate (never an
// unlimited one), and logs the outage once.
func TestSharedOutage(t *testing.T) {
	clock := newClock()
	wh := newHook(t, clock)
	dead, err := redisx.NewClient(redisx.Settings{URL: redisx.URL(redistest.DeadURL(t))})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	s, err := New(webhookConfig(wh, ratelimit.Rate{N: 9, Per: time.Minute}),
		Options{Now: clock.Now, Logger: logger, Shared: dead, FallbackShare: 1.0 / 3})
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, s, "out-1")
	deliver(t, s, "out-1")
	if got := len(wh.requests()); got != 1 {
		t.Fatalf("%d messages for one alert during an outage, want 1", got)
	}
	for i := range 30 {
		deliver(t, s, fmt.Sprint("out-many-", i))
	}
	// The local window is 9 per 3 minutes: 9 messages in all, the rest held.
	if got, held := len(wh.requests()), s.Notifiers()[0].Held(); got != 9 || held != 22 {
		t.Errorf("%d messages and %d held during an outage, want 9 and 22", got, held)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "Redis unreachable"); n != 1 {
		t.Errorf("the outage was logged %d times, want once:\n%s", n, logs.String())
	}
}

// TestSharedOutageKeepsWhatWasSent: alerts notified while Redis answered
// are still known to the replica when it stops answering, and sends made
// then still count in the replica's share of the window.
func TestSharedOutageKeepsWhatWasSent(t *testing.T) {
	clock := newClock()
	wh := newHook(t, clock)
	f := newFleet(t, webhookConfig(wh, ratelimit.Rate{N: 3, Per: time.Minute}), clock)
	s := f.replica(Options{})
	deliver(t, s, "keep-1")
	deliver(t, s, "keep-2")
	sh := s.Notifiers()[0]
	sh.seen.(*redisDedupe).sh.c.Close() // Redis stops answering this replica
	deliver(t, s, "keep-1")
	if got := len(wh.requests()); got != 2 {
		t.Fatalf("%d messages, want 2: an alert sent before the outage was sent again", got)
	}
	// Share 1/3 of 3/m is 3 per 3 m, and 2 were sent: one more, then held.
	if deliver(t, s, "keep-3") || !deliver(t, s, "keep-4") {
		t.Error("the local window did not count the sends made while Redis answered")
	}
}

// TestSharedOutageRecovery: an alert notified while Redis was away is not
// notified again by the same replica when Redis answers again, and Redis
// then knows it for the others; the outage and the recovery are logged
// once each.
func TestSharedOutageRecovery(t *testing.T) {
	clock := newClock()
	wh := newHook(t, clock)
	f := newFleet(t, webhookConfig(wh, ratelimit.Rate{N: 100, Per: time.Minute}), clock)
	var down atomic.Bool
	opt, err := redis.ParseURL(f.url)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries = -1
	opt.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if down.Load() {
			return nil, errors.New("test: Redis is away")
		}
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return &flakyConn{Conn: c, down: &down}, err
	}
	flaky := redis.NewClient(opt)
	defer flaky.Close()
	var logs bytes.Buffer
	var mu sync.Mutex
	a, err := New(f.c, Options{Now: clock.Now, Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil)),
		Shared: flaky, SharedHealth: &redisx.Health{Now: clock.Now}, keyPrefix: f.prefix})
	if err != nil {
		t.Fatal(err)
	}
	b := f.replica(Options{})

	deliver(t, a, "rec-1")
	down.Store(true)
	deliver(t, a, "rec-2")
	deliver(t, a, "rec-2")
	deliver(t, a, "rec-1")
	if got := len(wh.requests()); got != 2 {
		t.Fatalf("%d messages during the outage, want 2 (rec-1 before it, rec-2 once)", got)
	}
	down.Store(false)
	clock.Advance(2 * time.Second) // a probe is due
	deliver(t, a, "rec-2")
	deliver(t, b, "rec-2")
	if got := len(wh.requests()); got != 2 {
		t.Fatalf("%d messages after the recovery, want still 2", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if w, r := strings.Count(logs.String(), "Redis unreachable"), strings.Count(logs.String(), "Redis answers again"); w != 1 || r != 1 {
		t.Errorf("outage logged %d times and recovery %d, want once each:\n%s", w, r, logs.String())
	}
}

// flakyConn fails every read and write while down is set.
type flakyConn struct {
	net.Conn
	down *atomic.Bool
}

func (c *flakyConn) Read(p []byte) (int, error) {
	if c.down.Load() {
		return 0, errors.New("test: Redis is away")
	}
	return c.Conn.Read(p)
}

func (c *flakyConn) Write(p []byte) (int, error) {
	if c.down.Load() {
		return 0, errors.New("test: Redis is away")
	}
	return c.Conn.Write(p)
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
