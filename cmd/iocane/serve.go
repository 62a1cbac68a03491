package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/integrations/notify"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/runstats"
	"github.com/iocane/iocane/internal/server"
)

func init() { addCommand(newServeCmd) }

type serveFlags struct {
	listen         string
	insecureNoAuth bool
	workers        int
	jobTimeout     time.Duration
	iocTimeout     time.Duration
	maxBody        int64
	tokenRate      float64
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API: SIEM/SOAR webhooks, durable jobs, results and metrics",
		Long: `Serve runs iocane's HTTP API (described at /openapi.yaml):

  POST /v1/webhooks/{splunk|elastic|thehive|generic}  SIEM alert intake (202, enriched in the background)
  POST /v1/jobs, GET /v1/jobs/{id}[/results]          bulk jobs, results as JSONL
  POST /v1/enrich                                      up to 100 IOCs, answered at once
  GET  /v1/iocs/{type}/{value}, /v1/providers          stored results, provider status and quota
  GET  /healthz, /readyz, /metrics                     health and Prometheus metrics

Accepted jobs are stored in the --db file before the 202 and survive a
crash; a restart resumes them.

Every request needs an API token, sent as 'Authorization: Bearer <token>'.
Create one and start the server:

  export IOCANE_ADMIN_TOKEN=$(openssl rand -hex 32)   # every scope
  iocane serve --db /var/lib/iocane/iocane.db

Tokens with fewer scopes (ingest: webhooks and jobs; read: results and
metrics; admin: everything) go in iocane.yaml, stored as their SHA-256:

  server:
    tokens:
      - name: splunk-prod
        token_sha256: <printf %s "$TOKEN" | sha256sum>
        scopes: [ingest]

Set IOCANE_WEBHOOK_SECRET (or server.webhook_secret) to require an
HMAC-SHA256 signature on every webhook (X-Iocane-Timestamp,
X-Iocane-Signature: sha256=<hex of HMAC(secret, timestamp + "." + body)>).

Without any token the server refuses to start, unless --insecure-no-auth
is given, and then only on a loopback address. The access log (JSON, on
stderr) names the token used, never the token itself.`,
		Example: `  # enrich two IOCs now
  curl -s -H "Authorization: Bearer $IOCANE_ADMIN_TOKEN" -H 'Content-Type: application/json' \
    -d '{"iocs": ["185.220.101.47", "evil-login[.]com"]}' http://127.0.0.1:8080/v1/enrich

  # a Splunk-style alert, then its results
  curl -s -H "Authorization: Bearer $IOCANE_ADMIN_TOKEN" -H 'Content-Type: application/json' \
    -d '{"sid": "42", "search_name": "TI match", "result": {"src_ip": "185.220.101.47"}}' \
    http://127.0.0.1:8080/v1/webhooks/splunk
  curl -s -H "Authorization: Bearer $IOCANE_ADMIN_TOKEN" http://127.0.0.1:8080/v1/jobs/<id>/results`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runServe(c, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.listen, "listen", "", "`address` to listen on (default server.listen or 127.0.0.1:8080)")
	fl.BoolVar(&f.insecureNoAuth, "insecure-no-auth", false, "accept requests without a token (loopback addresses only; for trying iocane out)")
	fl.IntVar(&f.workers, "workers", 0, "jobs enriched at once (default server.workers or 4)")
	fl.DurationVar(&f.jobTimeout, "job-timeout", jobs.DefaultTimeout, "deadline for one job attempt")
	fl.DurationVar(&f.iocTimeout, "ioc-timeout", 30*time.Second, "deadline per IOC; sources still missing then get status error \"deadline\"")
	fl.Int64Var(&f.maxBody, "max-body", 0, "largest request body in bytes (default server.max_body or 10 MiB)")
	fl.Float64Var(&f.tokenRate, "token-rate", 0, "requests per second per token, negative for no limit (default server.token_rate or 100)")
	return c
}

