// Package fakeintel is a loopback fake of the twelve threat-intelligence APIs
// iocane talks to, for end-to-end tests, benchmarks and demos without keys or
// network. Each provider is served under its own path prefix ("/virustotal",
// "/abuseipdb", ...) and answers the way the real API does
// (each provider's README in internal/provider): the same paths and methods, the key in the same
// place and checked, the same content types, the same not-found signals and
// quirks (VirusTotal's 404 NotFoundError, AbuseIPDB's 200 with score 0 for an
// unreported address, Safe Browsing's {} when clean, ThreatFox's no_result
// with a string in data, GreyNoise's 404 with a JSON body, and so on).
//
// Each provider is one entry of the apis table (its base path, its
// responder, its 429 and 404 in its own shape), in the file named for its
// API: virustotal.go, abuseipdb.go, ... and abusech.go for what the three
// abuse.ch APIs share.
//
// What each IOC is comes from a scenario (Options.Verdicts): malicious,
// suspicious or benign IOCs get realistic answers from every provider that
// would know them, anything else gets each provider's not-found signal.
//
// Each provider can be given a rate (a token bucket that answers 429 with
// Retry-After beyond it, in the provider's own error shape) and a latency,
// and every request is logged, so a test can prove what reached a provider
// and what did not. Env returns the IOCANE_* variables that point iocane at
// the fake, with keys the fake accepts.
package fakeintel

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/iocane/iocane/internal/ioc"
)

// Class is what the scenario says an IOC is.
type Class int

// Classes of IOC. An IOC absent from the scenario is unknown to every
// provider, which answers with its not-found signal.
const (
	Unknown Class = iota
	Benign
	Suspicious
	Malicious
)

// String names the class.
func (c Class) String() string {
	switch c {
	case Benign:
		return "benign"
	case Suspicious:
		return "suspicious"
	case Malicious:
		return "malicious"
	}
	return "unknown"
}

// Options configures a Server. Per-provider maps are keyed by provider name;
// Each builds one with the same value for every provider.
type Options struct {
	// Verdicts is the scenario; nil means DefaultVerdicts().
	Verdicts map[ioc.IOC]Class
	// Rate is the requests per second each provider allows; beyond it the
	// provider answers 429 with Retry-After. Absent or 0 means no limit.
	// The OAuth token endpoint is not limited.
	Rate map[string]float64
	// Burst is the token bucket's depth per provider. Default: a tenth of a
	// second's worth of requests, at least 2, so that iocane's evenly spaced
	// requests are not refused for a millisecond of scheduling jitter while a
	// sustained excess of even a few percent still meets 429s.
	Burst map[string]int
	// Latency is added to every answer of a provider (429s included).
	Latency map[string]time.Duration
	// Now is the clock the rate limits read; nil means time.Now.
	Now func() time.Time
}

// Each returns a per-provider map giving every provider v.
func Each[T any](v T) map[string]T {
	m := make(map[string]T, len(Providers))
	for _, p := range Providers {
		m[p] = v
	}
	return m
}

// Request is what the fake recorded of one request.
type Request struct {
	Method string
	Path   string // as received, decoded (r.URL.Path), prefix included
	Query  url.Values
	Body   []byte
	At     time.Time // arrival, by Options.Now
	Status int       // the answer's status code (429 when refused)
}

// Server is the fake. Build it with New, then Start it (loopback listeners,
// like httptest) or mount Handler yourself, and Close it when done.
type Server struct {
	// verdicts is the scenario; SetClass replaces the map, never changes it.
	verdicts atomic.Pointer[map[ioc.IOC]Class]
	now      func() time.Time
	latency  map[string]time.Duration
	rates    map[string]float64
	limits   map[string]*rate.Limiter

	mu       sync.Mutex
	calls    map[string]int
	tooMany  map[string]int
	requests map[string][]Request
	tokens   map[string]bool // bearer tokens issued by the passivetotal token endpoint
	nextTok  int
	roots    map[string]string // provider → root URL ("http://127.0.0.1:port")
	servers  []*httptest.Server
	dns      *dnsServer // set by Start
}

// New builds a Server from o. It does no I/O.
func New(o Options) *Server {
	s := &Server{
		now: o.Now, latency: map[string]time.Duration{}, rates: map[string]float64{},
		limits: map[string]*rate.Limiter{}, calls: map[string]int{}, tooMany: map[string]int{},
		requests: map[string][]Request{}, tokens: map[string]bool{}, roots: map[string]string{},
	}
	v := o.Verdicts
	if v == nil {
		v = DefaultVerdicts()
	}
	s.verdicts.Store(&v)
	if s.now == nil {
		s.now = time.Now
	}
	for p, d := range o.Latency {
		s.latency[p] = d
	}
	for p, r := range o.Rate {
		if r <= 0 {
			continue
		}
		b := o.Burst[p]
		if b <= 0 {
			b = max(2, int(math.Ceil(r/10)))
		}
		s.rates[p] = r
		s.limits[p] = rate.NewLimiter(rate.Limit(r), b)
	}
	return s
}

