package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/backend"
	"github.com/iocane/iocane/internal/dbx"
	"github.com/iocane/iocane/internal/integrations"
	_ "github.com/iocane/iocane/internal/integrations/all" // every write-back sink registers itself
	"github.com/iocane/iocane/internal/integrations/notify"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/mailbox"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/runstats"
	"github.com/iocane/iocane/internal/server"
	"github.com/iocane/iocane/internal/store"
)

// ServeOptions are `iocane serve`'s flags; a zero field takes the server
// section's value, then the default.
type ServeOptions struct {
	Listen         string
	InsecureNoAuth bool
	Workers        int
	JobTimeout     time.Duration
	MaxBody        int64
	TokenRate      float64
	// Logger receives the JSON access and event log.
	Logger *slog.Logger
	// Listening, when set, is called with the bound address (tests).
	Listening func(addr string)
}

// DefaultListen is where the server listens unless told otherwise.
const DefaultListen = "127.0.0.1:8080"

// ServeConfig checks the serve options against the settings before anything
// is opened: a missing token or a non-loopback --insecure-no-auth is a
// *ConfigError.
func ServeConfig(s *Settings, o ServeOptions) (listen string, err error) {
	listen = firstNonEmpty(o.Listen, s.Server.Listen, DefaultListen)
	if len(s.Server.Tokens) == 0 && !o.InsecureNoAuth {
		return "", configErr(server.ErrNoTokens)
	}
	if o.InsecureNoAuth && len(s.Server.Tokens) == 0 && !loopback(listen) {
		return "", configErr(fmt.Errorf("--insecure-no-auth only listens on a loopback address (127.0.0.1, ::1), not %q: configure a token to listen elsewhere", listen))
	}
	return listen, nil
}

// Serve runs the HTTP API on p until ctx ends: it assembles the job queue,
// write-back to the configured sinks, one notifier set (shared with the
// report's e-mail), the report schedule and metrics, then serves, and on
// the way out stops them in order: HTTP, then jobs (running ones get a
// while to finish; the rest resume at the next start), then deliveries,
// then held notifications. p must have been opened with the server's
// metrics as its Observer (see Metrics).
func (p *Pipeline) Serve(ctx context.Context, metrics *server.Metrics, o ServeOptions) error {
	s := p.Settings
	listen, err := ServeConfig(s, o)
	if err != nil {
		return err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sc := s.Server

	// One server per SQLite store: a second would re-queue the first's live
	// jobs and enrich them twice. A usage error (exit 2), not a failure.
	release, err := p.Store.LockServe()
	if err != nil {
		var held *store.ServeHeldError
		if errors.As(err, &held) {
			return configErr(err)
		}
		return err
	}
	defer release()

	recorder := &jobRecorder{db: p.Store, log: log.With("component", "report")}
	var disp *integrations.Dispatcher // set before the workers start
	var replyDone func(jobs.Job)      // the verdict reply to a reporter; set before the workers start
	qo, closePools, err := p.queuePools(ctx)
	if err != nil {
		return err
	}
	defer closePools() // after the queue: defers run last first
	qo.Engine, qo.Results, qo.History, qo.Observer, qo.Logger = p.Engine, p.Store, p.Store, metrics, log.With("component", "jobs")
	qo.Workers, qo.DefaultTimeout, qo.Retention = firstPositive(o.Workers, sc.Workers), o.JobTimeout, sc.JobRetention
	qo.OnComplete = func(j jobs.Job) {
		recorder.record(j)
		if disp != nil {
			disp.OnComplete(j)
		}
		if replyDone != nil {
			replyDone(j)
		}
	}
	qo.OnSettled = func(j jobs.Job) {
		if disp != nil {
			disp.OnSettled(j) // deferred answers landed: the alert gets the update
		}
	}
	q, err := jobs.Open(ctx, qo)
	if err != nil {
		return err
	}
	defer q.Close()
	recorder.q = q

	notifiers, err := notify.New(s.Notify, p.redis.notifyOptions(notify.Options{Logger: log.With("component", "notify"), Held: p.Store}))
	if err != nil {
		return configErr(err)
	}
	if err := notifiers.Restore(ctx); err != nil { // what a previous process held for digests
		log.Warn("notify: held alerts not restored", "error", err)
	}
	go notifiers.Run(ctx) // sends held-back digests when the rate limit allows
	p.noticeLowQuota(notifiers, log.With("component", "quota"))

	base := strings.TrimRight(firstNonEmpty(sc.PublicURL, "http://"+listen), "/")
	wlog := log.With("component", "integrations")
	sinks, err := s.Integrations.Build(integrations.Env{Logger: wlog})
	if err != nil {
		return configErr(err)
	}
	sinks = append(sinks, notifiers.Sinks()...)
	ow, err := p.Store.OpenWriter()
	if err != nil {
		return err
	}
	defer ow.Close()
	outcomes := integrations.NewStore(ow)
	disp, err = integrations.New(s.Integrations.Options(integrations.Options{
		Sinks: sinks, Queue: q, Store: outcomes, Observer: metrics, Logger: wlog,
		Link: func(id string) string { return base + "/v1/jobs/" + id + "/results" },
	}))
	if err != nil {
		return err
	}
	wlog.Info("write-back sinks", "sinks", sinkNames(sinks))
	if err := disp.Resume(ctx); err != nil {
		log.Warn("write-back: pending deliveries not resumed", "error", err)
	}
	if err := p.scheduleReport(ctx, notifiers, log.With("component", "report")); err != nil {
		return err
	}
	onSubmitted, onDone := p.replies(notifiers, log.With("component", "mailbox"))
	replyDone = onDone // before the workers start: OnComplete reads it
	if err := q.Start(ctx); err != nil {
		return err
	}
	go p.pruneHistory(ctx, log.With("component", "history"))
	go p.pollFeeds(ctx, q, log.With("component", "feeds"))
	for _, mc := range s.Mailboxes {
		mp, err := mailbox.New(mc, q, mailbox.Options{Logger: log.With("component", "mailbox", "mailbox", mc.Name), OnSubmitted: onSubmitted})
		if err != nil {
			return configErr(err)
		}
		go mp.Run(ctx) // one bad message never stops it; a failed poll is retried at the next interval
	}
	metrics.SetQuotas(p.quotaSamples)
	metrics.SetEngineStats(func() []runstats.Source {
		now := time.Now()
		return p.Engine.Stats().Run("serve", "", now, now).Sources
	})
	var names []string
	for _, spec := range provider.All() {
		names = append(names, spec.Name)
	}
	if p.Store.Dialect() == dbx.Postgres {
		if p.Backends == nil {
			p.Backends = &backend.Status{}
		}
		go p.watchStore(ctx, log.With("component", "store"))
	}
	if p.Backends != nil {
		_ = metrics.Registry().Register(p.Backends) // iocane_backend_up; already there when served twice
	}
	srv, err := server.New(server.Options{Replays: p.replays(), StoreName: p.Store.Dialect().String(),
		Engine: p.Engine, Queue: q, Store: purging{p.Store, p}, Memory: p.Store, OnVerdict: p.sightingPusher(log.With("component", "history")),
		Providers: p.Providers, ProviderNames: names,
		Tokens: sc.Tokens, InsecureNoAuth: o.InsecureNoAuth, WebhookSecret: sc.WebhookSecret,
		MaxBody: firstPositive64(o.MaxBody, sc.MaxBody), MaxIntake: sc.MaxIntake, TokenRate: firstNonZero(o.TokenRate, sc.TokenRate), TokenBurst: sc.TokenBurst,
		DefaultTLP: s.Config.TLP, Metrics: metrics, Logger: log,
		WebhookPivot: s.Pivot.DepthFor(1), JobPivot: s.Pivot.DepthFor(0),
	})
	if err != nil {
		return configErr(err)
	}
	if err := p.mountConsole(srv, q, metrics, log.With("component", "console")); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("listening", "addr", "http://"+ln.Addr().String(), "db", p.Store.Path(), "tokens", len(sc.Tokens),
		"signed_webhooks", len(sc.WebhookSecret) > 0, "providers", len(p.Sources.Sources))
	if o.InsecureNoAuth && len(sc.Tokens) == 0 {
		log.Warn("no authentication: every request is accepted (--insecure-no-auth)")
	}
	if o.Listening != nil {
		o.Listening(ln.Addr().String())
	}
	serveErr := srv.Serve(ctx, ln)

	// The HTTP side has stopped; let running jobs finish for a while, then
	// the queue puts the rest back to resume at the next start.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if err := q.Stop(sctx); err != nil {
		log.Warn("jobs not stopped cleanly", "error", err)
	}
	if err := disp.Close(sctx); err != nil {
		log.Warn("write-back deliveries interrupted; they resume at the next start", "error", err)
	}
	if err := notifiers.Close(sctx); err != nil {
		log.Warn("notifications: held-back alerts not all sent", "error", err)
	}
	log.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, context.Canceled) {
		return serveErr
	}
	return nil
}

