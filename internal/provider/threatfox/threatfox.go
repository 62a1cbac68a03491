// Package threatfox looks indicators up in abuse.ch ThreatFox, a community
// database of IOCs (C2 servers, payload URLs, sample hashes), each with a
// threat type, a malware family and a confidence level.
//
// One JSON POST {"query":"search_ioc","search_term":...} per look-up, for
// every supported type (abuse.ch's own threatfox_search_ioc.py uses it for
// URLs, domains and hashes alike). ThreatFox stores IPs as "ip:port", so an
// IPv4 look-up keeps the entries whose host part is that IP; for the other
// types an entry must equal the IOC. Entries that only contain the search
// term are not counted. A miss is query_status "no_result" with a string
// data member, which is why data is decoded only after the status is known.
package threatfox

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/abusech"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the provider's contract name.
const Name = "threatfox"

// DefaultBaseURL is the documented API base.
const DefaultBaseURL = "https://threatfox-api.abuse.ch/api/v1"

func init() {
	provider.Register(provider.Spec{
		Name:        Name,
		Types:       []ioc.Type{ioc.IPv4, ioc.Domain, ioc.URL, ioc.MD5, ioc.SHA1, ioc.SHA256},
		Credentials: []string{"api_key"},
		BaseURL:     DefaultBaseURL,
		Rate:        "1/s", // fair use, no published numbers: stay polite
		TTL:         12 * time.Hour,
		NotFoundTTL: 2 * time.Hour, // a fast-moving feed
		MaxTLP:      tlp.Amber,
		Discloses:   true,
		Reliability: provider.ReliabilityB,
		New:         New,
	})
}

// Client looks IOCs up in ThreatFox.
type Client struct {
	call abusech.Caller
}

var _ provider.Provider = (*Client)(nil)

// New builds a Client from cfg: api_key is required, BaseURL defaults to
// DefaultBaseURL. It does no I/O.
func New(cfg provider.Config) (provider.Provider, error) {
	call, err := abusech.NewCaller(Name, cfg, DefaultBaseURL)
	if err != nil {
		return nil, err
	}
	return &Client{call: call}, nil
}

// entry is one ThreatFox IOC record.
type entry struct {
	ID               abusech.ID  `json:"id"`
	IOC              string      `json:"ioc"`
	IOCType          string      `json:"ioc_type"`
	ThreatType       string      `json:"threat_type"`
	Malware          string      `json:"malware"`
	MalwarePrintable string      `json:"malware_printable"`
	MalwareAlias     *string     `json:"malware_alias"`
	Confidence       abusech.Int `json:"confidence_level"`
	FirstSeen        *string     `json:"first_seen"`
	LastSeen         *string     `json:"last_seen"`
	Reference        *string     `json:"reference"`
	Reporter         string      `json:"reporter"`
	Tags             []string    `json:"tags"`
}

// Lookup searches ThreatFox for i.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	switch i.Type {
	case ioc.IPv4, ioc.Domain, ioc.URL, ioc.MD5, ioc.SHA1, ioc.SHA256:
	default:
		return provider.Finding{}, provider.ErrUnsupported
	}
	r, err := c.call.PostJSON(ctx, provider.JoinURL(c.call.URL, "/"), map[string]string{
		"query":       "search_ioc",
		"search_term": i.Value,
	})
	if err != nil {
		return provider.Finding{}, err
	}
	switch r.Status {
	case abusech.StatusOK:
	case "no_result", "no_results":
		return provider.Finding{Provider: Name, Status: provider.StatusNotFound}, nil
	default:
		return provider.Finding{}, &abusech.StatusError{Status: r.Status}
	}
	all, err := decodeData(r.Data)
	if err != nil {
		return provider.Finding{}, err
	}
	var hits []entry
	for _, e := range all {
		if matches(i, e.IOC) {
			hits = append(hits, e)
		}
	}
	if len(hits) == 0 {
		return provider.Finding{Provider: Name, Status: provider.StatusNotFound}, nil
	}
	f := finding(hits)
	if c.call.KeepRaw {
		f.Raw = r.Body
	}
	return f, nil
}

// matches reports whether ThreatFox's ioc value v is the indicator i.
func matches(i ioc.IOC, v string) bool {
	v = strings.TrimSpace(v)
	switch i.Type {
	case ioc.IPv4:
		if host, _, err := net.SplitHostPort(v); err == nil {
			v = host
		}
		return v == i.Value
	case ioc.URL:
		return v == i.Value || strings.TrimSuffix(v, "/") == strings.TrimSuffix(i.Value, "/")
	}
	return strings.EqualFold(v, i.Value)
}

// signal maps a confidence level (0-100) onto the shared scale: 75 and
// above settles it (0.9-1.0), 50-74 is strong (0.6-0.9), below is weak.
func signal(c int) float64 {
	c = min(max(c, 0), 100)
	switch {
	case c >= 75:
		return 0.9 + 0.1*float64(c-75)/25
	case c >= 50:
		return 0.6 + 0.3*float64(c-50)/25
	}
	return 0.2 + 0.4*float64(c)/50
}

// finding maps the matching entries: the most confident one leads.
func finding(hits []entry) provider.Finding {
	best := hits[0]
	var families, threats, tags []string
	for _, e := range hits {
		if e.Confidence > best.Confidence {
			best = e
		}
		families = append(families, e.MalwarePrintable)
		threats = append(threats, e.ThreatType)
		tags = append(tags, e.Tags...)
	}
	families = abusech.Tags(families)
	data := map[string]any{
		"id":               string(best.ID),
		"ioc":              best.IOC,
		"ioc_type":         best.IOCType,
		"threat_type":      best.ThreatType,
		"malware":          best.Malware,
		"confidence_level": int(best.Confidence),
		"matches":          len(hits),
	}
	abusech.SetString(data, "malware_printable", &best.MalwarePrintable)
	abusech.SetString(data, "malware_alias", best.MalwareAlias)
	abusech.SetString(data, "reporter", &best.Reporter)
	abusech.SetString(data, "reference", best.Reference)
	abusech.SetTime(data, "first_seen", best.FirstSeen)
	abusech.SetTime(data, "last_seen", best.LastSeen)
	if len(families) > 0 {
		data["malware_families"] = families
	}
	if t := abusech.Tags(tags); len(t) > 0 {
		data["tags"] = t
	}
	name := best.MalwarePrintable
	if name == "" {
		name = "unknown malware"
	}
	summary := fmt.Sprintf("%s %s, confidence %d%%", name, best.ThreatType, int(best.Confidence))
	if len(hits) > 1 {
		summary += fmt.Sprintf(" (%d entries)", len(hits))
	}
	return provider.Finding{
		Provider:  Name,
		Status:    provider.StatusOK,
		Malicious: signal(int(best.Confidence)),
		Summary:   summary,
		Link:      "https://threatfox.abuse.ch/ioc/" + string(best.ID) + "/",
		Data:      data,
		Tags:      abusech.Tags(families, threats, tags),
	}
}

// decodeData reads the data member of an ok answer: a list of entries.
func decodeData(raw json.RawMessage) ([]entry, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: query_status ok without data", provider.ErrBadResponse)
	}
	var all []entry
	err := provider.DecodeJSON(raw, &all)
	return all, err
}
