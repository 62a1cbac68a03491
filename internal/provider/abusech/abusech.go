// Package abusech holds what the three abuse.ch APIs (MalwareBazaar, URLhaus
// and ThreatFox) share, so that each provider package only maps its own
// fields: the Auth-Key header, the query_status envelope, the statuses that
// mean "bad key" or "bad query" inside an HTTP 200, abuse.ch's number and
// date formats, and the "api_key is required" check.
//
// All three answer HTTP 200 for every outcome of a well-formed request and put
// the outcome in query_status ("ok", a not-found status of their own, or a
// refusal). A missing or wrong key is HTTP 401 since 2025; a query_status
// naming the auth key (e.g. "unknown_auth_key") is treated the same way.
// Look-ups are POSTs but read-only: the body is a bytes.Reader, so
// http.Request.GetBody is set and a retrying transport can replay it.
package abusech

import (
	"bytes"
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

// AuthHeader is the header every abuse.ch API reads the key from (the older
// API-KEY header is no longer accepted).
const AuthHeader = "Auth-Key"

// StatusOK is the query_status of an answer that carries data.
const StatusOK = "ok"

// Caller sends queries to one abuse.ch API. Its Key is the abuse.ch
// Auth-Key and its URL the API base.
type Caller struct {
	provider.Base
}

// NewCaller builds a Caller from cfg, requiring the api_key credential; the
// base URL defaults to defaultURL (see provider.NewBase). name is the
// provider's name, for the errors.
func NewCaller(name string, cfg provider.Config, defaultURL string) (Caller, error) {
	if cfg.Secret("api_key").IsZero() {
		return Caller{}, fmt.Errorf("%s: api_key is required (a free abuse.ch Auth-Key from https://auth.abuse.ch/)", name)
	}
	base, err := provider.NewBase(name, cfg, defaultURL, true)
	if err != nil {
		return Caller{}, err
	}
	return Caller{Base: base}, nil
}

// Reply is one decoded abuse.ch answer.
type Reply struct {
	// Status is query_status.
	Status string
	// Data is the raw "data" member, if any. ThreatFox sends a string here
	// when nothing matched, so it is left for the caller to decode.
	Data json.RawMessage
	// Body is the whole response body (URLhaus keeps its fields at the top
	// level, beside query_status).
	Body []byte
}

// StatusError is a query_status that is neither ok nor a not-found status:
// abuse.ch refused the query ("illegal_hash", "invalid_url",
// "illegal_search_term", ...).
type StatusError struct {
	Status string
}

func (e *StatusError) Error() string { return "abuse.ch refused the query: " + e.Status }

// PostForm sends form as an application/x-www-form-urlencoded POST to u.
func (c Caller) PostForm(ctx context.Context, u string, form url.Values) (*Reply, error) {
	return c.post(ctx, u, "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// PostJSON sends v as a JSON POST to u.
func (c Caller) PostJSON(ctx context.Context, u string, v any) (*Reply, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding query: %w", err)
	}
	return c.post(ctx, u, "application/json", b)
}

func (c Caller) post(ctx context.Context, u, contentType string, body []byte) (*Reply, error) {
	req, err := provider.NewRequest(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(AuthHeader, c.Key.Reveal())
	resp, err := provider.Do(c.HTTP, req, c.Key)
	if err != nil {
		return nil, err
	}
	if err := provider.CheckStatus(resp, c.Key); err != nil {
		return nil, err
	}
	var env struct {
		QueryStatus string          `json:"query_status"`
		Data        json.RawMessage `json:"data"`
	}
	if err := provider.DecodeJSON(resp.Body, &env); err != nil {
		return nil, err
	}
	if env.QueryStatus == "" {
		return nil, fmt.Errorf("%w: no query_status", provider.ErrBadResponse)
	}
	if strings.Contains(env.QueryStatus, "auth_key") {
		return nil, fmt.Errorf("%w (query_status %s)", provider.ErrUnauthorized, env.QueryStatus)
	}
	return &Reply{Status: env.QueryStatus, Data: env.Data, Body: resp.Body}, nil
}

// Int is a count abuse.ch sends either as a JSON number or as a string
// ("url_count": "120", "downloads": "2342"); null and "" read as 0.
type Int int

// UnmarshalJSON accepts a number, a numeric string, "" or null.
func (n *Int) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("abuse.ch count %s: %w", b, err)
	}
	*n = Int(v)
	return nil
}

// ID is an identifier abuse.ch sends as a string ("105821") or a number.
type ID string

// UnmarshalJSON accepts a string, a number or null.
func (id *ID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*id = ID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("abuse.ch id %s: %w", b, err)
	}
	*id = ID(n.String())
	return nil
}

// timeLayouts are the date forms the abuse.ch APIs use.
var timeLayouts = []string{
	"2006-01-02 15:04:05 MST", // URLhaus, ThreatFox: "2019-01-19 01:33:26 UTC"
	"2006-01-02 15:04:05",     // MalwareBazaar: "2020-02-13 11:55:46" (UTC)
	"2006-01-02",              // URLhaus payload firstseen
	time.RFC3339,
}

// Time parses an abuse.ch timestamp as UTC. It reports false for null,
// empty or unknown forms, so that a field the API left out stays out of
// Data.
func Time(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// SetTime stores the parsed timestamp s in data[key] when it parses.
func SetTime(data map[string]any, key string, s *string) {
	if s == nil {
		return
	}
	if t, ok := Time(*s); ok {
		data[key] = t
	}
}

// SetString stores s in data[key] when it is set and not empty.
func SetString(data map[string]any, key string, s *string) {
	if s != nil && *s != "" {
		data[key] = *s
	}
}

// Tags joins label lists into one, dropping empties and case-insensitive
// duplicates, keeping first-seen order.
func Tags(lists ...[]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range lists {
		for _, t := range l {
			t = strings.TrimSpace(t)
			k := strings.ToLower(t)
			if t == "" || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, t)
		}
	}
	return out
}
