package shodan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

// host is the /shodan/host/{ip} answer, as far as iocane reads it.
type host struct {
	IPStr       string   `json:"ip_str"`
	Ports       []int    `json:"ports"`
	Hostnames   []string `json:"hostnames"`
	Domains     []string `json:"domains"`
	Org         string   `json:"org"`
	ISP         string   `json:"isp"`
	ASN         string   `json:"asn"`
	CountryCode string   `json:"country_code"`
	CountryName string   `json:"country_name"`
	City        string   `json:"city"`
	OS          string   `json:"os"`
	LastUpdate  string   `json:"last_update"`
	Tags        []string `json:"tags"`
	// Vulns is absent when Shodan knows none; a list of CVE ids at the top
	// level, an object keyed by CVE id inside a banner.
	Vulns cveSet `json:"vulns"`
	Data  []struct {
		Vulns cveSet `json:"vulns"`
	} `json:"data"`
}

// cveSet reads either ["CVE-…", …] or {"CVE-…": {"cvss": 9.8, …}, …}.
// A CVSS score of -1 means unknown.
type cveSet map[string]float64

// UnmarshalJSON accepts a list or an object of CVE ids.
func (s *cveSet) UnmarshalJSON(b []byte) error {
	*s = cveSet{}
	var list []string
	if json.Unmarshal(b, &list) == nil {
		for _, id := range list {
			(*s)[id] = -1
		}
		return nil
	}
	var obj map[string]struct {
		CVSS json.RawMessage `json:"cvss"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	for id, v := range obj {
		score, err := strconv.ParseFloat(strings.Trim(string(v.CVSS), `"`), 64)
		if err != nil {
			score = -1
		}
		(*s)[id] = score
	}
	return nil
}

// maliciousTags are Shodan tags that mark malware infrastructure.
var maliciousTags = []string{"malware", "c2", "compromised", "botnet"}

// Signal levels; see the package doc and README.
const (
	tagSignal      = 0.4 // Shodan tagged the host as malware/C2/compromised
	vulnSignal     = 0.1 // at least criticalVulnsMin critical CVEs exposed
	criticalCVSS   = 9.0 // CVSS v2/v3 base score counted as critical
	criticalVulnsN = 3   // how many critical CVEs make "many"
	lastUpdateFmt  = "2006-01-02T15:04:05.999999"
)

// parse maps a 200 host answer for i into a Finding (without Raw).
func parse(i ioc.IOC, body []byte) (provider.Finding, error) {
	var h host
	if err := provider.DecodeJSON(body, &h); err != nil {
		return provider.Finding{}, err
	}
	if h.IPStr == "" && h.Ports == nil && h.Data == nil {
		return provider.Finding{}, fmt.Errorf("%w: no host object", provider.ErrBadResponse)
	}
	cves := cveSet{}
	for id, score := range h.Vulns {
		cves[id] = score
	}
	for _, b := range h.Data {
		for id, score := range b.Vulns {
			if old, ok := cves[id]; !ok || score > old {
				cves[id] = score
			}
		}
	}
	ids := make([]string, 0, len(cves))
	critical := 0
	for id, score := range cves {
		ids = append(ids, id)
		if score >= criticalCVSS {
			critical++
		}
	}
	slices.Sort(ids)
	ports := slices.Clone(h.Ports)
	slices.Sort(ports)
	ports = slices.Compact(ports)

	f := provider.Finding{
		Provider: Name,
		Status:   provider.StatusOK,
		Link:     "https://www.shodan.io/host/" + i.Value,
		Tags:     h.Tags,
		Data: map[string]any{
			"ports":          ports,
			"vulns":          ids,
			"critical_vulns": critical,
		},
	}
	for _, t := range h.Tags {
		if slices.Contains(maliciousTags, strings.ToLower(t)) {
			f.Malicious = tagSignal
		}
	}
	if critical >= criticalVulnsN {
		f.Malicious = max(f.Malicious, vulnSignal)
	}
	for k, v := range map[string]string{"org": h.Org, "isp": h.ISP, "asn": h.ASN, "country": h.CountryCode,
		"country_name": h.CountryName, "city": h.City, "os": h.OS} {
		if v != "" {
			f.Data[k] = v
		}
	}
	if len(h.Hostnames) > 0 {
		f.Data["hostnames"] = h.Hostnames
	}
	if len(h.Domains) > 0 {
		f.Data["domains"] = h.Domains
	}
	if len(h.Tags) > 0 {
		f.Data["tags"] = h.Tags
	}
	if h.LastUpdate != "" {
		// ISO 8601 without a zone (Shodan's clock is UTC).
		t, err := time.Parse(lastUpdateFmt, h.LastUpdate)
		if err != nil {
			return provider.Finding{}, fmt.Errorf("%w: last_update %q", provider.ErrBadResponse, provider.Excerpt([]byte(h.LastUpdate), 40))
		}
		f.Data["last_update"] = t.UTC()
	}
	f.Summary = summary(ports, len(ids), h.Org, h.Tags)
	return f, nil
}

// summary is e.g. "open ports 22, 80, 443; 3 CVEs; org Hetzner; tags c2".
func summary(ports []int, cves int, org string, tags []string) string {
	var parts []string
	switch n := len(ports); {
	case n == 0:
		parts = append(parts, "no open ports seen")
	case n <= 6:
		parts = append(parts, "open ports "+joinInts(ports))
	default:
		parts = append(parts, fmt.Sprintf("%d open ports (%s, …)", n, joinInts(ports[:5])))
	}
	if cves > 0 {
		parts = append(parts, fmt.Sprintf("%d CVEs", cves))
	}
	if org != "" {
		parts = append(parts, "org "+org)
	}
	if len(tags) > 0 {
		parts = append(parts, "tags "+strings.Join(tags, ", "))
	}
	return strings.Join(parts, "; ")
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
