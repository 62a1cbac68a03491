package httpdecl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

// Client is a declared provider: one compiled block and the shared parts
// every HTTP provider is built from. It holds no state beyond its config.
type Client struct {
	d    *decl
	base provider.Base
}

var _ provider.Provider = (*Client)(nil)

// new is the Spec's New: it checks cfg as every HTTP provider does (the
// api_key is required when the block says where it goes; base_url, when
// set, replaces the origin of url) and does no I/O.
func (d *decl) new(cfg provider.Config) (provider.Provider, error) {
	base, err := provider.NewBase(d.name, cfg, d.origin, d.auth.set())
	if err != nil {
		return nil, err
	}
	return &Client{d: d, base: base}, nil
}

// Lookup makes the declared request for i and maps the answer: not_found
// is checked first, then found; an answer matching neither is an error
// (401/403 unauthorized, 429 rate limited, others an HTTP error; a 2xx
// answer that matches neither rule is a bad response).
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	d := c.d
	if !slices.Contains(d.types, i.Type) {
		return provider.Finding{}, provider.ErrUnsupported
	}
	req, err := c.request(ctx, i)
	if err != nil {
		return provider.Finding{}, err
	}
	resp, err := provider.Do(c.base.HTTP, req, c.base.Key)
	if err != nil {
		return provider.Finding{}, err
	}
	valid := gjson.ValidBytes(resp.Body)
	switch {
	case d.notFound.match(resp, valid):
		return provider.Finding{Provider: d.name, Status: provider.StatusNotFound, Summary: "unknown to " + d.name}, nil
	case d.found.match(resp, valid):
		if !valid {
			return provider.Finding{}, fmt.Errorf("%s: %w: malformed JSON", d.name, provider.ErrBadResponse)
		}
		return c.finding(i, resp.Body)
	}
	if err := provider.CheckStatus(resp, c.base.Key); err != nil {
		return provider.Finding{}, fmt.Errorf("%s: %w", d.name, err)
	}
	if !valid {
		return provider.Finding{}, fmt.Errorf("%s: %w: malformed JSON", d.name, provider.ErrBadResponse)
	}
	return provider.Finding{}, fmt.Errorf("%s: %w: http %d answer matches neither found nor not_found", d.name, provider.ErrBadResponse, resp.Code)
}

// request builds the declared request, with the key in its place.
func (c *Client) request(ctx context.Context, i ioc.IOC) (*http.Request, error) {
	d, src := c.d, source{ioc: i}
	u := c.base.URL
	if rest := d.path.render(src); rest != "" {
		u = provider.JoinURL(u, rest)
	}
	if d.auth.query != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + url.QueryEscape(d.auth.query) + "=" + url.QueryEscape(c.base.Key.Reveal())
	}
	var body io.Reader
	if d.body != nil {
		body = strings.NewReader(d.body.render(src))
	}
	req, err := provider.NewRequest(ctx, d.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.name, provider.Scrub(err, c.base.Key))
	}
	if d.body != nil {
		req.Header.Set("Content-Type", d.ctype)
	}
	if d.auth.header != "" {
		req.Header.Set(d.auth.header, d.auth.prefix+c.base.Key.Reveal())
	}
	return req, nil
}

// finding maps a found answer: the signals, the summary, the link, and
// every JSON path they read as Data (by path, as typed values).
func (c *Client) finding(i ioc.IOC, body []byte) (provider.Finding, error) {
	d, key := c.d, c.base.Key
	f := provider.Finding{Provider: d.name, Status: provider.StatusOK, Data: map[string]any{}}
	var err error
	if f.Malicious, err = d.malicious.signal(body); err != nil {
		return provider.Finding{}, fmt.Errorf("%s: %w: malicious: %s", d.name, provider.ErrBadResponse, provider.Redact(err.Error(), key))
	}
	if f.Benign, err = d.benign.signal(body); err != nil {
		return provider.Finding{}, fmt.Errorf("%s: %w: benign: %s", d.name, provider.ErrBadResponse, provider.Redact(err.Error(), key))
	}
	src := source{ioc: i, body: body}
	f.Summary = "known to " + d.name
	if d.summary != nil {
		if s := provider.Excerpt([]byte(d.summary.render(src)), 200); s != "" {
			f.Summary = s
		}
	}
	if d.link != nil {
		f.Link = d.link.render(src)
	}
	f.Summary, f.Link = provider.Redact(f.Summary, key), provider.Redact(f.Link, key)
	var paths []string
	for _, e := range []*expr{d.malicious, d.benign} {
		if e != nil {
			paths = append(paths, e.path)
		}
	}
	for _, p := range append(append(paths, d.summary.paths()...), d.link.paths()...) {
		if r := gjson.GetBytes(body, p); r.Exists() {
			f.Data[p] = redactValue(r.Value(), key)
		}
	}
	if c.base.KeepRaw {
		f.Raw = body
		if !key.IsZero() && bytes.Contains(body, []byte(key.Reveal())) {
			f.Raw = []byte(provider.Redact(string(body), key)) // an echo of the key is never kept
		}
	}
	return f, nil
}

// signal evaluates a signal expression; an unset one is 0.
func (e *expr) signal(body []byte) (float64, error) {
	if e == nil {
		return 0, nil
	}
	return e.eval(body)
}

// redactValue redacts the key from a string value read for Data.
func redactValue(v any, key provider.Secret) any {
	if s, ok := v.(string); ok {
		return provider.Redact(s, key)
	}
	return v
}

// match reports whether the answer fits the rule: its status (any 2xx when
// the rule lists none) and, when the rule has a path, a valid JSON body
// whose value there equals the rule's (or is truthy, without equals).
func (r rule) match(resp *provider.Response, valid bool) bool {
	if r.status == nil {
		if resp.Code < 200 || resp.Code > 299 {
			return false
		}
	} else if !slices.Contains(r.status, resp.Code) {
		return false
	}
	if r.path == "" {
		return true
	}
	if !valid {
		return false
	}
	v := gjson.GetBytes(resp.Body, r.path)
	if r.equals != nil {
		return r.equals.equal(v)
	}
	return truthy(v)
}
