// Package console is the analyst's web page in `iocane serve`, at /ui/.
//
// It is server-rendered html/template with its files embedded (go:embed):
// every page works without JavaScript, and htmx (vendored, static/) only
// refreshes a running job's rows in place. A page is reached with a
// session made from an API token at sign-in; the token's scopes decide
// what the page offers, as they decide what the API allows.
//
// Every response carries a strict Content-Security-Policy (no inline
// script or style, no framing), X-Frame-Options DENY and Referrer-Policy
// no-referrer; cross-origin form posts are refused
// (http.CrossOriginProtection). IOC values are shown defanged and never as
// links; the only outbound links are the providers' own pages, opened
// with noopener and noreferrer.
package console

import (
	"context"
	"embed"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/report"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

//go:embed templates static
var files embed.FS

// Scopes a session may hold; they are the API's scope names.
const (
	ScopeIngest = "ingest"
	ScopeRead   = "read"
	ScopeTriage = "triage"
	ScopeAdmin  = "admin"
)

// Identity is who a token belongs to.
type Identity struct {
	Name   string
	Scopes []string
}

// Jobs is the part of the job queue the console reads and writes;
// *jobs.SQLiteQueue satisfies it.
type Jobs interface {
	Submit(ctx context.Context, s jobs.Spec) (jobs.Job, bool, error)
	Get(ctx context.Context, id string) (jobs.Job, error)
	List(ctx context.Context, offset, limit int) ([]jobs.Job, int, error)
	ResultsPage(ctx context.Context, id string, q jobs.ResultQuery) (jobs.Job, []result.Result, int, error)
	Results(ctx context.Context, id string, fn func(result.Result) error) error
}

// ProviderHealth is what this process has seen of a provider since it
// started.
type ProviderHealth struct {
	Breaker     string // closed, half-open or open
	Errors      int64  // look-ups that ended in error
	RateLimited int64  // 429s and quota refusals
}

// Options configures the console. Auth, Jobs and Preview are required.
type Options struct {
	// Auth finds the token a secret belongs to, in constant time.
	Auth func(secret string) (Identity, bool)
	// Allow applies the token's rate limit: 0 lets the request in, else
	// how long to wait.
	Allow func(name string) time.Duration
	Jobs  Jobs
	// Preview says which sources an IOC would reach (enrich.Engine).
	Preview func(ctx context.Context, it enrich.Item) []enrich.Step
	// Latest returns an IOC's stored result and whether there is one.
	Latest func(ctx context.Context, i ioc.IOC) (result.Result, bool, error)
	// History returns an IOC's history; nil hides it.
	History func(ctx context.Context, i ioc.IOC, limit int) (history.Report, error)
	// Providers returns the providers' state, quotas included.
	Providers func(ctx context.Context) ([]provider.State, error)
	// Health returns breaker state, errors and 429s by provider; nil
	// shows none.
	Health func() map[string]ProviderHealth
	// Report builds the weekly report; nil hides the page.
	Report func(ctx context.Context) (*report.Report, error)
	// DefaultTLP marks pasted input unless the analyst picks another.
	DefaultTLP tlp.Level
	// MaxBody caps a posted text or upload. Default 10 MiB.
	MaxBody int64
	// SessionTTL is how long a session lasts after sign-in. Default 8 h.
	SessionTTL time.Duration
	// PageSize is the rows of a job page. Default 50.
	PageSize int
	Logger   *slog.Logger
	Now      func() time.Time
}

// Defaults for the zero fields of Options.
const (
	DefaultSessionTTL = 8 * time.Hour
	DefaultPageSize   = 50
	DefaultMaxBody    = 10 << 20
	// MaxPreview is the most IOCs a preview lists one by one; the quota
	// it shows still counts every IOC.
	MaxPreview = 500
)

// Console serves /ui/. Build it with New.
type Console struct {
	o        Options
	sessions *sessions
	pages    pages
	login    *rate.Limiter
	mux      *http.ServeMux
}

// New checks o and parses the templates.
func New(o Options) (*Console, error) {
	if o.Auth == nil || o.Jobs == nil || o.Preview == nil {
		return nil, errors.New("console: Auth, Jobs and Preview are required")
	}
	if o.Allow == nil {
		o.Allow = func(string) time.Duration { return 0 }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	// Sign-in is limited for the whole server: a token is 32 random bytes,
	// so guessing is hopeless, and this keeps it from costing CPU.
	c := &Console{o: o, sessions: newSessions(o.Now), pages: p, login: rate.NewLimiter(5, 20)}
	c.routes()
	return c, nil
}

// Handler serves every path under /ui/.
func (c *Console) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusForbidden, "This form was sent from another site, so it was refused. Open the console at its own address and try again.")
	}))
	return secure(cop.Handler(c.mux))
}

// secure sets the headers every console response carries.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if h.Get("Cache-Control") == "" {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// CSP is the console's Content-Security-Policy: its own scripts and styles
// only, nothing inline, no framing, forms only to itself.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"

// reportCSP is the report frame's: the report's own inline styles, no
// script at all, framed by the console only.
const reportCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

func (c *Console) routes() {
	m := http.NewServeMux()
	m.Handle("GET /ui/static/", http.StripPrefix("/ui", staticFiles()))
	m.HandleFunc("GET /ui/{$}", c.handleHome)
	m.HandleFunc("GET /ui/login", c.handleLoginForm)
	m.HandleFunc("POST /ui/login", c.handleLogin)
	m.HandleFunc("POST /ui/logout", c.handleLogout)
	m.Handle("GET /ui/enrich", c.need(ScopeIngest, c.handleEnrichForm))
	m.Handle("POST /ui/enrich", c.need(ScopeIngest, c.handleEnrich))
	m.Handle("GET /ui/jobs", c.need(ScopeRead, c.handleJobs))
	m.Handle("GET /ui/jobs/{id}", c.need(ScopeRead, c.handleJob))
	m.Handle("GET /ui/jobs/{id}/rows", c.need(ScopeRead, c.handleJobRows))
	m.Handle("GET /ui/jobs/{id}/export", c.need(ScopeRead, c.handleExport))
	m.Handle("GET /ui/ioc", c.need(ScopeRead, c.handleIOC))
	m.Handle("GET /ui/providers", c.need(ScopeRead, c.handleProviders))
	m.Handle("GET /ui/report", c.need(ScopeRead, c.handleReport))
	m.Handle("GET /ui/report/frame", c.need(ScopeRead, c.handleReportFrame))
	m.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	})
	c.mux = m
}

// staticFiles serves the embedded files, cached by browsers for an hour;
// a file with a .gz twin (htmx) is sent compressed to a browser that takes
// gzip.
func staticFiles() http.Handler {
	plain := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Add("Vary", "Accept-Encoding")
		name := strings.TrimPrefix(r.URL.Path, "/")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			if b, err := fs.ReadFile(files, name+".gz"); err == nil {
				w.Header().Set("Content-Encoding", "gzip")
				w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
				w.Write(b)
				return
			}
		}
		plain.ServeHTTP(w, r)
	})
}

// writeReport renders r as the report package's HTML page.
func writeReport(w io.Writer, r *report.Report) error { return report.Write(w, "html", r) }
