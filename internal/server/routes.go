package server

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Route is one documented endpoint.
type Route struct {
	Method string
	// Path is the mux path, e.g. /v1/jobs/{id}; a trailing {name...}
	// matches the rest of the path.
	Path string
	// Scope is what the token needs; "" means no token (health, docs).
	Scope   Scope
	handler http.HandlerFunc
	// queryToken allows ?token= for senders that cannot set headers
	// (Splunk's webhook alert action).
	queryToken bool
	// body marks a route that reads and parses a request body, within
	// the server's intake cap (Options.MaxIntake).
	body bool
}

// Pattern is the ServeMux pattern of r.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Routes returns the documented routes, in registration order.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

func (s *Server) routeTable() []Route {
	return []Route{
		{Method: "POST", Path: "/v1/enrich", Scope: ScopeIngest, handler: s.handleEnrich, body: true},
		{Method: "POST", Path: "/v1/jobs", Scope: ScopeIngest, handler: s.handleSubmitJob, body: true},
		{Method: "GET", Path: "/v1/jobs/{id}", Scope: ScopeRead, handler: s.handleGetJob},
		{Method: "DELETE", Path: "/v1/jobs/{id}", Scope: ScopeIngest, handler: s.handleCancelJob},
		{Method: "GET", Path: "/v1/jobs/{id}/results", Scope: ScopeRead, handler: s.handleJobResults},
		{Method: "POST", Path: "/v1/webhooks/{kind}", Scope: ScopeIngest, handler: s.handleWebhook, queryToken: true, body: true},
		{Method: "GET", Path: "/v1/iocs/{type}/{value...}", Scope: ScopeRead, handler: s.handleGetIOC},
		{Method: "GET", Path: "/v1/iocs/{type}/{value}/history", Scope: ScopeRead, handler: s.handleHistory},
		{Method: "POST", Path: "/v1/iocs/{type}/{value}/verdict", Scope: ScopeTriage, handler: s.handleSetVerdict, body: true},
		{Method: "DELETE", Path: "/v1/iocs/{type}/{value}/verdict", Scope: ScopeTriage, handler: s.handleRemoveVerdict},
		{Method: "GET", Path: "/v1/verdicts", Scope: ScopeRead, handler: s.handleListVerdicts},
		{Method: "GET", Path: "/v1/providers", Scope: ScopeRead, handler: s.handleProviders},
		{Method: "DELETE", Path: "/v1/cache", Scope: ScopeAdmin, handler: s.handlePurgeCache},
		{Method: "GET", Path: "/healthz", handler: s.handleHealthz},
		{Method: "GET", Path: "/readyz", handler: s.handleReadyz},
		{Method: "GET", Path: "/metrics", Scope: ScopeRead, handler: s.handleMetrics},
		{Method: "GET", Path: "/openapi.yaml", handler: s.handleOpenAPI},
	}
}

// buildMux registers every route, a 405 problem for the other methods on
// each path, and a 404 problem for everything else.
func (s *Server) buildMux() {
	s.mux = http.NewServeMux()
	s.routes = s.routeTable()
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range s.routes {
		s.mux.Handle(rt.Pattern(), s.guard(rt))
		if allowed[rt.Path] == nil {
			paths = append(paths, rt.Path)
		}
		allowed[rt.Path] = append(allowed[rt.Path], rt.Method)
	}
	// The 405s are registered per method, not as method-less patterns: a
	// method-less /v1/iocs/{type}/{value}/history would conflict with
	// GET /v1/iocs/{type}/{value...} (each more specific in one way).
	for _, p := range paths {
		methods := allowed[p]
		if slices.Contains(methods, "GET") {
			methods = append(methods, "HEAD")
		}
		allow := strings.Join(methods, ", ")
		for _, m := range otherMethods {
			if slices.Contains(methods, m) {
				continue
			}
			s.mux.HandleFunc(m+" "+p, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Allow", allow)
				writeProblem(w, r, http.StatusMethodNotAllowed, probMethod, r.Method+" is not allowed on "+p+": use "+allow)
			})
		}
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, probNotFound, "no endpoint at "+r.URL.Path+": see /openapi.yaml for the API")
	})
}

