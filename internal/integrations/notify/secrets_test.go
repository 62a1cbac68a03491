package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/knadh/koanf/v2"

	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// TestNoSecretInLogsOrErrors: webhook URL tokens and the SMTP password
// never reach a log line or an error, whatever the server answers (even a
// server that echoes the request URL or the password).
func TestNoSecretInLogsOrErrors(t *testing.T) {
	secrets := []string{"slacktokenXYZ", "teamsSIGxyz", "hookTOKEN", "hmac-secret-value", smtpPass}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := newClock()
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	// Webhooks answering with the URL they were called on.
	echo := newHook(t, clock)
	c := testConfig([]Rule{{Channel: Slack, MinVerdict: result.Malicious}, {Channel: Teams, MinVerdict: result.Malicious}, {Channel: Webhook, MinVerdict: result.Malicious}}, echo, echo, echo)
	c.Slack.Rate = ratelimit.Rate{N: 1, Per: time.Minute}
	echoing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "invalid_token for %s (%s)", r.URL.String(), r.URL.Path)
	})
	echo.Config.Handler = echoing
	s, err := New(c, Options{Now: clock.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	for _, sink := range s.Sinks() {
		check(sink.Deliver(context.Background(), maliciousDelivery()))
	}

	// A webhook that cannot be reached (dial error: Go's *url.Error quotes
	// the whole URL).
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	c2 := Config{Rules: []Rule{{Channel: Slack, MinVerdict: result.Malicious}}, DigestSize: 2,
		Slack: &WebhookChannel{URL: provider.NewSecret(dead + "/services/T0001/B0001/slacktokenXYZ"), Rate: ratelimit.Rate{N: 1, Per: time.Minute}}}
	s2, err := New(c2, Options{Now: clock.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	n := s2.Notifiers()[0]
	check(n.Deliver(context.Background(), alertDelivery("splunk", "dead-1")))
	n.win.take(context.Background(), clock.Now(), 1) // spend the window: the next alerts are held
	check(n.Deliver(context.Background(), alertDelivery("splunk", "dead-2")))
	check(n.Deliver(context.Background(), alertDelivery("splunk", "dead-3")))
	check(n.Close(context.Background()))

	// An SMTP server that rejects the password and quotes it back.
	serverTLS, pool := testCert(t)
	srv := newSMTP(t, serverTLS, "iocane", "another-password")
	srv.badReply = "5.7.8 bad password " + smtpPass
	es := emailSet(t, srv, "mandatory", &tls.Config{RootCAs: pool}, clock)
	es.notifiers[0].log = logger
	check(es.Sinks()[0].Deliver(context.Background(), maliciousDelivery()))

	if len(errs) < 6 {
		t.Fatalf("only %d errors collected: %v", len(errs), errs)
	}
	var all strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&all, "%v\n%+v\n%#v\n%s\n", e, e, e, e.Error())
	}
	all.WriteString(logs.String())
	fmt.Fprintf(&all, "%v %+v %#v", c, *c.Slack, *c.Teams)
	for _, sec := range secrets {
		if strings.Contains(all.String(), sec) {
			t.Errorf("secret %q leaked:\n%s", sec, all.String())
		}
	}
	for _, want := range []string{"http 403", "connection refused", "535"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("errors lost their cause %q:\n%s", want, all.String())
		}
	}
}

func TestLoadConfig(t *testing.T) {
	env := map[string]string{
		"IOCANE_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/slacktokenXYZ",
		"IOCANE_TEAMS_WEBHOOK_URL": "https://prod-00.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=teamsSIGxyz",
		"IOCANE_SMTP_HOST":         "smtp.example.com",
		"IOCANE_SMTP_PASSWORD":     smtpPass,
		"IOCANE_SMTP_USERNAME":     "iocane",
		"IOCANE_SMTP_FROM":         "iocane@example.com",
		"IOCANE_SMTP_TO":           "a@example.com, b@example.com",
		"IOCANE_SLACK_RATE":        "5/m",
	}
	k := koanf.New(".")
	_ = k.Set("notify.rules", []any{
		map[string]any{"channel": "slack", "min_verdict": "suspicious", "types": []any{"ipv4", "url"}, "sources": []any{"Splunk"}},
		map[string]any{"channel": "email"},
	})
	_ = k.Set("notify.digest_size", 500)
	_ = k.Set("notify.teams.max_tlp", "green")
	c, err := LoadConfig(k, func(s string) string { return env[s] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.MaxTLP != tlp.Amber || c.Teams.MaxTLP != tlp.Green || c.Email.MaxTLP != tlp.Amber {
		t.Errorf("max_tlp: slack %v teams %v email %v, want amber (the default), green, amber", c.Slack.MaxTLP, c.Teams.MaxTLP, c.Email.MaxTLP)
	}
	if c.Slack == nil || c.Slack.URL.Reveal() != env["IOCANE_SLACK_WEBHOOK_URL"] || c.Slack.Rate.N != 5 || c.Teams.Rate.N != 10 {
		t.Errorf("slack/teams: %+v %+v", c.Slack, c.Teams)
	}
	if e := c.Email; e == nil || e.Port != 587 || e.StartTLS != "mandatory" || len(e.To) != 2 || e.Password.Reveal() != smtpPass {
		t.Errorf("email: %+v", c.Email)
	}
	if c.DigestSize != MaxDigestSize || c.DedupeTTL != DefaultDedupeTTL {
		t.Errorf("digest %d ttl %v", c.DigestSize, c.DedupeTTL)
	}
	want := []string{"slack:suspicious:[ipv4 url]:[splunk]", "email:malicious:[]:[]", "teams:malicious:[]:[]"}
	var got []string
	for _, r := range c.Rules {
		got = append(got, fmt.Sprintf("%s:%s:%v:%v", r.Channel, r.MinVerdict, r.Types, r.Sources))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rules %v, want %v", got, want)
	}

	// Errors: every problem reported, no secret quoted.
	bad := koanf.New(".")
	_ = bad.Set("notify.rules", []any{map[string]any{"channel": "pager"}, map[string]any{"channel": "webhook"}, map[string]any{"channel": "slack", "min_verdict": "evil"}})
	_ = bad.Set("notify.email.max_tlp", "purple")
	_, err = LoadConfig(bad, func(s string) string {
		return map[string]string{"IOCANE_SLACK_WEBHOOK_URL": "not a url slacktokenXYZ", "IOCANE_SMTP_HOST": "smtp.example.com", "IOCANE_SMTP_PASSWORD": smtpPass, "IOCANE_SMTP_STARTTLS": "maybe"}[s]
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`channel "pager"`, "channel webhook is not configured", `min_verdict "evil"`, "notify.slack: the webhook URL is not an absolute", "starttls", "from", "to", "notify.email.max_tlp"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "slacktokenXYZ") || strings.Contains(err.Error(), smtpPass) {
		t.Errorf("error leaks a secret: %v", err)
	}
}
