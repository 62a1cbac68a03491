package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/tlp"
)

// transport renders and sends for one channel.
type transport interface {
	send(ctx context.Context, m Message) error
	sendDigest(ctx context.Context, d Digest) error
	notice(ctx context.Context, n Notice) error
}

// Notifier is one channel: it applies the channel's rules, deduplicates,
// rate-limits and batches the excess into digests. It is an
// integrations.Sink and safe for concurrent use.
type Notifier struct {
	name       string
	channel    string
	rules      []Rule
	maxIOCs    int
	maxTLP     tlp.Level
	digestSize int
	t          transport
	now        func() time.Time
	log        *slog.Logger
	secrets    []provider.Secret
	store      HeldStore // nil: held alerts live in memory only

	seen dedupe // safe for concurrent use

	mu       sync.Mutex
	win      storm
	held     []Entry
	flushing bool
	wake     chan struct{}
}

var _ integrations.Sink = (*Notifier)(nil)

// HeldStore keeps the alerts each channel holds for its next digest, so
// that a restart, or a kill, loses none (*store.DB implements it). Entries
// are opaque JSON, keyed by the alert.
type HeldStore interface {
	// Hold keeps entry for channel under key.
	Hold(ctx context.Context, channel, key string, entry []byte) error
	// Release forgets the entries sent.
	Release(ctx context.Context, channel string, keys []string) error
	// Held returns the entries kept for channel, oldest first.
	Held(ctx context.Context, channel string) ([][]byte, error)
}

// RetryDelay is how long Run waits before trying a failed digest again.
var RetryDelay = 30 * time.Second

func newNotifier(name, channel string, c Config, rate ratelimit.Rate, maxTLP tlp.Level, t transport, o Options, secrets ...provider.Secret) *Notifier {
	n := &Notifier{name: name, channel: channel, maxIOCs: c.MaxIOCs, maxTLP: maxTLP, digestSize: c.DigestSize, t: t,
		now: o.Now, log: o.Logger.With("sink", name), secrets: secrets, store: o.Held,
		wake: make(chan struct{}, 1)}
	n.seen, n.win = o.memory(name, c, rate)
	for _, r := range c.Rules {
		if r.Channel == channel {
			n.rules = append(n.rules, r)
		}
	}
	return n
}

// Name is the sink name: slack, teams, email, or notify_webhook (the
// generic write-back sink is "webhook").
func (n *Notifier) Name() string { return n.name }

// Channel is the channel name rules use: slack, teams, email or webhook.
func (n *Notifier) Channel() string { return n.channel }

// Applies reports whether one of the channel's rules selects an IOC of d.
func (n *Notifier) Applies(d integrations.Delivery) bool {
	_, ok := build(d, n.rules, 1, n.maxTLP)
	return ok
}

// Deliver notifies d's alert once: a message when the rate allows, else a
// place in the next digest. A delivery whose alert was already notified, or
// is held, sends nothing and returns nil. A failed send forgets the alert,
// so the Dispatcher's retry tries again.
func (n *Notifier) Deliver(ctx context.Context, d integrations.Delivery) error {
	m, ok := build(d, n.rules, n.maxIOCs, n.maxTLP)
	if !ok {
		return nil
	}
	key := m.Alert.Key
	if !n.seen.claim(ctx, key, n.now()) {
		n.log.Debug("notify: already notified", "alert", key, "job", m.Alert.JobID)
		return nil
	}
	n.mu.Lock()
	now := n.now()
	if len(n.held) > 0 || n.flushing || n.win.take(ctx, now, 1) == 0 {
		e := entryOf(m, now)
		n.held = append(n.held, e)
		held := len(n.held)
		n.mu.Unlock()
		n.keep(ctx, e)
		n.log.Info("notify: rate limit reached, alert held for the digest", "alert", key, "job", m.Alert.JobID, "held", held)
		n.poke()
		if err := n.Flush(ctx); err != nil {
			n.log.Warn("notify: digest not sent yet", "error", err)
		}
		return fmt.Errorf("%s: %w", n.name, integrations.ErrHeld)
	}
	n.mu.Unlock()
	if err := n.t.send(ctx, m); err != nil {
		n.seen.forget(context.WithoutCancel(ctx), key, n.now())
		return fmt.Errorf("%s: %w", n.name, scrubErr(err, n.secrets...))
	}
	n.log.Info("notify: sent", "alert", key, "job", m.Alert.JobID, "iocs", len(m.IOCs)+m.More)
	return nil
}

// Held is the number of alerts waiting for a digest.
func (n *Notifier) Held() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.held)
}

