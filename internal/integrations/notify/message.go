package notify

import (
	"slices"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// Message is what one notification says about one alert, before a channel
// renders it.
type Message struct {
	Alert Alert
	// IOCs are the IOCs matched by the channel's rules, worst first, at
	// most Config.MaxIOCs of them.
	IOCs []Item
	// More counts matched IOCs left out of IOCs.
	More int
	// Link is where the full result can be read.
	Link string
	// Withheld counts matched IOCs marked stricter than the channel's
	// max_tlp: the message names how many, never which.
	Withheld int
	// WithheldTLP is the strictest marking among them.
	WithheldTLP tlp.Level
}

// Alert identifies the alert a message is about.
type Alert struct {
	// Key identifies the alert for deduplication: "system:id", or
	// "job:<id>" when the job came from no alert.
	Key    string `json:"key"`
	System string `json:"system,omitempty"`
	ID     string `json:"id,omitempty"`
	// Name is the search, rule or alert title (AlertRef.Extra
	// search_name, rule_name or title).
	Name   string `json:"name,omitempty"`
	Link   string `json:"link,omitempty"`
	JobID  string `json:"job_id"`
	Source string `json:"source,omitempty"`
}

// Title is a one-line name for the alert: its name (at most 150 bytes)
// and, always in full, its system and id.
func (a Alert) Title() string {
	var b strings.Builder
	if a.Name != "" {
		b.WriteString(clip(a.Name, 150))
		b.WriteString(" ")
	}
	switch {
	case a.System != "" && a.ID != "":
		b.WriteString("(" + a.System + " " + a.ID + ")")
	case a.ID != "":
		b.WriteString("(alert " + a.ID + ")")
	default:
		b.WriteString("(job " + a.JobID + ")")
	}
	return b.String()
}

// Item is one IOC in a message.
type Item struct {
	Type    ioc.Type       `json:"type"`
	Value   string         `json:"value"`
	Verdict result.Verdict `json:"verdict"`
	Score   int            `json:"score"`
	// Reasons are the first three of the result's reasons (the scorer
	// orders them by weight).
	Reasons []string `json:"reasons,omitempty"`
	// Links are the providers' permalinks for the IOC.
	Links []Permalink `json:"links,omitempty"`
}

// Permalink is one provider's page about an IOC.
type Permalink struct {
	Provider string `json:"provider"`
	URL      string `json:"url"`
}

// Digest lists alerts held back by the rate limit.
type Digest struct {
	Entries []Entry
	// Part and Parts number a digest split over several messages (1-based).
	Part, Parts int
	// Piece and Pieces number the messages one part was split into further
	// to fit a channel's size limit (Teams); 0 when it was not.
	Piece, Pieces int
	// Held is the number of alerts in the whole digest (every part).
	Held int
}

// Entry is one held alert in a digest.
type Entry struct {
	Alert Alert          `json:"alert"`
	Worst result.Verdict `json:"verdict"`
	Score int            `json:"score"` // the highest score
	Count int            `json:"iocs"`  // IOCs matched
	// Top is the worst IOC, for a glance.
	Top  Item      `json:"top"`
	Link string    `json:"link,omitempty"`
	At   time.Time `json:"held_at"`
}

// atLeast reports whether v is at or above min (result.Verdict.Rank).
func atLeast(v, min result.Verdict) bool { return v.Valid() && v.Rank() >= min.Rank() }

// alertOf describes d's alert.
func alertOf(d integrations.Delivery) Alert {
	a := Alert{JobID: d.Job.ID, Source: d.Job.Source}
	if ref := d.Job.Alert; ref != nil {
		a.System, a.ID = ref.System, ref.ID
		if provider.IsHTTPURL(ref.Link) { // a javascript: or data: link is never rendered
			a.Link = ref.Link
		}
		for _, k := range []string{"search_name", "rule_name", "title", "name"} {
			if v := ref.Extra[k]; v != "" {
				a.Name = v
				break
			}
		}
	}
	if a.ID != "" {
		sys := a.System
		if sys == "" {
			sys = a.Source
		}
		a.Key = sys + ":" + a.ID
	} else {
		a.Key = "job:" + d.Job.ID
	}
	if d.Update {
		a.Key += "#update" // a verdict that rose later is news, not a repeat
	}
	return a
}

// matches reports whether r selects res for a delivery from alert a.
func (r Rule) matches(a Alert, res result.Result) bool {
	if !atLeast(res.Verdict, r.MinVerdict) {
		return false
	}
	if len(r.Types) > 0 && !slices.Contains(r.Types, res.IOC.Type) {
		return false
	}
	if len(r.Sources) > 0 && !slices.Contains(r.Sources, strings.ToLower(a.System)) && !slices.Contains(r.Sources, strings.ToLower(a.Source)) {
		return false
	}
	return true
}

// build makes the message for d under rules, or reports false when no rule
// selects any of its IOCs.
func build(d integrations.Delivery, rules []Rule, maxIOCs int, maxTLP tlp.Level) (Message, bool) {
	a := alertOf(d)
	var picked []result.Result
	withheld, strictest := 0, tlp.Clear
	for _, res := range d.Results {
		for _, r := range rules {
			if !r.matches(a, res) {
				continue
			}
			if d.Update && !rose(r, a, res) {
				break // selected before the deferred answers too: notified then
			}
			if !maxTLP.Allows(res.TLP) {
				withheld, strictest = withheld+1, max(strictest, res.TLP)
			} else {
				picked = append(picked, res)
			}
			break
		}
	}
	if len(picked) == 0 && withheld == 0 {
		return Message{}, false
	}
	slices.SortStableFunc(picked, func(x, y result.Result) int {
		if d := y.Verdict.Rank() - x.Verdict.Rank(); d != 0 {
			return d
		}
		return y.Score - x.Score
	})
	m := Message{Alert: a, Link: d.Link, Withheld: withheld, WithheldTLP: strictest}
	if maxIOCs > 0 && len(picked) > maxIOCs {
		m.More = len(picked) - maxIOCs
		picked = picked[:maxIOCs]
	}
	for _, res := range picked {
		m.IOCs = append(m.IOCs, itemOf(res))
	}
	return m, true
}

// rose reports whether a deferred answer raised res to what rule r
// selects: r did not select it as it was when its job completed.
func rose(r Rule, a Alert, res result.Result) bool {
	if res.Revised == nil {
		return false
	}
	before := res
	before.Verdict, before.Score = res.Revised.Verdict, res.Revised.Score
	return !r.matches(a, before)
}

func itemOf(res result.Result) Item {
	it := Item{Type: res.IOC.Type, Value: res.IOC.Value, Verdict: res.Verdict, Score: res.Score}
	it.Reasons = res.Reasons[:min(3, len(res.Reasons))]
	for _, s := range res.Sources {
		if s.Link != "" && (strings.HasPrefix(s.Link, "https://") || strings.HasPrefix(s.Link, "http://")) {
			it.Links = append(it.Links, Permalink{Provider: s.Provider, URL: s.Link})
		}
	}
	return it
}

func entryOf(m Message, at time.Time) Entry {
	e := Entry{Alert: m.Alert, Count: len(m.IOCs) + m.More + m.Withheld, Link: m.Link, At: at}
	if len(m.IOCs) > 0 {
		e.Top, e.Worst, e.Score = m.IOCs[0], m.IOCs[0].Verdict, m.IOCs[0].Score
	}
	return e
}

// Defang makes an IOC value safe to show: no chat client or mail reader
// turns "hxxps://evil[.]example/x" into a link.
func Defang(t ioc.Type, v string) string {
	switch t {
	case ioc.URL, ioc.Domain, ioc.Email, ioc.IPv4:
		v = strings.ReplaceAll(v, ".", "[.]")
		if t == ioc.URL {
			if rest, ok := strings.CutPrefix(v, "http"); ok {
				v = "hxxp" + rest
			}
			v = strings.Replace(v, "://", "[://]", 1)
		}
		if t == ioc.Email {
			v = strings.Replace(v, "@", "[@]", 1)
		}
	case ioc.IPv6:
		v = strings.ReplaceAll(v, ":", "[:]")
	}
	return v
}
