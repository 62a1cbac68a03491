// Package knowninfra is the known-infrastructure source: MISP warninglists
// of CDN and cloud ranges, public DNS resolvers, sinkholes, URL shorteners
// and file- and code-hosting domains (github.com/MISP/misp-warninglists),
// bundled into the binary.
//
// A hit is context, not an allow-list (Spec.Context): the Finding carries
// no signal, and its Data["discount"] tells scoring how much to lower the
// other third-party sources' malicious signals about the address or host
// itself, because reports about shared infrastructure are about whoever sits
// behind it. A URL or e-mail address is matched through its host for the
// analyst's information only: its discount is 0, since malware on a
// code-hosting site is still malware. Hashes are never looked up.
//
// The lists, their upstream commit and their licence (CC0 1.0) are in
// data/; go generate (the warninglists command) refreshes them. Nothing
// runs at build or test time.
package knowninfra

//go:generate go run ../../cmd/warninglists -dir data

import (
	"context"
	"embed"
	"fmt"
	"net/url"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/lists"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the provider's contract name.
const Name = "knowninfra"

//go:embed data/*.json
var bundle embed.FS

// types are the IOC types a warninglist here can say something about.
var types = []ioc.Type{ioc.IPv4, ioc.IPv6, ioc.Domain, ioc.URL}

func init() {
	provider.Register(provider.Spec{
		Name:        Name,
		Types:       types,
		Local:       true,
		Context:     true,
		MaxTLP:      tlp.Red,
		Reliability: provider.ReliabilityA,
		New:         New,
	})
}

// Client matches IOCs against the bundled lists. It is read-only once built.
type Client struct {
	m      *lists.Matcher
	byName map[string]List
}

var _ provider.Provider = (*Client)(nil)

// New loads the bundled lists. It reads only memory: the lists are embedded.
func New(cfg provider.Config) (provider.Provider, error) {
	srcs := make([]lists.Source, len(Lists))
	byName := make(map[string]List, len(Lists))
	for i, l := range Lists {
		srcs[i] = lists.Source{Path: "data/" + l.Name + ".json", Format: lists.FormatWarninglist, Label: l.Name,
			TLP: tlp.Clear, Weight: 1, FS: bundle}
		byName[l.Name] = l
	}
	m, err := lists.Load(srcs, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("knowninfra: bundled lists: %w", err)
	}
	return &Client{m: m, byName: byName}, nil
}

// Lookup reports whether i is known infrastructure: ok with Data lists,
// entries, discount (0 when only a URL's host matched) and the summary
// "known infrastructure: <what>, MISP warninglist"; not_found otherwise.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	if i.Type != ioc.IPv4 && i.Type != ioc.IPv6 && i.Type != ioc.Domain && i.Type != ioc.URL {
		return provider.Finding{}, provider.ErrUnsupported
	}
	if err := ctx.Err(); err != nil {
		return provider.Finding{}, err
	}
	var hits []lists.Hit
	var best List
	for _, h := range c.m.Match(i) {
		l := c.byName[h.List]
		if l.Exact && h.Kind == lists.KindHostname && !sameHost(host(i), h.Entry) {
			continue // a tenant's subdomain, not the platform
		}
		hits = append(hits, h)
		if l.Discount > best.Discount {
			best = l
		}
	}
	if len(hits) == 0 {
		return provider.Finding{Provider: Name, Status: provider.StatusNotFound}, nil
	}
	d := lists.Data(hits)
	discount := best.Discount
	summary := "known infrastructure: " + best.What + ", MISP warninglist"
	if d["via_host"] == true {
		discount = 0
		summary = "host is known infrastructure: " + best.What + ", MISP warninglist (context only: the " + string(i.Type) + " is judged on its own)"
	}
	d[provider.DataDiscount] = discount
	return provider.Finding{Provider: Name, Status: provider.StatusOK, Summary: summary, Data: d,
		Tags: append([]string{"known-infrastructure"}, lists.Labels(hits)...)}, nil
}

// host is the host an IOC names: the domain itself or a URL's host.
func host(i ioc.IOC) string {
	if i.Type != ioc.URL {
		return i.Value
	}
	u, err := url.Parse(i.Value)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// sameHost reports whether h is entry itself or its www. name.
func sameHost(h, entry string) bool {
	entry = strings.TrimPrefix(entry, ".")
	return h == entry || h == "www."+entry
}
