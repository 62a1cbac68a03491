// Package safebrowsing checks URLs and domains against Google Safe Browsing
// with the v4 Lookup API, POST /threatMatches:find
// (https://developers.google.com/safe-browsing/v4/lookup-api).
//
// A domain is checked as the URL http://<domain>/. The API answers {} when
// nothing matches, which is not a clean verdict: Safe Browsing lists only
// what it has caught, so no match maps to not_found. Up to 500 entries fit
// in one request, so the Client is also a provider.Batcher.
package safebrowsing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the provider's contract name.
const Name = "safebrowsing"

// DefaultBaseURL is the documented API base.
const DefaultBaseURL = "https://safebrowsing.googleapis.com/v4"

// MaxEntries is the most threat entries one Lookup API request may carry.
const MaxEntries = 500

// clientVersion is sent as client.clientVersion.
const clientVersion = "1.0"

// threatTypes and platformTypes are what every request asks about.
var (
	threatTypes   = []string{"MALWARE", "SOCIAL_ENGINEERING", "UNWANTED_SOFTWARE", "POTENTIALLY_HARMFUL_APPLICATION"}
	platformTypes = []string{"ANY_PLATFORM"}
)

func init() {
	provider.Register(provider.Spec{
		Name:        Name,
		Types:       []ioc.Type{ioc.URL, ioc.Domain},
		Credentials: []string{"api_key"},
		BaseURL:     DefaultBaseURL,
		Rate:        "5/s",
		Quota:       "10000/d",
		TTL:         time.Hour,
		NotFoundTTL: 30 * time.Minute,
		MaxTLP:      tlp.Amber,
		Discloses:   true,
		Reliability: provider.ReliabilityB,
		New:         New,
	})
}

// Client is a Safe Browsing v4 Lookup API client. It holds no state beyond
// its config.
type Client struct {
	base provider.Base
}

var (
	_ provider.Provider = (*Client)(nil)
	_ provider.Batcher  = (*Client)(nil)
)

// New builds a Client from cfg: api_key is required, BaseURL defaults to
// DefaultBaseURL. It does no I/O.
func New(cfg provider.Config) (provider.Provider, error) {
	base, err := provider.NewBase(Name, cfg, DefaultBaseURL, true)
	if err != nil {
		return nil, err
	}
	return &Client{base: base}, nil
}

// MaxBatch is the most IOCs one LookupBatch call may carry.
func (c *Client) MaxBatch() int { return MaxEntries }

// Lookup checks one URL or domain.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	fs, err := c.LookupBatch(ctx, []ioc.IOC{i})
	if err != nil {
		return provider.Finding{}, err
	}
	return fs[0], nil
}

// LookupBatch checks up to MaxEntries URLs and domains in one request and
// maps each match back to the IOCs it names. An unsupported type fails the
// whole batch before any I/O.
func (c *Client) LookupBatch(ctx context.Context, is []ioc.IOC) ([]provider.Finding, error) {
	if len(is) > MaxEntries {
		return nil, fmt.Errorf("safebrowsing: batch of %d, at most %d entries", len(is), MaxEntries)
	}
	entries := make([]string, len(is))
	var uniq []threatEntry
	for n, i := range is {
		e, err := entryURL(i)
		if err != nil {
			return nil, err
		}
		entries[n] = e
		if !slices.Contains(uniq, threatEntry{URL: e}) {
			uniq = append(uniq, threatEntry{URL: e})
		}
	}
	if len(is) == 0 {
		return nil, nil
	}
	body, err := json.Marshal(findRequest{
		Client: clientInfo{ClientID: "iocane", ClientVersion: clientVersion},
		ThreatInfo: threatInfo{
			ThreatTypes: threatTypes, PlatformTypes: platformTypes,
			ThreatEntryTypes: []string{"URL"}, ThreatEntries: uniq,
		},
	})
	if err != nil {
		return nil, err
	}
	u := provider.JoinURL(c.base.URL, "threatMatches:find") + "?key=" + url.QueryEscape(c.base.Key.Reveal())
	req, err := provider.NewRequest(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, provider.Scrub(err, c.base.Key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := provider.Do(c.base.HTTP, req, c.base.Key)
	if err != nil {
		return nil, err
	}
	if err := checkStatus(resp, c.base.Key); err != nil {
		return nil, err
	}
	var r findResponse
	if err := provider.DecodeJSON(resp.Body, &r); err != nil {
		return nil, err
	}
	byEntry := map[string][]match{}
	for _, m := range r.Matches {
		k := entryKey(m.Threat.URL)
		byEntry[k] = append(byEntry[k], m)
	}
	out := make([]provider.Finding, len(is))
	for n, e := range entries {
		ms := byEntry[entryKey(e)]
		out[n] = finding(e, ms)
		if c.base.KeepRaw {
			out[n].Raw = resp.Body
			if len(is) > 1 {
				out[n].Raw, _ = json.Marshal(findResponse{Matches: ms})
			}
		}
	}
	return out, nil
}

// entryURL is what the API is asked about for i.
func entryURL(i ioc.IOC) (string, error) {
	switch i.Type {
	case ioc.URL:
		return i.Value, nil
	case ioc.Domain:
		return "http://" + i.Value + "/", nil
	}
	return "", provider.ErrUnsupported
}

// entryKey folds the differences the API may introduce when it echoes an
// entry back (host case, a missing root path), so that matches map back to
// the entries they answer.
func entryKey(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String()
}

// finding maps the matches for one entry. No match is not_found, never clean.
func finding(entry string, ms []match) provider.Finding {
	f := provider.Finding{
		Provider: Name,
		Status:   provider.StatusNotFound,
		Link:     "https://transparencyreport.google.com/safe-browsing/search?url=" + url.QueryEscape(entry),
	}
	if len(ms) == 0 {
		f.Summary = "no match in Safe Browsing lists (not a clean verdict)"
		return f
	}
	var threats, platforms []string
	meta := map[string]string{}
	cache := ""
	for _, m := range ms {
		threats = appendNew(threats, m.ThreatType)
		platforms = appendNew(platforms, m.PlatformType)
		for _, e := range m.ThreatEntryMetadata.Entries {
			meta[e.Key] = e.Value
		}
		if cache == "" {
			cache = m.CacheDuration
		}
	}
	f.Status = provider.StatusOK
	f.Malicious = 0.95
	f.Tags = threats
	f.Summary = "Safe Browsing match: " + strings.Join(threats, ", ")
	f.Data = map[string]any{"threat_types": threats, "platform_types": platforms, "url": entry}
	if len(meta) > 0 {
		f.Data["metadata"] = meta
	}
	if cache != "" {
		f.Data["cache_duration"] = cache
	}
	return f
}

// checkStatus is provider.CheckStatus, plus Google's answer to a bad key:
// 400 INVALID_ARGUMENT with reason API_KEY_INVALID.
func checkStatus(r *provider.Response, key provider.Secret) error {
	if r.Code == http.StatusBadRequest {
		var e apiError
		if json.Unmarshal(r.Body, &e) == nil && e.keyInvalid() {
			return fmt.Errorf("%w (http 400 API_KEY_INVALID)", provider.ErrUnauthorized)
		}
	}
	return provider.CheckStatus(r, key)
}

func appendNew(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}
