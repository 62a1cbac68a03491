package lists

import (
	"context"
	"fmt"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

// Polarity says what a hit on a list means: an allow-list hit is benign
// evidence, a block-list hit malicious evidence.
type Polarity int

// List polarities.
const (
	Allow Polarity = iota
	Block
)

func (p Polarity) noun() string {
	if p == Allow {
		return "allow-list"
	}
	return "block-list"
}

// ProviderSpec is the provider.Spec of a local list source called name: every
// IOC type, nothing leaves the machine, reliability A (your own lists).
// TTL and NotFoundTTL are 0: a local look-up costs less than a cache read,
// and the engine never caches Local sources.
func ProviderSpec(name string, p Polarity) provider.Spec {
	return provider.Spec{
		Name:  name,
		Types: ioc.Types,
		Local: true,
		Settings: []provider.Setting{
			{Name: "paths", Doc: "comma-separated list files, each optionally followed by ;label=...;tlp=...;weight=...;kind=...;format=..."},
			{Name: "format", Doc: "text, csv or json for every file (default: by extension)"},
			{Name: "kind", Default: "auto", Doc: "how plain and CSV entries match"},
			{Name: "tlp", Default: "amber", Doc: "the lists' marking"},
			{Name: "weight", Default: "1", Doc: "the signal a hit gives, in (0,1]"},
			{Name: "label", Doc: "the label of every list (default: the file name or warninglist name)"},
		},
		MaxTLP:      tlp.Red,
		Discloses:   false,
		Reliability: provider.ReliabilityA,
		New:         func(cfg provider.Config) (provider.Provider, error) { return NewListProvider(name, p, cfg) },
	}
}

// ListProvider is a local list provider: the allowlist and blocklist providers.
type ListProvider struct {
	name     string
	polarity Polarity
	m        *Matcher
}

var _ provider.Provider = (*ListProvider)(nil)

// NewListProvider loads the files named by the "paths" setting (see FromConfig).
// Without paths it returns provider.ErrNotConfigured, which the engine
// reports as skipped. Unlike network providers it reads files: for a local
// source that is its setup, and a missing or malformed file should stop
// start-up with a message naming it, not turn every look-up into an error.
func NewListProvider(name string, p Polarity, cfg provider.Config) (provider.Provider, error) {
	m, err := FromConfig(cfg)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("%s: no list files (set paths): %w", name, provider.ErrNotConfigured)
	}
	return &ListProvider{name: name, polarity: p, m: m}, nil
}

// Lookup reports whether i is on a list: ok with the Benign (allow) or
// Malicious (block) signal at the list's weight (1.0 by default) on a hit,
// not_found otherwise.
func (s *ListProvider) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	if !i.Type.Valid() {
		return provider.Finding{}, provider.ErrUnsupported
	}
	if err := ctx.Err(); err != nil {
		return provider.Finding{}, err
	}
	hits := s.m.Match(i)
	if len(hits) == 0 {
		return provider.Finding{Provider: s.name, Status: provider.StatusNotFound}, nil
	}
	f := provider.Finding{
		Provider: s.name,
		Status:   provider.StatusOK,
		Summary:  "on " + s.polarity.noun() + " " + Describe(hits),
		Data:     Data(hits),
		Tags:     Labels(hits),
	}
	if s.polarity == Allow {
		f.Benign = Strongest(hits)
	} else {
		f.Malicious = Strongest(hits)
	}
	return f, nil
}
