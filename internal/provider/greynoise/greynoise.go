// Package greynoise asks GreyNoise's Community API whether an IPv4 address is
// internet background noise (a mass scanner) or a known benign business
// service (the RIOT data set): GET /v3/community/{ip}
// (https://docs.greynoise.io/reference/getcommunityip).
//
// The Community API works without a key at a lower rate, so the key is
// optional; when set it travels in the "key" header. An address GreyNoise
// has not seen is a 404 that still carries a JSON body; that is not_found.
package greynoise

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the provider's contract name.
const Name = "greynoise"

// DefaultBaseURL is the documented API base.
const DefaultBaseURL = "https://api.greynoise.io"

func init() {
	provider.Register(provider.Spec{
		Name:        Name,
		Types:       []ioc.Type{ioc.IPv4},
		Credentials: []string{"api_key"},
		OptionalKey: true,
		BaseURL:     DefaultBaseURL,
		Rate:        "10/m",
		Quota:       "50/d", // community tier, third-party figure (providers.md §9d, [U])
		TTL:         12 * time.Hour,
		NotFoundTTL: 6 * time.Hour,
		MaxTLP:      tlp.Amber,
		Discloses:   true,
		Reliability: provider.ReliabilityB,
		New:         New,
	})
}

// Client is a GreyNoise Community API client. It holds no state beyond its
// config.
type Client struct {
	base provider.Base // base.Key may be zero: keyless community use
}

var _ provider.Provider = (*Client)(nil)

// New builds a Client from cfg: api_key is optional, BaseURL defaults to
// DefaultBaseURL. It does no I/O.
func New(cfg provider.Config) (provider.Provider, error) {
	base, err := provider.NewBase(Name, cfg, DefaultBaseURL, false)
	if err != nil {
		return nil, err
	}
	return &Client{base: base}, nil
}

// community is the /v3/community/{ip} answer, found (200) or not (404).
type community struct {
	IP             string `json:"ip"`
	Noise          *bool  `json:"noise"`
	RIOT           *bool  `json:"riot"`
	Classification string `json:"classification"`
	Name           string `json:"name"`
	Link           string `json:"link"`
	LastSeen       string `json:"last_seen"`
	Message        string `json:"message"`
}

// Lookup runs GET /v3/community/{ip}.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	if i.Type != ioc.IPv4 {
		return provider.Finding{}, provider.ErrUnsupported
	}
	req, err := provider.NewRequest(ctx, http.MethodGet, provider.JoinURL(c.base.URL, "v3/community/"+url.PathEscape(i.Value)), nil)
	if err != nil {
		return provider.Finding{}, err
	}
	if !c.base.Key.IsZero() {
		req.Header.Set("key", c.base.Key.Reveal())
	}
	resp, err := provider.Do(c.base.HTTP, req, c.base.Key)
	if err != nil {
		return provider.Finding{}, err
	}
	var a community
	decodeErr := provider.DecodeJSON(resp.Body, &a)
	if resp.Code == http.StatusNotFound && decodeErr == nil && (a.Noise != nil || a.RIOT != nil || a.IP != "") {
		// Key on the status and the body's shape, not on the message,
		// whose wording has changed over time.
		return provider.Finding{Provider: Name, Status: provider.StatusNotFound,
			Summary: "not observed scanning the internet, not a known business service"}, nil
	}
	if err := provider.CheckStatus(resp, c.base.Key); err != nil {
		var he *provider.HTTPError
		if decodeErr == nil && a.Message != "" && !errors.As(err, &he) {
			err = fmt.Errorf("%w: %s", err, provider.Excerpt([]byte(a.Message), 160))
		}
		return provider.Finding{}, provider.Scrub(fmt.Errorf("greynoise: %w", err), c.base.Key)
	}
	if decodeErr != nil {
		return provider.Finding{}, fmt.Errorf("greynoise: %w", decodeErr)
	}
	if a.Noise == nil && a.RIOT == nil {
		return provider.Finding{}, fmt.Errorf("greynoise: %w: neither noise nor riot in the answer", provider.ErrBadResponse)
	}
	f, err := finding(i, a)
	if err != nil {
		return provider.Finding{}, fmt.Errorf("greynoise: %w", err)
	}
	if c.base.KeepRaw {
		f.Raw = resp.Body
	}
	return f, nil
}

// Signal levels; the README gives the reason for each.
const (
	riotBenign      = 0.95 // RIOT: a curated benign business service (conclusive)
	benignScanner   = 0.8  // classification benign: an actor GreyNoise has identified as benign
	maliciousSignal = 0.6  // classification malicious: opportunistic attacks seen by its sensors
	unknownNoise    = 0.1  // scanning the internet with unknown intent: background noise
)

// finding maps a 200 answer.
func finding(i ioc.IOC, a community) (provider.Finding, error) {
	noise, riot := a.Noise != nil && *a.Noise, a.RIOT != nil && *a.RIOT
	f := provider.Finding{
		Provider: Name,
		Status:   provider.StatusOK,
		Link:     a.Link,
		Data: map[string]any{
			"noise":          noise,
			"riot":           riot,
			"classification": a.Classification,
		},
	}
	if f.Link == "" {
		f.Link = "https://viz.greynoise.io/ip/" + i.Value
	}
	for k, v := range map[string]string{"name": a.Name, "link": a.Link, "message": a.Message} {
		if v != "" {
			f.Data[k] = v
		}
	}
	if a.LastSeen != "" {
		t, err := time.Parse(time.DateOnly, a.LastSeen)
		if err != nil {
			return provider.Finding{}, fmt.Errorf("%w: last_seen %q", provider.ErrBadResponse, provider.Excerpt([]byte(a.LastSeen), 40))
		}
		f.Data["last_seen"] = t
	}
	name := a.Name
	if name == "unknown" {
		name = ""
	}
	switch a.Classification {
	case "malicious":
		f.Malicious = maliciousSignal
		f.Summary = "malicious"
	case "benign":
		f.Benign = benignScanner
		f.Summary = "benign"
	default:
		if noise {
			f.Malicious = unknownNoise
		}
		f.Summary = "intent unknown"
	}
	switch {
	case riot:
		f.Benign = max(f.Benign, riotBenign)
		f.Summary = "known business service (RIOT), " + f.Summary
		f.Tags = append(f.Tags, "riot")
	case noise:
		f.Summary = "internet scanner, " + f.Summary
		f.Tags = append(f.Tags, "noise")
	}
	if name != "" {
		f.Summary += ": " + name
	}
	if a.Classification != "" {
		f.Tags = append(f.Tags, a.Classification)
	}
	return f, nil
}
