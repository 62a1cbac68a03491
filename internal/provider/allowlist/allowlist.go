// Package allowlist is the local allow-list source: your own lists of IOCs
// known to be good (corporate ranges, partner domains, MISP warninglists of
// well-known services). A hit is strong benign evidence; nothing leaves the
// machine.
//
// Unlike network providers, New reads the list files (package lists): for a
// local source that is its setup, and a missing or malformed file should stop
// start-up with a message naming it, not turn every look-up into an error.
package allowlist

import (
	"context"
	"fmt"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/lists"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the provider's contract name.
const Name = "allowlist"

func init() {
	provider.Register(provider.Spec{
		Name:        Name,
		Types:       ioc.Types,
		Local:       true,
		MaxTLP:      tlp.Red,
		Discloses:   false,
		Reliability: provider.ReliabilityA,
		// TTL and NotFoundTTL are 0: a local look-up costs less than a
		// cache read, and the engine never caches Local sources.
		New: New,
	})
}

// Client matches IOCs against the loaded allow-lists.
type Client struct {
	m *lists.Matcher
}

var _ provider.Provider = (*Client)(nil)

// New loads the files named by the "paths" setting (see lists.FromConfig).
// Without paths it returns provider.ErrNotConfigured, which the engine
// reports as skipped.
func New(cfg provider.Config) (provider.Provider, error) {
	m, err := lists.FromConfig(cfg)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("%s: no list files (set paths): %w", Name, provider.ErrNotConfigured)
	}
	return &Client{m: m}, nil
}

// Lookup reports whether i is on an allow-list: ok with Benign at the list's
// weight (1.0 by default) on a hit, not_found otherwise.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	if !i.Type.Valid() {
		return provider.Finding{}, provider.ErrUnsupported
	}
	if err := ctx.Err(); err != nil {
		return provider.Finding{}, err
	}
	hits := c.m.Match(i)
	if len(hits) == 0 {
		return provider.Finding{Provider: Name, Status: provider.StatusNotFound}, nil
	}
	return provider.Finding{
		Provider: Name,
		Status:   provider.StatusOK,
		Benign:   lists.Strongest(hits),
		Summary:  "on allow-list " + lists.Describe(hits),
		Data:     lists.Data(hits),
		Tags:     lists.Labels(hits),
	}, nil
}