// SetRate changes the requests per second provider p allows from now on;
// 0 lifts its limit. Only a provider given a Rate at New can change.
func (s *Server) SetRate(p string, r float64) {
	lim := s.limits[p]
	if lim == nil {
		return
	}
	if r <= 0 {
		lim.SetLimit(rate.Inf)
		return
	}
	lim.SetLimit(rate.Limit(r))
}

// Handler serves every provider under its prefix, "/<provider>/...".
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// Start serves the fake on loopback: one listener per provider, on
// 127.0.0.1 and a free port, so each provider is its own host to iocane's
// connection pool as it is in real life.
func (s *Server) Start() {
	if err := s.StartDNS(); err != nil {
		panic("fakeintel: dns: " + err.Error())
	}
	for _, p := range Providers {
		ts := httptest.NewServer(s.Handler())
		s.servers = append(s.servers, ts)
		s.SetRoot(p, ts.URL)
	}
}

// SetRoot records where provider p is served ("http://host:port", without
// the prefix), for Env and URL. Use it when serving Handler yourself.
func (s *Server) SetRoot(p, root string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roots[p] = strings.TrimRight(root, "/")
}

// Close stops the listeners Start opened.
func (s *Server) Close() {
	for _, ts := range s.servers {
		ts.Close()
	}
	if s.dns != nil {
		s.dns.conn.Close()
	}
}

// URL returns provider p's base URL (what IOCANE_<P>_BASE_URL gets).
func (s *Server) URL(p string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roots[p] + "/" + p + apis[p].base
}

// TokenURL is the passivetotal OAuth2 token endpoint (IOCANE_PASSIVETOTAL_TOKEN_URL).
func (s *Server) TokenURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roots["passivetotal"] + "/passivetotal/login/" + FakeTenant + "/oauth2/v2.0/token"
}

// Credentials the fake accepts.
const (
	FakeTenant       = "fake-tenant"
	FakeClientID     = "fake-passivetotal-client"
	FakeClientSecret = "fake-passivetotal-secret"
)

// Key is the API key the fake accepts for provider p.
func Key(p string) string { return "fake-" + p + "-key" }

// Env returns the IOCANE_* variables that point iocane at the fake: each
// provider's base URL (and the passivetotal token URL), the credentials the
// fake accepts, and iocane's rate and quota matched to the fake: the
// provider's rate ("100/s") when the fake enforces one, else unlimited, and
// no quota, as the fake counts none. urlscan is set to fetch verdicts.
func (s *Server) Env() []string {
	var env []string
	for _, p := range Providers {
		up := "IOCANE_" + strings.ToUpper(p) + "_"
		env = append(env, up+"BASE_URL="+s.URL(p))
		if p == "passivetotal" {
			env = append(env, up+"TOKEN_URL="+s.TokenURL(), up+"TENANT_ID="+FakeTenant,
				up+"CLIENT_ID="+FakeClientID, up+"CLIENT_SECRET="+FakeClientSecret)
		} else {
			env = append(env, up+"API_KEY="+Key(p))
		}
		env = append(env, up+"RATE="+rateString(s.rates[p]), up+"QUOTA=unlimited")
	}
	if s.dns != nil {
		env = append(env, "IOCANE_DNS_SERVER="+s.DNSAddr())
	}
	return append(env, "IOCANE_URLSCAN_FETCH_VERDICTS=true")
}

// rateString writes r requests per second the way iocane reads a rate.
func rateString(r float64) string {
	switch {
	case r <= 0:
		return "unlimited"
	case r == math.Trunc(r):
		return strconv.Itoa(int(r)) + "/s"
	}
	return "1/" + strconv.FormatInt(int64(math.Round(1000/r)), 10) + "ms"
}

// Calls returns how many requests reached provider p, refused ones included.
func (s *Server) Calls(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[p]
}

// TotalCalls returns the requests that reached any provider.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// TooMany returns how many requests provider p refused with 429.
func (s *Server) TooMany(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooMany[p]
}

// TotalTooMany returns the 429s of every provider.
func (s *Server) TotalTooMany() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.tooMany {
		n += c
	}
	return n
}

// Requests returns a copy of provider p's request log.
func (s *Server) Requests(p string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests[p])
}

// Saw reports whether any request to any provider carried value in its
// path, query or body (decoded or escaped), and names the first provider
// that did.
func (s *Server) Saw(value string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range Providers {
		for _, r := range s.requests[p] {
			hay := r.Path + "\n" + r.Query.Encode() + "\n" + string(r.Body)
			for _, v := range []string{value, url.QueryEscape(value)} {
				if strings.Contains(hay, v) {
					return p, true
				}
			}
			for _, vs := range r.Query {
				for _, v := range vs {
					if strings.Contains(v, value) {
						return p, true
					}
				}
			}
		}
	}
	return "", false
}

// Reset clears the counters and request logs.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.tooMany, s.requests = map[string]int{}, map[string]int{}, map[string][]Request{}
}

