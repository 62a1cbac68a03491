// Package geoip is the local GeoIP source: country and autonomous system of
// an IP address from MaxMind-format databases (.mmdb: GeoLite2/GeoIP2
// Country, City and ASN, or DB-IP's Lite databases in the same layout) read
// with oschwald/maxminddb-golang/v2. It is context, not evidence: both
// signals are always 0. Nothing leaves the machine, and no DNS is done, so
// only IP addresses are looked up.
//
// Unlike network providers, New opens the databases (memory-mapped, so it
// is cheap): for a local source that is its setup, and a missing or corrupt
// file should stop start-up with a message naming it.
package geoip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the provider's contract name.
const Name = "geoip"

func init() {
	provider.Register(provider.Spec{
		Name:  Name,
		Types: []ioc.Type{ioc.IPv4, ioc.IPv6},
		Local: true,
		Settings: []provider.Setting{
			{Name: "path", Doc: "a GeoLite2/GeoIP2 .mmdb file (country or city, or ASN)"},
			{Name: "country_db", Doc: "the country database (.mmdb)"},
			{Name: "city_db", Doc: "the city database (.mmdb), used instead of country_db"},
			{Name: "asn_db", Doc: "the ASN database (.mmdb)"},
		},
		MaxTLP:      tlp.Red,
		Discloses:   false,
		Reliability: provider.ReliabilityB, // geolocation is approximate
		// TTL and NotFoundTTL are 0: a local look-up costs less than a
		// cache read, and the engine never caches Local sources.
		New: New,
	})
}

// Client looks addresses up in one or two open databases.
type Client struct {
	dbs []*maxminddb.Reader // country/city first, then ASN; one when "path" holds both
}

var (
	_ provider.Provider          = (*Client)(nil)
	_ interface{ Close() error } = (*Client)(nil)
)

// New opens the databases named by the settings:
//
//   - city_db or country_db: a City or Country database (city_db wins when
//     both are set);
//   - asn_db: an ASN database;
//   - path: one database holding both, or either (used when none of the
//     above is set).
//
// None set: provider.ErrNotConfigured (the engine reports skipped).
func New(cfg provider.Config) (provider.Provider, error) {
	var paths []string
	if p := cfg.Setting("city_db", cfg.Setting("country_db", "")); p != "" {
		paths = append(paths, p)
	}
	if p := cfg.Setting("asn_db", ""); p != "" {
		paths = append(paths, p)
	}
	if len(paths) == 0 {
		if p := cfg.Setting("path", ""); p != "" {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("geoip: no database (set city_db, country_db, asn_db or path): %w", provider.ErrNotConfigured)
	}
	c := &Client{}
	for _, p := range paths {
		db, err := maxminddb.Open(p)
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("geoip: open %s: %w", p, err)
		}
		c.dbs = append(c.dbs, db)
	}
	return c, nil
}

// Close releases the databases.
func (c *Client) Close() error {
	var errs []error
	for _, db := range c.dbs {
		errs = append(errs, db.Close())
	}
	return errors.Join(errs...)
}

// record is the part of the GeoIP2 Country/City and GeoLite2 ASN layouts
// iocane reads; one struct serves every database, absent fields stay zero.
type record struct {
	Country           place `maxminddb:"country"`
	RegisteredCountry place `maxminddb:"registered_country"`
	City              struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	ASN   uint32 `maxminddb:"autonomous_system_number"`
	ASOrg string `maxminddb:"autonomous_system_organization"`
}

type place struct {
	ISOCode string            `maxminddb:"iso_code"`
	Names   map[string]string `maxminddb:"names"`
}

// Lookup returns the country and AS of an IP address: ok with Data country,
// country_name, asn, as_org (and city, network when known), both signals 0;
// not_found when no database knows the address.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	if !i.Type.IsIP() {
		return provider.Finding{}, provider.ErrUnsupported
	}
	if err := ctx.Err(); err != nil {
		return provider.Finding{}, err
	}
	addr, err := netip.ParseAddr(i.Value)
	if err != nil {
		return provider.Finding{}, fmt.Errorf("geoip: %q is not an IP address", i.Value)
	}
	addr = addr.Unmap().WithZone("")
	var rec record
	var network netip.Prefix
	found := false
	for _, db := range c.dbs {
		if addr.Is6() && db.Metadata.IPVersion == 4 {
			continue // an IPv4-only database knows no IPv6 address
		}
		res := db.Lookup(addr)
		if err := res.Err(); err != nil {
			return provider.Finding{}, fmt.Errorf("geoip: look up %s: %w", addr, err)
		}
		if !res.Found() {
			continue
		}
		if err := res.Decode(&rec); err != nil {
			return provider.Finding{}, fmt.Errorf("geoip: decode %s: %w", addr, err)
		}
		found = true
		if p := res.Prefix(); p.IsValid() && (!network.IsValid() || p.Bits() > network.Bits()) {
			network = p
		}
	}
	country := rec.Country
	if country.ISOCode == "" {
		country = rec.RegisteredCountry
	}
	if !found || (country.ISOCode == "" && rec.ASN == 0 && rec.ASOrg == "") {
		return provider.Finding{Provider: Name, Status: provider.StatusNotFound}, nil
	}
	data := map[string]any{}
	summary := ""
	if country.ISOCode != "" {
		data["country"] = country.ISOCode
		summary = country.ISOCode
		if n := country.Names["en"]; n != "" {
			data["country_name"] = n
		}
	}
	if n := rec.City.Names["en"]; n != "" {
		data["city"] = n
	}
	if rec.ASN != 0 || rec.ASOrg != "" {
		as := ""
		if rec.ASN != 0 {
			data["asn"] = int(rec.ASN)
			as = "AS" + strconv.FormatUint(uint64(rec.ASN), 10)
		}
		if rec.ASOrg != "" {
			data["as_org"] = rec.ASOrg
			if as != "" {
				as += " (" + rec.ASOrg + ")"
			} else {
				as = rec.ASOrg
			}
		}
		if summary != "" {
			summary += ", "
		}
		summary += as
	}
	if network.IsValid() {
		data["network"] = network.String()
	}
	return provider.Finding{Provider: Name, Status: provider.StatusOK, Summary: summary, Data: data}, nil
}
