// Package allowlist is the local allow-list source: your own lists of IOCs
// known to be good (corporate ranges, partner domains, MISP warninglists of
// well-known services). A hit is strong benign evidence; nothing leaves the
// machine. The matching lives in package lists (lists.ListProvider).
package allowlist

import (
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/lists"
)

// Name is the provider's contract name.
const Name = "allowlist"

func init() { provider.Register(lists.ProviderSpec(Name, lists.Allow)) }

// New loads the files named by the "paths" setting (see lists.FromConfig);
// without paths it returns provider.ErrNotConfigured.
func New(cfg provider.Config) (provider.Provider, error) {
	return lists.NewListProvider(Name, lists.Allow, cfg)
}