// Flush sends held alerts as digests, as many parts as the rate allows now.
func (n *Notifier) Flush(ctx context.Context) error { return n.flush(ctx, false) }

// Close sends every held alert, ignoring the rate limit (shutdown), and
// reports the alerts it could not send.
func (n *Notifier) Close(ctx context.Context) error {
	err := n.flush(ctx, true)
	if left := n.Held(); left > 0 {
		return fmt.Errorf("%s: %d held alerts not sent: %w", n.name, left, err)
	}
	return err
}

func (n *Notifier) flush(ctx context.Context, force bool) error {
	n.mu.Lock()
	if n.flushing {
		n.mu.Unlock()
		return nil
	}
	n.flushing = true
	defer func() {
		n.mu.Lock()
		n.flushing = false
		n.mu.Unlock()
	}()
	for {
		// n.mu is held here.
		total := len(n.held)
		if total == 0 {
			n.mu.Unlock()
			return nil
		}
		parts := (total + n.digestSize - 1) / n.digestSize
		k := n.win.take(ctx, n.now(), parts)
		if force {
			k = parts // shutdown: what the window allowed is counted, the rest sent anyway
		}
		if k <= 0 {
			n.mu.Unlock()
			return nil
		}
		take := min(total, k*n.digestSize)
		batch := append([]Entry(nil), n.held[:take]...)
		n.held = append([]Entry(nil), n.held[take:]...)
		n.mu.Unlock()

		for i := 0; i < k; i++ {
			lo, hi := i*n.digestSize, min((i+1)*n.digestSize, len(batch))
			d := Digest{Entries: batch[lo:hi], Part: i + 1, Parts: parts, Held: total}
			if err := n.t.sendDigest(ctx, d); err != nil {
				n.mu.Lock()
				n.held = append(append([]Entry(nil), batch[lo:]...), n.held...)
				n.mu.Unlock()
				return fmt.Errorf("%s: digest: %w", n.name, scrubErr(err, n.secrets...))
			}
			n.log.Info("notify: digest sent", "alerts", hi-lo, "part", i+1, "parts", parts)
			n.release(ctx, batch[lo:hi])
		}
		n.mu.Lock()
	}
}

// poke wakes Run.
func (n *Notifier) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Run sends held digests when the rate window allows, until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	for {
		n.mu.Lock()
		wait := time.Hour
		if len(n.held) > 0 {
			now := n.now()
			wait = max(n.win.next(ctx, now).Sub(now), time.Millisecond)
		}
		n.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-n.wake:
			t.Stop()
			continue
		case <-t.C:
		}
		if err := n.Flush(ctx); err != nil && !errors.Is(err, context.Canceled) {
			n.log.Warn("notify: digest not sent, will retry", "error", err, "in", RetryDelay)
			t := time.NewTimer(RetryDelay)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// keep stores a held entry; a store that fails leaves it in memory only.
func (n *Notifier) keep(ctx context.Context, e Entry) {
	if n.store == nil {
		return
	}
	b, err := json.Marshal(e)
	if err == nil {
		err = n.store.Hold(context.WithoutCancel(ctx), n.name, e.Alert.Key, b)
	}
	if err != nil {
		n.log.Warn("notify: held alert not stored; a restart would lose it", "alert", e.Alert.Key, "error", err)
	}
}

// release forgets the stored entries of a digest part that was sent.
func (n *Notifier) release(ctx context.Context, sent []Entry) {
	if n.store == nil {
		return
	}
	keys := make([]string, len(sent))
	for i, e := range sent {
		keys[i] = e.Alert.Key
	}
	if err := n.store.Release(context.WithoutCancel(ctx), n.name, keys); err != nil {
		n.log.Warn("notify: sent alerts not released from the store; a restart would send them again", "error", err)
	}
}

// restore loads the alerts a previous process held and did not send.
func (n *Notifier) restore(ctx context.Context) error {
	if n.store == nil {
		return nil
	}
	raw, err := n.store.Held(ctx, n.name)
	if err != nil {
		return fmt.Errorf("%s: held alerts: %w", n.name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.now()
	for _, b := range raw {
		var e Entry
		if err := json.Unmarshal(b, &e); err != nil {
			n.log.Warn("notify: a stored held alert does not read; dropped", "error", err)
			continue
		}
		if !n.seen.restored(e.Alert.Key, now) {
			continue
		}
		n.held = append(n.held, e)
	}
	if len(n.held) > 0 {
		n.log.Info("notify: held alerts restored", "held", len(n.held))
		n.poke()
	}
	return nil
}
