package blocklist

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

var testPaths = filepath.Join("testdata", "feed.csv") + ";label=tip;tlp=red, " + filepath.Join("testdata", "drop.txt") + ";label=drop;weight=0.8"

func newClient(t *testing.T) provider.Provider {
	t.Helper()
	p, err := New(provider.Config{Settings: map[string]string{"paths": testPaths}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// TestConformance is the local equivalent of providertest's suite: the Spec
// a local source must declare, found, not found, unsupported types, a
// canceled context, and configuration errors.
func TestConformance(t *testing.T) {
	spec, ok := provider.Get(Name)
	if !ok {
		t.Fatal("blocklist is not registered")
	}
	if !spec.Local || spec.Discloses || spec.MaxTLP != tlp.Red || spec.Reliability != provider.ReliabilityA ||
		len(spec.Credentials) != 0 || !slices.Equal(spec.Types, ioc.Types) {
		t.Errorf("spec = %+v", spec)
	}
	p := newClient(t)
	ctx := context.Background()

	t.Run("found", func(t *testing.T) {
		f, err := p.Lookup(ctx, ioc.IOC{Type: ioc.IPv4, Value: "203.0.113.66"})
		if err != nil {
			t.Fatal(err)
		}
		if f.Provider != Name || f.Status != provider.StatusOK || f.Malicious != 1 || f.Benign != 0 ||
			f.Summary != "on block-list tip (203.0.113.66)" {
			t.Errorf("finding = %+v", f)
		}
		if f.Data["tlp"] != "red" || !slices.Equal(f.Data["comments"].([]string), []string{"botnet C2"}) ||
			!slices.Equal(f.Data["entries"].([]string), []string{"203.0.113.66"}) {
			t.Errorf("data = %v", f.Data)
		}
	})
	t.Run("not found", func(t *testing.T) {
		f, err := p.Lookup(ctx, ioc.IOC{Type: ioc.IPv4, Value: "203.0.113.67"})
		if err != nil || f.Status != provider.StatusNotFound || f.Benign != 0 || f.Malicious != 0 || f.Provider != Name {
			t.Errorf("Lookup = %+v, %v", f, err)
		}
	})
	t.Run("unsupported type", func(t *testing.T) {
		_, err := p.Lookup(ctx, ioc.IOC{Type: "", Value: "203.0.113.66"})
		if !errors.Is(err, provider.ErrUnsupported) {
			t.Errorf("err = %v, want ErrUnsupported", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := p.Lookup(cctx, ioc.IOC{Type: ioc.IPv4, Value: "203.0.113.66"})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("not configured", func(t *testing.T) {
		_, err := New(provider.Config{Settings: map[string]string{"paths": " , "}, Logger: slog.New(slog.DiscardHandler)})
		if !errors.Is(err, provider.ErrNotConfigured) {
			t.Errorf("New with empty paths: %v", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "feed.json")
		_, err := New(provider.Config{Settings: map[string]string{"paths": missing}, Logger: slog.New(slog.DiscardHandler)})
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("New with a missing file: %v, want an error naming it", err)
		}
	})
}

func TestLookupTypes(t *testing.T) {
	p := newClient(t)
	tests := []struct {
		i         ioc.IOC
		status    provider.Status
		malicious float64
		summary   string
	}{
		{ioc.IOC{Type: ioc.IPv4, Value: "198.51.100.9"}, provider.StatusOK, 0.8, "on block-list drop (198.51.100.0/24)"},
		{ioc.IOC{Type: ioc.IPv6, Value: "2001:db8:bad:1::1"}, provider.StatusOK, 0.8, "on block-list drop (2001:db8:bad::/48)"},
		{ioc.IOC{Type: ioc.IPv6, Value: "2001:db8:bae::1"}, provider.StatusNotFound, 0, ""},
		{ioc.IOC{Type: ioc.Domain, Value: "bad.example"}, provider.StatusOK, 1, "on block-list tip (bad.example)"},
		{ioc.IOC{Type: ioc.Domain, Value: "sub.bad.example"}, provider.StatusNotFound, 0, ""},
		{ioc.IOC{Type: ioc.URL, Value: "https://bad.example/login"}, provider.StatusOK, 1, "on block-list tip (https://bad.example/login) and 1 more"},
		{ioc.IOC{Type: ioc.URL, Value: "https://bad.example/other"}, provider.StatusOK, 1, "on block-list tip (bad.example, by host)"},
		{ioc.IOC{Type: ioc.URL, Value: "http://198.51.100.1:8080/a"}, provider.StatusOK, 0.8, "on block-list drop (198.51.100.0/24, by host)"},
		{ioc.IOC{Type: ioc.SHA256, Value: "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F"}, provider.StatusOK, 1,
			"on block-list tip (275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f)"},
		{ioc.IOC{Type: ioc.MD5, Value: "44d88612fea8a8f36de82e1f5b0d7e7e"}, provider.StatusNotFound, 0, ""},
	}
	for _, tc := range tests {
		f, err := p.Lookup(context.Background(), tc.i)
		if err != nil {
			t.Fatalf("Lookup(%v): %v", tc.i, err)
		}
		if f.Status != tc.status || f.Summary != tc.summary || f.Malicious != tc.malicious || f.Benign != 0 {
			t.Errorf("Lookup(%v) = %s %q mal %v, want %s %q mal %v", tc.i, f.Status, f.Summary, f.Malicious, tc.status, tc.summary, tc.malicious)
		}
	}
}
