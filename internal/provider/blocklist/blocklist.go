// Package blocklist is the local block-list source: your own lists of known
// bad IOCs, from files you keep. Feeds iocane fetches itself are the feeds
// source (internal/provider/feeds). A hit is strong malicious evidence;
// nothing leaves the machine. The matching lives in package lists
// (lists.ListProvider).
package blocklist

import (
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/lists"
)

// Name is the provider's contract name.
const Name = "blocklist"

func init() { provider.Register(lists.ProviderSpec(Name, lists.Block)) }

// New loads the files named by the "paths" setting (see lists.FromConfig);
// without paths it returns provider.ErrNotConfigured.
func New(cfg provider.Config) (provider.Provider, error) {
	return lists.NewListProvider(Name, lists.Block, cfg)
}
