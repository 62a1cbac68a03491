package passivetotal

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

// reputation is a Graph hostReputation.
type reputation struct {
	Classification string `json:"classification"`
	Score          int    `json:"score"`
	Rules          []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Severity    string `json:"severity"`
	} `json:"rules"`
}

// passiveDNS is a page of Graph passiveDnsRecord objects.
type passiveDNS struct {
	Value []struct {
		FirstSeen  string `json:"firstSeenDateTime"`
		LastSeen   string `json:"lastSeenDateTime"`
		RecordType string `json:"recordType"`
		ParentHost struct {
			ID string `json:"id"`
		} `json:"parentHost"`
		Artifact struct {
			ID string `json:"id"`
		} `json:"artifact"`
	} `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// maxResolutions caps the resolutions listed in Data.
const maxResolutions = 20

// Link is the MDTI portal search for host.
func Link(host string) string {
	return "https://ti.defender.microsoft.com/search?query=" + url.QueryEscape(host)
}

func notFound(i ioc.IOC) provider.Finding {
	return provider.Finding{Provider: Name, Status: provider.StatusNotFound, Summary: "host unknown to Defender TI", Link: Link(i.Value)}
}

// signals maps the reputation to the shared scale. MDTI's malicious
// classification is strong (0.8, up to 1.0 with the score); suspicious is
// weak to moderate (0.3–0.6 with the score); neutral is weak benign evidence
// (0.2), as a clean multi-engine answer is; unknown says nothing.
func signals(r reputation) (mal, ben float64) {
	s := float64(min(max(r.Score, 0), 100)) / 100
	switch strings.ToLower(r.Classification) {
	case "malicious":
		return max(0.8, s), 0
	case "suspicious":
		return math.Round((0.3+0.3*s)*100) / 100, 0
	case "neutral":
		return 0, 0.2
	}
	return 0, 0
}

// finding maps the reputation and the passive DNS page. A host MDTI rates
// "unknown" with no rules and no passive DNS is not found.
func finding(i ioc.IOC, rep reputation, pdns passiveDNS) provider.Finding {
	class := strings.ToLower(rep.Classification)
	if (class == "" || class == "unknown") && rep.Score == 0 && len(rep.Rules) == 0 && len(pdns.Value) == 0 {
		return notFound(i)
	}
	f := provider.Finding{Provider: Name, Status: provider.StatusOK, Link: Link(i.Value)}
	f.Malicious, f.Benign = signals(rep)
	var rules, resolutions, recordTypes []string
	for _, r := range rep.Rules {
		rules = appendNew(rules, r.Name)
	}
	var first, last time.Time
	for _, r := range pdns.Value {
		other := r.Artifact.ID
		if strings.EqualFold(other, i.Value) {
			other = r.ParentHost.ID
		}
		if len(resolutions) < maxResolutions {
			resolutions = appendNew(resolutions, other)
		}
		recordTypes = appendNew(recordTypes, r.RecordType)
		if t, err := time.Parse(time.RFC3339Nano, r.FirstSeen); err == nil && (first.IsZero() || t.Before(first)) {
			first = t.UTC()
		}
		if t, err := time.Parse(time.RFC3339Nano, r.LastSeen); err == nil && t.After(last) {
			last = t.UTC()
		}
	}
	f.Tags = rules
	f.Data = map[string]any{
		"classification":      class,
		"score":               rep.Score,
		"passive_dns_records": len(pdns.Value),
		"passive_dns_more":    pdns.NextLink != "",
	}
	if len(rules) > 0 {
		f.Data["rules"] = rules
	}
	if len(resolutions) > 0 {
		f.Data["resolutions"] = resolutions
		f.Data["record_types"] = recordTypes
	}
	if !first.IsZero() {
		f.Data["first_seen"] = first
	}
	if !last.IsZero() {
		f.Data["last_seen"] = last
	}
	f.Summary = fmt.Sprintf("reputation %s (score %d)", cmp.Or(class, "unknown"), rep.Score)
	if n := len(pdns.Value); n > 0 {
		more := ""
		if pdns.NextLink != "" {
			more = "+"
		}
		f.Summary += fmt.Sprintf(", %d%s passive DNS record(s)", n, more)
		if !first.IsZero() && !last.IsZero() {
			f.Summary += fmt.Sprintf(" %s to %s", first.Format("2006-01-02"), last.Format("2006-01-02"))
		}
	}
	return f
}

// rawPair keeps both answers: {"reputation": ..., "passiveDns": ...}.
func rawPair(rep, pdns []byte) json.RawMessage {
	m := map[string]json.RawMessage{"reputation": rep}
	if json.Valid(pdns) {
		m["passiveDns"] = pdns
	}
	b, _ := json.Marshal(m)
	return b
}

func appendNew(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}
