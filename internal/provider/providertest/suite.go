package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

// Place is where a credential may travel: a header, a query parameter, a
// form field, a JSON body field or the URL path (Kind "header", "query",
// "form", "json", "path"; a path place has no Name: Entra ID's token URL
// carries the tenant id in its path).
type Place struct {
	Kind string
	Name string
}

// Header, Query and Form name credential places.
func Header(name string) Place { return Place{"header", name} }

// Query is a query-string credential place (Shodan's ?key=).
func Query(name string) Place { return Place{"query", name} }

// Form is a form-body credential place.
func Form(name string) Place { return Place{"form", name} }

// Path allows a credential in the URL path.
func Path() Place { return Place{"path", ""} }

// Suite describes one provider to the conformance suite and fault matrix.
type Suite struct {
	// Provider is the registered provider name.
	Provider string
	// BasePath is the path part of the documented base URL ("/api/v3"); the
	// suite sets BaseURL to the fake's URL plus BasePath, with and without a
	// trailing slash.
	BasePath string
	// Secrets are the credentials to configure, by setting name. Use values
	// that are easy to find in text ("vt-SECRET-key-0001").
	Secrets map[string]string
	// Settings are extra settings; "{{URL}}" in a value is replaced by the
	// fake's URL (PassiveTotal's token_url).
	Settings map[string]string
	// Handler answers like the real API: Found gets a found answer, anything
	// else the provider's documented "not found" answer.
	Handler http.Handler
	// Auth reports whether a request carries valid credentials in the
	// documented place; the fake answers Unauthorized otherwise. It runs
	// before Handler on the same request: an Auth that reads the body must
	// put it back.
	Auth func(r *http.Request) bool
	// KeyPlaces lists every place a secret may appear in a request. Each
	// secret must appear in at least one request, and only in these places.
	KeyPlaces []Place
	// Unauthorized, TooMany and ServerError are the provider's own error
	// bodies (optional; generic JSON otherwise).
	Unauthorized, TooMany, ServerError *Fixture
	// Found and NotFound are the IOCs the handler knows and does not know.
	// Extra holds more found IOCs (other types) checked with CheckFound.
	Found, NotFound ioc.IOC
	Extra           []ioc.IOC
	// CheckFound asserts the key fields of a found Finding.
	CheckFound func(t *testing.T, i ioc.IOC, f provider.Finding)
	// NotFoundStatus is the status a not-found answer maps to (default
	// not_found; AbuseIPDB's unreported IP is ok with zero signals).
	NotFoundStatus provider.Status
}

// harness is one configured provider in front of a fake.
type harness struct {
	fake   *Fake
	prov   provider.Provider
	logs   *syncBuffer
	sleeps *[]time.Duration
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s Suite) newHarness(t *testing.T, trailingSlash bool, secrets map[string]string) *harness {
	t.Helper()
	spec, ok := provider.Get(s.Provider)
	if !ok {
		t.Fatalf("provider %q is not registered", s.Provider)
	}
	fake := NewFake(t, s.Handler)
	fake.Auth = s.Auth
	if s.Unauthorized != nil {
		fake.UnauthorizedBody = *s.Unauthorized
	}
	if s.TooMany != nil {
		fake.TooManyBody = *s.TooMany
	}
	if s.ServerError != nil {
		fake.ServerErrorBody = *s.ServerError
	}
	base := fake.URL + s.BasePath
	if trailingSlash {
		base += "/"
	}
	cfg := provider.Config{BaseURL: base, Secrets: map[string]provider.Secret{}, Settings: map[string]string{}}
	for k, v := range secrets {
		cfg.Secrets[k] = provider.NewSecret(v)
	}
	for k, v := range s.Settings {
		cfg.Settings[k] = strings.ReplaceAll(v, "{{URL}}", fake.URL)
	}
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sleeps := &[]time.Duration{}
	cfg.HTTP = newClient(spec, sleeps)
	cfg.KeepRaw = true
	p, err := spec.New(cfg)
	if err != nil {
		t.Fatalf("%s: New: %v", s.Provider, err)
	}
	return &harness{fake: fake, prov: p, logs: logs, sleeps: sleeps}
}

