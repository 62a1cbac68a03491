// Package misp looks up any IOC in your own MISP instance through the
// attribute search, POST /attributes/restSearch
// (https://www.misp-project.org/openapi/#tag/Attributes).
//
// MISP is the one external source allowed TLP:RED input, since the instance
// is your own. Its base URL therefore has no default: it must be configured
// (IOCANE_MISP_BASE_URL). The search is a POST but only reads; see the README
// for what that means for retries.
package misp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the provider's contract name.
const Name = "misp"

// DefaultLimit is how many attributes one search returns at most (setting
// "limit").
const DefaultLimit = 100

func init() {
	provider.Register(provider.Spec{
		Name:        Name,
		Types:       slices.Clone(ioc.Types),
		Credentials: []string{"api_key"},
		Settings:    []provider.Setting{{Name: "limit", Default: strconv.Itoa(DefaultLimit), Doc: "most attributes one search returns"}},
		BaseURL:     "", // your own instance: no default
		Rate:        "10/s",
		TTL:         6 * time.Hour,
		NotFoundTTL: time.Hour,
		MaxTLP:      tlp.Red,
		Discloses:   false,
		Reliability: provider.ReliabilityB,
		New:         New,
	})
}

// Client searches one MISP instance. It holds no state beyond its config.
type Client struct {
	base  provider.Base // base.URL without a trailing slash
	limit int
}

var _ provider.Provider = (*Client)(nil)

// New builds a Client from cfg: BaseURL (the instance) and api_key are
// required; setting "limit" caps the attributes returned (default
// DefaultLimit). It does no I/O.
func New(cfg provider.Config) (provider.Provider, error) {
	base, err := provider.NewBase(Name, cfg, "", true)
	if err != nil {
		return nil, err
	}
	base.URL = strings.TrimRight(base.URL, "/")
	limit, err := strconv.Atoi(cfg.Setting("limit", strconv.Itoa(DefaultLimit)))
	if err != nil || limit < 1 {
		return nil, fmt.Errorf("misp: limit %q: want a positive integer", cfg.Setting("limit", ""))
	}
	return &Client{base: base, limit: limit}, nil
}

// query is the restSearch body. The value alone selects the attributes: a
// type filter would drop composite attributes (domain|ip, filename|md5,
// ip-dst|port) whose halves MISP also matches by value.
type query struct {
	ReturnFormat           string `json:"returnFormat"`
	Value                  string `json:"value"`
	IncludeEventTags       bool   `json:"includeEventTags"`
	IncludeEventUUID       bool   `json:"includeEventUuid"`
	IncludeWarninglistHits bool   `json:"includeWarninglistHits"`
	Deleted                bool   `json:"deleted"`
	Limit                  int    `json:"limit"`
	Page                   int    `json:"page"`
}

// Lookup searches the instance for attributes whose value is i.Value.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	if !i.Type.Valid() {
		return provider.Finding{}, provider.ErrUnsupported
	}
	body, err := json.Marshal(query{
		ReturnFormat: "json", Value: i.Value, IncludeEventTags: true, IncludeEventUUID: true,
		IncludeWarninglistHits: true, Limit: c.limit, Page: 1,
	})
	if err != nil {
		return provider.Finding{}, err
	}
	req, err := provider.NewRequest(ctx, http.MethodPost, c.base.URL+"/attributes/restSearch", bytes.NewReader(body))
	if err != nil {
		return provider.Finding{}, err
	}
	req.Header.Set("Authorization", c.base.Key.Reveal())
	req.Header.Set("Content-Type", "application/json")
	resp, err := provider.Do(c.base.HTTP, req, c.base.Key)
	if err != nil {
		return provider.Finding{}, err
	}
	if err := provider.CheckStatus(resp, c.base.Key); err != nil {
		return provider.Finding{}, err
	}
	var r searchResponse
	if err := provider.DecodeJSON(resp.Body, &r); err != nil {
		return provider.Finding{}, err
	}
	if r.Response == nil {
		return provider.Finding{}, fmt.Errorf("%w: no \"response\" object", provider.ErrBadResponse)
	}
	f := c.finding(r.Response.Attribute)
	if c.base.KeepRaw {
		f.Raw = resp.Body
	}
	return f, nil
}

// sighting is the body of POST /sightings/add.
type sighting struct {
	Value  string `json:"value"`
	Type   string `json:"type"` // "0" a sighting, "1" a false positive
	Source string `json:"source"`
}

