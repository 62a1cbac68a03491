// Package integrationstest has fake TheHive, Splunk HEC, Splunk SOAR,
// XSOAR and webhook receivers on loopback that answer like the real APIs
// and record what they receive, for the sinks' tests and the end-to-end
// test.
package integrationstest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Request is one request a fake received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r Request) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// Fake is a recording HTTP server.
type Fake struct {
	*httptest.Server
	// Token is the credential the fake accepts, checked by Auth.
	Token string

	mu       sync.Mutex
	requests []Request
	faults   []fault
	handle   func(f *Fake, r Request, w http.ResponseWriter)
	auth     func(h http.Header) bool
	state    map[string]any
}

type fault struct {
	method, prefix string
	left, code     int
	land           bool
}

func newFake(token string, auth func(token string, h http.Header) bool, handle func(f *Fake, r Request, w http.ResponseWriter)) *Fake {
	f := &Fake{Token: token, handle: handle, state: map[string]any{}}
	f.auth = func(h http.Header) bool { return auth(f.Token, h) }
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

func (f *Fake) serve(w http.ResponseWriter, hr *http.Request) {
	body, _ := io.ReadAll(hr.Body)
	r := Request{Method: hr.Method, Path: hr.URL.RequestURI(), Header: hr.Header.Clone(), Body: body}
	f.mu.Lock()
	f.requests = append(f.requests, r)
	for i := range f.faults {
		ft := &f.faults[i]
		if ft.left > 0 && (ft.method == "" || ft.method == r.Method) && strings.HasPrefix(hr.URL.Path, ft.prefix) {
			ft.left--
			land := ft.land
			code := ft.code
			f.mu.Unlock()
			if land { // the request lands, but its answer is an error
				f.handle(f, r, httptest.NewRecorder())
			}
			http.Error(w, `{"type":"ServiceUnavailable","message":"try again"}`, code)
			return
		}
	}
	f.mu.Unlock()
	if !f.auth(hr.Header) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"type":"AuthenticationError","message":"Authentication failure"}`)
		return
	}
	f.handle(f, r, w)
}

// Fail makes the next n requests with method (any when "") to a path
// starting with prefix answer code without being handled.
func (f *Fake) Fail(method, prefix string, n, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, fault{method: method, prefix: prefix, left: n, code: code})
}

// LandThenFail makes the next n matching requests land, then answer code:
// the answer of a request that worked is lost.
func (f *Fake) LandThenFail(method, prefix string, n, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, fault{method: method, prefix: prefix, left: n, code: code, land: true})
}

// Requests returns what the fake received, in order (faulted ones too).
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Matching returns the requests with method to a path starting with prefix.
func (f *Fake) Matching(method, prefix string) []Request {
	var out []Request
	for _, r := range f.Requests() {
		if r.Method == method && strings.HasPrefix(r.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func bearer(token string, h http.Header) bool { return h.Get("Authorization") == "Bearer "+token }
