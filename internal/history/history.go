// Package history is iocane's memory of an IOC: every enrichment it made
// (a compact entry, not the raw answers), every appearance of the IOC in an
// alert (a sighting), and the verdicts analysts set by hand, which settle an
// IOC before any quota is spent until they expire.
//
// The types here are what the store keeps (internal/store, history.go),
// what the engine recalls before it enriches (Recall) and what the API and
// `iocane history` print (Report). Analysts ask the anchors for exactly
// this: "have we seen this before, in which alerts, and what did we decide?"
// (TheHive#1297) and "stop flagging our CDN" (TheHive#886).
package history

import (
	"errors"
	"fmt"
	"github.com/iocane/iocane/internal/settings"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
)

// DefaultRetention is how long history entries and sightings are kept
// (history.retention).
const DefaultRetention = 180 * 24 * time.Hour

// AnalystSource is the name of the source an analyst verdict appears as in
// a result: the top-precedence local source.
const AnalystSource = "analyst"

// Origin names where an enrichment came from: "cli", "api", or the job's
// source ("splunk", "elastic", "thehive", "generic", "mailbox").
type Origin = string

// Entry is one enrichment of an IOC, or an analyst's decision about it.
type Entry struct {
	At         time.Time      `json:"at"`
	Verdict    result.Verdict `json:"verdict"`
	Score      int            `json:"score"`
	Confidence int            `json:"confidence"`
	// Sources are the providers that answered (ok or not_found), in the
	// result's order.
	Sources []string `json:"sources"`
	// Origin is where the enrichment came from ("cli", "api", "splunk",
	// "analyst" for a verdict set or removed by hand).
	Origin Origin `json:"origin"`
	// Job is the server job, when there was one.
	Job string `json:"job,omitempty"`
	// Alert is the alert reference ("splunk:scheduler__…"), when the IOC
	// came in an alert.
	Alert string `json:"alert,omitempty"`
	// Analyst names the token whose verdict decided this entry.
	Analyst string `json:"analyst,omitempty"`
	// Note is the analyst's reason, or what happened ("verdict removed").
	Note string `json:"note,omitempty"`
}

// Record is one entry to keep for an IOC; a record with an Alert is also a
// sighting.
type Record struct {
	IOC ioc.IOC
	Entry
}

// Sighting is one appearance of an IOC in an alert, mailbox report or feed.
type Sighting struct {
	Source string    `json:"source"`
	Alert  string    `json:"alert"`
	Job    string    `json:"job,omitempty"`
	At     time.Time `json:"at"`
}

// SourceSightings sums up an IOC's sightings from one source.
type SourceSightings struct {
	Source    string    `json:"source"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Recall is what iocane knew of an IOC before enriching it again.
type Recall struct {
	// Seen is false for an IOC never enriched before (within retention).
	Seen            bool
	FirstSeen       time.Time
	LastSeen        time.Time
	Sightings       int
	PreviousVerdict result.Verdict
	// Analyst is the analyst verdict in force, nil when there is none.
	Analyst *Verdict
}

// Apply copies what was known into r's first_seen, last_seen, sightings
// and previous_verdict.
func (rc Recall) Apply(r *result.Result) {
	if !rc.Seen {
		return
	}
	r.FirstSeen, r.LastSeen, r.Sightings, r.PreviousVerdict = rc.FirstSeen, rc.LastSeen, rc.Sightings, rc.PreviousVerdict
}

// Report is an IOC's history as the API and `iocane history` give it.
type Report struct {
	IOC       ioc.IOC   `json:"ioc"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Verdict is the analyst verdict in force, if any.
	Verdict *Verdict `json:"analyst_verdict,omitempty"`
	// History lists entries newest first (at most the limit asked).
	History []Entry `json:"history"`
	// Sightings lists appearances newest first (at most the limit asked);
	// BySource counts them all per source.
	Sightings []Sighting        `json:"sightings"`
	BySource  []SourceSightings `json:"sightings_by_source"`
}

// Verdict is an analyst's verdict on an IOC.
type Verdict struct {
	IOC     ioc.IOC        `json:"ioc"`
	Verdict result.Verdict `json:"verdict"`
	Reason  string         `json:"reason"`
	// By is the name of the token that set it.
	By    string    `json:"by"`
	SetAt time.Time `json:"set_at"`
	// Expires is when it stops applying; zero never.
	Expires time.Time `json:"expires,omitzero"`
}