// AddSighting records an analyst's verdict on value in the instance as a
// sighting of every attribute with that value: a false positive (type 1)
// or a true sighting (type 0), with source "iocane". It needs a key
// allowed to add sightings. A value with no attribute is an error (MISP
// answers 403, "No valid attributes found").
func (c *Client) AddSighting(ctx context.Context, value string, falsePositive bool) error {
	t := "0"
	if falsePositive {
		t = "1"
	}
	body, err := json.Marshal(sighting{Value: value, Type: t, Source: "iocane"})
	if err != nil {
		return err
	}
	req, err := provider.NewRequest(ctx, http.MethodPost, c.base.URL+"/sightings/add", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", c.base.Key.Reveal())
	req.Header.Set("Content-Type", "application/json")
	resp, err := provider.Do(c.base.HTTP, req, c.base.Key)
	if err != nil {
		return fmt.Errorf("misp: sighting: %w", err)
	}
	// MISP refuses a sighting with its failure response, "saved": false
	// and the reason in "errors", under 403 as for a bad key: the reason
	// tells them apart.
	var r struct {
		Saved  *bool `json:"saved"`
		Errors any   `json:"errors"`
	}
	decoded := provider.DecodeJSON(resp.Body, &r) == nil
	if decoded && r.Saved != nil && !*r.Saved && r.Errors != nil {
		why := provider.RedactedExcerpt([]byte(fmt.Sprint(r.Errors)), 200, c.base.Key)
		return fmt.Errorf("misp: sighting not saved (http %d): %s", resp.Code, why)
	}
	if err := provider.CheckStatus(resp, c.base.Key); err != nil {
		return fmt.Errorf("misp: sighting: %w", err)
	}
	if decoded && r.Saved != nil && !*r.Saved {
		return errors.New("misp: sighting not saved")
	}
	return nil
}

// finding maps the matching attributes. An empty list is MISP's not found.
func (c *Client) finding(attrs []attribute) provider.Finding {
	f := provider.Finding{Provider: Name, Status: provider.StatusNotFound}
	if len(attrs) == 0 {
		f.Summary = "no attribute in MISP"
		return f
	}
	f.Status = provider.StatusOK
	var (
		events, infos, categories, types, tags, warnings []string
		ids, benign, linkEvent                           = 0, 0, ""
		first, last                                      time.Time
	)
	for _, a := range attrs {
		fp := a.falsePositive()
		switch {
		case fp:
			benign++
		case bool(a.ToIDs):
			ids++
			if linkEvent == "" {
				linkEvent = a.EventID
			}
		}
		events = appendNew(events, a.EventID)
		if a.Event != nil {
			infos = appendNew(infos, a.Event.Info)
		}
		categories = appendNew(categories, a.Category)
		types = appendNew(types, a.Type)
		for _, t := range a.Tag {
			tags = appendNew(tags, t.Name)
		}
		for _, w := range a.Warnings {
			warnings = appendNew(warnings, w.Name)
		}
		fs, ls := a.seen()
		if !fs.IsZero() && (first.IsZero() || fs.Before(first)) {
			first = fs
		}
		if ls.After(last) {
			last = ls
		}
	}
	if linkEvent == "" {
		linkEvent = attrs[0].EventID
	}
	slices.Sort(tags)
	f.Malicious, f.Benign = signals(len(attrs), ids, benign)
	f.Tags = tags
	f.Link = c.base.URL + "/events/view/" + url.PathEscape(linkEvent)
	f.Data = map[string]any{
		"attributes": len(attrs),
		"to_ids":     ids,
		"event_ids":  events,
		"events":     infos,
		"categories": categories,
		"types":      types,
	}
	if len(tags) > 0 {
		f.Data["tags"] = tags
	}
	if m := tlpOf(tags); m != "" {
		f.Data["tlp"] = m
	}
	if len(warnings) > 0 {
		f.Data["warninglists"] = warnings
	}
	if !first.IsZero() {
		f.Data["first_seen"] = first
	}
	if !last.IsZero() {
		f.Data["last_seen"] = last
	}
	f.Summary = summary(len(attrs), len(events), ids, benign, infos)
	return f
}

// signals maps attribute counts to the shared scale: an IDS-flagged
// attribute in your own curated instance settles it (0.9); attributes kept as
// context only (to_ids false) are suspicious (0.5); attributes tagged as false
// positives or hitting a warning list are benign evidence, strong (0.8) when
// every match is one, weak (0.3) when they sit beside real ones.
func signals(total, ids, benign int) (mal, ben float64) {
	switch {
	case ids > 0:
		mal = 0.9
	case total > benign:
		mal = 0.5
	}
	switch {
	case benign == total:
		ben = 0.8
	case benign > 0:
		ben = 0.3
	}
	return mal, ben
}

func summary(attrs, events, ids, benign int, infos []string) string {
	s := fmt.Sprintf("%d attribute(s) in %d event(s)", attrs, events)
	switch {
	case ids > 0:
		s += fmt.Sprintf(", %d flagged for IDS", ids)
	case benign == attrs:
		s += ", marked false positive or on a warning list"
	default:
		s += ", context only (to_ids off)"
	}
	if len(infos) > 0 {
		s += ": " + strconv.Quote(infos[0])
	}
	return s
}

// tlpOf returns the most restrictive tlp:* tag, e.g. "amber".
func tlpOf(tags []string) string {
	best, found := tlp.Clear, false
	for _, t := range tags {
		name, ok := strings.CutPrefix(strings.ToLower(t), "tlp:")
		if !ok {
			continue
		}
		if l, ok := tlp.Parse(name); ok && (!found || l > best) {
			best, found = l, true
		}
	}
	if !found {
		return ""
	}
	return best.String()
}

func appendNew(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}
