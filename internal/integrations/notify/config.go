package notify

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/v2"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/settings"
	"github.com/iocane/iocane/internal/tlp"
)

// Channel names, as rules name them.
const (
	Slack   = "slack"
	Teams   = "teams"
	Email   = "email"
	Webhook = "webhook"
)

// Channels lists every channel name.
var Channels = []string{Slack, Teams, Email, Webhook}

// Defaults.
const (
	DefaultRate       = "10/m"
	DefaultDigestSize = 50
	DefaultMaxIOCs    = 20
	DefaultDedupeSize = 10000
	DefaultDedupeTTL  = 24 * time.Hour
	DefaultSMTPPort   = 587
	// DefaultMaxTLP is the strictest marking a channel shows: chat,
	// e-mail and webhooks are third parties, and TLP:RED goes to none.
	DefaultMaxTLP = tlp.Amber
	// MaxDigestSize bounds digest_size, so a digest part fits one Slack
	// message (50 blocks) and one Teams card (28 KB).
	MaxDigestSize = 100
)

// Config is the "notify" section of iocane.yaml with the environment
// applied:
//
//	notify:
//	  rate: 10/m            # per channel; IOCANE_NOTIFY_RATE; default 10/m
//	  digest_size: 50       # alerts named per digest message; default 50, at most 100
//	  max_iocs: 20          # IOCs shown per message; default 20
//	  dedupe_size: 10000    # alerts remembered per channel; default 10000
//	  dedupe_ttl: 24h       # how long an alert is remembered; default 24h
//	  slack:   {webhook_url: ..., rate: 10/m}     # IOCANE_SLACK_WEBHOOK_URL, IOCANE_SLACK_RATE
//	  teams:   {webhook_url: ...}                 # IOCANE_TEAMS_WEBHOOK_URL, IOCANE_TEAMS_RATE
//	  email:   {host: ..., port: 587, username: ..., password: ..., from: ..., to: [a@x], starttls: mandatory}
//	  webhook: {url: ..., secret: ...}            # IOCANE_NOTIFY_WEBHOOK_URL, IOCANE_NOTIFY_WEBHOOK_SECRET
//	  rules:
//	    - channel: slack
//	      min_verdict: malicious   # default malicious
//	      types: [ipv4, domain]    # default any
//	      sources: [splunk]        # default any
type Config struct {
	Rules      []Rule
	DigestSize int
	MaxIOCs    int
	DedupeSize int
	DedupeTTL  time.Duration
	Slack      *WebhookChannel
	Teams      *WebhookChannel
	Webhook    *WebhookChannel
	Email      *SMTPConfig
}

// Rule says which deliveries go to a channel.
type Rule struct {
	Channel string
	// MinVerdict is the least severe verdict notified. Default malicious.
	MinVerdict result.Verdict
	// Types restricts the IOC types; empty means any.
	Types []ioc.Type
	// Sources restricts the alert sources (alert system or job source:
	// splunk, elastic, thehive, xsoar, generic, api); empty means any.
	Sources []string
}

// WebhookChannel is a channel reached by POSTing JSON to a URL.
type WebhookChannel struct {
	// URL carries the channel's token: it is a Secret.
	URL provider.Secret
	// Secret, for the generic webhook, signs each body with HMAC-SHA256
	// like iocane's own webhook intake. Optional.
	Secret provider.Secret
	Rate   ratelimit.Rate
	// MaxTLP is the strictest marking an IOC shown may carry (default
	// amber): a stricter one is counted as withheld, never shown.
	MaxTLP tlp.Level
}

// SMTPConfig is the e-mail channel.
type SMTPConfig struct {
	Host     string
	Port     int // default 587
	Username string
	Password provider.Secret
	From     string
	To       []string
	// StartTLS is mandatory (default: refuse a server without STARTTLS),
	// opportunistic, or none (only for a relay on loopback).
	StartTLS string
	Rate     ratelimit.Rate
	// MaxTLP is as for WebhookChannel.
	MaxTLP tlp.Level
}

type rawChannel struct {
	WebhookURL string `koanf:"webhook_url"`
	URL        string `koanf:"url"`
	Secret     string `koanf:"secret"`
	Rate       string `koanf:"rate"`
	MaxTLP     string `koanf:"max_tlp"`
}

type rawSMTP struct {
	Host     string   `koanf:"host"`
	Port     string   `koanf:"port"`
	Username string   `koanf:"username"`
	Password string   `koanf:"password"`
	From     string   `koanf:"from"`
	To       []string `koanf:"to"`
	StartTLS string   `koanf:"starttls"`
	Rate     string   `koanf:"rate"`
	MaxTLP   string   `koanf:"max_tlp"`
}

type rawRule struct {
	Channel    string   `koanf:"channel"`
	MinVerdict string   `koanf:"min_verdict"`
	Types      []string `koanf:"types"`
	Sources    []string `koanf:"sources"`
}

