package taxii

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

// Indicator is one IOC of one STIX indicator. An indicator whose pattern
// names several IOCs gives one Indicator each, sharing ID.
type Indicator struct {
	IOC ioc.IOC
	// ValidUntil is the indicator's valid_until, zero when it has none. An
	// expired indicator is still emitted; the caller decides.
	ValidUntil time.Time
	// Revoked is true when the producer withdrew the indicator: the caller
	// should drop the IOC.
	Revoked bool
	// Confidence is the STIX confidence, 0 to 100, or -1 when the
	// indicator has none (0 means "no confidence" in STIX).
	Confidence int
	// TLP is the most restrictive TLP marking of the indicator, "" when
	// none.
	TLP string
	// ID is the STIX indicator id ("indicator--…").
	ID string
	// Modified is the indicator's modified timestamp, zero when missing.
	Modified time.Time
}

// envelope is a TAXII 2.1 envelope: one page of objects.
type envelope struct {
	More    bool              `json:"more"`
	Next    string            `json:"next"`
	Objects []json.RawMessage `json:"objects"`
}

// stixObject holds the members of a STIX object that the feed reads.
type stixObject struct {
	Type              string   `json:"type"`
	ID                string   `json:"id"`
	Pattern           string   `json:"pattern"`
	PatternType       string   `json:"pattern_type"`
	Revoked           bool     `json:"revoked"`
	Confidence        *int     `json:"confidence"`
	ValidUntil        string   `json:"valid_until"`
	Modified          string   `json:"modified"`
	ObjectMarkingRefs []string `json:"object_marking_refs"`
	Name              string   `json:"name"`
	DefinitionType    string   `json:"definition_type"`
	Definition        struct {
		TLP string `json:"tlp"`
	} `json:"definition"`
	// DateAdded is not a STIX property; a few servers add it to objects.
	// It is the cursor of last resort when X-TAXII-Date-Added-Last is
	// missing.
	DateAdded string `json:"date_added"`
}

// maxMarks bounds the marking definitions a Sync remembers, so that a
// hostile feed cannot grow the map without end.
const maxMarks = 1024

// parseEnvelope reads one page. Only the envelope's shape is checked here;
// objects are read one by one in page, so that one bad object costs only
// itself.
func parseEnvelope(b []byte) (envelope, error) {
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return envelope{}, fmt.Errorf("%w: not a TAXII envelope (%s)", ErrBadResponse, jsonErrText(err))
	}
	if len(env.Next) > 4096 {
		return envelope{}, fmt.Errorf("%w: envelope next token of %d bytes", ErrBadResponse, len(env.Next))
	}
	return env, nil
}

// page is what one envelope gives: the IOCs to emit, the newest
// non-standard date_added, and the objects that could not be read.
type page struct {
	indicators []Indicator
	dateAdded  string
	bad        []error
}

// readPage turns an envelope's objects into Indicators. Marking
// definitions among them are added to marks first, so an indicator may
// come before its marking in the same page.
func readPage(env envelope, marks map[string]tlp.Level) page {
	var p page
	objs := make([]stixObject, 0, len(env.Objects))
	var newest time.Time
	for i, raw := range env.Objects {
		var o stixObject
		if err := json.Unmarshal(raw, &o); err != nil {
			p.bad = append(p.bad, fmt.Errorf("objects[%d]: %s", i, jsonErrText(err)))
			continue
		}
		if t, err := time.Parse(time.RFC3339Nano, o.DateAdded); err == nil && t.After(newest) {
			newest, p.dateAdded = t, o.DateAdded
		}
		if o.Type == "marking-definition" && len(marks) < maxMarks {
			if l, ok := tlp.Parse(o.Definition.TLP); ok && o.DefinitionType == "tlp" {
				marks[o.ID] = l
			} else if l, ok := tlp.Parse(o.Name); ok && strings.HasPrefix(strings.ToUpper(o.Name), "TLP:") {
				marks[o.ID] = l
			}
		}
		if o.Type == "indicator" {
			objs = append(objs, o)
		}
	}
	for _, o := range objs {
		if o.PatternType != "" && o.PatternType != "stix" {
			continue // sigma, yara, snort…: no IOC to take from them
		}
		iocs, err := input.PatternIOCs(o.Pattern)
		if err != nil {
			p.bad = append(p.bad, fmt.Errorf("%s: pattern: %v", excerpt(o.ID), err))
		}
		if len(iocs) == 0 {
			continue
		}
		base := Indicator{
			ID:         o.ID,
			Revoked:    o.Revoked,
			Confidence: -1,
			TLP:        input.MarkingTLP(o.ObjectMarkingRefs, marks),
			ValidUntil: stixTime(o.ValidUntil),
			Modified:   stixTime(o.Modified),
		}
		if o.Confidence != nil && *o.Confidence >= 0 && *o.Confidence <= 100 {
			base.Confidence = *o.Confidence
		}
		for _, i := range iocs {
			ind := base
			ind.IOC = i
			p.indicators = append(p.indicators, ind)
		}
	}
	return p
}

func stixTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// excerpt keeps a feed-supplied string short and printable in an error.
func excerpt(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return fmt.Sprintf("%q", s)
}