// Active reports whether v applies at now.
func (v Verdict) Active(now time.Time) bool { return v.Expires.IsZero() || now.Before(v.Expires) }

// Explain is the verdict as a result's reason:
// "analyst (soc-lead): benign until 2027-01-01: our CDN".
func (v Verdict) Explain() string {
	var b strings.Builder
	fmt.Fprintf(&b, "analyst (%s): %s", v.By, v.Verdict)
	if !v.Expires.IsZero() {
		e := v.Expires.UTC()
		if e.Equal(e.Truncate(24 * time.Hour)) {
			b.WriteString(" until " + e.Format(time.DateOnly))
		} else {
			b.WriteString(" until " + e.Format("2006-01-02 15:04Z"))
		}
	}
	if v.Reason != "" {
		b.WriteString(": " + v.Reason)
	}
	return b.String()
}

// Score is the score an analyst verdict gives: 0 benign, the middle of
// the suspicious band, 100 malicious.
func (v Verdict) Score(suspicious, malicious int) int {
	switch v.Verdict {
	case result.Malicious:
		return 100
	case result.Suspicious:
		return (suspicious + malicious) / 2
	}
	return 0
}

// Errors of ParseVerdict.
var (
	ErrVerdict = errors.New("verdict must be benign, suspicious or malicious")
	ErrReason  = errors.New("a reason is required: say why, for the next analyst")
)

// MaxReason caps an analyst's reason, which is printed in every result.
const MaxReason = 500

// ParseVerdict checks an analyst verdict's verdict, reason and expiry
// ("" never; RFC 3339; or a duration from now such as 72h, 30d, 2w).
func ParseVerdict(verdict, reason, expires string, now time.Time) (result.Verdict, string, time.Time, error) {
	v := result.Verdict(strings.ToLower(strings.TrimSpace(verdict)))
	if v != result.Benign && v != result.Suspicious && v != result.Malicious {
		return "", "", time.Time{}, fmt.Errorf("%w, not %q", ErrVerdict, verdict)
	}
	reason = strings.Join(strings.Fields(reason), " ")
	if reason == "" {
		return "", "", time.Time{}, ErrReason
	}
	if len(reason) > MaxReason {
		return "", "", time.Time{}, fmt.Errorf("the reason is %d bytes: keep it under %d", len(reason), MaxReason)
	}
	exp, err := ParseExpires(expires, now)
	if err != nil {
		return "", "", time.Time{}, err
	}
	return v, reason, exp, nil
}

// ParseExpires reads an expiry: "" (never), an RFC 3339 time or date
// (2027-01-01), or a duration from now: Go's (72h) or days and weeks (30d,
// 2w). A time not after now is an error.
func ParseExpires(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	var t time.Time
	if v, err := time.Parse(time.RFC3339, s); err == nil {
		t = v
	} else if v, err := time.Parse(time.DateOnly, s); err == nil {
		t = v
	} else if d, err := settings.ParseLength(s); err == nil {
		t = now.Add(d)
	} else {
		return time.Time{}, fmt.Errorf("expires %q: want an RFC 3339 time (2027-01-01T00:00:00Z), a date (2027-01-01) or a duration (72h, 30d, 2w)", s)
	}
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("expires %q is in the past", s)
	}
	return t.UTC(), nil
}

// Answered lists the providers of r that answered (ok or not_found), for
// an entry's Sources.
func Answered(r result.Result) []string {
	var out []string
	for _, s := range r.Sources {
		if s.Status == "ok" || s.Status == "not_found" {
			out = append(out, s.Provider)
		}
	}
	return out
}

// EntryOf is the history entry of one result.
func EntryOf(r result.Result, origin Origin, job, alert string) Record {
	e := Entry{At: r.EnrichedAt, Verdict: r.Verdict, Score: r.Score, Confidence: r.Confidence,
		Sources: Answered(r), Origin: origin, Job: job, Alert: alert}
	if s, ok := r.Source(AnalystSource); ok && s.Status == "ok" {
		if by, _ := s.Data["by"].(string); by != "" {
			e.Analyst = by
		}
	}
	return Record{IOC: r.IOC, Entry: e}
}
