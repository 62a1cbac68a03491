// Package server is iocane's HTTP API: synchronous enrichment, durable jobs,
// SIEM/SOAR webhook intake (Splunk, Elastic, TheHive, generic JSON), stored
// results, provider status, health and Prometheus metrics.
//
// It is the standard library's net/http with Go 1.22 patterns. Every route
// is declared once in the routes table (routes.go), which registers the mux,
// sets the scope a token needs, and is checked against the embedded OpenAPI
// description by a test. Every error is an RFC 7807 problem body whose
// detail says what to fix and whose instance is the request id; every
// response carries X-Request-Id; the access log is JSON (slog) with the
// token's name and never the token, a query string or a body.
//
// Accepting work is cheap and durable: a job or alert is handed to the
// jobs.Queue, which stores it before the 202 goes back; enrichment happens in
// the queue's workers. Only POST /v1/enrich enriches in the request, bounded
// by a deadline after which it answers with what it has.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/iocane/iocane/internal/history"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// Defaults for the zero fields of Options.
const (
	DefaultMaxBody     = 10 << 20
	DefaultTokenRate   = 100 // requests per second per token
	DefaultTokenBurst  = 200
	DefaultSyncMaxIOCs = 100
	DefaultSyncTimeout = 20 * time.Second
	MaxSyncTimeout     = 50 * time.Second
	SignatureSkew      = 5 * time.Minute
	ShutdownGrace      = 30 * time.Second
	// StoreRetryAfter is the Retry-After of a 503 when the store does not
	// answer (a PostgreSQL outage).
	StoreRetryAfter = 5 * time.Second
)

// ErrNoTokens is returned by New when no token is configured and
// InsecureNoAuth is not set.
var ErrNoTokens = errors.New("no API token configured: set IOCANE_ADMIN_TOKEN or server.tokens in the config (or pass --insecure-no-auth on a trusted loopback only)")

// Enricher enriches one IOC and never fails; *enrich.Engine satisfies it.
type Enricher interface {
	Enrich(ctx context.Context, it enrich.Item) result.Result
}

// Store is the part of the embedded store the server uses; *store.DB
// satisfies it.
type Store interface {
	// Ping checks the store answers and its migrations are applied.
	Ping(ctx context.Context) error
	// LatestResult returns the stored result, or an error matching
	// store.ErrNotFound.
	LatestResult(ctx context.Context, typ, value string) (result.Result, error)
	// PutResult stores a result as the latest for its IOC.
	PutResult(ctx context.Context, r result.Result) error
	// PurgeCache drops cached answers (all providers when provider is "").
	PurgeCache(ctx context.Context, provider string, olderThan time.Duration) (int64, error)
}

// ReplayStore records accepted webhook signatures durably (*store.DB).
type ReplayStore interface {
	// Replayed records sig as used until expires and reports whether it
	// already was.
	Replayed(ctx context.Context, sig string, expires time.Time) (bool, error)
}