// purging is the store as the server sees it: its cache purge also drops
// the in-memory layer (Pipeline.PurgeCache).
type purging struct {
	*store.DB
	p *Pipeline
}

func (s purging) PurgeCache(ctx context.Context, provider string, olderThan time.Duration) (int64, error) {
	return s.p.PurgeCache(ctx, provider, olderThan)
}

// noticeLowQuota has each provider quota tell the notification channels,
// once per window across the fleet (the mark is in the quota store), when
// less than 10 % of a window is left. It is set before any job runs.
func (p *Pipeline) noticeLowQuota(n *notify.Set, log *slog.Logger) {
	for _, q := range p.Sources.Quotas {
		q.OnLow = func(ctx context.Context, name string, u ratelimit.WindowUsage) {
			notice := notify.Notice{Kind: "quota_low", Provider: name, Period: u.Period.Adjective(), Limit: u.Limit,
				Remaining: u.Remaining, ResetsAt: u.ResetsAt}
			log.Warn(notice.Title())
			go func() {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
				defer cancel()
				if err := n.Notify(ctx, notice); err != nil {
					log.Warn("low-quota notice not sent", "provider", name, "error", err)
				}
			}()
		}
	}
}

// quotaSamples reads every configured provider's quota left, for /metrics.
func (p *Pipeline) quotaSamples(ctx context.Context) ([]server.QuotaSample, error) {
	var out []server.QuotaSample
	for name, q := range p.Sources.Quotas {
		if _, skipped := p.Sources.Skipped[name]; skipped {
			continue
		}
		usage, err := q.Usage(ctx)
		if err != nil {
			return out, err
		}
		for _, u := range usage {
			out = append(out, server.QuotaSample{Provider: name, Period: u.Period.String(), Limit: u.Limit, Remaining: u.Remaining})
		}
	}
	return out, nil
}

func sinkNames(sinks []integrations.Sink) []string {
	var names []string
	for _, s := range sinks {
		names = append(names, s.Name())
	}
	return names
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstPositive(vs ...int) int {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

func firstPositive64(vs ...int64) int64 {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

func firstNonZero(vs ...float64) float64 {
	for _, v := range vs {
		if v != 0 {
			return v
		}
	}
	return 0
}
