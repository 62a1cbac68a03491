package enrich

import (
	"fmt"
	"slices"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/settings"
	"github.com/knadh/koanf/v2"
)

// DefaultRouting is the provider order per IOC type, from the seed workflow:
// IP to AbuseIPDB, Shodan, VirusTotal and MISP; domain to VirusTotal,
// PassiveTotal (Defender TI), Shodan and MISP; URL to urlscan, VirusTotal
// and Safe Browsing; hash to VirusTotal, MalwareBazaar and MISP. Every other
// provider that supports the type follows, in name order. A type listed in
// the config's routing section uses exactly the configured list.
var DefaultRouting = map[ioc.Type][]string{
	ioc.IPv4:   {"abuseipdb", "shodan", "virustotal", "misp"},
	ioc.IPv6:   {"abuseipdb", "shodan", "virustotal", "misp"},
	ioc.Domain: {"virustotal", "passivetotal", "shodan", "misp"},
	ioc.URL:    {"urlscan", "virustotal", "safebrowsing"},
	ioc.MD5:    {"virustotal", "malwarebazaar", "misp"},
	ioc.SHA1:   {"virustotal", "malwarebazaar", "misp"},
	ioc.SHA256: {"virustotal", "malwarebazaar", "misp"},
	ioc.SHA512: {"virustotal", "malwarebazaar", "misp"},
}

// route returns the external providers to consult for type t, in order,
// built or not (unbuilt ones are reported as skipped).
func (e *Engine) route(t ioc.Type) []string {
	var names []string
	add := func(n string) {
		if slices.Contains(names, n) {
			return
		}
		if len(e.opts.Only) > 0 && !slices.Contains(e.opts.Only, n) {
			return
		}
		spec, ok := provider.Get(n)
		if s, built := e.sources[n]; built {
			spec, ok = s.Spec, true
		}
		if !ok || spec.Local || !spec.Supports(t) {
			return
		}
		names = append(names, n)
	}
	if custom, ok := e.opts.Routing[t]; ok {
		for _, n := range custom {
			add(n)
		}
		return names
	}
	for _, n := range DefaultRouting[t] {
		add(n)
	}
	for _, s := range provider.All() {
		add(s.Name)
	}
	for n := range e.sources {
		add(n)
	}
	return names
}

// RoutingSection is the config section the routing is read from.
const RoutingSection = "routing"

// LoadRouting reads the routing section of k: a map from IOC type to the
// ordered provider list to use for it, e.g. {ipv4: [abuseipdb, misp]}.
func LoadRouting(k *koanf.Koanf) (map[ioc.Type][]string, error) {
	out := map[ioc.Type][]string{}
	var types []string
	for _, t := range ioc.Types {
		types = append(types, string(t))
	}
	for _, t := range k.MapKeys(RoutingSection) {
		if !ioc.Type(t).Valid() {
			e := &settings.UnknownKeyError{Key: RoutingSection + "." + t}
			if s := settings.Nearest(t, types); s != "" {
				e.Suggestion = RoutingSection + "." + s
			}
			return nil, settings.Wrap("config: ", e)
		}
		names := k.Strings(RoutingSection + "." + t)
		for _, n := range names {
			if _, ok := provider.Get(n); !ok {
				return nil, fmt.Errorf("config: %s.%s: unknown provider %q", RoutingSection, t, n)
			}
		}
		out[ioc.Type(t)] = names
	}
	return out, nil
}
