package passivetotal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/providertest"
)

const (
	testClientID     = "pt-CLIENTID-0001"
	testClientSecret = "pt-SECRET-client-secret-0001"
	tokenPath        = "/contoso-tenant/oauth2/v2.0/token"
	hostsPath        = "/beta/security/threatIntelligence/hosts/"
)

// hosts maps a host to its reputation and passive DNS fixtures; any other
// host is Graph's 404.
var hosts = map[string][2]string{
	"login-example-support.com": {"reputation_domain.json", "passivedns_domain.json"},
	"185.220.101.47":            {"reputation_ipv4.json", "passivedns_ipv4.json"},
	"2a01:4f8:c2c:1234::1":      {"reputation_ipv6.json", "passivedns_empty.json"},
	"quiet.example":             {"reputation_unknown.json", "passivedns_empty.json"},
}

// fakeMS answers like Entra ID's token endpoint and Graph's MDTI host API,
// issuing and checking bearer tokens.
type fakeMS struct {
	t          testing.TB
	mu         sync.Mutex
	issued     map[string]bool
	tokenCalls int
	graphCalls int
	reject401  bool // Graph rejects every token
}

func newFakeMS(t testing.TB) *fakeMS { return &fakeMS{t: t, issued: map[string]bool{}} }

func (m *fakeMS) revokeAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.issued = map[string]bool{}
}

func (m *fakeMS) counts() (tokens, graph int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokenCalls, m.graphCalls
}

// auth checks the client credentials on the token endpoint and the bearer
// token on Graph, leaving the body readable.
func (m *fakeMS) auth(r *http.Request) bool {
	if r.URL.Path == tokenPath {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		form, err := url.ParseQuery(string(b))
		return err == nil && form.Get("client_id") == testClientID && form.Get("client_secret") == testClientSecret
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	m.mu.Lock()
	defer m.mu.Unlock()
	return ok && m.issued[tok] && !m.reject401
}

func (m *fakeMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == tokenPath {
		m.token(w, r)
		return
	}
	m.mu.Lock()
	m.graphCalls++
	m.mu.Unlock()
	if !m.auth(r) {
		providertest.FileCode(m.t, "graph_unauthorized.json", http.StatusUnauthorized).Write(w)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, hostsPath)
	host, kind, _ := strings.Cut(rest, "/")
	fx, known := hosts[host]
	switch {
	case r.Method != http.MethodGet || !ok || (kind != "reputation" && kind != "passiveDns"):
		providertest.JSON(http.StatusBadRequest, `{"error":{"code":"BadRequest","message":"Resource not found for the segment."}}`).Write(w)
	case !known:
		providertest.FileCode(m.t, "graph_not_found.json", http.StatusNotFound).Write(w)
	case kind == "reputation":
		providertest.File(m.t, fx[0]).Write(w)
	default:
		providertest.File(m.t, fx[1]).Write(w)
	}
}

func (m *fakeMS) token(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.tokenCalls++
	n := m.tokenCalls
	m.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		m.t.Errorf("token request %s %q, want a form POST", r.Method, r.Header.Get("Content-Type"))
	}
	if !m.auth(r) {
		providertest.FileCode(m.t, "aad_invalid_client.json", http.StatusUnauthorized).Write(w)
		return
	}
	_ = r.ParseForm()
	if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != "https://graph.microsoft.com/.default" {
		m.t.Errorf("token form %v: want grant_type client_credentials and the Graph .default scope", r.PostForm)
	}
	tok := fmt.Sprintf("eyJ0eXAiOiJKV1QiLCJub25jZSI6-graph-token-%d", n)
	m.mu.Lock()
	m.issued[tok] = true
	m.mu.Unlock()
	f := providertest.File(m.t, "token.json")
	f.Body = bytes.ReplaceAll(f.Body, []byte("{{TOKEN}}"), []byte(tok))
	f.Write(w)
}