func runServe(c *cobra.Command, f serveFlags) error {
	stderr := c.ErrOrStderr()
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	metrics := server.NewMetrics()
	sess, err := newRuntime(ctx, stderr, enrich.Options{IOCTimeout: f.iocTimeout},
		func(bo *enrich.BuildOptions) { bo.Observer = metrics })
	if err != nil {
		return err
	}
	defer sess.close()
	sc, err := server.LoadConfig(sess.cfg.K, os.Getenv)
	if err != nil {
		return usageError{err}
	}
	listen := firstNonEmpty(f.listen, sc.Listen, "127.0.0.1:8080")
	if len(sc.Tokens) == 0 && !f.insecureNoAuth {
		return usageError{server.ErrNoTokens}
	}
	if f.insecureNoAuth && len(sc.Tokens) == 0 && !loopback(listen) {
		return usagef("--insecure-no-auth only listens on a loopback address (127.0.0.1, ::1), not %q: configure a token to listen elsewhere", listen)
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	jobRuns := &jobRunRecorder{db: sess.db, log: log.With("component", "report")} // report.go
	var wb *writeBack                                                             // writeback.go; set before the workers start
	q, err := jobs.Open(ctx, jobs.Options{
		Path: sess.db.Path(), Engine: sess.engine, Results: sess.db, Observer: metrics, Logger: log.With("component", "jobs"),
		Workers: firstPositive(f.workers, sc.Workers), DefaultTimeout: f.jobTimeout, Retention: sc.JobRetention,
		OnComplete: func(j jobs.Job) { jobRuns.record(j); wb.onComplete(j) },
	})
	if err != nil {
		return err
	}
	defer q.Close()
	jobRuns.q = q
	nc, err := notify.LoadConfig(sess.cfg.K, os.Getenv)
	if err != nil {
		return usageError{err}
	}
	notifiers, err := notify.New(nc, notify.Options{Logger: log.With("component", "notify")})
	if err != nil {
		return usageError{err}
	}
	go notifiers.Run(ctx) // sends held-back digests when the rate limit allows
	base := firstNonEmpty(sc.PublicURL, "http://"+listen)
	if wb, err = newWriteBack(ctx, sess, q, func(id string) string { return strings.TrimRight(base, "/") + "/v1/jobs/" + id + "/results" },
		metrics, log.With("component", "integrations"), notifiers.Sinks()...); err != nil {
		return err
	}
	if err := wb.disp.Resume(ctx); err != nil {
		log.Warn("write-back: pending deliveries not resumed", "error", err)
	}
	if err := startReportSchedule(ctx, sess, log); err != nil { // report.go
		return err
	}
	if err := q.Start(ctx); err != nil {
		return err
	}
	metrics.SetQuotas(quotaSamples(sess))
	metrics.SetEngineStats(func() []runstats.Source {
		now := time.Now()
		return sess.engine.Stats().Run("serve", "", now, now).Sources
	})
	var names []string
	for _, s := range provider.All() {
		names = append(names, s.Name)
	}
	srv, err := server.New(server.Options{
		Engine: sess.engine, Queue: q, Store: sess.db,
		Providers:     func(ctx context.Context) (any, error) { return providerRows(ctx, sess.cfg, sess.built) },
		ProviderNames: names,
		Tokens:        sc.Tokens, InsecureNoAuth: f.insecureNoAuth, WebhookSecret: sc.WebhookSecret,
		MaxBody: firstPositive64(f.maxBody, sc.MaxBody), TokenRate: firstNonZero(f.tokenRate, sc.TokenRate), TokenBurst: sc.TokenBurst,
		DefaultTLP: sess.cfg.TLP, Metrics: metrics, Logger: log,
	})
	if err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("listening", "addr", "http://"+ln.Addr().String(), "db", sess.db.Path(), "tokens", len(sc.Tokens),
		"signed_webhooks", len(sc.WebhookSecret) > 0, "providers", len(sess.built.Sources))
	if f.insecureNoAuth && len(sc.Tokens) == 0 {
		log.Warn("no authentication: every request is accepted (--insecure-no-auth)")
	}
	serveErr := srv.Serve(ctx, ln)
	// The HTTP side has stopped; let running jobs finish for a while, then
	// the queue puts the rest back to resume at the next start.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if err := q.Stop(sctx); err != nil {
		log.Warn("jobs not stopped cleanly", "error", err)
	}
	wb.close(sctx, log)
	if err := notifiers.Close(sctx); err != nil {
		log.Warn("notifications: held-back alerts not all sent", "error", err)
	}
	log.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, context.Canceled) {
		return serveErr
	}
	return nil
}

// quotaSamples reads every provider's quota left for /metrics.
func quotaSamples(sess *session) func(ctx context.Context) ([]server.QuotaSample, error) {
	return func(ctx context.Context) ([]server.QuotaSample, error) {
		var out []server.QuotaSample
		for name, q := range sess.built.Quotas {
			if _, skipped := sess.built.Skipped[name]; skipped {
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
