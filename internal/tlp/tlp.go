// Package tlp implements Traffic Light Protocol 2.0 markings and the rule that
// decides whether data at one level may be shared with a party cleared for
// another.
package tlp

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Level is a TLP 2.0 marking, ordered from least to most restricted.
type Level int

// TLP 2.0 levels. TLP:WHITE (1.0) is read as CLEAR.
const (
	Clear Level = iota
	Green
	Amber
	AmberStrict
	Red
)

// Default is the level of untagged input (docs/design.md, policy).
const Default = Amber

var names = [...]string{"clear", "green", "amber", "amber+strict", "red"}

// String returns the lower-case TLP 2.0 name, e.g. "amber+strict".
func (l Level) String() string {
	if l < Clear || l > Red {
		return "red"
	}
	return names[l]
}

// Parse reads a marking such as "TLP:AMBER", "amber", "tlp:amber+strict",
// "white" or "TLP:CLEAR". ok is false when the marking is not recognised; the
// returned level is then Red, as policy treats an unknown marking.
func Parse(s string) (l Level, ok bool) {
	v := strings.ToLower(strings.TrimSpace(s))
	v = strings.TrimPrefix(v, "tlp:")
	v = strings.TrimPrefix(v, "tlp_")
	v = strings.TrimSpace(v)
	switch v {
	case "clear", "white":
		return Clear, true
	case "green":
		return Green, true
	case "amber":
		return Amber, true
	case "amber+strict", "amber-strict", "amber_strict", "amberstrict":
		return AmberStrict, true
	case "red":
		return Red, true
	}
	return Red, false
}

// MustParse is Parse for flag and config values: an unknown marking is an
// error rather than a silent RED.
func MustParse(s string) (Level, error) {
	l, ok := Parse(s)
	if !ok {
		return Red, fmt.Errorf("tlp: unknown marking %q (want clear, green, amber, amber+strict or red)", s)
	}
	return l, nil
}

// Allows reports whether data marked l may go to a party cleared up to max.
func (l Level) Allows(data Level) bool { return data <= l }

// MarshalJSON writes the lower-case name.
func (l Level) MarshalJSON() ([]byte, error) { return json.Marshal(l.String()) }

// UnmarshalJSON reads any marking Parse accepts; an unknown one becomes Red.
func (l *Level) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("tlp: %w", err)
	}
	*l, _ = Parse(s)
	return nil
}

// UnmarshalText lets a Level be read from YAML and flags.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := MustParse(string(b))
	*l = v
	return err
}

// MarshalText writes the lower-case name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }
