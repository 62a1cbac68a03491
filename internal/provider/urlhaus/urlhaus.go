// Package urlhaus looks indicators up in abuse.ch URLhaus, a database of URLs
// used to distribute malware, the hosts serving them and the payloads they
// served.
//
// URLs go to /url/, domains and IPv4 addresses to /host/, MD5 and SHA-256
// hashes to /payload/: one form POST each. URLhaus keeps its fields at the top
// level beside query_status, and says "not found" with "no_results".
//
// A listed URL is malicious whether or not it is still online (0.9 online,
// 0.8 offline or unknown). A host is judged by its URLs and the blocklists
// URLhaus reports for it; a host Spamhaus DBL marks as an abused legitimate
// site (shared hosting, file sharing) is capped at 0.5, since the host
// itself is not the threat.
package urlhaus

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/abusech"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the provider's contract name.
const Name = "urlhaus"

// DefaultBaseURL is the documented API base.
const DefaultBaseURL = "https://urlhaus-api.abuse.ch/v1"

func init() {
	provider.Register(provider.Spec{
		Name:        Name,
		Types:       []ioc.Type{ioc.URL, ioc.Domain, ioc.IPv4, ioc.MD5, ioc.SHA256},
		Credentials: []string{"api_key"},
		BaseURL:     DefaultBaseURL,
		Rate:        "1/s", // fair use, no published numbers: stay polite
		TTL:         6 * time.Hour,
		NotFoundTTL: 1 * time.Hour, // URLs come and go fast
		MaxTLP:      tlp.Amber,
		Discloses:   true,
		Reliability: provider.ReliabilityB,
		New:         New,
	})
}

// Client looks IOCs up in URLhaus.
type Client struct {
	call abusech.Caller
}

var _ provider.Provider = (*Client)(nil)

// New builds a Client from cfg: api_key is required, BaseURL defaults to
// DefaultBaseURL. It does no I/O.
func New(cfg provider.Config) (provider.Provider, error) {
	call, err := abusech.NewCaller(Name, cfg, DefaultBaseURL)
	if err != nil {
		return nil, err
	}
	return &Client{call: call}, nil
}

// Lookup asks the URLhaus endpoint for i's type.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	var path string
	form := url.Values{}
	switch i.Type {
	case ioc.URL:
		path, form["url"] = "/url/", []string{i.Value}
	case ioc.Domain, ioc.IPv4:
		path, form["host"] = "/host/", []string{i.Value}
	case ioc.MD5:
		path, form["md5_hash"] = "/payload/", []string{i.Value}
	case ioc.SHA256:
		path, form["sha256_hash"] = "/payload/", []string{i.Value}
	default:
		return provider.Finding{}, provider.ErrUnsupported
	}
	r, err := c.call.PostForm(ctx, provider.JoinURL(c.call.URL, path), form)
	if err != nil {
		return provider.Finding{}, err
	}
	switch r.Status {
	case abusech.StatusOK:
	case "no_results":
		return provider.Finding{Provider: Name, Status: provider.StatusNotFound}, nil
	default: // invalid_url, invalid_host, invalid_md5_hash, ...
		return provider.Finding{}, &abusech.StatusError{Status: r.Status}
	}
	var f provider.Finding
	switch path {
	case "/url/":
		var a urlAnswer
		if err = provider.DecodeJSON(r.Body, &a); err == nil {
			f = a.finding()
		}
	case "/host/":
		var a hostAnswer
		if err = provider.DecodeJSON(r.Body, &a); err == nil {
			f = a.finding()
		}
	default:
		var a payloadAnswer
		if err = provider.DecodeJSON(r.Body, &a); err == nil {
			f = a.finding()
		}
	}
	if err != nil {
		return provider.Finding{}, err
	}
	f.Provider, f.Status = Name, provider.StatusOK
	if c.call.KeepRaw {
		f.Raw = r.Body
	}
	return f, nil
}

// blacklists is URLhaus's view of a host on two domain blocklists; each
// value is "not listed" or a listing ("listed", "abused_legit_malware"...).
type blacklists struct {
	SpamhausDBL string `json:"spamhaus_dbl"`
	SURBL       string `json:"surbl"`
}

func listed(v string) bool { return v != "" && v != "not listed" }

// abusedLegit reports whether Spamhaus DBL marks the host as a legitimate
// site that was abused, rather than a malicious one.
func (b blacklists) abusedLegit() bool { return strings.HasPrefix(b.SpamhausDBL, "abused_legit") }

// any reports whether either blocklist lists the host.
func (b blacklists) any() bool { return listed(b.SURBL) || listed(b.SpamhausDBL) }

func (b blacklists) set(data map[string]any) {
	abusech.SetString(data, "spamhaus_dbl", &b.SpamhausDBL)
	abusech.SetString(data, "surbl", &b.SURBL)
}

// link returns URLhaus's own reference when it is one, else fallback.
func link(ref, fallback string) string {
	if strings.HasPrefix(ref, "https://urlhaus.abuse.ch/") {
		return ref
	}
	return fallback
}

// urlAnswer is a /url/ answer.
type urlAnswer struct {
	ID         abusech.ID `json:"id"`
	Reference  string     `json:"urlhaus_reference"`
	URL        string     `json:"url"`
	URLStatus  string     `json:"url_status"`
	Host       string     `json:"host"`
	DateAdded  *string    `json:"date_added"`
	LastOnline *string    `json:"last_online"`
	Threat     string     `json:"threat"`
	Blacklists blacklists `json:"blacklists"`
	Reporter   *string    `json:"reporter"`
	Larted     string     `json:"larted"`
	Tags       []string   `json:"tags"`
	Payloads   []struct {
		Signature *string `json:"signature"`
		SHA256    string  `json:"response_sha256"`
	} `json:"payloads"`
}

