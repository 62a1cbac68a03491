package geoip

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

// writeDB builds a small MaxMind database in dir with mmdbwriter: the
// documentation ranges are reserved networks, so they must be allowed in.
func writeDB(t *testing.T, dir, name string, ipVersion int, records map[string]mmdbtype.Map) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: "iocane-test-" + name, RecordSize: 24, IPVersion: ipVersion, IncludeReservedNetworks: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, name+".mmdb")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func country(iso, name string) mmdbtype.Map {
	return mmdbtype.Map{"iso_code": mmdbtype.String(iso), "names": mmdbtype.Map{"en": mmdbtype.String(name), "de": mmdbtype.String(name + "-de")}}
}

func asn(n uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n), "autonomous_system_organization": mmdbtype.String(org)}
}

// testDBs writes a City database and an ASN database in the GeoIP2/GeoLite2
// layouts, and returns their paths.
func testDBs(t *testing.T) (city, asnDB string) {
	dir := t.TempDir()
	city = writeDB(t, dir, "city", 6, map[string]mmdbtype.Map{
		"192.0.2.0/24": {"country": country("DE", "Germany"), "registered_country": country("DE", "Germany"),
			"city": mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("Berlin")}}},
		"198.51.100.0/24": {"registered_country": country("NL", "Netherlands")}, // no "country": registered one used
		"2001:db8::/32":   {"country": country("FR", "France")},
	})
	asnDB = writeDB(t, dir, "asn", 6, map[string]mmdbtype.Map{
		"192.0.2.0/25":   asn(208294, "Example GmbH"),
		"203.0.113.0/24": asn(64500, "Documentation AS"),
		"2001:db8::/48":  asn(64501, "Example v6 Net"),
	})
	return city, asnDB
}

func newClient(t *testing.T, settings map[string]string) provider.Provider {
	t.Helper()
	p, err := New(provider.Config{Settings: settings, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New(%v): %v", settings, err)
	}
	t.Cleanup(func() { _ = p.(*Client).Close() })
	return p
}

// TestConformance is the local equivalent of providertest's suite: the Spec
// a local source must declare, found, not found, unsupported types (never
// looked up), a canceled context and configuration errors.
func TestConformance(t *testing.T) {
	spec, ok := provider.Get(Name)
	if !ok {
		t.Fatal("geoip is not registered")
	}
	if !spec.Local || spec.Discloses || spec.MaxTLP != tlp.Red || len(spec.Credentials) != 0 ||
		len(spec.Types) != 2 || !spec.Supports(ioc.IPv4) || !spec.Supports(ioc.IPv6) {
		t.Errorf("spec = %+v", spec)
	}
	city, asnDB := testDBs(t)
	p := newClient(t, map[string]string{"city_db": city, "asn_db": asnDB})
	ctx := context.Background()

	t.Run("found", func(t *testing.T) {
		f, err := p.Lookup(ctx, ioc.IOC{Type: ioc.IPv4, Value: "192.0.2.10"})
		if err != nil {
			t.Fatal(err)
		}
		if f.Provider != Name || f.Status != provider.StatusOK || f.Malicious != 0 || f.Benign != 0 ||
			f.Summary != "DE, AS208294 (Example GmbH)" {
			t.Errorf("finding = %+v", f)
		}
		want := map[string]any{"country": "DE", "country_name": "Germany", "city": "Berlin", "asn": 208294,
			"as_org": "Example GmbH", "network": "192.0.2.0/25"}
		for k, v := range want {
			if f.Data[k] != v {
				t.Errorf("Data[%q] = %#v, want %#v", k, f.Data[k], v)
			}
		}
	})
	t.Run("not found", func(t *testing.T) {
		f, err := p.Lookup(ctx, ioc.IOC{Type: ioc.IPv4, Value: "10.1.2.3"})
		if err != nil || f.Status != provider.StatusNotFound || f.Provider != Name || f.Data != nil {
			t.Errorf("Lookup = %+v, %v", f, err)
		}
	})
	t.Run("unsupported types", func(t *testing.T) {
		for _, typ := range ioc.Types {
			if typ.IsIP() {
				continue
			}
			if _, err := p.Lookup(ctx, ioc.IOC{Type: typ, Value: "192.0.2.10"}); !errors.Is(err, provider.ErrUnsupported) {
				t.Errorf("%s: err = %v, want ErrUnsupported", typ, err)
			}
		}
	})
	t.Run("canceled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := p.Lookup(cctx, ioc.IOC{Type: ioc.IPv4, Value: "192.0.2.10"}); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("not configured", func(t *testing.T) {
		if _, err := New(provider.Config{}); !errors.Is(err, provider.ErrNotConfigured) {
			t.Errorf("err = %v, want ErrNotConfigured", err)
		}
	})
	t.Run("missing or bad file", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "GeoLite2-City.mmdb")
		if _, err := New(provider.Config{Settings: map[string]string{"city_db": missing}}); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("missing: err = %v, want one naming %s", err, missing)
		}
		junk := filepath.Join(t.TempDir(), "junk.mmdb")
		if err := os.WriteFile(junk, []byte("not a database"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := New(provider.Config{Settings: map[string]string{"city_db": city, "asn_db": junk}}); err == nil || !strings.Contains(err.Error(), junk) {
			t.Errorf("junk: err = %v, want one naming %s", err, junk)
		}
	})
	t.Run("odd values", func(t *testing.T) {
		for _, v := range []string{"", "not-an-ip", "192.0.2.300", "http://192.0.2.1/"} {
			if f, err := p.Lookup(ctx, ioc.IOC{Type: ioc.IPv4, Value: v}); err == nil {
				t.Errorf("Lookup(%q) = %+v, want an error", v, f)
			}
		}
	})
}

