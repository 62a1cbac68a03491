package allowlist

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

func newClient(t *testing.T, settings map[string]string) provider.Provider {
	t.Helper()
	p, err := New(provider.Config{Settings: settings, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

var testPaths = filepath.Join("testdata", "corp.txt") + ";tlp=green, " + filepath.Join("testdata", "known-good.json")

// TestConformance is the local equivalent of providertest's suite: the Spec
// a local source must declare, found, not found, unsupported types, a
// canceled context, and configuration errors.
func TestConformance(t *testing.T) {
	spec, ok := provider.Get(Name)
	if !ok {
		t.Fatal("allowlist is not registered")
	}
	if !spec.Local || spec.Discloses || spec.MaxTLP != tlp.Red || spec.Reliability != provider.ReliabilityA ||
		len(spec.Credentials) != 0 || !slices.Equal(spec.Types, ioc.Types) {
		t.Errorf("spec = %+v", spec)
	}
	p := newClient(t, map[string]string{"paths": testPaths})
	ctx := context.Background()

	t.Run("found", func(t *testing.T) {
		f, err := p.Lookup(ctx, ioc.IOC{Type: ioc.Domain, Value: "vpn.corp.example"})
		if err != nil {
			t.Fatal(err)
		}
		if f.Provider != Name || f.Status != provider.StatusOK || f.Benign != 1 || f.Malicious != 0 ||
			f.Summary != "on allow-list corp (corp.example)" {
			t.Errorf("finding = %+v", f)
		}
		if f.Data["tlp"] != "green" || !slices.Equal(f.Data["lists"].([]string), []string{"corp"}) ||
			!slices.Equal(f.Data["kinds"].([]string), []string{"hostname"}) || !slices.Equal(f.Tags, []string{"corp"}) {
			t.Errorf("data = %v, tags = %v", f.Data, f.Tags)
		}
	})
	t.Run("not found", func(t *testing.T) {
		f, err := p.Lookup(ctx, ioc.IOC{Type: ioc.Domain, Value: "corp.example.net"})
		if err != nil || f.Status != provider.StatusNotFound || f.Benign != 0 || f.Malicious != 0 || f.Provider != Name {
			t.Errorf("Lookup = %+v, %v", f, err)
		}
	})
	t.Run("unsupported type", func(t *testing.T) {
		_, err := p.Lookup(ctx, ioc.IOC{Type: "filename", Value: "corp.example"})
		if !errors.Is(err, provider.ErrUnsupported) {
			t.Errorf("err = %v, want ErrUnsupported", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := p.Lookup(cctx, ioc.IOC{Type: ioc.Domain, Value: "vpn.corp.example"})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("not configured", func(t *testing.T) {
		_, err := New(provider.Config{Logger: slog.New(slog.DiscardHandler)})
		if !errors.Is(err, provider.ErrNotConfigured) {
			t.Errorf("New without paths: %v, want ErrNotConfigured", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "gone.txt")
		_, err := New(provider.Config{Settings: map[string]string{"paths": missing}, Logger: slog.New(slog.DiscardHandler)})
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("New with a missing file: %v, want an error naming it", err)
		}
	})
	t.Run("bad settings", func(t *testing.T) {
		for _, s := range []map[string]string{
			{"paths": testPaths, "tlp": "purple"},
			{"paths": testPaths, "weight": "2"},
			{"paths": testPaths, "format": "xml"},
			{"paths": testPaths, "kind": "glob"},
		} {
			if _, err := New(provider.Config{Settings: s, Logger: slog.New(slog.DiscardHandler)}); err == nil {
				t.Errorf("New(%v) succeeded", s)
			}
		}
	})
}

func TestLookupTypes(t *testing.T) {
	p := newClient(t, map[string]string{"paths": testPaths, "weight": "0.9"})
	tests := []struct {
		i       ioc.IOC
		status  provider.Status
		summary string
	}{
		{ioc.IOC{Type: ioc.IPv4, Value: "10.20.3.4"}, provider.StatusOK, "on allow-list corp (10.20.0.0/16)"},
		{ioc.IOC{Type: ioc.IPv4, Value: "10.21.0.1"}, provider.StatusNotFound, ""},
		{ioc.IOC{Type: ioc.IPv6, Value: "2001:db8:100::7"}, provider.StatusOK, "on allow-list corp (2001:db8:100::/48)"},
		{ioc.IOC{Type: ioc.IPv4, Value: "192.0.2.53"}, provider.StatusOK, "on allow-list List of known Example resolvers (192.0.2.53/32)"},
		{ioc.IOC{Type: ioc.IPv6, Value: "2001:db8:53::53"}, provider.StatusOK, "on allow-list List of known Example resolvers (2001:db8:53::53/128)"},
		{ioc.IOC{Type: ioc.Domain, Value: "update.vendor.example"}, provider.StatusOK, "on allow-list corp (update.vendor.example)"},
		{ioc.IOC{Type: ioc.Domain, Value: "evil.update.vendor.example"}, provider.StatusNotFound, ""},
		{ioc.IOC{Type: ioc.URL, Value: "https://wiki.corp.example/page"}, provider.StatusOK, "on allow-list corp (corp.example, by host)"},
		// The warninglist is for IP attributes only: a URL on the resolver is not covered by it.
		{ioc.IOC{Type: ioc.URL, Value: "http://192.0.2.53/"}, provider.StatusNotFound, ""},
		{ioc.IOC{Type: ioc.Email, Value: "bob@corp.example"}, provider.StatusOK, "on allow-list corp (corp.example, by host)"},
		{ioc.IOC{Type: ioc.SHA256, Value: strings.Repeat("a", 64)}, provider.StatusNotFound, ""},
		{ioc.IOC{Type: ioc.CVE, Value: "CVE-2024-3094"}, provider.StatusNotFound, ""},
	}
	for _, tc := range tests {
		f, err := p.Lookup(context.Background(), tc.i)
		if err != nil {
			t.Fatalf("Lookup(%v): %v", tc.i, err)
		}
		if f.Status != tc.status || f.Summary != tc.summary {
			t.Errorf("Lookup(%v) = %s %q, want %s %q", tc.i, f.Status, f.Summary, tc.status, tc.summary)
		}
		if tc.status == provider.StatusOK && (f.Benign != 0.9 || f.Malicious != 0) {
			t.Errorf("Lookup(%v): signals %v/%v, want benign 0.9", tc.i, f.Malicious, f.Benign)
		}
	}
}
