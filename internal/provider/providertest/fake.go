// Package providertest holds what every provider's tests share: a fake API
// server that wraps a provider-specific handler (answering in the real API's
// shape) with fault injection and a request log, and Run, the conformance
// suite and fault matrix every provider must pass.
//
// A provider test supplies a Suite: the handler that answers like the real
// service for one known and one unknown IOC, where its credentials travel,
// and what a found Finding must contain. Run then checks found, not found,
// bad key, 429 with Retry-After then success, a persistent 429, 500, a
// timeout, a malformed body and an oversized body, and the conformance rules:
// base URL with or without trailing slash, credentials only in their
// documented place, no secret in logs, errors or output, ctx cancellation,
// and no call for an unsupported type.
package providertest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Fault is what the fake does instead of (or before) answering normally.
type Fault int

// Faults the fake can inject.
const (
	Normal        Fault = iota
	Unauthorized        // answer the provider's 401/403 body
	TooManyOnce         // answer 429 + Retry-After: 1 once, then normally
	TooManyAlways       // always 429 + Retry-After: 1
	ServerError         // always 500
	Hang                // block until the client gives up
	Malformed           // 200 with a truncated JSON body
	Oversized           // 200 with a body far over the client's cap
)

// Fixture is one canned HTTP answer.
type Fixture struct {
	Code        int
	ContentType string // default application/json
	Body        []byte
	Header      map[string]string
}

// Write sends the fixture.
func (f Fixture) Write(w http.ResponseWriter) {
	ct := f.ContentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	for k, v := range f.Header {
		w.Header().Set(k, v)
	}
	code := f.Code
	if code == 0 {
		code = http.StatusOK
	}
	w.WriteHeader(code)
	_, _ = w.Write(f.Body)
}

// JSON is a Fixture with status code and a JSON body.
func JSON(code int, body string) Fixture { return Fixture{Code: code, Body: []byte(body)} }

// File reads testdata/<name> (relative to the calling test's package) into a
// 200 Fixture, failing the test when it is missing.
func File(t testing.TB, name string) Fixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("providertest: fixture: %v", err)
	}
	return Fixture{Code: http.StatusOK, Body: b}
}

// Request is what the fake recorded of one request.
type Request struct {
	Method string
	Path   string
	// RawPath is the path as sent, still escaped (OTX sends a URL as
	// "http:%2F%2Fhost"), so checks on its shape see what went on the wire.
	RawPath string
	Query   url.Values
	Header  http.Header
	Body    []byte
}

// Fake is an httptest server in front of a provider-shaped handler.
type Fake struct {
	*httptest.Server

	mu       sync.Mutex
	fault    Fault
	requests []Request
	handler  http.Handler
	// UnauthorizedBody answers the Unauthorized fault (the provider's own 401 shape).
	UnauthorizedBody Fixture
	// TooManyBody answers a 429 fault (the provider's own 429 shape).
	TooManyBody Fixture
	// ServerErrorBody answers the ServerError fault.
	ServerErrorBody Fixture
	// Auth, when set, is checked on every request; a request that fails it
	// gets UnauthorizedBody, as the real service would answer a bad key.
	Auth     func(r *http.Request) bool
	sentOnce bool
	release  chan struct{}
}

// NewFake starts a fake serving h, closed when the test ends.
func NewFake(t testing.TB, h http.Handler) *Fake {
	f := &Fake{
		handler:          h,
		UnauthorizedBody: JSON(http.StatusUnauthorized, `{"error":"unauthorized"}`),
		TooManyBody:      JSON(http.StatusTooManyRequests, `{"error":"too many requests"}`),
		ServerErrorBody:  JSON(http.StatusInternalServerError, `{"error":"internal server error"}`),
		release:          make(chan struct{}),
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		close(f.release)
		f.Server.Close()
	})
	return f
}

// SetFault switches the fault mode and resets its one-shot state.
func (f *Fake) SetFault(x Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault, f.sentOnce = x, false
}

// Requests returns a copy of the request log.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Reset clears the request log.
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = nil
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.mu.Lock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
	fault := f.fault
	once := f.sentOnce
	if fault == TooManyOnce {
		f.sentOnce = true
	}
	f.mu.Unlock()

	switch {
	case fault == TooManyAlways || (fault == TooManyOnce && !once):
		fx := f.TooManyBody
		fx.Code = http.StatusTooManyRequests
		hdr := map[string]string{}
		for k, v := range fx.Header { // the provider's own 429 headers (X-RateLimit-*) stay
			hdr[k] = v
		}
		hdr["Retry-After"] = "1"
		fx.Header = hdr
		fx.Write(w)
		return
	case fault == ServerError:
		fx := f.ServerErrorBody
		if fx.Code == 0 {
			fx.Code = http.StatusInternalServerError
		}
		fx.Write(w)
		return
	case fault == Hang:
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return
	case fault == Malformed:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data": {"attributes": [`)
		return
	case fault == Oversized:
		w.Header().Set("Content-Type", "application/json")
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		_, _ = w.Write([]byte(`{"pad": "`))
		for i := 0; i < 64; i++ { // 4 MiB, over the suite's 1 MiB cap
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`"}`))
		return
	case fault == Unauthorized || (f.Auth != nil && !f.Auth(r)):
		fx := f.UnauthorizedBody
		if fx.Code == 0 {
			fx.Code = http.StatusUnauthorized
		}
		fx.Write(w)
		return
	}
	f.handler.ServeHTTP(w, r)
}
