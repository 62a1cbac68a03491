package enrich

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/settings"
	"github.com/iocane/iocane/internal/tlp"
	"github.com/knadh/koanf/v2"
)

// Pivots: from each IOC, iocane follows relations to other IOCs and
// enriches them too, to the item's depth (Item.Pivot, at most MaxPivot):
//
//   - passive ones, which send nothing anywhere: a URL's host, an e-mail
//     address's domain, and relations already in provider answers at no
//     extra quota (VirusTotal's last_dns_records, Shodan's hostnames,
//     URLhaus's payload hashes);
//   - one active one: a domain's A and AAAA records through the configured
//     resolver. DNS is the only traffic toward an IOC's own infrastructure;
//     nothing ever makes an HTTP request to an IOC. It is made only for
//     input whose PAP allows it (CLEAR or GREEN): under PAP:AMBER and
//     PAP:RED the adversary's DNS server must not see us ask.
//
// A related IOC goes through every rule an extracted one does (internal,
// allow-list, TLP, cache, quota): a domain resolving to 10.0.0.5 pivots to
// an internal address that is looked up locally only. Its result names
// pivot_from and relation in its context, and the parent lists it under
// related. A domain, URL or address whose related IOC is malicious gains a
// bounded inherited score (inherit), never above suspicious on that alone.

// Relations.
const (
	RelResolvesTo   = "resolves-to"
	RelResolvedFrom = "resolved-from"
	RelHost         = "host"
	RelDomain       = "domain"
	RelPayload      = "payload"
)

// MaxPivot is the deepest pivot: the related IOCs of related IOCs.
const MaxPivot = 2

// MaxRelated bounds the IOCs one IOC pivots to, so a domain with a
// hundred A records does not fan out a hundred look-ups.
const MaxRelated = 8

// DefaultDNSTimeout bounds one DNS look-up of a pivot.
const DefaultDNSTimeout = 3 * time.Second

// Resolver resolves a domain's addresses (*net.Resolver satisfies it).
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// NewResolver returns the resolver pivots use: the system's, or the DNS
// server at addr (host:port, IOCANE_DNS_SERVER) over UDP and TCP.
func NewResolver(addr string) Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// PivotOptions configures pivots.
type PivotOptions struct {
	// Resolver resolves domains; nil means the system resolver.
	Resolver Resolver
	// Timeout bounds one DNS look-up; 0 means DefaultDNSTimeout.
	Timeout time.Duration
}

// relation is one related IOC found from a result.
type relation struct {
	ioc ioc.IOC
	rel string
}

// activePivotAllowed reports whether PAP p allows an action the adversary
// can see: CLEAR and GREEN do, AMBER and RED do not.
func activePivotAllowed(p tlp.Level) bool { return p <= tlp.Green }

// relations returns what r's IOC relates to, passive first, then its DNS
// records when the item's PAP allows and the domain is not internal.
func (e *Engine) relations(ctx context.Context, it Item, r result.Result) []relation {
	var out []relation
	add := func(t ioc.Type, v, rel string) {
		if len(out) >= MaxRelated {
			return
		}
		v, err := ioc.Normalize(t, v)
		if err != nil {
			return
		}
		i := ioc.IOC{Type: t, Value: v}
		if i == r.IOC || slices.ContainsFunc(out, func(x relation) bool { return x.ioc == i }) {
			return
		}
		out = append(out, relation{i, rel})
	}
	switch r.IOC.Type {
	case ioc.URL:
		if h := urlHost(r.IOC.Value); h != "" {
			add(hostType(h), h, RelHost)
		}
	case ioc.Email:
		if _, d, ok := strings.Cut(r.IOC.Value, "@"); ok {
			add(ioc.Domain, d, RelDomain)
		}
	}
	for _, s := range r.Sources {
		if s.Status != "ok" {
			continue
		}
		for _, rec := range mapsOf(s.Data["dns_records"]) { // virustotal
			switch rec["type"] {
			case "A":
				add(ioc.IPv4, fmt.Sprint(rec["value"]), RelResolvesTo)
			case "AAAA":
				add(ioc.IPv6, fmt.Sprint(rec["value"]), RelResolvesTo)
			}
		}
		for _, h := range stringsOf(s.Data["hostnames"]) { // shodan
			add(ioc.Domain, h, RelResolvedFrom)
		}
		for _, h := range stringsOf(s.Data["payload_sha256"]) { // urlhaus
			add(ioc.SHA256, h, RelPayload)
		}
	}
	if r.IOC.Type == ioc.Domain && activePivotAllowed(it.PAP) && !r.Internal {
		timeout := cmp.Or(e.opts.Pivot.Timeout, DefaultDNSTimeout)
		dctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		res := e.opts.Pivot.Resolver
		if res == nil {
			res = net.DefaultResolver
		}
		addrs, _ := res.LookupIPAddr(dctx, r.IOC.Value) // no answer: no pivot
		for _, a := range addrs {
			if a.IP.To4() != nil {
				add(ioc.IPv4, a.IP.String(), RelResolvesTo)
			} else {
				add(ioc.IPv6, a.IP.String(), RelResolvesTo)
			}
		}
	}
	return out
}

