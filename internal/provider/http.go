package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/iocane/iocane/internal/httpx"
)

// MaxBody is the default cap on a response body a provider reads. The httpx
// chain enforces its own cap too; this one protects a provider used with a
// plain client.
const MaxBody = 8 << 20

// JoinURL appends path to base, so that a base given with or without a
// trailing slash works the same: JoinURL("https://x/api/v1/", "/check").
func JoinURL(base, path string) string {
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(path, "/")
}

// Response is a fully read HTTP answer.
type Response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// Do sends req with client and reads the whole body (up to MaxBody). Errors
// are scrubbed: the request URL's query string and every given secret are
// replaced by "[redacted]", since Go's *url.Error repeats the URL (Shodan and
// Safe Browsing carry the key in the query).
func Do(client *http.Client, req *http.Request, secrets ...Secret) (*Response, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, Scrub(err, secrets...)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, Scrub(fmt.Errorf("reading response: %w", err), secrets...)
	}
	if len(body) > MaxBody {
		return nil, fmt.Errorf("reading response: %w", errBodyTooLarge)
	}
	return &Response{Code: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

var errBodyTooLarge = fmt.Errorf("over %d bytes: %w", MaxBody, httpx.ErrBodyTooLarge)

// NewRequest builds a request carrying ctx, with Accept: application/json and
// a User-Agent naming iocane.
func NewRequest(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, Scrub(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	return req, nil
}

// UserAgent is sent with every provider request.
var UserAgent = "iocane/dev (+https://github.com/iocane/iocane)"

// CheckStatus maps the codes every API shares: 2xx is nil, 401 and 403 are
// ErrUnauthorized, 429 is ErrRateLimited (the transport already retried it),
// anything else a *HTTPError with a short excerpt of the body. Call it
// after handling the provider's own "not found" signal.
func CheckStatus(r *Response, secrets ...Secret) error {
	switch {
	case r.Code >= 200 && r.Code < 300:
		return nil
	case r.Code == http.StatusUnauthorized || r.Code == http.StatusForbidden:
		return fmt.Errorf("%w (http %d)", ErrUnauthorized, r.Code)
	case r.Code == http.StatusTooManyRequests:
		return ErrRateLimited
	}
	return Scrub(&HTTPError{Code: r.Code, Body: RedactedExcerpt(r.Body, 200, secrets...)}, secrets...)
}

// RedactedExcerpt is Excerpt of b with every secret redacted first: cut
// first, a key that straddles the cut would keep its first characters.
func RedactedExcerpt(b []byte, n int, secrets ...Secret) string {
	return Excerpt([]byte(Redact(string(b), secrets...)), n)
}

// Redact replaces every secret value in s, as given and query-escaped,
// with "[redacted]".
func Redact(s string, secrets ...Secret) string {
	for _, sec := range secrets {
		if !sec.IsZero() {
			s = strings.ReplaceAll(s, sec.Reveal(), Redacted)
			s = strings.ReplaceAll(s, url.QueryEscape(sec.Reveal()), Redacted)
		}
	}
	return s
}

// DecodeJSON unmarshals body into v, wrapping a failure in ErrBadResponse.
func DecodeJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s", ErrBadResponse, jsonErrText(err))
	}
	return nil
}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	}
	return err.Error()
}

// Excerpt returns at most n bytes of b as printable single-line text.
func Excerpt(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	s := strings.ToValidUTF8(string(b), "?")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// scrubbed wraps an error whose text had secrets removed, keeping the chain
// for errors.Is and errors.As.
type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// Scrub returns err with every secret value and every URL query string in its
// text replaced by "[redacted]". errors.Is and errors.As still see the
// original chain (whose own texts are never printed by iocane).
func Scrub(err error, secrets ...Secret) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// Rebuild the url.Error without its query, then scrub the text.
		clean := ue.URL
		if i := strings.IndexByte(clean, '?'); i >= 0 {
			clean = clean[:i] + "?" + Redacted
		}
		err = &scrubbed{msg: strings.Replace(err.Error(), ue.URL, clean, 1), err: err}
	}
	msg := Redact(err.Error(), secrets...)
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}
