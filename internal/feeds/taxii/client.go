package taxii

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/iocane/iocane/internal/httpx"
	"github.com/iocane/iocane/internal/provider"
)

// MediaType is the TAXII 2.1 media type, sent in Accept with every request.
const MediaType = "application/taxii+json;version=2.1"

// Defaults for Config.
const (
	DefaultPageSize     = 1000
	DefaultMaxBody      = 64 << 20
	DefaultAPIKeyHeader = "Authorization"
)

// Errors a Sync may return, wrapped with %w.
var (
	// ErrUnauthorized means the server refused the credentials (401 or
	// 403), or the collection is not readable with them.
	ErrUnauthorized = errors.New("unauthorized: check the username and password or the api key")
	// ErrNotFound means the server answered 404: no such API root or
	// collection (or one these credentials may not see).
	ErrNotFound = errors.New("not found")
	// ErrBadResponse means an answer was not the TAXII resource asked for:
	// malformed JSON, the wrong shape, a broken paging promise.
	ErrBadResponse = errors.New("unexpected response")
	// ErrBodyTooLarge means an answer was longer than Config.MaxBody. It is
	// httpx.ErrBodyTooLarge, which the httpx chain's own cap returns.
	ErrBodyTooLarge = httpx.ErrBodyTooLarge
	// ErrBadIndicator means some indicators could not be read and were
	// skipped. A Sync returning it has finished: its cursor is good.
	ErrBadIndicator = errors.New("unreadable indicators skipped")
)

// Error is a non-success HTTP answer. When the body is a TAXII error
// message, Title, Description and ErrorCode are its members (cut short,
// credentials redacted); otherwise Body is a short excerpt of it.
type Error struct {
	Status      int
	Title       string
	Description string
	ErrorCode   string
	Body        string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "http %d", e.Status)
	for _, s := range []string{e.Title, e.Description, e.Body} {
		if s != "" {
			b.WriteString(": " + s)
		}
	}
	if e.ErrorCode != "" {
		b.WriteString(" (error_code " + e.ErrorCode + ")")
	}
	return b.String()
}

// Unwrap lets errors.Is match ErrUnauthorized (401, 403) and ErrNotFound
// (404).
func (e *Error) Unwrap() error {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	case http.StatusNotFound:
		return ErrNotFound
	}
	return nil
}

// Config says which feed to read and how.
type Config struct {
	// URL is the discovery URL (…/taxii2/) or an API root URL; the answer
	// tells them apart. Discovery's default API root is used, else its
	// first; it must be on the same host. Required; http is refused with
	// credentials unless the host is a loopback address.
	URL string
	// Collection is the collection id. Required.
	Collection string
	// Username and Password, when Username is set, are sent as HTTP Basic
	// auth.
	Username, Password provider.Secret
	// APIKey, when set, is sent raw in the APIKeyHeader header (default
	// "Authorization"; then it cannot go with Basic auth).
	APIKey       provider.Secret
	APIKeyHeader string
	// PageSize is the limit asked for per page. Default 1000; the server
	// may send fewer.
	PageSize int
	// MaxBody caps each answer's body. Default 64 MiB.
	MaxBody int64
}

// Client reads one collection of one TAXII 2.1 server. It holds only its
// config and is safe for concurrent use.
type Client struct {
	cfg     Config
	base    *url.URL
	hc      *http.Client
	secrets []provider.Secret
}

// New checks cfg and builds a Client; it does no I/O. A nil hc means an
// httpx client (retries, breaker, timeouts) capped at cfg.MaxBody.
// Redirects are followed only on the same host and never from https to
// http, since the credentials go with them.
func New(cfg Config, hc *http.Client) (*Client, error) {
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.APIKeyHeader == "" {
		cfg.APIKeyHeader = DefaultAPIKeyHeader
	}
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil || cfg.URL == "":
		return nil, errors.New("taxii: url: want an absolute http(s) url")
	case u.Scheme != "https" && u.Scheme != "http" || u.Host == "":
		return nil, fmt.Errorf("taxii: url %q: want an absolute http(s) url", u.Redacted())
	case u.User != nil:
		return nil, errors.New("taxii: url: credentials go in username and password, not in the url")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("taxii: url %q: no query or fragment", u.Redacted())
	case !validCollection(cfg.Collection):
		return nil, fmt.Errorf("taxii: collection %q: want a collection id", cfg.Collection)
	case cfg.PageSize < 0:
		return nil, fmt.Errorf("taxii: page size %d: want a positive number", cfg.PageSize)
	case cfg.MaxBody < 0:
		return nil, fmt.Errorf("taxii: max body %d: want a positive number", cfg.MaxBody)
	case !httpguts.ValidHeaderFieldName(cfg.APIKeyHeader):
		return nil, fmt.Errorf("taxii: api key header %q: not a header name", cfg.APIKeyHeader)
	case cfg.Username.IsZero() && !cfg.Password.IsZero():
		return nil, errors.New("taxii: a password without a username")
	case !cfg.Username.IsZero() && !cfg.APIKey.IsZero() && strings.EqualFold(cfg.APIKeyHeader, "Authorization"):
		return nil, errors.New("taxii: basic auth and an api key cannot share the authorization header: set api_key_header")
	}
	for name, s := range map[string]provider.Secret{"username": cfg.Username, "password": cfg.Password, "api key": cfg.APIKey} {
		if !httpguts.ValidHeaderFieldValue(s.Reveal()) {
			return nil, fmt.Errorf("taxii: %s: holds characters a header cannot carry", name)
		}
	}
	if strings.Contains(cfg.Username.Reveal(), ":") {
		return nil, errors.New("taxii: username: basic auth forbids ':' in it")
	}
	hasCreds := !cfg.Username.IsZero() || !cfg.APIKey.IsZero()
	if hasCreds && u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("taxii: url %q: credentials are sent only over https (or to a loopback address)", u.Redacted())
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	c := &Client{cfg: cfg, base: u}
	c.secrets = []provider.Secret{cfg.Password, cfg.APIKey}
	if !cfg.Username.IsZero() {
		basic := base64.StdEncoding.EncodeToString([]byte(cfg.Username.Reveal() + ":" + cfg.Password.Reveal()))
		c.secrets = append(c.secrets, provider.NewSecret(basic))
	}
	if hc == nil {
		hc = httpx.NewClient(httpx.Options{Name: "taxii", MaxBody: cfg.MaxBody, Timeout: 2 * time.Minute})
	}
	own := *hc
	own.CheckRedirect = sameHostRedirect(hc.CheckRedirect)
	c.hc = &own
	return c, nil
}