type rawConfig struct {
	Rate       string     `koanf:"rate"`
	DigestSize int        `koanf:"digest_size"`
	MaxIOCs    int        `koanf:"max_iocs"`
	DedupeSize int        `koanf:"dedupe_size"`
	DedupeTTL  string     `koanf:"dedupe_ttl"`
	Slack      rawChannel `koanf:"slack"`
	Teams      rawChannel `koanf:"teams"`
	Webhook    rawChannel `koanf:"webhook"`
	Email      rawSMTP    `koanf:"email"`
	Rules      []rawRule  `koanf:"rules"`
}

// Section is the config section notifications are configured by.
const Section = "notify"

// LoadConfig reads the notify section of k (the merged configuration; k may
// be nil) and the IOCANE_* variables from getenv, which override it:
// IOCANE_SLACK_WEBHOOK_URL, IOCANE_TEAMS_WEBHOOK_URL,
// IOCANE_NOTIFY_WEBHOOK_URL, IOCANE_NOTIFY_WEBHOOK_SECRET, IOCANE_SMTP_HOST,
// _PORT, _USERNAME, _PASSWORD, _FROM, _TO (comma-separated), _STARTTLS,
// IOCANE_NOTIFY_RATE and the per-channel IOCANE_SLACK_RATE,
// IOCANE_TEAMS_RATE, IOCANE_SMTP_RATE, IOCANE_NOTIFY_WEBHOOK_RATE. Every
// problem is reported; no message holds a secret.
func LoadConfig(k *koanf.Koanf, getenv func(string) string) (Config, error) {
	var raw rawConfig
	if err := settings.Decode(k, Section, &raw); err != nil {
		if len(settings.UnknownKeys(err)) > 0 { // key names hold no secret
			return Config{}, settings.Wrap("config: ", err)
		}
		return Config{}, fmt.Errorf("config: notify: %w", scrubKoanf(err))
	}
	env := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv("IOCANE_" + name)); v != "" {
			*dst = v
		}
	}
	env("NOTIFY_RATE", &raw.Rate)
	env("SLACK_WEBHOOK_URL", &raw.Slack.WebhookURL)
	env("SLACK_RATE", &raw.Slack.Rate)
	env("TEAMS_WEBHOOK_URL", &raw.Teams.WebhookURL)
	env("TEAMS_RATE", &raw.Teams.Rate)
	env("NOTIFY_WEBHOOK_URL", &raw.Webhook.URL)
	env("NOTIFY_WEBHOOK_SECRET", &raw.Webhook.Secret)
	env("NOTIFY_WEBHOOK_RATE", &raw.Webhook.Rate)
	env("SMTP_HOST", &raw.Email.Host)
	env("SMTP_PORT", &raw.Email.Port)
	env("SMTP_USERNAME", &raw.Email.Username)
	env("SMTP_PASSWORD", &raw.Email.Password)
	env("SMTP_FROM", &raw.Email.From)
	env("SMTP_STARTTLS", &raw.Email.StartTLS)
	env("SMTP_RATE", &raw.Email.Rate)
	if v := strings.TrimSpace(getenv("IOCANE_SMTP_TO")); v != "" {
		raw.Email.To = nil
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				raw.Email.To = append(raw.Email.To, a)
			}
		}
	}

	var errs []error
	c := Config{DigestSize: raw.DigestSize, MaxIOCs: raw.MaxIOCs, DedupeSize: raw.DedupeSize, DedupeTTL: DefaultDedupeTTL}
	if c.DigestSize <= 0 {
		c.DigestSize = DefaultDigestSize
	}
	c.DigestSize = min(c.DigestSize, MaxDigestSize)
	if c.MaxIOCs <= 0 {
		c.MaxIOCs = DefaultMaxIOCs
	}
	if c.DedupeSize <= 0 {
		c.DedupeSize = DefaultDedupeSize
	}
	if raw.DedupeTTL != "" {
		d, err := time.ParseDuration(raw.DedupeTTL)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("config: notify.dedupe_ttl: %q is not a positive duration (e.g. 24h)", raw.DedupeTTL))
		}
		c.DedupeTTL = d
	}
	rate := func(where, s string) ratelimit.Rate {
		if s == "" {
			s = raw.Rate
		}
		if s == "" {
			s = DefaultRate
		}
		r, err := ratelimit.ParseRate(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: notify.%s.rate: %w", where, err))
		}
		return r
	}
	maxTLP := func(where, s string) tlp.Level {
		if s == "" {
			return DefaultMaxTLP
		}
		l, err := tlp.MustParse(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: notify.%s.max_tlp: %w", where, err))
		}
		return l
	}
	webhook := func(name string, ch rawChannel, u string) *WebhookChannel {
		if u == "" {
			return nil
		}
		if err := checkURL(u); err != nil {
			errs = append(errs, fmt.Errorf("config: notify.%s: the webhook URL %w", name, err))
		}
		return &WebhookChannel{URL: provider.NewSecret(u), Secret: provider.NewSecret(ch.Secret), Rate: rate(name, ch.Rate), MaxTLP: maxTLP(name, ch.MaxTLP)}
	}
	raw.Slack.Secret, raw.Teams.Secret = "", "" // only the generic webhook signs
	c.Slack = webhook(Slack, raw.Slack, raw.Slack.WebhookURL)
	c.Teams = webhook(Teams, raw.Teams, raw.Teams.WebhookURL)
	c.Webhook = webhook(Webhook, raw.Webhook, firstNonEmpty(raw.Webhook.URL, raw.Webhook.WebhookURL))
	if e := raw.Email; e.Host != "" {
		s := &SMTPConfig{Host: e.Host, Port: DefaultSMTPPort, Username: e.Username, Password: provider.NewSecret(e.Password),
			From: e.From, To: e.To, StartTLS: strings.ToLower(firstNonEmpty(e.StartTLS, "mandatory")), Rate: rate(Email, e.Rate),
			MaxTLP: maxTLP(Email, e.MaxTLP)}
		if e.Port != "" {
			p, err := strconv.Atoi(e.Port)
			if err != nil || p <= 0 || p > 65535 {
				errs = append(errs, fmt.Errorf("config: notify.email.port: %q is not a port number", e.Port))
			}
			s.Port = p
		}
		switch s.StartTLS {
		case "mandatory", "opportunistic", "none":
		case "true", "yes", "on":
			s.StartTLS = "mandatory"
		case "false", "no", "off":
			s.StartTLS = "none"
		default:
			errs = append(errs, fmt.Errorf("config: notify.email.starttls: %q is not mandatory, opportunistic or none", e.StartTLS))
		}
		if s.From == "" {
			errs = append(errs, errors.New("config: notify.email.from (IOCANE_SMTP_FROM) is required"))
		}
		if len(s.To) == 0 {
			errs = append(errs, errors.New("config: notify.email.to (IOCANE_SMTP_TO) is required"))
		}
		c.Email = s
	}

	configured := map[string]bool{Slack: c.Slack != nil, Teams: c.Teams != nil, Email: c.Email != nil, Webhook: c.Webhook != nil}
	named := map[string]bool{}
	for i, rr := range raw.Rules {
		where := fmt.Sprintf("config: notify.rules[%d]", i)
		r, err := parseRule(rr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		if !configured[r.Channel] {
			errs = append(errs, fmt.Errorf("%s: channel %s is not configured (%s)", where, r.Channel, channelEnv[r.Channel]))
			continue
		}
		named[r.Channel] = true
		c.Rules = append(c.Rules, r)
	}
	for _, ch := range Channels {
		if configured[ch] && !named[ch] {
			c.Rules = append(c.Rules, Rule{Channel: ch, MinVerdict: result.Malicious})
		}
	}
	return c, errors.Join(errs...)
}

