// Package result defines the enrichment result for one IOC: the JSON object
// of the docs/design.md contract, which every output format is written from.
package result

import (
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

// Verdict is the overall judgement. The values are a contract.
type Verdict string

// Verdicts, from worst to least known.
const (
	Malicious  Verdict = "malicious"
	Suspicious Verdict = "suspicious"
	Benign     Verdict = "benign"
	Unknown    Verdict = "unknown"
)

// Rank orders verdicts by how bad they are, for "at or above" tests and
// worst-first sorting: benign 0, unknown 1, suspicious 2, malicious 3. An
// unknown value ranks as unknown.
func (v Verdict) Rank() int {
	switch v {
	case Benign:
		return 0
	case Suspicious:
		return 2
	case Malicious:
		return 3
	}
	return 1
}

// Valid reports whether v is one of the four contract verdicts.
func (v Verdict) Valid() bool {
	return v == Malicious || v == Suspicious || v == Benign || v == Unknown
}

// Worst returns the worst verdict of rs by Rank, Unknown when rs is empty.
func Worst(rs []Result) Verdict {
	if len(rs) == 0 {
		return Unknown
	}
	v := rs[0].Verdict
	for _, r := range rs[1:] {
		if r.Verdict.Rank() > v.Rank() {
			v = r.Verdict
		}
	}
	return v
}

// Result is the enrichment of one IOC (docs/design.md "Result of enriching one IOC").
type Result struct {
	IOC        ioc.IOC   `json:"ioc"`
	Verdict    Verdict   `json:"verdict"`
	Score      int       `json:"score"`      // 0-100, how malicious
	Confidence int       `json:"confidence"` // 0-100, how much evidence stands behind the score
	Reasons    []string  `json:"reasons"`
	Sources    []Source  `json:"sources"`
	DBotScore  int       `json:"dbot_score"`
	TLP        tlp.Level `json:"tlp"`
	EnrichedAt time.Time `json:"enriched_at"`
	// Internal is true for private/reserved addresses and internal names,
	// which were sent to local sources only.
	Internal bool `json:"internal,omitempty"`
	// Context carries where the IOC came from (file, JSON path, e-mail part).
	Context map[string]string `json:"context,omitempty"`
	// Final is false while some of a server job's look-ups for this IOC
	// are deferred (sources[].deferred), and true once they have all
	// landed; it is absent from a result none of whose look-ups was ever
	// deferred, which is final too.
	Final *bool `json:"final,omitempty"`
	// Revised is what the result said when its job completed, set once a
	// deferred answer changed the verdict or the score.
	Revised *Revision `json:"revised,omitempty"`
	// FirstSeen and LastSeen are when iocane first and last enriched this
	// IOC before this result (internal/history); absent the first time.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Sightings counts the alerts, mailbox reports and feeds the IOC
	// appeared in before this result.
	Sightings int `json:"sightings,omitempty"`
	// PreviousVerdict is the verdict of the last enrichment before this
	// one; the table marks a verdict that changed.
	PreviousVerdict Verdict `json:"previous_verdict,omitempty"`
	// Related are the IOCs this one pivots to (enrich --pivot), each with
	// its own verdict; each is also a result of its own, whose context
	// names pivot_from and relation.
	Related []Related `json:"related,omitempty"`
}

// Related is one IOC a result pivots to.
type Related struct {
	Type  ioc.Type `json:"type"`
	Value string   `json:"value"`
	// Relation is how it relates: resolves-to (a domain's A/AAAA record),
	// resolved-from (an IP's hostname), host (a URL's host), domain (an
	// e-mail address's domain), payload (a file a URL served).
	Relation string  `json:"relation"`
	Verdict  Verdict `json:"verdict"`
	Score    int     `json:"score"`
}

// Changed reports whether r's verdict differs from the previous one.
func (r Result) Changed() bool { return r.PreviousVerdict != "" && r.PreviousVerdict != r.Verdict }

// Revision is a result's verdict and score before deferred answers landed.
type Revision struct {
	Verdict Verdict   `json:"verdict"`
	Score   int       `json:"score"`
	At      time.Time `json:"at"` // when the result was last revised
}

// Pending reports whether some of r's look-ups are still deferred.
func (r Result) Pending() bool { return r.Final != nil && !*r.Final }

// Source returns the part of r that provider name gave, and whether there
// is one.
func (r Result) Source(name string) (Source, bool) {
	for _, s := range r.Sources {
		if s.Provider == name {
			return s, true
		}
	}
	return Source{}, false
}

// Source is one provider's part of a Result.
type Source struct {
	Provider  string         `json:"provider"`
	Status    string         `json:"status"` // ok | not_found | error | skipped | rate_limited
	Reason    string         `json:"reason,omitempty"`
	Cached    bool           `json:"cached"`
	LatencyMS int64          `json:"latency_ms"`
	Summary   string         `json:"summary,omitempty"`
	Link      string         `json:"link,omitempty"`
	Data      map[string]any `json:"data,omitempty"`
	Tags      []string       `json:"tags,omitempty"`
	// Malicious and Benign are the source's signals in [0,1], kept so the
	// score can be explained and recomputed.
	Malicious float64 `json:"malicious_signal"`
	Benign    float64 `json:"benign_signal"`
	// Deferred marks a look-up the budget postponed (status rate_limited,
	// reason "queued: …, ETA …"): a server job keeps it in its backlog,
	// due at Until, and updates the result when the answer lands.
	Deferred bool      `json:"deferred,omitempty"`
	Until    time.Time `json:"deferred_until,omitzero"`
}

// DBotScore maps a verdict to XSOAR's DBotScore: 0 unknown, 1 good,
// 2 suspicious, 3 bad.
func DBotScore(v Verdict) int {
	switch v {
	case Malicious:
		return 3
	case Suspicious:
		return 2
	case Benign:
		return 1
	}
	return 0
}

// CortexLevel maps a verdict to a Cortex/TheHive taxonomy level.
func CortexLevel(v Verdict) string {
	switch v {
	case Malicious:
		return "malicious"
	case Suspicious:
		return "suspicious"
	case Benign:
		return "safe"
	}
	return "info"
}
