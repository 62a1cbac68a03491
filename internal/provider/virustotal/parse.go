package virustotal

import (
	"fmt"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

// object is the v3 envelope of an ip_address, domain, url or file object.
type object struct {
	Data *struct {
		ID         string     `json:"id"`
		Type       string     `json:"type"`
		Attributes attributes `json:"attributes"`
	} `json:"data"`
}

// attributes holds the fields of data.attributes that iocane reads; which of
// them are set depends on the object type.
type attributes struct {
	// Stats counts engines per category. Files add hyphenated keys
	// (confirmed-timeout, type-unsupported), hence a map.
	Stats            map[string]int `json:"last_analysis_stats"`
	LastAnalysisDate int64          `json:"last_analysis_date"`
	Reputation       int            `json:"reputation"`
	Tags             []string       `json:"tags"`

	ASN     int    `json:"asn"`
	ASOwner string `json:"as_owner"`
	Country string `json:"country"`
	Network string `json:"network"`

	Categories   map[string]string `json:"categories"`
	Registrar    string            `json:"registrar"`
	CreationDate int64             `json:"creation_date"`

	URL          string   `json:"url"`
	LastFinalURL string   `json:"last_final_url"`
	Title        string   `json:"title"`
	ThreatNames  []string `json:"threat_names"`

	MeaningfulName  string   `json:"meaningful_name"`
	TypeDescription string   `json:"type_description"`
	Size            int64    `json:"size"`
	Names           []string `json:"names"`
	SHA256          string   `json:"sha256"`
	Popular         *struct {
		Label string `json:"suggested_threat_label"`
	} `json:"popular_threat_classification"`
}

// minEnginesForBenign is how many engines must have looked at an IOC before
// zero detections counts as (weak) benign evidence.
const minEnginesForBenign = 20

// parse maps a 200 answer for i into a Finding (without Raw).
func parse(i ioc.IOC, body []byte) (provider.Finding, error) {
	var o object
	if err := provider.DecodeJSON(body, &o); err != nil {
		return provider.Finding{}, err
	}
	if o.Data == nil || o.Data.ID == "" {
		return provider.Finding{}, fmt.Errorf("%w: no data object", provider.ErrBadResponse)
	}
	a := o.Data.Attributes
	mal, sus := a.Stats["malicious"], a.Stats["suspicious"]
	harmless, undetected := a.Stats["harmless"], a.Stats["undetected"]
	timeout := a.Stats["timeout"] + a.Stats["confirmed-timeout"]
	total := 0
	for k, n := range a.Stats {
		if k != "type-unsupported" {
			total += n
		}
	}
	verdicts := mal + sus + harmless + undetected

	f := provider.Finding{Provider: Name, Status: provider.StatusOK}
	f.Malicious, f.Benign = signals(mal, sus, verdicts, a.Reputation)
	switch {
	case total == 0:
		f.Summary = "no engine results yet"
	case sus > 0:
		f.Summary = fmt.Sprintf("%d/%d engines flag it malicious, %d suspicious", mal, total, sus)
	default:
		f.Summary = fmt.Sprintf("%d/%d engines flag it malicious", mal, total)
	}
	id := o.Data.ID
	if i.Type != ioc.URL && i.Type != ioc.MD5 && i.Type != ioc.SHA1 && i.Type != ioc.SHA256 {
		id = i.Value
	}
	f.Link = "https://www.virustotal.com/gui/" + guiKind(i.Type) + "/" + id

	d := map[string]any{
		"malicious":  mal,
		"suspicious": sus,
		"harmless":   harmless,
		"undetected": undetected,
		"timeout":    timeout,
		"engines":    total,
		"reputation": a.Reputation,
	}
	setNonZero(d, "last_analysis_date", unix(a.LastAnalysisDate))
	setNonZero(d, "asn", a.ASN)
	setNonZero(d, "as_owner", a.ASOwner)
	setNonZero(d, "country", a.Country)
	setNonZero(d, "network", a.Network)
	if len(a.Categories) > 0 {
		d["categories"] = a.Categories
	}
	setNonZero(d, "registrar", a.Registrar)
	setNonZero(d, "creation_date", unix(a.CreationDate))
	setNonZero(d, "url", a.URL)
	setNonZero(d, "last_final_url", a.LastFinalURL)
	setNonZero(d, "title", a.Title)
	setNonZero(d, "meaningful_name", a.MeaningfulName)
	setNonZero(d, "type_description", a.TypeDescription)
	setNonZero(d, "size", a.Size)
	setNonZero(d, "sha256", a.SHA256)
	if len(a.Names) > 0 {
		d["names"] = a.Names
	}
	if len(a.ThreatNames) > 0 {
		d["threat_names"] = a.ThreatNames
	}
	var label string
	if a.Popular != nil {
		label = a.Popular.Label
	}
	setNonZero(d, "popular_threat_label", label)
	if len(a.Tags) > 0 {
		d["tags"] = a.Tags
	}
	f.Data = d
	f.Tags = dedupe(append(append(append([]string(nil), a.Tags...), a.ThreatNames...), label))
	return f, nil
}

// signals maps engine counts to the shared signal scale (provider.Finding).
// Suspicious verdicts count half a malicious one:
//
//	0 → malicious 0; benign 0.2 when ≥ 20 engines gave a verdict and the
//	    community reputation is not negative, else 0 (never malicious)
//	0.5 (one suspicious) → 0.15
//	1–1.5 → 0.3
//	2–4.5 → 0.5 … 0.875 (0.15 per engine above 2)
//	≥ 5 → 0.9, +0.01 per engine above 5, capped at 1.0
func signals(mal, sus, verdicts, reputation int) (malicious, benign float64) {
	m := float64(mal) + float64(sus)/2
	switch {
	case m <= 0:
		if verdicts >= minEnginesForBenign && reputation >= 0 {
			return 0, 0.2
		}
		return 0, 0
	case m < 1:
		return 0.15, 0
	case m < 2:
		return 0.3, 0
	case m < 5:
		return 0.5 + (m-2)*0.15, 0
	}
	return min(1.0, 0.9+(m-5)*0.01), 0
}

func unix(s int64) time.Time {
	if s <= 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// setNonZero sets d[k] = v unless v is its type's zero value.
func setNonZero[T comparable](d map[string]any, k string, v T) {
	var zero T
	if v != zero {
		d[k] = v
	}
}

func dedupe(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