// lookup runs one Lookup with a deadline and folds an error into a Finding,
// as the engine does.
func (h *harness) lookup(t *testing.T, name string, i ioc.IOC, timeout time.Duration) (provider.Finding, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	f, err := h.prov.Lookup(ctx, i)
	if err != nil {
		return provider.ErrorFinding(name, err), err
	}
	return f, nil
}

// Run runs the conformance suite and the fault matrix.
func Run(t *testing.T, s Suite) {
	if s.NotFoundStatus == "" {
		s.NotFoundStatus = provider.StatusNotFound
	}
	var (
		outMu sync.Mutex
		out   []string // every error text and Finding JSON produced, scanned for secrets at the end
		logs  []*syncBuffer
	)
	record := func(f provider.Finding, err error) {
		b, _ := json.Marshal(f)
		outMu.Lock()
		defer outMu.Unlock()
		out = append(out, string(b), fmt.Sprintf("%v %+v %#v", f, f, f))
		if err != nil {
			out = append(out, err.Error(), fmt.Sprintf("%+v %#v", err, err))
		}
	}
	harness := func(t *testing.T, slash bool, secrets map[string]string) *harness {
		h := s.newHarness(t, slash, secrets)
		outMu.Lock()
		logs = append(logs, h.logs)
		outMu.Unlock()
		return h
	}
	expectStatus := func(t *testing.T, f provider.Finding, err error, want provider.Status) {
		t.Helper()
		record(f, err)
		if f.Status != want {
			t.Fatalf("status = %q (reason %q, err %v), want %q", f.Status, f.Reason, err, want)
		}
		if f.Provider != s.Provider {
			t.Errorf("Finding.Provider = %q, want %q", f.Provider, s.Provider)
		}
	}

	t.Run("Conformance", func(t *testing.T) {
		for _, slash := range []bool{false, true} {
			t.Run(fmt.Sprintf("FoundTrailingSlash=%v", slash), func(t *testing.T) {
				h := harness(t, slash, s.Secrets)
				for _, i := range append([]ioc.IOC{s.Found}, s.Extra...) {
					f, err := h.lookup(t, s.Provider, i, 10*time.Second)
					expectStatus(t, f, err, provider.StatusOK)
					if s.CheckFound != nil {
						s.CheckFound(t, i, f)
					}
					if f.Summary == "" {
						t.Errorf("%v: found Finding has no Summary", i)
					}
				}
				for _, r := range h.fake.Requests() {
					if strings.Contains(r.RawPath, "//") {
						t.Errorf("request path %q has a double slash", r.RawPath)
					}
				}
			})
		}
		t.Run("NotFound", func(t *testing.T) {
			h := harness(t, false, s.Secrets)
			f, err := h.lookup(t, s.Provider, s.NotFound, 10*time.Second)
			expectStatus(t, f, err, s.NotFoundStatus)
			if f.Malicious != 0 || f.Benign != 0 {
				t.Errorf("not-found answer carries signals malicious=%v benign=%v", f.Malicious, f.Benign)
			}
		})
		t.Run("CredentialsOnlyInDocumentedPlace", func(t *testing.T) {
			if len(s.Secrets) == 0 {
				t.Skip("keyless provider")
			}
			h := harness(t, false, s.Secrets)
			f, err := h.lookup(t, s.Provider, s.Found, 10*time.Second)
			expectStatus(t, f, err, provider.StatusOK)
			checkPlaces(t, h.fake.Requests(), s.Secrets, s.KeyPlaces)
		})
		t.Run("UnsupportedTypeMakesNoCall", func(t *testing.T) {
			spec, _ := provider.Get(s.Provider)
			h := harness(t, false, s.Secrets)
			for _, ty := range ioc.Types {
				if spec.Supports(ty) {
					continue
				}
				_, err := h.prov.Lookup(context.Background(), ioc.IOC{Type: ty, Value: sampleValue(ty)})
				if !errors.Is(err, provider.ErrUnsupported) {
					t.Errorf("Lookup(%s) error = %v, want ErrUnsupported", ty, err)
				}
			}
			if n := len(h.fake.Requests()); n != 0 {
				t.Errorf("fake saw %d requests for unsupported types, want 0", n)
			}
		})
		t.Run("CanceledContext", func(t *testing.T) {
			h := harness(t, false, s.Secrets)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := h.prov.Lookup(ctx, s.Found)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Lookup with a canceled ctx: err = %v, want context.Canceled", err)
			}
			if n := len(h.fake.Requests()); n != 0 {
				t.Errorf("fake saw %d requests after cancel, want 0", n)
			}
			// Cancel while the server hangs: Lookup must return promptly.
			h.fake.SetFault(Hang)
			ctx, cancel = context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { _, err := h.prov.Lookup(ctx, s.Found); done <- err }()
			arrived := time.Now().Add(5 * time.Second)
			for len(h.fake.Requests()) == 0 {
				if time.Now().After(arrived) {
					cancel()
					t.Fatal("no request reached the fake within 5 s")
				}
				time.Sleep(time.Millisecond) // wait for the request to arrive, not for time to pass
			}
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Lookup canceled mid-request: err = %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Lookup did not return within 5 s of ctx cancellation")
			}
		})
	})

	t.Run("Faults", func(t *testing.T) {
		t.Run("BadKey", func(t *testing.T) {
			if len(s.Secrets) == 0 {
				t.Skip("keyless provider")
			}
			bad := map[string]string{}
			for k, v := range s.Secrets {
				bad[k] = v + "-WRONG"
			}
			h := harness(t, false, bad)
			f, err := h.lookup(t, s.Provider, s.Found, 10*time.Second)
			expectStatus(t, f, err, provider.StatusError)
			if !errors.Is(err, provider.ErrUnauthorized) {
				t.Errorf("bad key: err = %v, want ErrUnauthorized", err)
			}
		})
		t.Run("TooManyThenOK", func(t *testing.T) {
			h := harness(t, false, s.Secrets)
			h.fake.SetFault(TooManyOnce)
			f, err := h.lookup(t, s.Provider, s.Found, 10*time.Second)
			expectStatus(t, f, err, provider.StatusOK)
			if len(*h.sleeps) == 0 || (*h.sleeps)[0] != time.Second {
				t.Errorf("retry waits = %v, want the first to honour Retry-After: 1 (1s)", *h.sleeps)
			}
		})
		t.Run("TooManyAlways", func(t *testing.T) {
			h := harness(t, false, s.Secrets)
			h.fake.SetFault(TooManyAlways)
			f, err := h.lookup(t, s.Provider, s.Found, 10*time.Second)
			expectStatus(t, f, err, provider.StatusRateLimited)
			if n := len(h.fake.Requests()); n < 2 || n > MaxAttempts*3 {
				t.Errorf("persistent 429: %d requests, want retries bounded by %d attempts", n, MaxAttempts)
			}
		})
		t.Run("ServerError", func(t *testing.T) {
			h := harness(t, false, s.Secrets)
			h.fake.SetFault(ServerError)
			f, err := h.lookup(t, s.Provider, s.Found, 10*time.Second)
			expectStatus(t, f, err, provider.StatusError)
		})
		t.Run("Timeout", func(t *testing.T) {
			h := harness(t, false, s.Secrets)
			h.fake.SetFault(Hang)
			start := time.Now()
			f, err := h.lookup(t, s.Provider, s.Found, 300*time.Millisecond)
			expectStatus(t, f, err, provider.StatusError)
			if f.Reason != "deadline" && f.Reason != "timeout" {
				t.Errorf("timeout reason = %q, want deadline or timeout", f.Reason)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("timeout took %v", d)
			}
		})
		t.Run("Malformed", func(t *testing.T) {
			h := harness(t, false, s.Secrets)
			h.fake.SetFault(Malformed)
			f, err := h.lookup(t, s.Provider, s.Found, 10*time.Second)
			expectStatus(t, f, err, provider.StatusError)
		})
		t.Run("Oversized", func(t *testing.T) {
			h := harness(t, false, s.Secrets)
			h.fake.SetFault(Oversized)
			f, err := h.lookup(t, s.Provider, s.Found, 10*time.Second)
			expectStatus(t, f, err, provider.StatusError)
			if f.Reason != "response too large" {
				t.Errorf("oversized reason = %q, want %q", f.Reason, "response too large")
			}
		})
	})

	t.Run("Conformance/NoSecretInLogsErrorsOutput", func(t *testing.T) {
		outMu.Lock()
		defer outMu.Unlock()
		texts := append([]string(nil), out...)
		for _, l := range logs {
			texts = append(texts, l.String())
		}
		for name, v := range s.Secrets {
			for _, txt := range texts {
				if strings.Contains(txt, v) {
					t.Errorf("secret %s leaked into output/log/error: %.300s", name, txt)
				}
			}
		}
		if len(texts) == 0 {
			t.Error("nothing recorded: run the suite's other subtests first")
		}
	})
}

