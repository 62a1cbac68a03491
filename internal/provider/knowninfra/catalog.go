package knowninfra

import "net/netip"

// List is one bundled MISP warninglist and what a hit on it means.
type List struct {
	// Name is the upstream directory (lists/<Name>/list.json) and the
	// bundled file data/<Name>.json.
	Name string
	// What names the infrastructure in reasons: "Cloudflare edge".
	What string
	// Discount is the share by which a hit lowers the other third-party
	// sources' malicious signals about the address or host itself.
	Discount float64
	// Exact makes hostname entries match the name itself (or www.name)
	// only: a subdomain of a hosting platform is a tenant's, not the
	// platform's.
	Exact bool
	// Keep, when set, is the set of networks the refresh keeps entries
	// from; other entries are left out of the bundle.
	Keep []netip.Prefix
}

// Lists are the bundled warninglists. The README gives the reason for each
// discount. Cloud ranges get a small one: anyone, attackers included, rents
// them, and a verdict about a cloud address is about its tenant of the day.
var Lists = []List{
	{Name: "cloudflare", What: "Cloudflare edge", Discount: 0.7},
	{Name: "akamai", What: "Akamai edge", Discount: 0.7},
	{Name: "fastly", What: "Fastly edge", Discount: 0.7},
	{Name: "amazon-aws", What: "Amazon AWS range", Discount: 0.3},
	{Name: "microsoft-azure", What: "Microsoft Azure range", Discount: 0.3},
	{Name: "google-gcp", What: "Google Cloud range", Discount: 0.3},
	{Name: "public-dns-v4", What: "public DNS resolver", Discount: 0.8, Keep: wellKnownResolvers},
	{Name: "public-dns-v6", What: "public DNS resolver", Discount: 0.8, Keep: wellKnownResolvers},
	{Name: "sinkholes", What: "sinkhole", Discount: 0.8},
	{Name: "url-shortener", What: "URL shortener", Discount: 0.7, Exact: true},
	{Name: "lots-project", What: "file or code hosting (LOTS)", Discount: 0.8, Exact: true},
}

// wellKnownResolvers are the anycast networks of the big public resolver
// operators. Upstream's public-dns lists hold every open resolver
// public-dns.info has found (over 60,000 addresses, many of them
// misconfigured home routers, which deserve no benefit of the doubt);
// the bundle keeps the entries inside these networks.
var wellKnownResolvers = prefixes(
	"8.8.8.0/24", "8.8.4.0/24", "2001:4860:4860::/48", // Google Public DNS
	"1.1.1.0/24", "1.0.0.0/24", "2606:4700:4700::/48", // Cloudflare 1.1.1.1
	"9.9.9.0/24", "149.112.112.0/24", "2620:fe::/48", // Quad9
	"208.67.216.0/21", "2620:119::/32", // Cisco OpenDNS
	"94.140.14.0/23", "2a10:50c0::/32", // AdGuard DNS
	"185.228.168.0/23", "2a0d:2a00::/29", // CleanBrowsing
	"76.76.2.0/24", "76.76.10.0/24", // Control D
	"4.2.2.0/24",                      // Lumen (Level 3)
	"156.154.70.0/23", "77.88.8.0/24", // Vercara UltraDNS, Yandex DNS
	"2a02:6b8::/32", // Yandex DNS
)

func prefixes(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

// Kept reports whether the refresh keeps entry (an address or network) of
// l in the bundle.
func (l List) Kept(entry string) bool {
	if len(l.Keep) == 0 {
		return true
	}
	p, err := netip.ParsePrefix(entry)
	if err != nil {
		a, err := netip.ParseAddr(entry)
		if err != nil {
			return false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	for _, k := range l.Keep {
		if k.Bits() <= p.Bits() && k.Contains(p.Addr()) {
			return true
		}
	}
	return false
}