// Options configures a Server. Engine, Queue and Store are required.
type Options struct {
	// Replays, when set, keeps the webhook replay check across restarts;
	// without it the check is in memory only.
	Replays ReplayStore
	Engine  Enricher
	Queue   jobs.Queue
	Store   Store
	// StoreName names the store's backend in readiness and 503 answers
	// ("sqlite" or "postgres"). Default "store".
	StoreName string
	// Memory, when set, keeps each synchronous enrichment in the IOC
	// history and serves …/history and the analyst verdicts.
	Memory Memory
	// WebhookPivot and JobPivot are the pivot depth of a webhook's job and
	// of a POST /v1/jobs job when the request gives no ?pivot= (the
	// config's pivot.depth, else 1 and 0).
	WebhookPivot, JobPivot int
	// OnVerdict, when set, hears of each analyst verdict set (a MISP
	// sighting push).
	OnVerdict func(history.Verdict)
	// Providers returns the rows of `iocane providers --format json`.
	Providers func(ctx context.Context) ([]provider.State, error)
	// ProviderNames lists valid names for a job's providers restriction;
	// nil accepts any.
	ProviderNames []string
	// Tokens are the API tokens. With none, New fails unless InsecureNoAuth.
	Tokens []Token
	// InsecureNoAuth lets every request in without a token. Default off.
	InsecureNoAuth bool
	// WebhookSecret, when set, makes every webhook require an HMAC-SHA256
	// signature (see Sign). Default none.
	WebhookSecret []byte
	// MaxBody caps a request body. Default 10 MiB.
	MaxBody int64
	// MaxIntake caps the bytes of request bodies read and parsed at once,
	// over every request: memory for intake is bounded whatever the
	// number of senders, and a body that would go over it is answered 503
	// with Retry-After. Default 4 × MaxBody; never less than MaxBody.
	MaxIntake int64
	// TokenRate and TokenBurst bound each token's requests per second.
	// Defaults 100/s, burst 200; a negative TokenRate means no limit.
	TokenRate  float64
	TokenBurst int
	// SyncMaxIOCs is the most IOCs POST /v1/enrich takes. Default 100.
	SyncMaxIOCs int
	// SyncTimeout is POST /v1/enrich's default deadline. Default 20 s.
	SyncTimeout time.Duration
	// DefaultTLP marks untagged input. Default amber (its zero value is
	// clear, so set it from the config).
	DefaultTLP tlp.Level
	// Metrics collects Prometheus metrics; nil makes a new set.
	Metrics *Metrics
	// Logger receives the JSON access log; nil discards it.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is the HTTP API. Build it with New.
type Server struct {
	o        Options
	mux      *http.ServeMux
	routes   []Route
	tokens   tokenSet
	verifier *verifier
	metrics  *Metrics

	limMu    sync.Mutex
	limiters map[string]*rate.Limiter

	intake *semaphore.Weighted // bytes of bodies being read and parsed (MaxIntake)
}

// New validates o and builds the server; it does no I/O.
func New(o Options) (*Server, error) {
	if o.Engine == nil || o.Queue == nil || o.Store == nil {
		return nil, errors.New("server: Engine, Queue and Store are required")
	}
	if len(o.Tokens) == 0 && !o.InsecureNoAuth {
		return nil, ErrNoTokens
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxIntake <= 0 {
		o.MaxIntake = 4 * o.MaxBody
	}
	o.MaxIntake = max(o.MaxIntake, o.MaxBody)
	if o.TokenRate == 0 {
		o.TokenRate = DefaultTokenRate
	}
	if o.TokenBurst <= 0 {
		o.TokenBurst = DefaultTokenBurst
	}
	if o.SyncMaxIOCs <= 0 {
		o.SyncMaxIOCs = DefaultSyncMaxIOCs
	}
	if o.SyncTimeout <= 0 {
		o.SyncTimeout = DefaultSyncTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.StoreName == "" {
		o.StoreName = "store"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	s := &Server{o: o, tokens: tokenSet(o.Tokens), metrics: o.Metrics, limiters: map[string]*rate.Limiter{}, intake: semaphore.NewWeighted(o.MaxIntake)}
	if len(o.WebhookSecret) > 0 {
		s.verifier = newVerifier(o.WebhookSecret, SignatureSkew)
	}
	s.metrics.watchQueue(o.Queue)
	s.buildMux()
	return s, nil
}

// Handler returns the server's root handler: request id, recovery, access
// log and metrics around the routes.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Metrics returns the server's metrics (also its httpx.Observer).
func (s *Server) Metrics() *Metrics { return s.metrics }

// Serve answers on ln until ctx ends, then stops accepting, lets requests in
// flight finish for up to ShutdownGrace, and returns. Stopping the queue's
// workers is the caller's part, after Serve returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      MaxSyncTimeout + 10*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.o.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(problemListener{ln}) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// ctxKey keys the per-request info in a context.
type ctxKey struct{}

// reqInfo is what the middleware learns about a request, for the log.
type reqInfo struct {
	id    string
	token string
}

func info(ctx context.Context) *reqInfo {
	if ri, ok := ctx.Value(ctxKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

func requestID(ctx context.Context) string { return info(ctx).id }

// validRequestID accepts an incoming X-Request-Id of 1-128 safe characters.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		id = rand.Text()
	}
	ri := &reqInfo{id: id}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
	w.Header().Set("X-Request-Id", id)
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.o.Logger.Error("panic", "request_id", id, "route", r.Pattern, "panic", fmt.Sprint(p))
			if sw.status == 0 {
				writeProblem(sw, r, http.StatusInternalServerError, probInternal, "the server failed on this request; quote the request id when reporting it")
			}
		}
		// The route label is the path pattern alone: the method has its
		// own label, and a 405 on a path is the same route as its 200s.
		_, route, found := strings.Cut(r.Pattern, " ")
		if !found {
			route = r.Pattern
		}
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.metrics.httpRequest(route, r.Method, sw.status, d)
		tok := ri.token
		if tok == "" {
			tok = "-"
		}
		s.o.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("route", route), slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.String("token", tok),
			slog.String("remote", r.RemoteAddr))
	}()
	s.mux.ServeHTTP(sw, r)
}