var channelEnv = map[string]string{
	Slack:   "IOCANE_SLACK_WEBHOOK_URL",
	Teams:   "IOCANE_TEAMS_WEBHOOK_URL",
	Email:   "IOCANE_SMTP_HOST and friends",
	Webhook: "IOCANE_NOTIFY_WEBHOOK_URL",
}

func parseRule(rr rawRule) (Rule, error) {
	r := Rule{Channel: strings.ToLower(strings.TrimSpace(rr.Channel)), MinVerdict: result.Malicious, Sources: rr.Sources}
	if !slices.Contains(Channels, r.Channel) {
		return Rule{}, fmt.Errorf("channel %q is not one of %s", rr.Channel, strings.Join(Channels, ", "))
	}
	if rr.MinVerdict != "" {
		v := result.Verdict(strings.ToLower(rr.MinVerdict))
		if !v.Valid() {
			return Rule{}, fmt.Errorf("min_verdict %q is not malicious, suspicious, unknown or benign", rr.MinVerdict)
		}
		r.MinVerdict = v
	}
	for _, t := range rr.Types {
		typ := ioc.Type(strings.ToLower(strings.TrimSpace(t)))
		if !slices.Contains(ioc.Types, typ) {
			return Rule{}, fmt.Errorf("type %q is not an IOC type", t)
		}
		r.Types = append(r.Types, typ)
	}
	for i, s := range r.Sources {
		r.Sources[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return r, nil
}

// checkURL validates a webhook URL without ever quoting it.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("is not an absolute http(s) URL")
	}
	return nil
}

// scrubKoanf drops the detail of a decoding error, which may quote a value.
func scrubKoanf(error) error {
	return errors.New("cannot decode the section (check its field types)")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
