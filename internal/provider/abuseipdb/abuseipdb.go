// Package abuseipdb checks IP addresses against AbuseIPDB's crowd-sourced
// abuse reports (API v2, GET /check; https://docs.abuseipdb.com).
//
// AbuseIPDB has no "not found": an IP nobody reported comes back 200 with
// abuseConfidenceScore 0 and totalReports 0. That answer is status ok with
// both signals 0 — weak evidence, never a benign verdict. Only isWhitelisted
// is benign evidence.
package abuseipdb

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the provider's contract name.
const Name = "abuseipdb"

// DefaultBaseURL is the documented API base.
const DefaultBaseURL = "https://api.abuseipdb.com/api/v2"

// DefaultMaxAgeDays is the default report window (setting max_age_days, 1–365).
const DefaultMaxAgeDays = 90

func init() {
	provider.Register(provider.Spec{
		Name:        Name,
		Types:       []ioc.Type{ioc.IPv4, ioc.IPv6},
		Credentials: []string{"api_key"},
		Settings:    []provider.Setting{{Name: "max_age_days", Default: strconv.Itoa(DefaultMaxAgeDays), Doc: "how many days of reports to count, 1-365"}},
		BaseURL:     DefaultBaseURL,
		Rate:        "1/s", // undocumented; polite, and far above what 1,000/d allows on average
		Quota:       "1000/d",
		TTL:         6 * time.Hour,
		NotFoundTTL: 2 * time.Hour,
		MaxTLP:      tlp.Amber,
		Discloses:   true,
		Reliability: provider.ReliabilityC,
		New:         New,
	})
}

// Client is an AbuseIPDB v2 client. It holds no state beyond its config.
type Client struct {
	base   provider.Base
	maxAge int
}

var _ provider.Provider = (*Client)(nil)

// New builds a Client from cfg: api_key is required, BaseURL defaults to
// DefaultBaseURL, setting max_age_days defaults to 90. It does no I/O.
func New(cfg provider.Config) (provider.Provider, error) {
	base, err := provider.NewBase(Name, cfg, DefaultBaseURL, true)
	if err != nil {
		return nil, err
	}
	maxAge, err := strconv.Atoi(cfg.Setting("max_age_days", strconv.Itoa(DefaultMaxAgeDays)))
	if err != nil || maxAge < 1 || maxAge > 365 {
		return nil, fmt.Errorf("abuseipdb: max_age_days %q: want a whole number of days from 1 to 365", cfg.Setting("max_age_days", ""))
	}
	return &Client{base: base, maxAge: maxAge}, nil
}

// check is the /check answer; errors is set instead of data on failure.
type check struct {
	Data *struct {
		IPAddress            string   `json:"ipAddress"`
		IsWhitelisted        *bool    `json:"isWhitelisted"`
		AbuseConfidenceScore int      `json:"abuseConfidenceScore"`
		CountryCode          string   `json:"countryCode"`
		UsageType            string   `json:"usageType"`
		ISP                  string   `json:"isp"`
		Domain               string   `json:"domain"`
		Hostnames            []string `json:"hostnames"`
		IsTor                bool     `json:"isTor"`
		TotalReports         int      `json:"totalReports"`
		NumDistinctUsers     int      `json:"numDistinctUsers"`
		LastReportedAt       string   `json:"lastReportedAt"`
	} `json:"data"`
	Errors []struct {
		Detail string `json:"detail"`
	} `json:"errors"`
}

// Lookup runs GET /check?ipAddress=<ip>&maxAgeInDays=<n>.
func (c *Client) Lookup(ctx context.Context, i ioc.IOC) (provider.Finding, error) {
	if i.Type != ioc.IPv4 && i.Type != ioc.IPv6 {
		return provider.Finding{}, provider.ErrUnsupported
	}
	q := url.Values{"ipAddress": {i.Value}, "maxAgeInDays": {strconv.Itoa(c.maxAge)}}
	req, err := provider.NewRequest(ctx, http.MethodGet, provider.JoinURL(c.base.URL, "check")+"?"+q.Encode(), nil)
	if err != nil {
		return provider.Finding{}, err
	}
	req.Header.Set("Key", c.base.Key.Reveal())
	resp, err := provider.Do(c.base.HTTP, req, c.base.Key)
	if err != nil {
		return provider.Finding{}, err
	}
	if err := provider.CheckStatus(resp, c.base.Key); err != nil {
		return provider.Finding{}, fmt.Errorf("abuseipdb: %w", describe(err, resp))
	}
	var ch check
	if err := provider.DecodeJSON(resp.Body, &ch); err != nil {
		return provider.Finding{}, fmt.Errorf("abuseipdb: %w", err)
	}
	if ch.Data == nil {
		return provider.Finding{}, fmt.Errorf("abuseipdb: %w: no data object", provider.ErrBadResponse)
	}
	f, err := finding(i, ch, c.maxAge)
	if err != nil {
		return provider.Finding{}, fmt.Errorf("abuseipdb: %w", err)
	}
	if c.base.KeepRaw {
		f.Raw = resp.Body
	}
	return f, nil
}