// checkPlaces asserts that each secret appears in some request, and only in
// the allowed places.
func checkPlaces(t *testing.T, reqs []Request, secrets map[string]string, places []Place) {
	t.Helper()
	allowed := func(kind, name string) bool {
		for _, p := range places {
			if p.Kind == kind && strings.EqualFold(p.Name, name) {
				return true
			}
		}
		return false
	}
	for sname, v := range secrets {
		seen := false
		for _, r := range reqs {
			if strings.Contains(r.Path, v) {
				seen = true
				if !allowed("path", "") {
					t.Errorf("secret %s in the URL path %q", sname, r.Path)
				}
			}
			for k, vals := range r.Header {
				for _, hv := range vals {
					if strings.Contains(hv, v) {
						seen = true
						if !allowed("header", k) {
							t.Errorf("secret %s in header %s, not a documented place", sname, k)
						}
					}
				}
			}
			for k, vals := range r.Query {
				for _, qv := range vals {
					if strings.Contains(qv, v) {
						seen = true
						if !allowed("query", k) {
							t.Errorf("secret %s in query parameter %s, not a documented place", sname, k)
						}
					}
				}
			}
			if bytes.Contains(r.Body, []byte(v)) {
				seen = true
				if !bodyAllowed(r, v, places) {
					t.Errorf("secret %s in the request body outside the documented fields", sname)
				}
			}
		}
		if !seen {
			t.Errorf("secret %s was never sent", sname)
		}
	}
}

