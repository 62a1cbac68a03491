package settings

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/knadh/koanf/v2"
)

func TestNearest(t *testing.T) {
	known := []string{"db", "tlp", "internal_suffixes", "providers", "scoring", "routing", "server"}
	for _, tc := range []struct{ key, want string }{
		{"scorng", "scoring"},
		{"Scoring", "scoring"},
		{"rat", ""}, // no candidate close to it here
		{"tpl", "tlp"},
		{"provider", "providers"},
		{"sevrer", "server"},
		{"completely_else", ""},
	} {
		if got := Nearest(tc.key, known); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
	if got := Nearest("rat", []string{"enabled", "rate", "quota"}); got != "rate" {
		t.Errorf("Nearest(rat) = %q, want rate", got)
	}
}

func TestUnknown(t *testing.T) {
	err := Unknown("providers.virustotal.", []string{"rate", "rat", "quota", "zzzzzz"}, []string{"rate", "quota", "base_url"})
	got := UnknownKeys(err)
	if len(got) != 2 {
		t.Fatalf("UnknownKeys = %v, want 2 errors", got)
	}
	if got[0].Key != "providers.virustotal.rat" || got[0].Suggestion != "providers.virustotal.rate" {
		t.Errorf("first = %+v", got[0])
	}
	if got[1].Suggestion != "" {
		t.Errorf("zzzzzz suggested %q", got[1].Suggestion)
	}
	got[0].Source = "x.yaml"
	want := "x.yaml: providers.virustotal.rat: unknown key (did you mean providers.virustotal.rate?)"
	if got[0].Error() != want {
		t.Errorf("Error() = %q, want %q", got[0].Error(), want)
	}
	if Unknown("", []string{"a"}, []string{"a"}) != nil {
		t.Error("a known key is an error")
	}
	var uk *UnknownKeyError
	if !errors.As(err, &uk) {
		t.Error("errors.As finds no *UnknownKeyError")
	}
}

func TestDecode(t *testing.T) {
	type token struct {
		Name   string   `koanf:"name"`
		Scopes []string `koanf:"scopes"`
	}
	type section struct {
		Listen string            `koanf:"listen"`
		Tokens []token           `koanf:"tokens"`
		Rates  map[string]string `koanf:"rates"`
	}
	k := koanf.New(".")
	if err := k.Set("server", map[string]any{
		"listen": "127.0.0.1:8080",
		"lisen":  "x",
		"tokens": []any{map[string]any{"name": "a", "scops": []any{"read"}}},
		"rates":  map[string]any{"anything": "1/s"},
	}); err != nil {
		t.Fatal(err)
	}
	var s section
	err := Decode(k, "server", &s)
	var keys []string
	for _, e := range UnknownKeys(err) {
		keys = append(keys, e.Key+"→"+e.Suggestion)
	}
	want := []string{"server.lisen→server.listen", "server.tokens[0].scops→server.tokens[0].scopes"}
	if !slices.Equal(keys, want) {
		t.Fatalf("unknown keys %v, want %v (err %v)", keys, want, err)
	}
	k2 := koanf.New(".")
	_ = k2.Set("server", map[string]any{"listen": ":1", "rates": map[string]any{"x": "1/s"}})
	if err := Decode(k2, "server", &s); err != nil || s.Listen != ":1" || s.Rates["x"] != "1/s" {
		t.Fatalf("Decode = %v, %+v", err, s)
	}
	if err := Decode(k2, "absent", &s); err != nil {
		t.Fatal(err)
	}
}

func TestParseLength(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "0d": 0, "-1d": -24 * time.Hour} {
		if got, err := ParseLength(in); err != nil || got != want {
			t.Errorf("ParseLength(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "1.5d", "soon", "7 d"} {
		if _, err := ParseLength(in); err == nil {
			t.Errorf("ParseLength(%q) accepted", in)
		}
	}
}