// enrichTree enriches it and, while its depth allows, what it relates to,
// and returns its result first, with related filled in and the inherited
// score applied, then the related results (each once per run: emitted
// holds the IOCs already returned).
func (e *Engine) enrichTree(ctx context.Context, it Item, emitted *sync.Map) []result.Result {
	r := e.Enrich(ctx, it)
	if it.Pivot <= 0 {
		return []result.Result{r}
	}
	rels := e.relations(ctx, it, r)
	trees := make([][]result.Result, len(rels))
	var wg sync.WaitGroup
	for k, rel := range rels {
		child := Item{IOC: rel.ioc, TLP: it.TLP, PAP: it.PAP, Providers: it.Providers, Defer: it.Defer,
			Pivot:   min(it.Pivot, MaxPivot) - 1,
			Context: map[string]string{"pivot_from": r.IOC.String(), "relation": rel.rel}}
		wg.Go(func() { trees[k] = e.enrichTree(ctx, child, emitted) })
	}
	wg.Wait()
	out := []result.Result{r}
	var related []result.Result
	for k, tree := range trees {
		c := tree[0]
		r.Related = append(r.Related, result.Related{Type: c.IOC.Type, Value: c.IOC.Value, Relation: rels[k].rel,
			Verdict: c.Verdict, Score: c.Score})
		related = append(related, c)
		if _, dup := emitted.LoadOrStore(c.IOC, true); !dup {
			out = append(out, c)
		}
		out = append(out, tree[1:]...) // the child's own tree, already once each
	}
	e.inherit(&r, rels, related)
	out[0] = r
	return out
}

// urlHost returns a URL value's host, without port or brackets.
func urlHost(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if h, _, err := net.SplitHostPort(rest); err == nil {
		return h
	}
	return strings.Trim(rest, "[]")
}

func hostType(h string) ioc.Type {
	if ip := net.ParseIP(h); ip != nil {
		if ip.To4() != nil {
			return ioc.IPv4
		}
		return ioc.IPv6
	}
	return ioc.Domain
}

