package server

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/settings"
	"github.com/knadh/koanf/v2"
)

// Config is the "server" section of iocane.yaml with the environment
// applied:
//
//	server:
//	  listen: 127.0.0.1:8080       # --listen overrides
//	  public_url: https://iocane.soc.example   # how analysts reach it, for links in
//	                               # notifications and write-backs; default http://<listen>
//	  tokens:
//	    - name: splunk-prod        # logged; the token never is
//	      token_sha256: 9f86d0...  # printf %s "$TOKEN" | sha256sum (or token: for the plain value)
//	      scopes: [ingest]         # ingest | read | admin
//	  webhook_secret: ...          # IOCANE_WEBHOOK_SECRET; makes webhooks require HMAC signatures
//	  max_body: 10485760           # bytes; default 10 MiB
//	  max_intake: 41943040         # bytes of bodies read and parsed at once; 503 above; default 4 × max_body
//	  token_rate: 100              # requests/s per token; default 100, negative for none
//	  token_burst: 200             # default 200
//	  workers: 4                   # jobs running at once; default 4
//	  job_retention: 720h          # finished jobs (input, results) kept that long; default 30 days, 0 keeps all
//
// IOCANE_ADMIN_TOKEN adds the token "admin" with every scope.
type Config struct {
	Listen        string
	PublicURL     string
	Tokens        []Token
	WebhookSecret []byte
	MaxBody       int64
	MaxIntake     int64
	TokenRate     float64
	TokenBurst    int
	Workers       int
	// JobRetention is how long a finished job, its input and its results
	// are kept; 0 keeps them all.
	JobRetention time.Duration
}

// DefaultJobRetention is how long finished jobs are kept unless configured:
// an alert's input and results are the SOC's data, not iocane's to keep.
const DefaultJobRetention = 30 * 24 * time.Hour

type tokenConfig struct {
	Name        string   `koanf:"name"`
	Token       string   `koanf:"token"`
	TokenSHA256 string   `koanf:"token_sha256"`
	Scopes      []string `koanf:"scopes"`
}

type rawConfig struct {
	Listen        string        `koanf:"listen"`
	PublicURL     string        `koanf:"public_url"`
	Tokens        []tokenConfig `koanf:"tokens"`
	WebhookSecret string        `koanf:"webhook_secret"`
	MaxBody       int64         `koanf:"max_body"`
	MaxIntake     int64         `koanf:"max_intake"`
	TokenRate     float64       `koanf:"token_rate"`
	TokenBurst    int           `koanf:"token_burst"`
	Workers       int           `koanf:"workers"`
	JobRetention  string        `koanf:"job_retention"`
}

// MinTokenLength is the shortest token accepted, so that a token cannot be
// guessed.
const MinTokenLength = 16

// Section is the config section the server is configured by.
const Section = "server"

// LoadConfig reads the server section of k (the merged config), the
// admin_token key (IOCANE_ADMIN_TOKEN) and IOCANE_WEBHOOK_SECRET from
// getenv. Every problem is reported, without any secret in the message.
func LoadConfig(k *koanf.Koanf, getenv func(string) string) (Config, error) {
	var raw rawConfig
	if err := settings.Decode(k, Section, &raw); err != nil {
		return Config{}, settings.Wrap("config: ", err)
	}
	c := Config{Listen: raw.Listen, PublicURL: raw.PublicURL, MaxBody: raw.MaxBody, MaxIntake: raw.MaxIntake, TokenRate: raw.TokenRate, TokenBurst: raw.TokenBurst, Workers: raw.Workers}
	var errs []error
	names := map[string]bool{}
	if admin := strings.TrimSpace(k.String("admin_token")); admin != "" {
		if len(admin) < MinTokenLength {
			errs = append(errs, fmt.Errorf("config: IOCANE_ADMIN_TOKEN is shorter than %d characters: generate one with 'openssl rand -hex 32'", MinTokenLength))
		}
		c.Tokens = append(c.Tokens, NewToken("admin", admin, AllScopes...))
		names["admin"] = true
	}
	for i, tc := range raw.Tokens {
		where := fmt.Sprintf("config: server.tokens[%d]", i)
		if tc.Name == "" {
			errs = append(errs, fmt.Errorf("%s: a name is required (it is what the logs show)", where))
			continue
		}
		where += " (" + tc.Name + ")"
		if names[tc.Name] {
			errs = append(errs, fmt.Errorf("%s: the name is used twice", where))
		}
		names[tc.Name] = true
		var scopes []Scope
		for _, s := range tc.Scopes {
			sc, err := ParseScope(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				continue
			}
			scopes = append(scopes, sc)
		}
		if len(tc.Scopes) == 0 {
			errs = append(errs, fmt.Errorf("%s: scopes are required (ingest, read, admin)", where))
		}
		switch {
		case tc.Token != "" && tc.TokenSHA256 != "":
			errs = append(errs, fmt.Errorf("%s: give token or token_sha256, not both", where))
		case tc.TokenSHA256 != "":
			t, err := TokenFromHash(tc.Name, tc.TokenSHA256, scopes...)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				continue
			}
			c.Tokens = append(c.Tokens, t)
		case len(tc.Token) >= MinTokenLength:
			c.Tokens = append(c.Tokens, NewToken(tc.Name, tc.Token, scopes...))
		case tc.Token != "":
			errs = append(errs, fmt.Errorf("%s: the token is shorter than %d characters: generate one with 'openssl rand -hex 32'", where, MinTokenLength))
		default:
			errs = append(errs, fmt.Errorf("%s: token or token_sha256 is required", where))
		}
	}
	secret := raw.WebhookSecret
	if v := getenv("IOCANE_WEBHOOK_SECRET"); v != "" {
		secret = v
	}
	if secret != "" {
		if len(secret) < MinTokenLength {
			errs = append(errs, fmt.Errorf("config: the webhook secret is shorter than %d characters", MinTokenLength))
		}
		c.WebhookSecret = []byte(secret)
	}
	if c.MaxBody < 0 {
		errs = append(errs, errors.New("config: server.max_body must be positive (bytes)"))
	}
	body := c.MaxBody
	if body == 0 {
		body = DefaultMaxBody
	}
	if c.MaxIntake < 0 || (c.MaxIntake > 0 && c.MaxIntake < body) {
		errs = append(errs, errors.New("config: server.max_intake must be at least server.max_body (bytes): one body of the largest size must fit"))
	}
	c.JobRetention = DefaultJobRetention
	if r := strings.TrimSpace(raw.JobRetention); r != "" {
		if d, err := time.ParseDuration(r); err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("config: server.job_retention: %q is not a duration such as 720h (0 keeps every job)", r))
		} else {
			c.JobRetention = d
		}
	}
	return c, errors.Join(errs...)
}
