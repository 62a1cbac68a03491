// Package virustotal looks up IP addresses, domains, URLs and file hashes in
// VirusTotal API v3 (https://docs.virustotal.com/reference/overview).
//
// It only reads: every look-up is a GET by id (the IOC itself, or for a URL
// the unpadded base64url of it), never a submission, so nothing new is shared
// with the VirusTotal community. The engine counts of last_analysis_stats
// become the malicious signal; see signals for the mapping.
package virustotal

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the provider's contract name.
const Name = "virustotal"

// DefaultBaseURL is the documented API base.
const DefaultBaseURL = "https://www.virustotal.com/api/v3"

// types are the IOC types VirusTotal can look up. VT indexes files by MD5,
// SHA-1 and SHA-256 only: SHA-512 is not an id it accepts.
var types = []ioc.Type{ioc.IPv4, ioc.IPv6, ioc.Domain, ioc.URL, ioc.MD5, ioc.SHA1, ioc.SHA256}

func init() {
	provider.Register(provider.Spec{
		Name:        Name,
		Types:       types,
		Credentials: []string{"api_key"},
		BaseURL:     DefaultBaseURL,
		Rate:        "4/m",
		Quota:       "500/d",
		TTL:         24 * time.Hour,
		NotFoundTTL: 6 * time.Hour,
		MaxTLP:      tlp.Amber,
		Discloses:   true,
		Reliability: provider.ReliabilityB,
		New:         New,
	})
}

// Client is a VirusTotal v3 client. It holds no state beyond its config.
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

// Lookup fetches the IOC's object: /ip_addresses/{ip}, /domains/{domain},
// /urls/{id} or /files/{hash}.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	if !slices.Contains(types, i.Type) {
		return provider.Finding{}, provider.ErrUnsupported
	}
	coll, id := objectPath(i)
	req, err := provider.NewRequest(ctx, http.MethodGet, provider.JoinURL(c.base.URL, coll+"/"+url.PathEscape(id)), nil)
	if err != nil {
		return provider.Finding{}, err
	}
	req.Header.Set("x-apikey", c.base.Key.Reveal())
	resp, err := provider.Do(c.base.HTTP, req, c.base.Key)
	if err != nil {
		return provider.Finding{}, err
	}
	if resp.Code != http.StatusOK {
		code := errorCode(resp.Body)
		if resp.Code == http.StatusNotFound && code == "NotFoundError" {
			return provider.Finding{Provider: Name, Status: provider.StatusNotFound, Summary: "unknown to VirusTotal"}, nil
		}
		if err := provider.CheckStatus(resp, c.base.Key); err != nil {
			if code != "" {
				return provider.Finding{}, fmt.Errorf("virustotal: %w (%s)", err, code)
			}
			return provider.Finding{}, fmt.Errorf("virustotal: %w", err)
		}
	}
	f, err := parse(i, resp.Body)
	if err != nil {
		return provider.Finding{}, fmt.Errorf("virustotal: %w", err)
	}
	if c.base.KeepRaw {
		f.Raw = resp.Body
	}
	return f, nil
}

// objectPath returns the collection and id an IOC is fetched by.
func objectPath(i ioc.IOC) (collection, id string) {
	switch i.Type {
	case ioc.IPv4, ioc.IPv6:
		return "ip_addresses", i.Value
	case ioc.Domain:
		return "domains", i.Value
	case ioc.URL:
		return "urls", URLID(i.Value)
	}
	return "files", i.Value
}

// URLID is the identifier VirusTotal accepts for a URL: its unpadded
// URL-safe base64 (RFC 4648 §3.2). VT canonicalises the URL server-side.
func URLID(u string) string { return base64.RawURLEncoding.EncodeToString([]byte(u)) }

// guiKinds maps an IOC type to the kind segment of a GUI permalink.
func guiKind(t ioc.Type) string {
	switch t {
	case ioc.IPv4, ioc.IPv6:
		return "ip-address"
	case ioc.Domain:
		return "domain"
	case ioc.URL:
		return "url"
	}
	return "file"
}

// errorCode returns error.code of a VT error body, or "".
func errorCode(body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if provider.DecodeJSON(body, &e) != nil {
		return ""
	}
	return e.Error.Code
}
