// Package otx looks indicators up in AlienVault OTX (Open Threat Exchange),
// where a community of researchers publishes "pulses": named collections of
// IOCs with tags, malware families and ATT&CK techniques.
//
// One GET /indicators/{section type}/{value}/general per look-up. OTX answers
// 200 for any valid indicator; pulse_info.count 0 with no validation entry is
// not_found. Pulses are crowd-sourced, so they raise the malicious signal
// gradually, by pulse count with each author counting for at most three
// pulses. OTX's validation entries (its allow-list: whitelists, known false
// positives, top-site rankings) are strong benign evidence. A 404 is an error,
// not "not found": OTX does not use it for unknown indicators, and treating it
// as a miss would hide a wrong base URL.
package otx

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the provider's contract name.
const Name = "otx"

// DefaultBaseURL is the documented API base.
const DefaultBaseURL = "https://otx.alienvault.com/api/v1"

// authHeader carries the OTX key.
const authHeader = "X-OTX-API-KEY"

func init() {
	provider.Register(provider.Spec{
		Name:        Name,
		Types:       []ioc.Type{ioc.IPv4, ioc.IPv6, ioc.Domain, ioc.URL, ioc.MD5, ioc.SHA1, ioc.SHA256, ioc.CVE},
		Credentials: []string{"api_key"},
		BaseURL:     DefaultBaseURL,
		Rate:        "1/s", // limits are not published; 429s are seen under load
		TTL:         12 * time.Hour,
		NotFoundTTL: 6 * time.Hour,
		MaxTLP:      tlp.Amber,
		Discloses:   true,
		Reliability: provider.ReliabilityC,
		New:         New,
	})
}

// Client looks IOCs up in OTX.
type Client struct {
	base provider.Base
}

var _ provider.Provider = (*Client)(nil)

// New builds a Client from cfg: api_key is required, BaseURL defaults to
// DefaultBaseURL. It does no I/O.
func New(cfg provider.Config) (provider.Provider, error) {
	base, err := provider.NewBase(Name, cfg, DefaultBaseURL, true)
	if err != nil {
		return nil, err
	}
	return &Client{base: base}, nil
}

// section returns OTX's indicator type for the API path and for the web
// link. OTX calls a registrable domain "domain" and any name below one
// "hostname".
func section(i ioc.IOC) (api, web string, ok bool) {
	switch i.Type {
	case ioc.IPv4:
		return "IPv4", "ip", true
	case ioc.IPv6:
		return "IPv6", "ip", true
	case ioc.Domain:
		if d, err := publicsuffix.EffectiveTLDPlusOne(i.Value); err == nil && d != i.Value {
			return "hostname", "hostname", true
		}
		return "domain", "domain", true
	case ioc.URL:
		return "url", "url", true
	case ioc.MD5, ioc.SHA1, ioc.SHA256:
		return "file", "file", true
	case ioc.CVE:
		return "cve", "cve", true
	}
	return "", "", false
}

// general is the part of the "general" section iocane reads.
type general struct {
	ASN         *string `json:"asn"`
	CountryCode *string `json:"country_code"`
	Reputation  *int    `json:"reputation"`
	Validation  []struct {
		Source  string `json:"source"`
		Message string `json:"message"`
		Name    string `json:"name"`
	} `json:"validation"`
	PulseInfo struct {
		Count  int `json:"count"`
		Pulses []struct {
			ID              string   `json:"id"`
			Name            string   `json:"name"`
			Tags            []string `json:"tags"`
			Adversary       string   `json:"adversary"`
			MalwareFamilies []struct {
				DisplayName string `json:"display_name"`
			} `json:"malware_families"`
			AttackIDs []struct {
				ID string `json:"id"`
			} `json:"attack_ids"`
			Author struct {
				Username string `json:"username"`
			} `json:"author"`
		} `json:"pulses"`
	} `json:"pulse_info"`
}