// otherMethods are the methods a path answers 405 to when no route takes
// them.
var otherMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// guard wraps a route's handler with authentication, the scope check and
// the per-token rate limit.
func (s *Server) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.Scope == "" {
			rt.handler(w, r)
			return
		}
		name, ok := s.authenticate(w, r, rt)
		info(r.Context()).token = name
		if !ok {
			return
		}
		if !s.allow(w, r, name) {
			return
		}
		if rt.body {
			release, ok := s.admit(w, r)
			if !ok {
				return
			}
			defer release()
		}
		rt.handler(w, r)
	})
}

// IntakeRetryAfter is the Retry-After of a body refused at the intake cap.
const IntakeRetryAfter = 2 * time.Second

// admit reserves the body's share of the intake cap, answering 503 with
// Retry-After when the bodies being read and parsed already hold it. A
// body's share is its Content-Length, or MaxBody when the length is not
// known or the body is compressed (it is read up to MaxBody either way).
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (release func(), ok bool) {
	n := s.o.MaxBody
	if r.ContentLength >= 0 && r.Header.Get("Content-Encoding") == "" {
		n = min(r.ContentLength, s.o.MaxBody)
	}
	n = max(n, 1)
	if !s.intake.TryAcquire(n) {
		w.Header().Set("Retry-After", strconv.Itoa(int(IntakeRetryAfter.Seconds())))
		writeProblem(w, r, http.StatusServiceUnavailable, probUnavailable,
			fmt.Sprintf("the server is reading as many request bodies as it takes at once (%s, server.max_intake): retry in %d s", humanBytes(s.o.MaxIntake), int(IntakeRetryAfter.Seconds())))
		return nil, false
	}
	return func() { s.intake.Release(n) }, true
}

// authenticate finds the request's token and checks its scope, answering
// 401 or 403 itself when it fails.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, rt Route) (string, bool) {
	if s.o.InsecureNoAuth && len(s.tokens) == 0 {
		return "anonymous", true
	}
	secret, found := bearer(r)
	if !found && rt.queryToken {
		secret = r.URL.Query().Get("token")
		found = secret != ""
	}
	if !found {
		w.Header().Set("WWW-Authenticate", `Bearer realm="iocane"`)
		hint := "send an API token as 'Authorization: Bearer <token>'"
		if rt.queryToken {
			hint += " (or ?token=<token> for senders that cannot set headers)"
		}
		writeProblem(w, r, http.StatusUnauthorized, probUnauthorized, "no API token: "+hint)
		return "", false
	}
	tok, ok := s.tokens.find(secret)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="iocane", error="invalid_token"`)
		writeProblem(w, r, http.StatusUnauthorized, probUnauthorized, "the API token is not valid: check it against server.tokens or IOCANE_ADMIN_TOKEN")
		return "", false
	}
	if !tok.Allows(rt.Scope) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="iocane", error="insufficient_scope", scope="`+string(rt.Scope)+`"`)
		writeProblem(w, r, http.StatusForbidden, probForbidden, "token "+strconv.Quote(tok.Name)+" lacks the "+string(rt.Scope)+" scope needed for "+rt.Pattern()+": use a token with that scope")
		return tok.Name, false
	}
	return tok.Name, true
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	t := strings.TrimSpace(h[7:])
	return t, t != ""
}

// allow charges one request to the token's rate limit, answering 429 with
// Retry-After when it is spent.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, name string) bool {
	d := s.TokenWait(name)
	if d == 0 {
		return true
	}
	secs := int(math.Ceil(d.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeProblem(w, r, http.StatusTooManyRequests, probRateLimited,
		"token "+strconv.Quote(name)+" is over its rate of "+strconv.FormatFloat(s.o.TokenRate, 'f', -1, 64)+" requests per second: retry after "+(time.Duration(secs)*time.Second).String())
	return false
}

// TokenWait takes one request from token name's rate limit: 0 when it
// may go now, else how long it should wait (nothing is taken then). The
// console applies it to its pages.
func (s *Server) TokenWait(name string) time.Duration {
	if s.o.TokenRate < 0 {
		return 0
	}
	s.limMu.Lock()
	l := s.limiters[name]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(s.o.TokenRate), s.o.TokenBurst)
		s.limiters[name] = l
	}
	s.limMu.Unlock()
	now := s.o.Now()
	res := l.ReserveN(now, 1)
	d := res.DelayFrom(now)
	if d > 0 {
		res.CancelAt(now)
	}
	return d
}