func TestConformance(t *testing.T) {
	ms := newFakeMS(t)
	providertest.Run(t, providertest.Suite{
		Provider: Name,
		BasePath: "/beta",
		// tenant_id is left out: with token_url set it is never sent, and the
		// suite requires every listed secret to appear in some request.
		Secrets:      map[string]string{"client_id": testClientID, "client_secret": testClientSecret},
		Settings:     map[string]string{"token_url": "{{URL}}" + tokenPath},
		Handler:      ms,
		Auth:         ms.auth,
		KeyPlaces:    []providertest.Place{providertest.Form("client_id"), providertest.Form("client_secret")},
		Unauthorized: providertest.FileCode(t, "aad_invalid_client.json", http.StatusUnauthorized),
		TooMany:      providertest.FileCode(t, "graph_throttled.json", http.StatusTooManyRequests),
		ServerError:  providertest.FileCode(t, "graph_server_error.json", http.StatusInternalServerError),
		Found:        ioc.IOC{Type: ioc.Domain, Value: "login-example-support.com"},
		NotFound:     ioc.IOC{Type: ioc.Domain, Value: "never-seen.example"},
		Extra:        []ioc.IOC{{Type: ioc.IPv4, Value: "185.220.101.47"}, {Type: ioc.IPv6, Value: "2a01:4f8:c2c:1234::1"}},
		CheckFound: func(t *testing.T, i ioc.IOC, f provider.Finding) {
			if f.Link != "https://ti.defender.microsoft.com/search?query="+url.QueryEscape(i.Value) {
				t.Errorf("%v: Link = %q", i, f.Link)
			}
			if _, ok := f.Data["classification"].(string); !ok {
				t.Errorf("%v: no classification in %v", i, f.Data)
			}
		},
	})
}

// newClient builds a Client against srv with a settable clock.
func newClient(t *testing.T, srv *httptest.Server, clock *time.Time) *Client {
	t.Helper()
	c := providertest.Build(t, New, srv.URL+"/beta/", srv.Client(), providertest.Options{
		Secrets:  map[string]string{"client_id": testClientID, "client_secret": testClientSecret},
		Settings: map[string]string{"token_url": srv.URL + tokenPath},
		KeepRaw:  true,
	}).(*Client)
	if clock != nil {
		c.now = func() time.Time { return *clock }
	}
	return c
}

func TestLookup(t *testing.T) {
	ms := newFakeMS(t)
	srv := httptest.NewServer(ms)
	defer srv.Close()
	c := newClient(t, srv, nil)
	tests := []struct {
		in          ioc.IOC
		status      provider.Status
		mal, ben    float64
		class       string
		records     int
		resolutions []string
		tags        []string
		first, last string
		summary     string
	}{
		{
			in: ioc.IOC{Type: ioc.Domain, Value: "login-example-support.com"}, status: provider.StatusOK, mal: 1.0,
			class: "malicious", records: 3, resolutions: []string{"185.220.101.47", "203.0.113.9", "ns1.example-dns.net"},
			tags:  []string{"Microsoft Defender TI IOC", "Registrar"},
			first: "2026-09-14T10:00:00Z", last: "2026-11-25T22:10:03Z",
			summary: "reputation malicious (score 100), 3+ passive DNS record(s) 2026-09-14 to 2026-11-25",
		},
		{
			in: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}, status: provider.StatusOK, mal: 0.45,
			class: "suspicious", records: 2, resolutions: []string{"login-example-support.com", "relay.example-tor.org"},
			tags: []string{"Tor exit node"}, first: "2025-01-02T03:04:05Z", last: "2026-11-25T22:10:03Z",
		},
		{
			in: ioc.IOC{Type: ioc.IPv6, Value: "2a01:4f8:c2c:1234::1"}, status: provider.StatusOK, ben: 0.2,
			class: "neutral", summary: "reputation neutral (score 0)",
		},
		{in: ioc.IOC{Type: ioc.Domain, Value: "quiet.example"}, status: provider.StatusNotFound},
		{in: ioc.IOC{Type: ioc.Domain, Value: "never-seen.example"}, status: provider.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.in.String(), func(t *testing.T) {
			f, err := c.Lookup(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if f.Status != tc.status || f.Malicious != tc.mal || f.Benign != tc.ben {
				t.Fatalf("status/mal/ben = %s/%v/%v, want %s/%v/%v", f.Status, f.Malicious, f.Benign, tc.status, tc.mal, tc.ben)
			}
			if tc.status == provider.StatusNotFound {
				return
			}
			if f.Data["classification"] != tc.class || f.Data["passive_dns_records"] != tc.records {
				t.Errorf("classification/records = %v/%v, want %s/%d", f.Data["classification"], f.Data["passive_dns_records"], tc.class, tc.records)
			}
			res, _ := f.Data["resolutions"].([]string)
			if !slices.Equal(res, tc.resolutions) || !slices.Equal(f.Tags, tc.tags) {
				t.Errorf("resolutions %q tags %q, want %q %q", res, f.Tags, tc.resolutions, tc.tags)
			}
			for key, want := range map[string]string{"first_seen": tc.first, "last_seen": tc.last} {
				got, _ := f.Data[key].(time.Time)
				if want != "" && got.Format(time.RFC3339) != want {
					t.Errorf("%s = %v, want %s", key, got, want)
				}
			}
			if tc.summary != "" && f.Summary != tc.summary {
				t.Errorf("Summary = %q, want %q", f.Summary, tc.summary)
			}
			if !bytes.Contains(f.Raw, []byte(`"reputation":`)) || !bytes.Contains(f.Raw, []byte(`"passiveDns":`)) {
				t.Errorf("Raw = %.200s, want both answers", f.Raw)
			}
		})
	}
	if tokens, _ := ms.counts(); tokens != 1 {
		t.Errorf("%d token requests for %d look-ups, want 1 (cached)", tokens, len(tests))
	}
}

