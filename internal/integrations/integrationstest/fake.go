// Package integrationstest has fake TheHive, Splunk HEC, Splunk SOAR,
// XSOAR and webhook receivers on loopback that answer like the real APIs
// and record what they receive, for the sinks' tests and the end-to-end
// test.
package integrationstest

import (
	"encoding/json"
	"fmt"
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

// Observable is an observable the fake TheHive holds.
type Observable struct {
	ID       string   `json:"_id"`
	DataType string   `json:"dataType"`
	Data     string   `json:"data"`
	Message  string   `json:"message"`
	TLP      int      `json:"tlp"`
	PAP      int      `json:"pap"`
	Tags     []string `json:"tags"`
	IOC      bool     `json:"ioc"`
}

// Comment is a comment the fake TheHive holds.
type Comment struct {
	ID      string `json:"_id"`
	Message string `json:"message"`
}

// TheHive is a fake TheHive 5: GET /api/v1/alert/{id}, POST
// /api/v1/{alert,case}/{id}/observable (an existing dataType+data answers
// 400 "Observable already exists", as TheHive does) and .../comment.
type TheHive struct {
	*Fake
	// Alerts maps an alert id to the case it was imported into ("" for none).
	Alerts map[string]string
	obs    map[string][]Observable // by "alert/<id>" or "case/<id>"
	notes  map[string][]Comment
	n      int
}

// NewTheHive starts a fake TheHive accepting the API key token; alerts
// maps the alert ids it knows to their case id ("" when not imported).
func NewTheHive(token string, alerts map[string]string) *TheHive {
	t := &TheHive{Alerts: alerts, obs: map[string][]Observable{}, notes: map[string][]Comment{}}
	t.Fake = newFake(token, bearer, t.handle)
	return t
}

// Observables returns the observables on "alert/<id>" or "case/<id>".
func (t *TheHive) Observables(target string) []Observable {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Observable(nil), t.obs[target]...)
}

// Comments returns the comments on "alert/<id>" or "case/<id>".
func (t *TheHive) Comments(target string) []Comment {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Comment(nil), t.notes[target]...)
}

// AddObservable puts an observable on a target, as the SIEM's alert had it.
func (t *TheHive) AddObservable(target string, o Observable) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.obs[target] = append(t.obs[target], o)
}

func (t *TheHive) handle(_ *Fake, r Request, w http.ResponseWriter) {
	parts := strings.Split(strings.TrimPrefix(r.Path, "/api/v1/"), "/")
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "alert":
		caseID, ok := t.Alerts[parts[1]]
		if !ok {
			writeJSON(w, 404, map[string]string{"type": "NotFoundError", "message": "Alert " + parts[1] + " not found"})
			return
		}
		a := map[string]any{"_id": parts[1], "_type": "Alert", "title": "fake alert", "status": "New"}
		if caseID != "" {
			a["caseId"] = caseID
			a["status"] = "Imported"
		}
		writeJSON(w, 200, a)
	case r.Method == http.MethodPost && len(parts) == 3 && (parts[0] == "alert" || parts[0] == "case") && parts[2] == "observable":
		var o Observable
		if err := json.Unmarshal(r.Body, &o); err != nil || o.DataType == "" || o.Data == "" {
			writeJSON(w, 400, map[string]string{"type": "BadRequest", "message": "Invalid json"})
			return
		}
		key := parts[0] + "/" + parts[1]
		for _, e := range t.obs[key] {
			if e.DataType == o.DataType && e.Data == o.Data {
				writeJSON(w, 400, map[string]string{"type": "CreateError", "message": "Observable already exists"})
				return
			}
		}
		t.n++
		o.ID = fmt.Sprintf("~%d", 8000+t.n)
		t.obs[key] = append(t.obs[key], o)
		writeJSON(w, 201, []Observable{o})
	case r.Method == http.MethodPost && len(parts) == 3 && (parts[0] == "alert" || parts[0] == "case") && parts[2] == "comment":
		var c Comment
		if err := json.Unmarshal(r.Body, &c); err != nil || c.Message == "" {
			writeJSON(w, 400, map[string]string{"type": "BadRequest", "message": "Invalid json"})
			return
		}
		t.n++
		c.ID = fmt.Sprintf("~%d", 9000+t.n)
		key := parts[0] + "/" + parts[1]
		t.notes[key] = append(t.notes[key], c)
		writeJSON(w, 201, c)
	default:
		writeJSON(w, 404, map[string]string{"type": "NotFoundError", "message": "no route " + r.Method + " " + r.Path})
	}
}
