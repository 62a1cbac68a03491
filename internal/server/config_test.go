package server

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/knadh/koanf/v2"
)

func TestLoadConfig(t *testing.T) {
	sum := sha256.Sum256([]byte(readSecret))
	k := koanf.New(".")
	if err := load(k, map[string]any{
		"admin_token": adminSecret,
		"server.tokens": []any{
			map[string]any{"name": "splunk-prod", "token": ingestSecret, "scopes": []any{"ingest"}},
			map[string]any{"name": "dashboard", "token_sha256": hex.EncodeToString(sum[:]), "scopes": []any{"read"}},
		},
		"server.max_body": 2048,
	}); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(k, func(n string) string {
		if n == "IOCANE_WEBHOOK_SECRET" {
			return hookSecret
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := tokenSet(c.Tokens)
	for secret, want := range map[string]string{adminSecret: "admin", ingestSecret: "splunk-prod", readSecret: "dashboard"} {
		tok, ok := ts.find(secret)
		if !ok || tok.Name != want {
			t.Errorf("token for %s: %+v %v", want, tok, ok)
		}
	}
	if tok, _ := ts.find(readSecret); tok.Allows(ScopeIngest) || !tok.Allows(ScopeRead) {
		t.Errorf("dashboard scopes %v", tok.Scopes)
	}
	if tok, _ := ts.find(adminSecret); !tok.Allows(ScopeIngest) || !tok.Allows(ScopeAdmin) {
		t.Errorf("admin scopes %v", tok.Scopes)
	}
	if string(c.WebhookSecret) != hookSecret || c.MaxBody != 2048 {
		t.Errorf("config %+v", c)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	k := koanf.New(".")
	load(k, map[string]any{
		"admin_token": "zq7xk",
		"server.tokens": []any{
			map[string]any{"name": "a", "token": "tiny-secret", "scopes": []any{"ingest"}},
			map[string]any{"name": "b", "token_sha256": "xyz", "scopes": []any{"write"}},
			map[string]any{"token": ingestSecret},
			map[string]any{"name": "c", "scopes": []any{"read"}},
		},
	})
	_, err := LoadConfig(k, func(string) string { return "" })
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"IOCANE_ADMIN_TOKEN is shorter", "tokens[0] (a): the token is shorter", "64 hex digits",
		`unknown scope "write"`, "tokens[2]: a name is required", "tokens[3] (c): token or token_sha256 is required"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, secret := range []string{"zq7xk", "tiny-secret", ingestSecret} {
		if strings.Contains(msg, secret) {
			t.Errorf("error shows a secret %q", secret)
		}
	}
}

func load(k *koanf.Koanf, m map[string]any) error {
	for key, v := range m {
		if err := k.Set(key, v); err != nil {
			return err
		}
	}
	return nil
}

// job_retention defaults to 30 days, takes a Go duration, 0 keeps every
// job, and anything else is an error naming the key.
func TestLoadConfigJobRetention(t *testing.T) {
	for raw, want := range map[string]time.Duration{"": DefaultJobRetention, "168h": 168 * time.Hour, "0": 0, "90m": 90 * time.Minute} {
		k := koanf.New(".")
		if raw != "" {
			if err := load(k, map[string]any{"server.job_retention": raw}); err != nil {
				t.Fatal(err)
			}
		}
		c, err := LoadConfig(k, func(string) string { return "" })
		if err != nil || c.JobRetention != want {
			t.Errorf("job_retention %q: %v, %v; want %v", raw, c.JobRetention, err, want)
		}
	}
	for _, bad := range []string{"30 days", "-1h"} {
		k := koanf.New(".")
		if err := load(k, map[string]any{"server.job_retention": bad}); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadConfig(k, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "server.job_retention") {
			t.Errorf("job_retention %q: err = %v, want one naming server.job_retention", bad, err)
		}
	}
}

func TestLoadConfigMaxIntake(t *testing.T) {
	for _, tc := range []struct {
		conf map[string]any
		want int64
		bad  bool
	}{
		{map[string]any{"server.max_intake": 64 << 20}, 64 << 20, false},
		{map[string]any{"server.max_body": 2048, "server.max_intake": 4096}, 4096, false},
		{map[string]any{"server.max_body": 2048, "server.max_intake": 1024}, 0, true},
		{map[string]any{"server.max_intake": 1 << 20}, 0, true}, // under the default max_body
		{map[string]any{"server.max_intake": -1}, 0, true},
	} {
		k := koanf.New(".")
		if err := load(k, tc.conf); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(k, func(string) string { return "" })
		if tc.bad != (err != nil) || !tc.bad && c.MaxIntake != tc.want {
			t.Errorf("%v: MaxIntake %d, error %v", tc.conf, c.MaxIntake, err)
		}
		if tc.bad && err != nil && !strings.Contains(err.Error(), "server.max_intake") {
			t.Errorf("%v: the error does not name the key: %v", tc.conf, err)
		}
	}
}
