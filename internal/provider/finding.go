package provider

import (
	"encoding/json"
	"time"
)

// Status is the outcome of one provider look-up. The values are a contract
// (docs/design.md): not_found is evidence of nothing, never "clean"; error is never
// read as clean either; rate_limited means the quota is spent and the look-up
// was deferred, not failed.
type Status string

// Look-up outcomes.
const (
	StatusOK          Status = "ok"
	StatusNotFound    Status = "not_found"
	StatusError       Status = "error"
	StatusSkipped     Status = "skipped"
	StatusRateLimited Status = "rate_limited"
)

// Answered reports whether the source gave evidence (ok) or a definite "no
// record" (not_found), as opposed to failing or not being asked.
func (s Status) Answered() bool { return s == StatusOK || s == StatusNotFound }

// DataDiscount is the Finding.Data key in which a context source
// (Spec.Context) states the share, in [0,1), by which its answer lowers the
// other third-party sources' malicious signals.
const DataDiscount = "discount"

// Finding is one provider's normalised answer about one IOC.
//
// The two signals share one scale, so that scoring can weigh every source
// alike:
//
//   - 0.9–1.0: the source alone settles it. Malicious: a blocklist hit, a
//     sample held by MalwareBazaar, a Safe Browsing match, a ThreatFox IOC with
//     high confidence, five or more VirusTotal engines. Benign: an allow-list
//     hit, GreyNoise RIOT, AbuseIPDB isWhitelisted, OTX allow-list validation.
//   - 0.5–0.9: strong but not conclusive (two to four VT engines, AbuseIPDB
//     confidence 50–89, OTX pulses from several authors).
//   - 0.1–0.5: weak (one VT engine, low AbuseIPDB confidence). A clean
//     VirusTotal answer (zero detections from many engines) is weak benign
//     evidence, about 0.2, and never malicious.
//   - 0: the source says nothing either way. A not_found answer has both
//     signals 0, and so does an AbuseIPDB score of 0 with no reports.
type Finding struct {
	// Provider is the Spec name of the source.
	Provider string `json:"provider"`
	// Status is the outcome; see Status.
	Status Status `json:"status"`
	// Reason says why a source was skipped, errored or rate limited, in a few
	// words an analyst can act on ("no API key", "unauthorized: check the API key").
	Reason string `json:"reason,omitempty"`
	// Malicious is the maliciousness signal in [0,1]: how strongly this source
	// says the IOC is bad, on the scale below. 0 when it says nothing bad.
	Malicious float64 `json:"-"`
	// Benign is the benign signal in [0,1]: how strongly this source says the
	// IOC is good, on the scale below. 0 when it says nothing good.
	Benign float64 `json:"-"`
	// Summary is one line for humans: "12/94 engines flag it malicious".
	Summary string `json:"summary,omitempty"`
	// Link is a permalink for analysts, e.g. the VirusTotal GUI page.
	Link string `json:"link,omitempty"`
	// Data holds the key fields as typed values (counts as ints, dates as
	// time.Time or RFC 3339 strings, lists as []string).
	Data map[string]any `json:"data,omitempty"`
	// Tags are labels the source attaches (malware family, threat type).
	Tags []string `json:"tags,omitempty"`
	// Raw is the provider's response body, kept only when asked for.
	Raw json.RawMessage `json:"raw,omitempty"`
	// Cached and Latency are filled in by the enrichment engine.
	Cached  bool          `json:"cached"`
	Latency time.Duration `json:"-"`
	// Postponed says why a look-up that was not answered could be made
	// later rather than given up (set by ErrorFinding and the engine); a
	// server job defers such a look-up to its backlog.
	Postponed Postponement `json:"-"`
	// Deferred marks a look-up that a server job put in its backlog, due
	// at Until (status rate_limited, reason "queued: …, ETA …").
	Deferred bool      `json:"-"`
	Until    time.Time `json:"-"`
}

// Postponement is why an unanswered look-up can still be made later.
type Postponement int

// Postponements; NotPostponed is an answer or a failure.
const (
	NotPostponed Postponement = iota
	// PostponedTurn: the caller's deadline came before the rate turn.
	PostponedTurn
	// PostponedQuota: a quota window is spent until it resets.
	PostponedQuota
	// PostponedCircuit: the circuit breaker is open after failures.
	PostponedCircuit
	// PostponedThrottled: the provider still answered 429 after retries.
	PostponedThrottled
)

// Skipped returns a skipped Finding with its reason.
func Skipped(name, reason string) Finding {
	return Finding{Provider: name, Status: StatusSkipped, Reason: reason}
}
