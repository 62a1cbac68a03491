package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/redisx"
)

// Options are what New needs besides the configuration.
type Options struct {
	// Client posts to the webhooks. Default: a client with a 30 s timeout.
	Client *http.Client
	// Logger receives one line per message, held alert and digest; it never
	// sees a secret. Default: discard.
	Logger *slog.Logger
	// Now is the clock for the rate limit and deduplication (with Shared,
	// the dedupe TTL runs on Redis's clock instead). Default time.Now.
	Now func() time.Time
	// SMTPTLS replaces the TLS configuration for STARTTLS (e.g. RootCAs for
	// a relay with a private CA). Default: system roots, the configured
	// host as server name, TLS 1.2 or later.
	SMTPTLS *tls.Config
	// Held keeps the alerts held for digests across restarts; nil keeps
	// them in memory only.
	Held HeldStore
	// Shared, when set, keeps each channel's dedupe and storm window in
	// Redis (keys under iocane:notify:), so that the fleet sends one
	// message per alert and one channel rate, across restarts too. Default
	// nil: both live in this process.
	Shared *redis.Client
	// SharedHealth is the Redis health every user of Shared reports to,
	// which exports an outage and paces the probes while it lasts.
	// Default: the Set's own. Either way the Set logs an outage, and the
	// recovery, once each to Logger.
	SharedHealth *redisx.Health
	// FallbackShare is the share of each channel's rate this process keeps
	// while Shared is unreachable (redis.fallback_share). Default
	// redisx.DefaultFallbackShare.
	FallbackShare float64

	shared    *sharedState // built by New from Shared, one per Set
	keyPrefix string       // tests keep their keys apart; default redisx.KeyPrefix+"notify:"
}

// Set is every configured notification channel.
type Set struct {
	notifiers []*Notifier
}

// New builds a Notifier for each configured channel. It validates and does
// no I/O.
func New(c Config, o Options) (*Set, error) {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if c.DigestSize <= 0 {
		c.DigestSize = DefaultDigestSize
	}
	if c.DedupeSize <= 0 {
		c.DedupeSize = DefaultDedupeSize
	}
	if c.DedupeTTL <= 0 {
		c.DedupeTTL = DefaultDedupeTTL
	}
	o.shared = newSharedState(o)
	s := &Set{}
	if w := c.Slack; w != nil {
		p := poster{client: o.Client, url: w.URL, now: o.Now}
		s.notifiers = append(s.notifiers, newNotifier(Slack, Slack, c, w.Rate, w.MaxTLP, slackTransport{p}, o, w.URL))
	}
	if w := c.Teams; w != nil {
		p := poster{client: o.Client, url: w.URL, now: o.Now}
		s.notifiers = append(s.notifiers, newNotifier(Teams, Teams, c, w.Rate, w.MaxTLP, teamsTransport{p}, o, w.URL))
	}
	if e := c.Email; e != nil {
		t, err := newEmailTransport(*e, o)
		if err != nil {
			return nil, err
		}
		s.notifiers = append(s.notifiers, newNotifier(Email, Email, c, e.Rate, e.MaxTLP, t, o, e.Password))
	}
	if w := c.Webhook; w != nil {
		p := poster{client: o.Client, url: w.URL, sign: w.Secret, now: o.Now}
		s.notifiers = append(s.notifiers, newNotifier("notify_webhook", Webhook, c, w.Rate, w.MaxTLP, webhookTransport{p}, o, w.URL, w.Secret))
	}
	return s, nil
}

// Notifiers returns the channels, in the order slack, teams, email, webhook.
func (s *Set) Notifiers() []*Notifier { return s.notifiers }

// Sinks returns the channels as integrations.Sinks for the Dispatcher.
func (s *Set) Sinks() []integrations.Sink {
	out := make([]integrations.Sink, len(s.notifiers))
	for i, n := range s.notifiers {
		out[i] = n
	}
	return out
}

// Run sends held digests as each channel's rate allows, until ctx ends.
func (s *Set) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, n := range s.notifiers {
		wg.Go(func() { n.Run(ctx) })
	}
	wg.Wait()
}

// Close sends every held digest, ignoring the rate limit.
func (s *Set) Close(ctx context.Context) error {
	var errs []error
	for _, n := range s.notifiers {
		errs = append(errs, n.Close(ctx))
	}
	return errors.Join(errs...)
}

// Restore loads the alerts a previous process held for digests and did not
// send, into each channel (Options.Held); Run sends them.
func (s *Set) Restore(ctx context.Context) error {
	var errs []error
	for _, n := range s.notifiers {
		errs = append(errs, n.restore(ctx))
	}
	return errors.Join(errs...)
}
