// Package passivetotal looks up domains and IP addresses in Microsoft
// Defender Threat Intelligence (MDTI), the successor of RiskIQ PassiveTotal,
// through Microsoft Graph: host reputation and passive DNS
// (https://learn.microsoft.com/graph/api/resources/security-host).
//
// PassiveTotal's own API is shut down; the provider keeps its contract name.
// Graph wants an OAuth2 app-only token (client credentials against Entra
// ID), which the Client caches until shortly before it expires; see
// tokenCache for why that state is acceptable in a provider.
package passivetotal

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
const Name = "passivetotal"

// DefaultBaseURL is the documented Graph base (MDTI is in beta).
const DefaultBaseURL = "https://graph.microsoft.com/beta"

// DefaultTokenURL is the token endpoint; %s is the tenant id.
const DefaultTokenURL = "https://login.microsoftonline.com/%s/oauth2/v2.0/token"

func init() {
	provider.Register(provider.Spec{
		Name:        Name,
		Types:       []ioc.Type{ioc.Domain, ioc.IPv4, ioc.IPv6},
		Credentials: []string{"tenant_id", "client_id", "client_secret"},
		Settings:    []provider.Setting{{Name: "token_url", Default: fmt.Sprintf(DefaultTokenURL, "{tenant_id}"), Doc: "OAuth token endpoint; setting it waives tenant_id"}},
		WaivedBy:    map[string]string{"tenant_id": "token_url"},
		BaseURL:     DefaultBaseURL,
		Rate:        "2/s",
		TTL:         24 * time.Hour,
		NotFoundTTL: 6 * time.Hour,
		MaxTLP:      tlp.Amber,
		Discloses:   true,
		Reliability: provider.ReliabilityB,
		New:         New,
	})
}

// Client is an MDTI client over Microsoft Graph. Besides its config it holds
// only the cached access token.
type Client struct {
	tokenURL                       string
	tenant, clientID, clientSecret provider.Secret
	base                           provider.Base // base.Key is unused: MDTI takes an OAuth token
	now                            func() time.Time
	tok                            *tokenCache
}

var _ provider.Provider = (*Client)(nil)

// New builds a Client from cfg: client_id and client_secret are required,
// and tenant_id unless setting "token_url" names the token endpoint (default
// DefaultTokenURL with the tenant filled in). BaseURL defaults to
// DefaultBaseURL. It does no I/O.
func New(cfg provider.Config) (provider.Provider, error) {
	c := &Client{
		tenant:       cfg.Secret("tenant_id"),
		clientID:     cfg.Secret("client_id"),
		clientSecret: cfg.Secret("client_secret"),
		now:          time.Now,
		tok:          newTokenCache(),
	}
	if c.clientID.IsZero() || c.clientSecret.IsZero() {
		return nil, errors.New("passivetotal: client_id and client_secret are required")
	}
	c.tokenURL = cfg.Setting("token_url", "")
	if c.tokenURL == "" {
		if c.tenant.IsZero() {
			return nil, errors.New("passivetotal: tenant_id is required (or setting token_url)")
		}
		c.tokenURL = fmt.Sprintf(DefaultTokenURL, url.PathEscape(c.tenant.Reveal()))
	}
	base, err := provider.NewBase(Name, cfg, DefaultBaseURL, false)
	if err != nil {
		return nil, err
	}
	c.base = base
	if !provider.IsHTTPURL(c.tokenURL) {
		// The value is left out: the default token URL carries the tenant.
		return nil, errors.New("passivetotal: token_url: want an http(s) URL")
	}
	return c, nil
}

// secrets lists what every error text is scrubbed of.
func (c *Client) secrets(more ...provider.Secret) []provider.Secret {
	return append([]provider.Secret{c.tenant, c.clientID, c.clientSecret}, more...)
}

// Lookup fetches the host's reputation and, when MDTI knows the host, its
// passive DNS records.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	switch i.Type {
	case ioc.Domain, ioc.IPv4, ioc.IPv6:
	default:
		return provider.Finding{}, provider.ErrUnsupported
	}
	if err := ctx.Err(); err != nil {
		return provider.Finding{}, err
	}
	host := provider.JoinURL(c.base.URL, "security/threatIntelligence/hosts/"+url.PathEscape(i.Value))
	repBody, err := c.get(ctx, host+"/reputation")
	if errors.Is(err, errNotFound) {
		return notFound(i), nil
	}
	if err != nil {
		return provider.Finding{}, err
	}
	var rep reputation
	if err := provider.DecodeJSON(repBody, &rep); err != nil {
		return provider.Finding{}, err
	}
	pdnsBody, err := c.get(ctx, host+"/passiveDns")
	if err != nil && !errors.Is(err, errNotFound) {
		return provider.Finding{}, err
	}
	var pdns passiveDNS
	if err == nil {
		if err := provider.DecodeJSON(pdnsBody, &pdns); err != nil {
			return provider.Finding{}, err
		}
	}
	f := finding(i, rep, pdns)
	if c.base.KeepRaw {
		f.Raw = rawPair(repBody, pdnsBody)
	}
	return f, nil
}

// errNotFound is Graph's 404 for a host MDTI does not know.
var errNotFound = errors.New("passivetotal: host not found")

// get sends a Graph GET with the bearer token. A 401 means the token was
// revoked or expired early: it is replaced once and the call repeated.
func (c *Client) get(ctx context.Context, u string) ([]byte, error) {
	var stale provider.Secret
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx, stale)
		if err != nil {
			return nil, err
		}
		req, err := provider.NewRequest(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok.Reveal())
		resp, err := provider.Do(c.base.HTTP, req, c.secrets(tok)...)
		if err != nil {
			return nil, err
		}
		switch {
		case resp.Code == http.StatusUnauthorized && attempt == 0:
			stale = tok
			continue
		case resp.Code == http.StatusNotFound:
			return nil, errNotFound
		}
		if err := provider.CheckStatus(resp, c.secrets(tok)...); err != nil {
			return nil, err
		}
		return resp.Body, nil
	}
}