// responder answers one provider's requests; rest is the path after the
// provider prefix and its base path.
type responder func(s *Server, w http.ResponseWriter, r *http.Request, rest string, body []byte)

// api is one provider's fake: where its API's base lies under the
// provider's prefix, and how it answers. Each lives in the file named for
// the provider.
type api struct {
	// base mirrors the path of the real base URL, e.g. "/api/v3".
	base string
	// serve answers a request under the base.
	serve responder
	// tooMany answers 429 in the provider's own shape.
	tooMany func(w http.ResponseWriter, retryAfter int)
	// notFound answers a path the provider does not serve; nil means the
	// HTML 404 of the web server in front of most APIs.
	notFound func(w http.ResponseWriter)
}

// apis is every provider the fake serves, by contract name.
var apis = map[string]api{
	"virustotal": virusTotal, "abuseipdb": abuseIPDB, "shodan": shodan, "misp": misp,
	"passivetotal": passiveTotal, "urlscan": urlscan, "safebrowsing": safeBrowsing,
	"malwarebazaar": malwareBazaar, "urlhaus": urlhaus, "threatfox": threatFox,
	"otx": otx, "greynoise": greyNoise,
}

// Providers lists the providers the fake serves, by contract name, sorted.
var Providers = slices.Sorted(maps.Keys(apis))

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	rest = "/" + rest
	a, ok := apis[p]
	if !ok {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	token := p == "passivetotal" && strings.HasPrefix(rest, "/login/")
	now := s.now()
	sw := &statusWriter{ResponseWriter: w}
	w = sw
	s.mu.Lock()
	s.calls[p]++
	n := len(s.requests[p])
	s.requests[p] = append(s.requests[p], Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body, At: now})
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if n < len(s.requests[p]) {
			s.requests[p][n].Status = sw.code
		}
		s.mu.Unlock()
	}()

	var wait time.Duration
	lim := s.limits[p]
	if lim != nil && !token {
		res := lim.ReserveN(now, 1)
		if d := res.DelayFrom(now); d > 0 {
			res.CancelAt(now)
			wait = d
		}
	}
	if d := s.latency[p]; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if wait > 0 {
		s.mu.Lock()
		s.tooMany[p]++
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
		a.tooMany(w, max(1, int(math.Ceil(wait.Seconds()))))
		return
	}
	if !token {
		if b := a.base; b != "" {
			if !strings.HasPrefix(rest, b+"/") && rest != b {
				if a.notFound != nil {
					a.notFound(w)
				} else {
					htmlNotFound(w)
				}
				return
			}
			rest = strings.TrimPrefix(rest, b)
		}
	}
	a.serve(s, w, r, rest, body)
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// class returns what the scenario says i is.
func (s *Server) class(i ioc.IOC) Class { return s.scenario()[i] }

// scenario returns the current scenario; callers only read it.
func (s *Server) scenario() map[ioc.IOC]Class { return *s.verdicts.Load() }

// SetClass changes what the fake says about i from now on (the data of a
// provider changing between two enrichments); Unknown removes it.
func (s *Server) SetClass(i ioc.IOC, c Class) {
	for {
		old := s.verdicts.Load()
		next := maps.Clone(*old)
		if c == Unknown {
			delete(next, i)
		} else {
			next[i] = c
		}
		if s.verdicts.CompareAndSwap(old, &next) {
			return
		}
	}
}

// classOf finds value's class among types, trying each in turn.
func (s *Server) classOf(value string, types ...ioc.Type) (ioc.IOC, Class) {
	for _, t := range types {
		i := ioc.IOC{Type: t, Value: value}
		if c, ok := s.scenario()[i]; ok {
			return i, c
		}
	}
	if len(types) > 0 {
		return ioc.IOC{Type: types[0], Value: value}, Unknown
	}
	return ioc.IOC{Value: value}, Unknown
}

// hostTypes are the types a bare host value may have.
func hostTypes(v string) []ioc.Type {
	if a, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil {
		if a.Is4() {
			return []ioc.Type{ioc.IPv4}
		}
		return []ioc.Type{ioc.IPv6}
	}
	return []ioc.Type{ioc.Domain}
}

// hashType guesses a hash's type from its length.
func hashType(h string) (ioc.Type, bool) {
	for _, c := range h {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return "", false
		}
	}
	switch len(h) {
	case 32:
		return ioc.MD5, true
	case 40:
		return ioc.SHA1, true
	case 64:
		return ioc.SHA256, true
	case 128:
		return ioc.SHA512, true
	}
	return "", false
}

// writeJSON sends v (a value or raw JSON bytes) with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	case string:
		b = []byte(x)
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		b = buf.Bytes()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// obj is a JSON object literal.
type obj = map[string]any

// list is a JSON array literal.
type list = []any

// methodNotAllowed answers a request with the wrong method.
func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, 405, obj{"message": "Method Not Allowed"})
}

// htmlNotFound is the 404 of the web server in front of most APIs.
func htmlNotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(404)
	_, _ = io.WriteString(w, "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n")
}
