package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/iocane/iocane/internal/integrations"

	"github.com/iocane/iocane/internal/provider"
)

// ErrPermanent marks a failure a retry cannot fix (a 4xx: a revoked
// webhook, a malformed card). permanent wraps it together with
// integrations.ErrPermanent, which tells the Dispatcher not to retry.
var ErrPermanent = errors.New("notify: permanent failure")

// permanent marks err as not worth retrying.
func permanent(err error) error {
	return fmt.Errorf("%w: %w: %w", integrations.ErrPermanent, ErrPermanent, err)
}

// HTTPError is a webhook's non-2xx answer. Body is a short excerpt,
// scrubbed of the webhook URL.
type HTTPError struct {
	Code int
	Body string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	s := "http " + strconv.Itoa(e.Code)
	if e.Body != "" {
		s += ": " + e.Body
	}
	if e.RetryAfter > 0 {
		s += " (retry after " + e.RetryAfter.String() + ")"
	}
	return s
}

// Signature headers of the generic webhook, as iocane's own intake reads
// them: the Unix time in seconds, and "sha256=" + hex(HMAC-SHA256(secret,
// timestamp + "." + body)).
const (
	HeaderTimestamp = "X-Iocane-Timestamp"
	HeaderSignature = "X-Iocane-Signature"
)

// poster sends JSON to a webhook URL held as a Secret.
type poster struct {
	client *http.Client
	url    provider.Secret
	sign   provider.Secret // HMAC key; zero for none
	now    func() time.Time
}

// post sends v. Errors never contain the URL: a transport error keeps only
// its cause, a status error only the code and a scrubbed excerpt.
func (p poster) post(ctx context.Context, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // readable bodies: "<url|text>" stays as Slack documents it
	if err := enc.Encode(v); err != nil {
		return permanent(fmt.Errorf("encoding the message: %w", err))
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url.Reveal(), bytes.NewReader(body))
	if err != nil {
		return permanent(errors.New("the webhook URL is not valid"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", provider.UserAgent)
	if !p.sign.IsZero() {
		ts := strconv.FormatInt(p.now().Unix(), 10)
		mac := hmac.New(sha256.New, []byte(p.sign.Reveal()))
		mac.Write([]byte(ts + "."))
		mac.Write(body)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return p.scrub(transportError(err))
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	he := &HTTPError{Code: resp.StatusCode, Body: provider.RedactedExcerpt(reply, 200, expand([]provider.Secret{p.url, p.sign})...)}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			he.RetryAfter = time.Duration(n) * time.Second
		}
	}
	err = p.scrub(he)
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout {
		return permanent(err)
	}
	return err
}

// transportError drops the URL Go's *url.Error repeats, keeping the cause
// (so errors.Is still sees context.Canceled and friends).
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("post: %w", ue.Err)
	}
	return fmt.Errorf("post: %w", err)
}

func (p poster) scrub(err error) error {
	return scrubErr(err, p.url, p.sign)
}

// scrubErr replaces every secret in err's text (the whole URL, and its path
// and query, which hold the token) with "[redacted]".
func scrubErr(err error, secrets ...provider.Secret) error {
	return provider.Scrub(err, expand(secrets)...)
}

// redact is scrubErr for a string.
func redact(s string, secrets ...provider.Secret) string {
	return provider.Redact(s, expand(secrets)...)
}

// expand adds, for each secret that is a URL, its path and query: a server
// echoing only the path must not leak the token either.
func expand(secrets []provider.Secret) []provider.Secret {
	var all []provider.Secret
	for _, s := range secrets {
		if s.IsZero() {
			continue
		}
		all = append(all, s)
		if u, perr := url.Parse(s.Reveal()); perr == nil {
			if len(u.Path) > 1 {
				all = append(all, provider.NewSecret(u.Path), provider.NewSecret(u.EscapedPath()))
			}
			if u.RawQuery != "" {
				all = append(all, provider.NewSecret(u.RawQuery))
			}
		}
	}
	return all
}
