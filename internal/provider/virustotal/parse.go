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

	Categories map[string]string `json:"categories"`
	DNSRecords []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"last_dns_records"`
	Registrar    string `json:"registrar"`
	CreationDate int64  `json:"creation_date"`

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
	f.Malicious, f.Benign = signals(curveFor(i.Type), mal, sus, verdicts, a.Reputation)
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
	var records []map[string]any
	for _, r := range a.DNSRecords {
		if r.Type == "A" || r.Type == "AAAA" {
			records = append(records, map[string]any{"type": r.Type, "value": r.Value})
		}
	}
	if len(records) > 0 {
		d["dns_records"] = records // a domain's A/AAAA records: a pivot at no quota
	}
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

// curve is a malicious signal per effective engine count: at[k] is the
// signal for k+1 engines (k = 0 is one engine); between two counts the
// signal is interpolated (half counts come from suspicious verdicts), and
// above the last count it grows by 0.01 an engine up to 1.0. The README
// gives the reason for each step.
type curve struct {
	at []float64
}

// Curves per kind of object. One or two engines of ninety are noise for an
// address or a domain (shared hosting, CDN edges, sandboxes resolving
// through public resolvers); URL engines are mostly curated blocklists, so a
// few of them weigh more; file engines are scanners, where one or two
// heuristic hits on a rare binary are a known false positive. Each curve
// reaches 0.8 (malicious on VirusTotal's own, at grade B) and then 0.9
// (conclusive) at the counts the README gives.
var (
	networkCurve = curve{at: []float64{0.1, 0.2, 0.35, 0.45, 0.6, 0.68, 0.74, 0.8, 0.85, 0.9}}
	urlCurve     = curve{at: []float64{0.15, 0.35, 0.5, 0.6, 0.7, 0.76, 0.8, 0.85, 0.88, 0.9}}
	fileCurve    = curve{at: []float64{0.15, 0.3, 0.45, 0.55, 0.65, 0.72, 0.76, 0.8, 0.85, 0.9}}
)

// curveFor returns the curve for an IOC type.
func curveFor(t ioc.Type) curve {
	switch t {
	case ioc.URL:
		return urlCurve
	case ioc.MD5, ioc.SHA1, ioc.SHA256:
		return fileCurve
	}
	return networkCurve
}

// signal is the curve's value at m effective engines (m > 0).
func (c curve) signal(m float64) float64 {
	n := float64(len(c.at))
	switch {
	case m <= 1:
		return c.at[0] * m
	case m >= n:
		return min(1.0, c.at[len(c.at)-1]+(m-n)*0.01)
	}
	lo := int(m) // m in [lo, lo+1): at[lo-1] .. at[lo]
	frac := m - float64(lo)
	return c.at[lo-1] + frac*(c.at[lo]-c.at[lo-1])
}

// signals maps engine counts to the shared signal scale (provider.Finding).
// Suspicious verdicts count half a malicious one (m = malicious +
// suspicious/2); c gives the malicious signal for m > 0. No detection is
// benign 0.2 when at least 20 engines gave a verdict and the community
// reputation is not negative (harmless is weak benign evidence), else 0;
// it is never malicious.
func signals(c curve, mal, sus, verdicts, reputation int) (malicious, benign float64) {
	m := float64(mal) + float64(sus)/2
	if m <= 0 {
		if verdicts >= minEnginesForBenign && reputation >= 0 {
			return 0, 0.2
		}
		return 0, 0
	}
	return c.signal(m), 0
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
