package misp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// searchResponse is the restSearch answer: {"response": {"Attribute": [...]}}.
type searchResponse struct {
	Response *struct {
		Attribute []attribute `json:"Attribute"`
	} `json:"response"`
}

// attribute is one matching MISP attribute. MISP sends ids and timestamps as
// strings and to_ids as a bool (older instances "0"/"1", hence flexBool).
type attribute struct {
	ID        string    `json:"id"`
	EventID   string    `json:"event_id"`
	Category  string    `json:"category"`
	Type      string    `json:"type"`
	Value     string    `json:"value"`
	ToIDs     flexBool  `json:"to_ids"`
	Timestamp string    `json:"timestamp"`
	FirstSeen *string   `json:"first_seen"`
	LastSeen  *string   `json:"last_seen"`
	Event     *event    `json:"Event"`
	Tag       []tag     `json:"Tag"`
	Warnings  []warning `json:"warnings"`
}

type event struct {
	ID   string `json:"id"`
	Info string `json:"info"`
	UUID string `json:"uuid"`
}

type tag struct {
	Name string `json:"name"`
}

// warning is a warning-list hit, present when the search asked for
// includeWarninglistHits.
type warning struct {
	Name     string `json:"warninglist_name"`
	Category string `json:"warninglist_category"`
}

// falsePositive reports whether the attribute is marked as benign: a
// warning-list hit, or a false-positive taxonomy tag other than
// false-positive:risk="low" (a low risk of being a false positive).
func (a attribute) falsePositive() bool {
	if len(a.Warnings) > 0 {
		return true
	}
	for _, t := range a.Tag {
		n := strings.ToLower(t.Name)
		if strings.HasPrefix(n, "false-positive") && !strings.Contains(n, `risk="low"`) {
			return true
		}
	}
	return false
}

// seen returns when the attribute was first and last seen: its first_seen
// and last_seen when set, its modification timestamp otherwise.
func (a attribute) seen() (first, last time.Time) {
	ts := unixString(a.Timestamp)
	first, last = parseTime(a.FirstSeen), parseTime(a.LastSeen)
	if first.IsZero() {
		first = ts
	}
	if last.IsZero() {
		last = ts
	}
	return first, last
}

func unixString(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

func parseTime(s *string) time.Time {
	if s == nil || *s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// flexBool reads true/false, "1"/"0" and 1/0.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(bytes.Trim(data, `"`)) {
	case "true", "1":
		*b = true
	case "false", "0", "", "null":
		*b = false
	default:
		return fmt.Errorf("to_ids: unexpected value %s", data)
	}
	return nil
}

var _ json.Unmarshaler = (*flexBool)(nil)
