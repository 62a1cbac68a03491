package main

import (
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/pipeline"
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
	noMigrate      bool
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
	fl.DurationVar(&f.iocTimeout, "ioc-timeout", 30*time.Second, "deadline for each provider's answer about an IOC; waiting for a rate-limit turn or a Retry-After does not count (a look-up whose turn is more than a minute away, or past --job-timeout, is deferred to the backlog instead); a provider that takes longer gets status error \"deadline\"")
	fl.Int64Var(&f.maxBody, "max-body", 0, "largest request body in bytes (default server.max_body or 10 MiB)")
	fl.BoolVar(&f.noMigrate, "no-migrate", false, "with store.url (PostgreSQL), do not migrate at start: fail unless the schema is current (run iocane db migrate first)")
	fl.Float64Var(&f.tokenRate, "token-rate", 0, "requests per second per token, negative for no limit (default server.token_rate or 100)")
	return c
}

// serveGCPercent is the garbage collector's GOGC for iocane serve, unless
// the GOGC environment variable sets it: a server holds large bodies only
// briefly and waits on providers far more than it computes, so a heap that
// grows half its live size between collections, rather than all of it,
// costs no measurable CPU and keeps a 9 MB job under 10x its size in RSS
// (BENCHMARKS.md, "Job body memory").
const serveGCPercent = 50

func runServe(c *cobra.Command, f serveFlags) error {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	stderr := c.ErrOrStderr()
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	so := pipeline.ServeOptions{
		Listen: f.listen, InsecureNoAuth: f.insecureNoAuth, Workers: f.workers, JobTimeout: f.jobTimeout,
		MaxBody: f.maxBody, TokenRate: f.tokenRate, Logger: slog.New(slog.NewJSONHandler(stderr, nil)),
	}
	o := options(stderr)
	if !global.verbose {
		// The server's JSON log at info: a shared backend's outage and
		// recovery, a provider's breaker, are events an operator sees.
		o.Logger = so.Logger
	}
	settings, err := pipeline.LoadSettings(o)
	if err != nil {
		return err
	}
	if _, err := pipeline.ServeConfig(settings, so); err != nil { // before the store is opened
		return err
	}
	metrics := server.NewMetrics()
	o.Settings, o.Engine, o.Observer = settings, enrich.Options{IOCTimeout: f.iocTimeout}, metrics
	o.NoMigrate = f.noMigrate
	p, err := pipeline.Open(ctx, o)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Serve(ctx, metrics, so)
}