// describe adds AbuseIPDB's errors[0].detail and, on a 429, when the limit
// resets, to a status error.
func describe(err error, resp *provider.Response) error {
	var ch check
	if provider.DecodeJSON(resp.Body, &ch) == nil && len(ch.Errors) > 0 && ch.Errors[0].Detail != "" {
		err = fmt.Errorf("%w: %s", err, provider.Excerpt([]byte(ch.Errors[0].Detail), 160))
	}
	if resp.Code == http.StatusTooManyRequests {
		if s := resp.Header.Get("Retry-After"); s != "" {
			err = fmt.Errorf("%w (retry after %ss)", err, provider.Excerpt([]byte(s), 20))
		}
	}
	return err
}

// Calibration of the malicious signal; the README gives the reason for each.
const (
	// maxSignal caps the signal below the conclusive 0.9: crowd reports
	// alone never settle a verdict.
	maxSignal = 0.85
	// fewReports is the report (and reporter) count below which the score
	// rests on too few voices.
	fewReports = 3
	// fewFactor discounts a score resting on fewer than fewReports
	// reports or reporters.
	fewFactor = 0.6
	// torFactor discounts a Tor exit: abuse through the relay is reported
	// against it, but the relay is shared by every Tor user.
	torFactor = 0.5
)

// usageFactors discount the score by AbuseIPDB's usageType where the
// address is shared by many unrelated parties, so that its reports are about
// whoever sits behind it.
var usageFactors = map[string]float64{
	"Content Delivery Network": 0.3,
	"Search Engine Spider":     0.3,
}

// maliciousSignal maps an abuseConfidenceScore s > 0 to the malicious
// signal: s/100, capped at maxSignal, discounted by usage type, by a report
// pattern of fewer than three reports or reporters, and for a Tor exit.
func maliciousSignal(score, reports, users int, usage string, tor bool) float64 {
	m := min(maxSignal, float64(score)/100)
	if f, ok := usageFactors[usage]; ok {
		m *= f
	}
	if reports < fewReports || users < fewReports-1 {
		m *= fewFactor
	}
	if tor {
		m *= torFactor
	}
	return m
}

// finding maps a /check answer. Signals:
//   - isWhitelisted true: benign 1.0 (AbuseIPDB vouches for the address);
//   - abuseConfidenceScore s > 0: malicious per maliciousSignal (at most
//     0.85: AbuseIPDB alone never settles a verdict);
//   - s = 0, with or without reports: both 0 (an unreported IP is not clean).
func finding(i ioc.IOC, ch check, maxAge int) (provider.Finding, error) {
	d := ch.Data
	f := provider.Finding{
		Provider: Name,
		Status:   provider.StatusOK,
		Link:     "https://www.abuseipdb.com/check/" + i.Value,
		Data: map[string]any{
			"abuse_confidence_score": d.AbuseConfidenceScore,
			"total_reports":          d.TotalReports,
			"num_distinct_users":     d.NumDistinctUsers,
			"is_tor":                 d.IsTor,
		},
	}
	if d.AbuseConfidenceScore > 0 {
		f.Malicious = maliciousSignal(d.AbuseConfidenceScore, d.TotalReports, d.NumDistinctUsers, d.UsageType, d.IsTor)
	}
	whitelisted := d.IsWhitelisted != nil && *d.IsWhitelisted
	if d.IsWhitelisted != nil {
		f.Data["is_whitelisted"] = *d.IsWhitelisted
	}
	if whitelisted {
		f.Benign = 1.0
		f.Tags = append(f.Tags, "whitelisted")
	}
	if d.IsTor {
		f.Tags = append(f.Tags, "tor")
	}
	if d.LastReportedAt != "" {
		t, err := time.Parse(time.RFC3339, d.LastReportedAt)
		if err != nil {
			return provider.Finding{}, fmt.Errorf("%w: lastReportedAt %q", provider.ErrBadResponse, provider.Excerpt([]byte(d.LastReportedAt), 40))
		}
		f.Data["last_reported_at"] = t.UTC()
	}
	for k, v := range map[string]string{"country_code": d.CountryCode, "usage_type": d.UsageType, "isp": d.ISP, "domain": d.Domain} {
		if v != "" {
			f.Data[k] = v
		}
	}
	if len(d.Hostnames) > 0 {
		f.Data["hostnames"] = d.Hostnames
	}
	switch {
	case d.TotalReports == 0:
		f.Summary = fmt.Sprintf("no reports in the last %d days", maxAge)
	case d.TotalReports == 1:
		f.Summary = fmt.Sprintf("confidence %d from 1 report", d.AbuseConfidenceScore)
	default:
		f.Summary = fmt.Sprintf("confidence %d from %d reports", d.AbuseConfidenceScore, d.TotalReports)
	}
	if whitelisted {
		f.Summary += ", whitelisted"
	}
	if d.IsTor {
		f.Summary += ", Tor exit node"
	}
	return f, nil
}