func (a urlAnswer) finding() provider.Finding {
	data := map[string]any{
		"id":            string(a.ID),
		"url":           a.URL,
		"url_status":    a.URLStatus,
		"host":          a.Host,
		"threat":        a.Threat,
		"larted":        a.Larted == "true",
		"payload_count": len(a.Payloads),
	}
	abusech.SetTime(data, "date_added", a.DateAdded)
	abusech.SetTime(data, "last_online", a.LastOnline)
	abusech.SetString(data, "reporter", a.Reporter)
	a.Blacklists.set(data)
	var families, hashes []string
	for _, p := range a.Payloads {
		if p.Signature != nil {
			families = append(families, *p.Signature)
		}
		if p.SHA256 != "" && !slices.Contains(hashes, p.SHA256) {
			hashes = append(hashes, p.SHA256)
		}
	}
	if len(hashes) > 0 {
		data["payload_sha256"] = hashes // files the URL served: a pivot at no quota
	}
	families = abusech.Tags(families)
	if len(families) > 0 {
		data["signatures"] = families
	}
	if len(a.Tags) > 0 {
		data["tags"] = a.Tags
	}
	signal := 0.8 // offline or unknown: still a known malware URL
	if a.URLStatus == "online" {
		signal = 0.9
	}
	status := a.URLStatus
	if status == "" {
		status = "unknown"
	}
	return provider.Finding{
		Malicious: signal,
		Summary:   fmt.Sprintf("%s URL, %s, listed by URLhaus", orDefault(a.Threat, "malware"), status),
		Link:      link(a.Reference, "https://urlhaus.abuse.ch/url/"+string(a.ID)+"/"),
		Data:      data,
		Tags:      abusech.Tags([]string{a.Threat}, a.Tags, families),
	}
}

// hostAnswer is a /host/ answer.
type hostAnswer struct {
	Reference  string      `json:"urlhaus_reference"`
	Host       string      `json:"host"`
	FirstSeen  *string     `json:"firstseen"`
	URLCount   abusech.Int `json:"url_count"`
	Blacklists blacklists  `json:"blacklists"`
	URLs       []struct {
		URLStatus string   `json:"url_status"`
		Threat    string   `json:"threat"`
		Tags      []string `json:"tags"`
	} `json:"urls"`
}

func (a hostAnswer) finding() provider.Finding {
	online := 0
	var threats, tags []string
	for _, u := range a.URLs {
		if u.URLStatus == "online" {
			online++
		}
		threats = append(threats, u.Threat)
		tags = append(tags, u.Tags...)
	}
	count := int(a.URLCount)
	if count == 0 {
		count = len(a.URLs)
	}
	data := map[string]any{
		"host":        a.Host,
		"url_count":   count,
		"urls_online": online,
	}
	abusech.SetTime(data, "first_seen", a.FirstSeen)
	a.Blacklists.set(data)
	threats, tags = abusech.Tags(threats), abusech.Tags(tags)
	if len(threats) > 0 {
		data["threats"] = threats
	}
	if len(tags) > 0 {
		data["tags"] = tags
	}
	var signal float64
	switch {
	case a.Blacklists.any():
		signal = 0.9
	case online > 0:
		signal = 0.8
	default: // only offline URLs: it served malware before
		signal = 0.6
	}
	summary := fmt.Sprintf("host of %d malware URLs (%d online)", count, online)
	if a.Blacklists.abusedLegit() {
		signal = min(signal, 0.5)
		summary += ", abused legitimate site per Spamhaus DBL"
	}
	return provider.Finding{
		Malicious: signal,
		Summary:   summary,
		Link:      link(a.Reference, "https://urlhaus.abuse.ch/host/"+a.Host+"/"),
		Data:      data,
		Tags:      abusech.Tags(threats, tags),
	}
}

// payloadAnswer is a /payload/ answer.
type payloadAnswer struct {
	MD5       string      `json:"md5_hash"`
	SHA256    string      `json:"sha256_hash"`
	FileType  *string     `json:"file_type"`
	FileSize  abusech.Int `json:"file_size"`
	Signature *string     `json:"signature"`
	FirstSeen *string     `json:"firstseen"`
	LastSeen  *string     `json:"lastseen"`
	URLCount  abusech.Int `json:"url_count"`
	URLs      []struct {
		URLStatus string `json:"url_status"`
	} `json:"urls"`
}

func (a payloadAnswer) finding() provider.Finding {
	data := map[string]any{
		"md5":       a.MD5,
		"sha256":    a.SHA256,
		"url_count": max(int(a.URLCount), len(a.URLs)),
	}
	if a.FileSize > 0 {
		data["file_size"] = int(a.FileSize)
	}
	abusech.SetString(data, "file_type", a.FileType)
	abusech.SetString(data, "signature", a.Signature)
	abusech.SetTime(data, "first_seen", a.FirstSeen)
	abusech.SetTime(data, "last_seen", a.LastSeen)
	var sig []string
	family := "unnamed malware"
	if a.Signature != nil && *a.Signature != "" {
		sig, family = []string{*a.Signature}, *a.Signature
	}
	return provider.Finding{
		Malicious: 0.9, // served by malware distribution URLs
		Summary:   fmt.Sprintf("%s payload served by %d malware URLs", family, data["url_count"]),
		Link:      "https://urlhaus.abuse.ch/browse.php?search=" + url.QueryEscape(orDefault(a.SHA256, a.MD5)),
		Data:      data,
		Tags:      sig,
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