// Lookup fetches the general section for i.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	api, web, ok := section(i)
	if !ok {
		return provider.Finding{}, provider.ErrUnsupported
	}
	value := url.PathEscape(i.Value)
	u := provider.JoinURL(c.base.URL, "/indicators/"+api+"/"+value+"/general")
	req, err := provider.NewRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return provider.Finding{}, err
	}
	req.Header.Set(authHeader, c.base.Key.Reveal())
	resp, err := provider.Do(c.base.HTTP, req, c.base.Key)
	if err != nil {
		return provider.Finding{}, err
	}
	if err := provider.CheckStatus(resp, c.base.Key); err != nil {
		return provider.Finding{}, err
	}
	var g general
	if err := provider.DecodeJSON(resp.Body, &g); err != nil {
		return provider.Finding{}, err
	}
	if g.PulseInfo.Count == 0 && len(g.PulseInfo.Pulses) == 0 && len(g.Validation) == 0 {
		return provider.Finding{Provider: Name, Status: provider.StatusNotFound}, nil
	}
	f := g.finding()
	f.Link = "https://otx.alienvault.com/indicator/" + web + "/" + value
	if c.base.KeepRaw {
		f.Raw = resp.Body
	}
	return f, nil
}

// maxListed bounds the pulse names and tags listed in Data.
const (
	maxNames = 5
	maxTags  = 20
)

func (g general) finding() provider.Finding {
	pi := g.PulseInfo
	count := max(pi.Count, len(pi.Pulses))
	var names, tags, families, adversaries, attack []string
	authors := map[string]bool{}
	for _, p := range pi.Pulses {
		if p.Author.Username != "" {
			authors[p.Author.Username] = true
		}
		names = append(names, p.Name)
		tags = append(tags, p.Tags...)
		adversaries = append(adversaries, p.Adversary)
		for _, m := range p.MalwareFamilies {
			families = append(families, m.DisplayName)
		}
		for _, a := range p.AttackIDs {
			attack = append(attack, a.ID)
		}
	}
	names, tags = dedupe(names, maxNames), dedupe(tags, maxTags)
	families, adversaries, attack = dedupe(families, 0), dedupe(adversaries, 0), dedupe(attack, 0)

	data := map[string]any{"pulse_count": count, "authors": len(authors)}
	setList(data, "pulses", names)
	setList(data, "tags", tags)
	setList(data, "malware_families", families)
	setList(data, "adversaries", adversaries)
	setList(data, "attack_ids", attack)
	if g.ASN != nil && *g.ASN != "" {
		data["asn"] = *g.ASN
	}
	if g.CountryCode != nil && *g.CountryCode != "" {
		data["country"] = *g.CountryCode
	}
	if g.Reputation != nil {
		data["reputation"] = *g.Reputation
	}

	f := provider.Finding{
		Provider:  Name,
		Status:    provider.StatusOK,
		Malicious: pulseSignal(count, len(pi.Pulses), len(authors)),
		Tags:      dedupe(append(families, adversaries...), 0),
	}
	f.Summary = fmt.Sprintf("in %d OTX pulses from %s", count, plural(len(authors), "author"))
	if count == 1 && len(names) > 0 {
		f.Summary = fmt.Sprintf("in 1 OTX pulse (%s)", names[0])
	}
	if len(g.Validation) > 0 {
		var vs []string
		f.Benign = 0.9
		for _, v := range g.Validation {
			vs = append(vs, v.Name)
			if v.Source == "whitelist" || v.Source == "false_positive" {
				f.Benign = 0.95
			}
		}
		vs = dedupe(vs, 0)
		setList(data, "validation", vs)
		if count == 0 {
			f.Summary = "no OTX pulses; allow-listed: " + vs[0]
		} else {
			f.Summary += "; allow-listed: " + vs[0]
		}
	}
	f.Data = data
	return f
}

// pulseSignal grows with the number of pulses, each author counting for at
// most three of the pulses listed (pulses beyond the listed ones count as
// they are): 1 → 0.3, 2 → 0.45, 3 → 0.6, up to 0.73 at 9, 10+ → 0.8.
func pulseSignal(count, listed, authors int) float64 {
	e := count
	if listed > 0 && authors > 0 {
		e = min(listed, 3*authors) + max(count-listed, 0)
	}
	switch {
	case e <= 0:
		return 0
	case e == 1:
		return 0.3
	case e == 2:
		return 0.45
	case e < 10:
		return 0.6 + 0.15*float64(e-3)/7
	}
	return 0.8
}

// dedupe drops empties and duplicates, keeping order, and keeps at most n
// (all when n is 0).
func dedupe(in []string, n int) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
		if n > 0 && len(out) == n {
			break
		}
	}
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func setList(data map[string]any, key string, l []string) {
	if len(l) > 0 {
		data[key] = l
	}
}