func TestLookups(t *testing.T) {
	city, asnDB := testDBs(t)
	both := newClient(t, map[string]string{"country_db": city, "asn_db": asnDB})
	tests := []struct {
		name, value string
		typ         ioc.Type
		status      provider.Status
		summary     string
		data        map[string]any
	}{
		{"country only: outside the ASN database's /25", "192.0.2.200", ioc.IPv4, provider.StatusOK, "DE", map[string]any{"country": "DE", "network": "192.0.2.0/24"}},
		{"registered country only", "198.51.100.1", ioc.IPv4, provider.StatusOK, "NL", map[string]any{"country": "NL", "country_name": "Netherlands"}},
		{"asn only", "203.0.113.9", ioc.IPv4, provider.StatusOK, "AS64500 (Documentation AS)", map[string]any{"asn": 64500, "as_org": "Documentation AS"}},
		{"ipv6", "2001:db8::1", ioc.IPv6, provider.StatusOK, "FR, AS64501 (Example v6 Net)", map[string]any{"country": "FR", "asn": 64501}},
		{"ipv6 country only", "2001:db8:1::1", ioc.IPv6, provider.StatusOK, "FR", map[string]any{"country": "FR"}},
		{"v4-mapped ipv6", "::ffff:192.0.2.10", ioc.IPv6, provider.StatusOK, "DE, AS208294 (Example GmbH)", nil},
		{"ipv6 unknown", "2001:db9::1", ioc.IPv6, provider.StatusNotFound, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := both.Lookup(context.Background(), ioc.IOC{Type: tc.typ, Value: tc.value})
			if err != nil {
				t.Fatal(err)
			}
			if f.Status != tc.status || f.Summary != tc.summary {
				t.Errorf("= %s %q, want %s %q", f.Status, f.Summary, tc.status, tc.summary)
			}
			for k, v := range tc.data {
				if f.Data[k] != v {
					t.Errorf("Data[%q] = %#v, want %#v", k, f.Data[k], v)
				}
			}
		})
	}
}

func TestSinglePathAndIPv4OnlyDB(t *testing.T) {
	dir := t.TempDir()
	combined := writeDB(t, dir, "combined", 4, map[string]mmdbtype.Map{
		"192.0.2.0/24": {"country": country("SE", "Sweden"), "autonomous_system_number": mmdbtype.Uint32(64496),
			"autonomous_system_organization": mmdbtype.String("Both In One AB")},
	})
	p := newClient(t, map[string]string{"path": combined})
	f, err := p.Lookup(context.Background(), ioc.IOC{Type: ioc.IPv4, Value: "192.0.2.1"})
	if err != nil || f.Summary != "SE, AS64496 (Both In One AB)" {
		t.Errorf("Lookup = %+v, %v", f, err)
	}
	// An IPv6 address in an IPv4-only database is simply unknown.
	f, err = p.Lookup(context.Background(), ioc.IOC{Type: ioc.IPv6, Value: "2001:db8::1"})
	if err != nil || f.Status != provider.StatusNotFound {
		t.Errorf("IPv6 in an IPv4 database: %+v, %v", f, err)
	}
}