func mapsOf(v any) []map[string]any {
	var out []map[string]any
	switch l := v.(type) {
	case []map[string]any:
		return l
	case []any:
		for _, x := range l {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

func stringsOf(v any) []string {
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		var out []string
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// InheritShare is the share of a related IOC's score a domain, URL or
// address inherits from what it resolves to, is hosted on or belongs to,
// when that is malicious. The inherited score is kept between the
// suspicious threshold and just under the malicious one: inheritance
// alone never makes an IOC malicious, and never lowers a score.
const InheritShare = 0.6

// inheriting are the relations whose malicious target taints the source:
// the infrastructure it uses. A file a URL served, or a domain found on
// an IP, does not taint it.
var inheriting = []string{RelResolvesTo, RelHost, RelDomain}

// inherit raises r's score by what its related IOCs are, within the bounds
// above, and says so in a reason naming the chain: "resolves to
// 91.215.85.142 (malicious: threatfox botnet_cc, misp)". An analyst's
// verdict or an allow-list hit is left alone.
func (e *Engine) inherit(r *result.Result, rels []relation, related []result.Result) {
	for _, name := range []string{"analyst", "allowlist"} {
		if s, ok := r.Source(name); ok && s.Status == "ok" {
			return
		}
	}
	p := e.opts.Policy.WithDefaults()
	sus, mal, minConf := p.Suspicious, p.Malicious, p.MinConfidence
	best, why := 0, ""
	for k, c := range related {
		if c.Verdict != result.Malicious || !slices.Contains(inheriting, rels[k].rel) {
			continue
		}
		s := min(max(int(InheritShare*float64(c.Score)+0.5), sus), mal-1)
		if s > best {
			best, why = s, chainReason(rels[k].rel, c)
		}
	}
	if why == "" {
		return
	}
	if best <= r.Score {
		r.Reasons = append(r.Reasons, why)
		return
	}
	r.Score = best
	if r.Verdict.Rank() < result.Suspicious.Rank() {
		r.Verdict = result.Suspicious
		r.DBotScore = result.DBotScore(r.Verdict)
	}
	r.Confidence = max(r.Confidence, minConf)
	r.Reasons = append([]string{why}, r.Reasons...)
}

// chainReason names the relation and what made the related IOC malicious.
func chainReason(rel string, c result.Result) string {
	verb := map[string]string{RelResolvesTo: "resolves to", RelHost: "is hosted on", RelDomain: "belongs to"}[rel]
	var by []string
	for _, s := range c.Sources {
		if s.Status != "ok" || s.Malicious < 0.5 {
			continue
		}
		name := s.Provider
		if len(s.Tags) > 0 {
			name += " " + s.Tags[0]
		}
		by = append(by, name)
	}
	return fmt.Sprintf("%s %s (%s: %s)", verb, c.IOC.Value, c.Verdict, strings.Join(by, ", "))
}

// PivotSection is the config section pivots are read from.
const PivotSection = "pivot"

// PivotSettings is the pivot section: depth (pivot.depth, 0 to MaxPivot;
// unset: 0 for the CLI and 1 for webhook jobs), dns_server (host:port;
// IOCANE_DNS_SERVER; default the system resolver) and dns_timeout
// (default 3s).
type PivotSettings struct {
	Depth      *int          `koanf:"depth"`
	DNSServer  string        `koanf:"dns_server"`
	DNSTimeout time.Duration `koanf:"dns_timeout"`
}

// LoadPivot reads the pivot section of k.
func LoadPivot(k *koanf.Koanf, getenv func(string) string) (PivotSettings, error) {
	var s PivotSettings
	if err := settings.Decode(k, PivotSection, &s); err != nil {
		return s, settings.Wrap("config: ", err)
	}
	if v := strings.TrimSpace(getenv("IOCANE_DNS_SERVER")); v != "" {
		s.DNSServer = v
	}
	if s.DNSServer != "" {
		if _, _, err := net.SplitHostPort(s.DNSServer); err != nil {
			return s, fmt.Errorf("config: pivot.dns_server (IOCANE_DNS_SERVER): %q: want host:port, such as 127.0.0.1:53", s.DNSServer)
		}
	}
	if s.Depth != nil && (*s.Depth < 0 || *s.Depth > MaxPivot) {
		return s, fmt.Errorf("config: pivot.depth: %d: want 0 to %d", *s.Depth, MaxPivot)
	}
	if s.DNSTimeout < 0 {
		return s, fmt.Errorf("config: pivot.dns_timeout: must be positive")
	}
	return s, nil
}

// DepthFor is the pivot depth of input with no depth of its own: the
// config's, else def (0 for the CLI, 1 for webhook jobs).
func (s PivotSettings) DepthFor(def int) int {
	if s.Depth != nil {
		return *s.Depth
	}
	return def
}

// ParsePAP reads a PAP marking: a name (clear, white, green, amber, red,
// with or without "PAP:") or TheHive's number (0 WHITE to 3 RED).
func ParsePAP(s string) (tlp.Level, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "0":
		return tlp.Clear, nil
	case "1":
		return tlp.Green, nil
	case "2":
		return tlp.Amber, nil
	case "3":
		return tlp.Red, nil
	}
	if l, ok := tlp.Parse(strings.TrimPrefix(strings.ToLower(s), "pap:")); ok {
		return l, nil
	}
	return 0, fmt.Errorf("PAP %q: want clear (white), green, amber or red", s)
}