func bodyAllowed(r Request, v string, places []Place) bool {
	for _, p := range places {
		switch p.Kind {
		case "form":
			if vals, err := parseForm(r.Body); err == nil && vals.Get(p.Name) == v {
				return true
			}
		case "json":
			var m map[string]any
			if json.Unmarshal(r.Body, &m) == nil && m[p.Name] == v {
				return true
			}
		}
	}
	return false
}

// sampleValue gives a valid value of each type, for the unsupported-type check.
func sampleValue(t ioc.Type) string {
	switch t {
	case ioc.IPv4:
		return "185.220.101.47"
	case ioc.IPv6:
		return "2a01:4f8:c2c:1234::1"
	case ioc.Domain:
		return "evil-example.com"
	case ioc.URL:
		return "http://evil-example.com/x"
	case ioc.Email:
		return "bad@evil-example.com"
	case ioc.MD5:
		return "44d88612fea8a8f36de82e1278abb02f"
	case ioc.SHA1:
		return "3395856ce81f2b7382dee72602f798b642f14140"
	case ioc.SHA256:
		return "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
	case ioc.SHA512:
		return strings.Repeat("ab", 64)
	case ioc.CVE:
		return "CVE-2021-44228"
	case ioc.ASN:
		return "AS13335"
	case ioc.BTC:
		return "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
	}
	return "x"
}
