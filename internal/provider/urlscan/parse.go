package urlscan

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/provider"
)

// searchResponse is the search answer. Only the fields used are declared:
// urlscan warns that properties may be missing, so none is required.
type searchResponse struct {
	Results []scan `json:"results"`
	Total   *int   `json:"total"`
	HasMore bool   `json:"has_more"`
}

type scan struct {
	ID   string `json:"_id"`
	Task struct {
		UUID       string `json:"uuid"`
		URL        string `json:"url"`
		Domain     string `json:"domain"`
		Time       string `json:"time"`
		Visibility string `json:"visibility"`
	} `json:"task"`
	Page struct {
		URL     string `json:"url"`
		Domain  string `json:"domain"`
		IP      string `json:"ip"`
		ASN     string `json:"asn"`
		ASNName string `json:"asnname"`
		Country string `json:"country"`
		Server  string `json:"server"`
	} `json:"page"`
	Verdicts *verdicts `json:"verdicts"`
}

// verdicts is the result's verdicts object; search rows usually carry {}.
type verdicts struct {
	Overall *struct {
		Score      int    `json:"score"`
		Malicious  bool   `json:"malicious"`
		Categories labels `json:"categories"`
		Brands     labels `json:"brands"`
		Tags       labels `json:"tags"`
	} `json:"overall"`
}

type apiError struct {
	Message     string `json:"message"`
	Description string `json:"description"`
	Status      int    `json:"status"`
}

func (s scan) uuid() string {
	if s.Task.UUID != "" {
		return s.Task.UUID
	}
	return s.ID
}

// ResultLink is the analyst page of one scan.
func ResultLink(uuid string) string { return "https://urlscan.io/result/" + uuid + "/" }

// finding maps a search answer. No scan is not_found. Having been scanned is
// context, not malice: only a malicious verdict is a signal (0.9).
func finding(r searchResponse) provider.Finding {
	f := provider.Finding{Provider: Name, Status: provider.StatusNotFound}
	if len(r.Results) == 0 {
		f.Summary = "no urlscan.io scan found"
		return f
	}
	f.Status = provider.StatusOK
	total := len(r.Results)
	if r.Total != nil && *r.Total > total {
		total = *r.Total
	}
	latest := r.Results[0]
	malicious, maxScore := 0, 0
	var tags []string
	for _, s := range r.Results {
		if s.Verdicts == nil || s.Verdicts.Overall == nil {
			continue
		}
		o := s.Verdicts.Overall
		if o.Malicious {
			malicious++
		}
		maxScore = max(maxScore, o.Score)
		for _, t := range slices.Concat(o.Categories, o.Brands, o.Tags) {
			if t != "" && !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	if malicious > 0 {
		f.Malicious = 0.9
	}
	f.Tags = tags
	f.Link = ResultLink(latest.uuid())
	f.Data = map[string]any{
		"scans":           total,
		"has_more":        r.HasMore,
		"latest_uuid":     latest.uuid(),
		"latest_result":   f.Link,
		"visibility":      latest.Task.Visibility,
		"page_url":        latest.Page.URL,
		"page_domain":     latest.Page.Domain,
		"page_ip":         latest.Page.IP,
		"page_country":    latest.Page.Country,
		"page_server":     latest.Page.Server,
		"page_asn":        latest.Page.ASN,
		"malicious_scans": malicious,
		"max_score":       maxScore,
	}
	var when string
	if t, err := time.Parse(time.RFC3339Nano, latest.Task.Time); err == nil {
		f.Data["latest_time"] = t.UTC()
		when = " " + t.UTC().Format("2006-01-02")
	}
	f.Summary = fmt.Sprintf("%d scan(s), latest%s: %s", total, when, describe(latest))
	if malicious > 0 {
		f.Summary += fmt.Sprintf("; %d with a malicious verdict", malicious)
	}
	return f
}

func describe(s scan) string {
	parts := []string{}
	for _, p := range []string{s.Page.Domain, s.Page.IP, s.Page.Country, s.Page.Server} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "no page data"
	}
	return strings.Join(parts, " ")
}

// labels reads a list of strings or of objects naming one (urlscan lists
// brands as {"key","name",...} in some verdicts): properties may change
// shape, and a label list is not worth failing a look-up for.
type labels []string

func (l *labels) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		*l = nil
		return nil
	}
	for _, r := range raw {
		var s string
		var o struct{ Name, Key string }
		switch {
		case json.Unmarshal(r, &s) == nil:
		case json.Unmarshal(r, &o) == nil:
			s = cmp.Or(o.Name, o.Key)
		}
		if s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
