package provider

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Secret holds a credential. Every way of printing it (String, GoString,
// fmt verbs, slog, JSON, text marshalling) yields "[redacted]"; only Reveal
// returns the value, and only code building a request should call it.
type Secret struct{ v string }

// Redacted is what a Secret prints as.
const Redacted = "[redacted]"

// NewSecret wraps a credential.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the credential itself.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether no credential is set.
func (s Secret) IsZero() bool { return s.v == "" }

// String returns "[redacted]" (or "" when unset, so "is it configured" stays visible).
func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return Redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return "provider.Secret{" + Redacted + "}" }

// Format covers every fmt verb, including %v on a struct holding a Secret.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText writes "[redacted]" (YAML and other text encoders).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a credential from config.
func (s *Secret) UnmarshalText(b []byte) error { s.v = string(b); return nil }