// validCollection accepts an id that stays one path segment: no "/",
// "?", "#", "%", space or control character, and not "." or "..".
func validCollection(id string) bool {
	if id == "" || id == "." || id == ".." || len(id) > 256 {
		return false
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("/?#%\\", r) {
			return false
		}
	}
	return true
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var errRedirect = errors.New("taxii: redirect to another host or from https to http refused")

func sameHostRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if req.URL.Host != first.Host || (first.Scheme == "https" && req.URL.Scheme != "https") {
			return errRedirect
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("taxii: too many redirects")
		}
		return nil
	}
}

// response is a fully read 2xx answer.
type response struct {
	header http.Header
	body   []byte
}

// get sends one GET to u with the TAXII Accept header and the credentials
// and reads the answer. A non-2xx answer is an *Error. Error texts carry
// the URL's path, never its query, and never a credential.
func (c *Client) get(ctx context.Context, u *url.URL) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("taxii: get %s: %w", u.Path, err)
	}
	req.Header.Set("Accept", MediaType)
	req.Header.Set("User-Agent", provider.UserAgent)
	if !c.cfg.Username.IsZero() {
		req.SetBasicAuth(c.cfg.Username.Reveal(), c.cfg.Password.Reveal())
	}
	if !c.cfg.APIKey.IsZero() {
		req.Header.Set(c.cfg.APIKeyHeader, c.cfg.APIKey.Reveal())
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, provider.Scrub(fmt.Errorf("taxii: get %s: %w", u.Path, err), c.secrets...)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBody+1))
	if err != nil {
		if errors.Is(err, httpx.ErrBodyTooLarge) {
			return nil, fmt.Errorf("taxii: get %s: over %d bytes: %w", u.Path, c.cfg.MaxBody, ErrBodyTooLarge)
		}
		return nil, provider.Scrub(fmt.Errorf("taxii: get %s: reading the answer: %w", u.Path, err), c.secrets...)
	}
	if int64(len(body)) > c.cfg.MaxBody {
		return nil, fmt.Errorf("taxii: get %s: over %d bytes: %w", u.Path, c.cfg.MaxBody, ErrBodyTooLarge)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("taxii: get %s: %w", u.Path, c.statusError(resp.StatusCode, body))
	}
	return &response{header: resp.Header, body: body}, nil
}

// statusError reads a TAXII error message from body, or keeps an excerpt
// of whatever else it is.
func (c *Client) statusError(code int, body []byte) *Error {
	e := &Error{Status: code}
	var msg struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		ErrorCode   any    `json:"error_code"`
	}
	if json.Unmarshal(body, &msg) == nil && msg.Title != "" {
		e.Title = provider.RedactedExcerpt([]byte(msg.Title), 120, c.secrets...)
		e.Description = provider.RedactedExcerpt([]byte(msg.Description), 300, c.secrets...)
		if msg.ErrorCode != nil {
			e.ErrorCode = provider.RedactedExcerpt(fmt.Append(nil, msg.ErrorCode), 40, c.secrets...)
		}
		return e
	}
	e.Body = provider.RedactedExcerpt(body, 200, c.secrets...)
	return e
}

// decode unmarshals a 2xx body into v; what names the resource for the
// error.
func (c *Client) decode(r *response, v any, what string) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("%w: %s is not JSON (%s; content-type %q): %s", ErrBadResponse, what,
			jsonErrText(err), provider.Excerpt([]byte(r.header.Get("Content-Type")), 60),
			provider.RedactedExcerpt(r.body, 80, c.secrets...))
	}
	return nil
}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("member %q is a JSON %s", te.Field, te.Value)
	}
	return "malformed"
}
