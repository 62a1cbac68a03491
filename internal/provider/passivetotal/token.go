package passivetotal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/provider"
)

// graphScope is the OAuth2 scope of an app-only Microsoft Graph token.
const graphScope = "https://graph.microsoft.com/.default"

// tokenCache holds the current Graph access token.
//
// It is the one piece of mutable state in a Client, and acceptable for the
// reasons style.md allows exceptions: it is a credential derived from config,
// not a per-look-up result; fetching a token per look-up would double every
// call and run into Entra ID's own throttling; and it is guarded, so the
// Client stays safe for concurrent Lookups and spawns no goroutine. The lock
// is a one-slot channel rather than a sync.Mutex so that a Lookup waiting
// for another's token fetch still honours its ctx.
type tokenCache struct {
	lock    chan struct{}
	token   provider.Secret
	expires time.Time
}

func newTokenCache() *tokenCache { return &tokenCache{lock: make(chan struct{}, 1)} }

// token returns a valid access token, fetching one when none is cached, the
// cached one is about to expire, or it is stale (Graph just rejected it).
// A token another Lookup fetched meanwhile is reused.
func (c *Client) token(ctx context.Context, stale provider.Secret) (provider.Secret, error) {
	select {
	case c.tok.lock <- struct{}{}:
	case <-ctx.Done():
		return provider.Secret{}, ctx.Err()
	}
	defer func() { <-c.tok.lock }()
	if !c.tok.token.IsZero() && c.tok.token != stale && c.now().Before(c.tok.expires) {
		return c.tok.token, nil
	}
	c.tok.token = provider.Secret{}
	tok, life, err := c.fetchToken(ctx)
	if err != nil {
		return provider.Secret{}, err
	}
	c.tok.token, c.tok.expires = tok, c.now().Add(life-min(2*time.Minute, life/2))
	return tok, nil
}

// tokenResponse is the Entra ID token answer; expires_in is a number in v2
// and a string in v1, hence flexSeconds.
type tokenResponse struct {
	TokenType   string      `json:"token_type"`
	ExpiresIn   flexSeconds `json:"expires_in"`
	AccessToken string      `json:"access_token"`
	Error       string      `json:"error"`
}

// fetchToken runs the OAuth2 client-credentials grant.
func (c *Client) fetchToken(ctx context.Context) (provider.Secret, time.Duration, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.clientID.Reveal()},
		"client_secret": {c.clientSecret.Reveal()},
		"scope":         {graphScope},
	}
	req, err := provider.NewRequest(ctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return provider.Secret{}, 0, provider.Scrub(err, c.secrets()...)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := provider.Do(c.base.HTTP, req, c.secrets()...)
	if err != nil {
		return provider.Secret{}, 0, fmt.Errorf("token: %w", err)
	}
	var tr tokenResponse
	if resp.Code == http.StatusBadRequest || resp.Code == http.StatusUnauthorized {
		// Entra ID: 401 invalid_client (bad secret), 400 unauthorized_client,
		// invalid_request (unknown tenant). Only the error code is kept: the
		// description may quote the client id.
		if json.Unmarshal(resp.Body, &tr) == nil && tr.Error != "" {
			return provider.Secret{}, 0, fmt.Errorf("token: %w (%s, http %d)", provider.ErrUnauthorized, tr.Error, resp.Code)
		}
	}
	if err := provider.CheckStatus(resp, c.secrets()...); err != nil {
		return provider.Secret{}, 0, fmt.Errorf("token: %w", err)
	}
	if err := provider.DecodeJSON(resp.Body, &tr); err != nil {
		return provider.Secret{}, 0, fmt.Errorf("token: %w", err)
	}
	if tr.AccessToken == "" || (tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer")) {
		return provider.Secret{}, 0, fmt.Errorf("token: %w: no bearer access_token", provider.ErrBadResponse)
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = 5 * time.Minute
	}
	return provider.NewSecret(tr.AccessToken), life, nil
}

// flexSeconds reads 3599 or "3599".
type flexSeconds int64

func (s *flexSeconds) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseInt(strings.Trim(string(b), `"`), 10, 64)
	if err != nil {
		return fmt.Errorf("expires_in: %w", err)
	}
	*s = flexSeconds(n)
	return nil
}
