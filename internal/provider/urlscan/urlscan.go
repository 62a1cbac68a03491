// Package urlscan looks up URLs, domains and IPv4 addresses in the scans
// urlscan.io already holds, through its search API, GET /search/?q=
// (https://docs.urlscan.io/apis/urlscan-openapi/search).
//
// It never submits a scan: submitting would make urlscan.io fetch the IOC
// and, for public scans, publish it. The search works without a key on a
// small per-IP budget, so the key is optional. A search row's verdicts are
// usually empty; with the setting fetch_verdicts and a key, the latest
// scan's result is fetched for its verdicts (one more call).
package urlscan

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the provider's contract name.
const Name = "urlscan"

// DefaultBaseURL is the documented API base.
const DefaultBaseURL = "https://urlscan.io/api/v1"

// DefaultSize is how many scans one search returns (setting "size").
const DefaultSize = 10

func init() {
	provider.Register(provider.Spec{
		Name:        Name,
		Types:       []ioc.Type{ioc.URL, ioc.Domain, ioc.IPv4},
		OptionalKey: true,
		Settings: []provider.Setting{
			{Name: "size", Default: strconv.Itoa(DefaultSize), Doc: "scans per search, 1-100"},
			{Name: "fetch_verdicts", Default: "false", Doc: "also fetch the latest scan's result for its verdicts (one more call; needs a key)"},
		},
		BaseURL:     DefaultBaseURL,
		Rate:        "1/s",
		TTL:         12 * time.Hour,
		NotFoundTTL: 2 * time.Hour,
		MaxTLP:      tlp.Amber,
		Discloses:   true,
		Reliability: provider.ReliabilityC,
		New:         New,
	})
}

// Client is a urlscan.io search client. It holds no state beyond its config.
type Client struct {
	base          provider.Base
	size          int
	fetchVerdicts bool
}

var _ provider.Provider = (*Client)(nil)

// New builds a Client from cfg. api_key is optional (anonymous searches get
// a smaller budget); BaseURL defaults to DefaultBaseURL; setting "size"
// (default DefaultSize, at most 100) is the number of scans asked for;
// setting "fetch_verdicts" ("true"; default false) fetches the latest scan's
// result for its verdicts and needs a key. It does no I/O.
func New(cfg provider.Config) (provider.Provider, error) {
	base, err := provider.NewBase(Name, cfg, DefaultBaseURL, false)
	if err != nil {
		return nil, err
	}
	size, err := strconv.Atoi(cfg.Setting("size", strconv.Itoa(DefaultSize)))
	if err != nil || size < 1 || size > 100 {
		return nil, fmt.Errorf("urlscan: size %q: want 1 to 100", cfg.Setting("size", ""))
	}
	fetch, err := strconv.ParseBool(cfg.Setting("fetch_verdicts", "false"))
	if err != nil {
		return nil, fmt.Errorf("urlscan: fetch_verdicts %q: want true or false", cfg.Setting("fetch_verdicts", ""))
	}
	if fetch && base.Key.IsZero() {
		return nil, errors.New("urlscan: fetch_verdicts needs api_key (results are key-only)")
	}
	return &Client{base: base, size: size, fetchVerdicts: fetch}, nil
}

// Query returns the search query for i in Elasticsearch query-string
// syntax: page.url:"<url>", domain:<domain> or ip:<ip>, escaped.
func Query(i ioc.IOC) (string, error) {
	switch i.Type {
	case ioc.URL:
		return `page.url:"` + escapePhrase(i.Value) + `"`, nil
	case ioc.Domain:
		return "domain:" + escapeTerm(i.Value), nil
	case ioc.IPv4:
		return "ip:" + escapeTerm(i.Value), nil
	}
	return "", provider.ErrUnsupported
}

// escapeTerm backslash-escapes the query-string reserved characters.
func escapeTerm(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`+-=&|><!(){}[]^"~*?:\/ `, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// escapePhrase escapes what is special inside a quoted phrase.
func escapePhrase(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// Lookup searches urlscan.io's scans for i.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	q, err := Query(i)
	if err != nil {
		return provider.Finding{}, err
	}
	v := url.Values{"q": {q}, "size": {strconv.Itoa(c.size)}}
	body, err := c.get(ctx, provider.JoinURL(c.base.URL, "search/")+"?"+v.Encode())
	if err != nil {
		return provider.Finding{}, err
	}
	var r searchResponse
	if err := provider.DecodeJSON(body, &r); err != nil {
		return provider.Finding{}, err
	}
	if r.Results == nil {
		return provider.Finding{}, fmt.Errorf("%w: no \"results\" list", provider.ErrBadResponse)
	}
	if len(r.Results) > 0 && c.fetchVerdicts {
		if err := c.addVerdicts(ctx, &r.Results[0]); err != nil {
			return provider.Finding{}, err
		}
	}
	f := finding(r)
	if c.base.KeepRaw {
		f.Raw = body
	}
	return f, nil
}

// addVerdicts fills a search row's verdicts from its full result. A 404
// (scan still running, or gone) leaves the row as it is.
func (c *Client) addVerdicts(ctx context.Context, row *scan) error {
	id := row.uuid()
	if id == "" {
		return nil
	}
	body, err := c.get(ctx, provider.JoinURL(c.base.URL, "result/"+url.PathEscape(id)+"/"))
	var he *provider.HTTPError
	if errors.As(err, &he) && (he.Code == http.StatusNotFound || he.Code == http.StatusGone) {
		return nil
	}
	if err != nil {
		return err
	}
	var res struct {
		Verdicts *verdicts `json:"verdicts"`
	}
	if err := provider.DecodeJSON(body, &res); err != nil {
		return err
	}
	if res.Verdicts != nil {
		row.Verdicts = res.Verdicts
	}
	return nil
}

// get sends a GET with the key (when set) in the API-Key header and returns
// the body of a 2xx answer.
func (c *Client) get(ctx context.Context, u string) ([]byte, error) {
	req, err := provider.NewRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if !c.base.Key.IsZero() {
		req.Header.Set("API-Key", c.base.Key.Reveal())
	}
	resp, err := provider.Do(c.base.HTTP, req, c.base.Key)
	if err != nil {
		return nil, err
	}
	if err := checkStatus(resp, c.base.Key); err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// checkStatus is provider.CheckStatus, plus urlscan's answer to a malformed
// key: 400 "Invalid API key format", on every endpoint.
func checkStatus(r *provider.Response, key provider.Secret) error {
	if r.Code == http.StatusBadRequest {
		var e apiError
		if provider.DecodeJSON(r.Body, &e) == nil && strings.Contains(strings.ToLower(e.Message), "api key") {
			return fmt.Errorf("%w (http 400: %s)", provider.ErrUnauthorized, provider.Excerpt([]byte(e.Message), 80))
		}
	}
	return provider.CheckStatus(r, key)
}
