package providertest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

// This file holds what a provider's own unit tests share, beside the
// conformance suite: building the provider in front of a test server, one
// look-up folded as the engine folds errors, the checks on its outcome, and
// fixture helpers. The client is the test server's plain one, not the httpx
// chain the suite uses: a unit test asserts the provider's own status
// mapping, which the chain's retries and limits would otherwise stand in
// front of.

// Options are the per-test parts of the Config Build passes to a provider.
type Options struct {
	// Key is the api_key credential; none when empty.
	Key string
	// Secrets are other credentials, by setting name (PassiveTotal's
	// client_id).
	Secrets map[string]string
	// Settings are the provider's settings.
	Settings map[string]string
	// KeepRaw asks for Finding.Raw.
	KeepRaw bool
}

// Build builds a provider with newP against base, sending every request
// through client, with a logger that discards. It fails the test when newP
// returns an error.
func Build(t testing.TB, newP func(provider.Config) (provider.Provider, error), base string, client *http.Client, o Options) provider.Provider {
	t.Helper()
	cfg := provider.Config{
		BaseURL:  base,
		Secrets:  map[string]provider.Secret{},
		Settings: o.Settings,
		HTTP:     client,
		Logger:   slog.New(slog.DiscardHandler),
		KeepRaw:  o.KeepRaw,
	}
	if o.Key != "" {
		cfg.Secrets["api_key"] = provider.NewSecret(o.Key)
	}
	for k, v := range o.Secrets {
		cfg.Secrets[k] = provider.NewSecret(v)
	}
	p, err := newP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Serve starts a Fake serving h (closed when the test ends) and Builds the
// provider against the fake's URL plus path ("/api/v3/"), with the fake's
// client.
func Serve(t testing.TB, newP func(provider.Config) (provider.Provider, error), h http.Handler, path string, o Options) (provider.Provider, *Fake) {
	t.Helper()
	fake := NewFake(t, h)
	return Build(t, newP, fake.URL+path, fake.Client(), o), fake
}

// Lookup looks i up at p and, on an error, returns the error Finding the
// engine would record for provider name beside the error.
func Lookup(p provider.Provider, name string, i ioc.IOC) (provider.Finding, error) {
	f, err := p.Lookup(context.Background(), i)
	if err != nil {
		f = provider.ErrorFinding(name, err)
	}
	return f, err
}

// CheckOutcome asserts what a look-up (see Lookup) made of an answer: the
// status (the test stops when it is wrong), errors.Is(err, is) when is is
// set, an error mentioning text when text is set, and no signal on a
// not_found Finding.
func CheckOutcome(t testing.TB, f provider.Finding, err error, status provider.Status, is error, text string) {
	t.Helper()
	if f.Status != status {
		t.Fatalf("status = %q (err %v), want %q", f.Status, err, status)
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("err = %v, want %v", err, is)
	}
	if text != "" && (err == nil || !strings.Contains(err.Error(), text)) {
		t.Errorf("err = %v, want it to mention %q", err, text)
	}
	if f.Status == provider.StatusNotFound && (f.Malicious != 0 || f.Benign != 0) {
		t.Errorf("not_found carries signals %v/%v", f.Malicious, f.Benign)
	}
}

// ServeHTTP answers every request with the fixture, so that a canned answer
// is a handler.
func (f Fixture) ServeHTTP(w http.ResponseWriter, _ *http.Request) { f.Write(w) }

// FileCode reads testdata/<name> into a Fixture answering with code, as
// Suite's Unauthorized, TooMany and ServerError take it.
func FileCode(t testing.TB, name string, code int) *Fixture {
	t.Helper()
	f := File(t, name)
	f.Code = code
	return &f
}

// AddFixtures adds every testdata/*.json file as a seed of fuzz test f.
func AddFixtures(f *testing.F) {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// KeysExcept returns the IOCs m holds other than skip, in no set order: the
// Extra of a Suite whose handler serves a map of fixtures and whose Found is
// skip.
func KeysExcept[V any](m map[ioc.IOC]V, skip ioc.IOC) []ioc.IOC {
	var out []ioc.IOC
	for i := range m {
		if i != skip {
			out = append(out, i)
		}
	}
	return out
}
