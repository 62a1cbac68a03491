// Package shodan looks up what Shodan's scanners saw on an IP address (GET
// /shodan/host/{ip}; https://developer.shodan.io/api): open ports,
// hostnames, organisation, OS, known vulnerabilities and Shodan's tags.
//
// Shodan is context, not reputation: an exposed service or a vulnerable
// version says little about whether an address is malicious. Only Shodan's
// own tags for malware infrastructure give a (modest) malicious signal, and
// many critical CVEs a faint one; nothing here is benign evidence.
//
// The API takes the key only as the query parameter key, so the request URL
// carries it. provider.Do and provider.Scrub keep it out of every error.
package shodan

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
const Name = "shodan"

// DefaultBaseURL is the documented API base.
const DefaultBaseURL = "https://api.shodan.io"

func init() {
	provider.Register(provider.Spec{
		Name:        Name,
		Types:       []ioc.Type{ioc.IPv4, ioc.IPv6},
		Credentials: []string{"api_key"},
		Settings:    []provider.Setting{{Name: "minify", Default: "false", Doc: "true drops the banners, and with them the per-banner CVSS scores"}},
		BaseURL:     DefaultBaseURL,
		Rate:        "1/s",
		Quota:       "", // host look-ups use no query credits
		TTL:         24 * time.Hour,
		NotFoundTTL: 12 * time.Hour,
		MaxTLP:      tlp.Amber,
		Discloses:   true,
		Reliability: provider.ReliabilityB,
		New:         New,
	})
}

// Client is a Shodan host-lookup client. It holds no state beyond its config.
type Client struct {
	base   provider.Base
	minify bool
}

var _ provider.Provider = (*Client)(nil)

// New builds a Client from cfg: api_key is required, BaseURL defaults to
// DefaultBaseURL, setting minify ("true" asks Shodan to leave out the
// service banners; default false, since the per-banner CVSS scores live
// there). It does no I/O.
func New(cfg provider.Config) (provider.Provider, error) {
	base, err := provider.NewBase(Name, cfg, DefaultBaseURL, true)
	if err != nil {
		return nil, err
	}
	var minify bool
	switch m := cfg.Setting("minify", "false"); m {
	case "true", "false":
		minify = m == "true"
	default:
		return nil, fmt.Errorf("shodan: minify %q: want true or false", m)
	}
	return &Client{base: base, minify: minify}, nil
}

// Lookup runs GET /shodan/host/{ip}?key=<key>.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	if i.Type != ioc.IPv4 && i.Type != ioc.IPv6 {
		return provider.Finding{}, provider.ErrUnsupported
	}
	q := url.Values{"key": {c.base.Key.Reveal()}}
	if c.minify {
		q.Set("minify", "true")
	}
	u := provider.JoinURL(c.base.URL, "shodan/host/"+url.PathEscape(i.Value)) + "?" + q.Encode()
	req, err := provider.NewRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return provider.Finding{}, provider.Scrub(err, c.base.Key)
	}
	resp, err := provider.Do(c.base.HTTP, req, c.base.Key)
	if err != nil {
		return provider.Finding{}, err
	}
	msg := errorText(resp.Body)
	if resp.Code == http.StatusNotFound && msg != "" {
		// {"error": "No information available for that IP."}: key on the
		// status, not the wording.
		return provider.Finding{Provider: Name, Status: provider.StatusNotFound, Summary: "no information in Shodan"}, nil
	}
	if err := provider.CheckStatus(resp, c.base.Key); err != nil {
		var he *provider.HTTPError
		if msg != "" && !errors.As(err, &he) { // an HTTPError already quotes the body
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return provider.Finding{}, provider.Scrub(fmt.Errorf("shodan: %w", err), c.base.Key)
	}
	if msg != "" {
		// shodan-python treats any answer with "error" as a failure.
		return provider.Finding{}, provider.Scrub(fmt.Errorf("shodan: %w: %s", provider.ErrBadResponse, msg), c.base.Key)
	}
	f, err := parse(i, resp.Body)
	if err != nil {
		return provider.Finding{}, fmt.Errorf("shodan: %w", err)
	}
	if c.base.KeepRaw {
		f.Raw = resp.Body
	}
	return f, nil
}

// errorText returns the "error" string of a Shodan JSON body, or "".
func errorText(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if provider.DecodeJSON(body, &e) != nil {
		return ""
	}
	return provider.Excerpt([]byte(e.Error), 160)
}