func TestTokenCachedUntilShortlyBeforeExpiry(t *testing.T) {
	ms := newFakeMS(t)
	srv := httptest.NewServer(ms)
	defer srv.Close()
	now := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	c := newClient(t, srv, &now)
	i := ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}
	step := func(after time.Duration, wantTokens int) {
		t.Helper()
		now = now.Add(after)
		if _, err := c.Lookup(context.Background(), i); err != nil {
			t.Fatal(err)
		}
		if got, _ := ms.counts(); got != wantTokens {
			t.Errorf("after +%v: %d token requests, want %d", after, got, wantTokens)
		}
	}
	step(0, 1)
	step(3400*time.Second, 1) // expires_in 3599, refreshed 2 min early: still good
	step(100*time.Second, 2)  // 3500 s: within the 2-minute margin
	step(time.Second, 2)
}

func TestGraph401RefreshesTokenOnce(t *testing.T) {
	ms := newFakeMS(t)
	srv := httptest.NewServer(ms)
	defer srv.Close()
	c := newClient(t, srv, nil)
	i := ioc.IOC{Type: ioc.Domain, Value: "login-example-support.com"}
	if _, err := c.Lookup(context.Background(), i); err != nil {
		t.Fatal(err)
	}
	ms.revokeAll() // the cached token is now rejected with 401
	f, err := c.Lookup(context.Background(), i)
	if err != nil || f.Status != provider.StatusOK {
		t.Fatalf("after revocation: %v %v, want ok after one refresh", f.Status, err)
	}
	if tokens, graph := ms.counts(); tokens != 2 || graph != 5 {
		t.Errorf("token/graph requests = %d/%d, want 2/5 (2+1 rejected+2)", tokens, graph)
	}

	ms.mu.Lock()
	ms.reject401 = true
	ms.mu.Unlock()
	_, err = c.Lookup(context.Background(), i)
	if !errors.Is(err, provider.ErrUnauthorized) {
		t.Fatalf("persistent 401: err = %v, want ErrUnauthorized", err)
	}
	if tokens, graph := ms.counts(); tokens != 3 || graph != 7 {
		t.Errorf("token/graph requests = %d/%d, want 3/7: exactly one refresh and one retry", tokens, graph)
	}
}

func TestTokenErrorsKeepSecretsOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		providertest.JSON(http.StatusBadRequest, `{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier '`+testClientID+`' was not found in the directory 'contoso'."}`).Write(w)
	}))
	defer srv.Close()
	_, err := newClient(t, srv, nil).Lookup(context.Background(), ioc.IOC{Type: ioc.Domain, Value: "example.com"})
	if !errors.Is(err, provider.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	if s := err.Error(); strings.Contains(s, testClientID) || !strings.Contains(s, "unauthorized_client") {
		t.Errorf("error text %q: want the error code, not the client id", s)
	}
}

func TestNew(t *testing.T) {
	secrets := func(kv ...string) map[string]provider.Secret {
		m := map[string]provider.Secret{}
		for n := 0; n < len(kv); n += 2 {
			m[kv[n]] = provider.NewSecret(kv[n+1])
		}
		return m
	}
	if _, err := New(provider.Config{HTTP: http.DefaultClient, Secrets: secrets("client_id", "a", "client_secret", "b")}); err == nil {
		t.Error("no tenant_id and no token_url: no error")
	}
	if _, err := New(provider.Config{HTTP: http.DefaultClient, Secrets: secrets("tenant_id", "t", "client_id", "a")}); err == nil {
		t.Error("no client_secret: no error")
	}
	p, err := New(provider.Config{HTTP: http.DefaultClient, Secrets: secrets("tenant_id", "contoso.onmicrosoft.com", "client_id", "a", "client_secret", "b")})
	if err != nil {
		t.Fatal(err)
	}
	c := p.(*Client)
	if c.tokenURL != "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token" || c.base.URL != DefaultBaseURL {
		t.Errorf("defaults: token URL %q base %q", c.tokenURL, c.base.URL)
	}
}

func TestConcurrentLookupsShareOneToken(t *testing.T) {
	ms := newFakeMS(t)
	srv := httptest.NewServer(ms)
	defer srv.Close()
	c := newClient(t, srv, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.Lookup(context.Background(), ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if tokens, graph := ms.counts(); tokens != 1 || graph != 16 {
		t.Errorf("token/graph requests = %d/%d, want 1/16", tokens, graph)
	}
}
