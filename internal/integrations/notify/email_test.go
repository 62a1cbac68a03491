package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/result"
)

const smtpPass = "s3cret-smtp-PASSWORD"

func emailSet(t *testing.T, srv *smtpServer, starttls string, roots *tls.Config, clock *fakeClock) *Set {
	t.Helper()
	c := Config{Rules: []Rule{{Channel: Email, MinVerdict: result.Malicious}}, DigestSize: 50, MaxIOCs: 20, DedupeSize: 100, DedupeTTL: time.Hour,
		Email: &SMTPConfig{Host: "127.0.0.1", Port: srv.port(), Username: "iocane", Password: provider.NewSecret(smtpPass),
			From: "iocane@soc.example.com", To: []string{"analyst@soc.example.com", "oncall@soc.example.com"}, StartTLS: starttls,
			Rate: ratelimit.Rate{N: 10, Per: time.Minute}}}
	s, err := New(c, Options{Now: clock.Now, SMTPTLS: roots})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEmailSTARTTLS(t *testing.T) {
	serverTLS, pool := testCert(t)
	srv := newSMTP(t, serverTLS, "iocane", smtpPass)
	clock := newClock()
	s := emailSet(t, srv, "mandatory", &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, clock)
	if err := s.Sinks()[0].Deliver(context.Background(), maliciousDelivery()); err != nil {
		t.Fatal(err)
	}
	srv.wait(t, 1)
	mails, sessions := srv.got()
	if len(mails) != 1 {
		t.Fatalf("%d mails, want 1", len(mails))
	}
	got := mails[0]
	if !got.TLS || got.User != "iocane" || got.From != "iocane@soc.example.com" || strings.Join(got.To, ",") != "analyst@soc.example.com,oncall@soc.example.com" {
		t.Errorf("envelope: %+v", got)
	}
	// AUTH only after STARTTLS.
	cmds := strings.Join(sessions[0].Commands, " ")
	if !strings.HasPrefix(cmds, "EHLO STARTTLS EHLO AUTH ") || !strings.Contains(cmds, " MAIL RCPT RCPT DATA ") || !strings.HasSuffix(cmds, " QUIT") {
		t.Errorf("session: %s", cmds)
	}

	msg, err := mail.ReadMessage(strings.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	for k, want := range map[string]string{
		"Subject":        "[iocane] iocane: 2 malicious IOCs in Outbound connection to Tor exit node (splunk scheduler__admin__search__RMD5_at_1764172800_42)",
		"From":           "<iocane@soc.example.com>",
		"To":             "<analyst@soc.example.com>, <oncall@soc.example.com>",
		"Auto-Submitted": "auto-generated",
		"X-Iocane-Alert": "splunk:scheduler__admin__search__RMD5_at_1764172800_42",
	} {
		v := h.Get(k)
		if k == "Subject" {
			v = subject
		}
		if v != want {
			t.Errorf("%s: %q, want %q", k, v, want)
		}
	}
	if d, err := h.Date(); err != nil || !d.Equal(clock.Now()) {
		t.Errorf("Date: %v %v", d, err)
	}
	if h.Get("Message-ID") == "" {
		t.Error("no Message-ID")
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q", h.Get("Content-Type"))
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, _ := io.ReadAll(p)
		parts[ct] = string(b)
	}
	plain, html := parts["text/plain"], parts["text/html"]
	for _, want := range []string{
		"Alert:    Outbound connection to Tor exit node (splunk scheduler__admin__search__RMD5_at_1764172800_42)",
		"Link:     https://splunk.example.com/app/search/@go?sid=scheduler__admin__search__RMD5_at_1764172800_42",
		"* malicious · score 95 · url hxxp[://]evil[.]example[.]org/payload[.]exe",
		"    - urlhaus: online malware_download <Emotet> & loader",
		"* malicious · score 87 · ipv4 185[.]220[.]101[.]47",
		"    - greynoise: malicious scanner (Tor exit)",
		"    virustotal: https://www.virustotal.com/gui/ip-address/185.220.101.47",
		"Full result: https://iocane.example.com/v1/jobs/job-0001/results",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("text part lacks %q:\n%s", want, plain)
		}
	}
	if strings.Contains(plain, "otx: in 41 pulses") || strings.Contains(plain, "update-check") {
		t.Errorf("text part has a fourth reason or a suspicious IOC:\n%s", plain)
	}
	for _, want := range []string{
		`<code>hxxp[://]evil[.]example[.]org/payload[.]exe</code>`,
		`urlhaus: online malware_download &lt;Emotet&gt; &amp; loader`,
		`<a href="https://www.abuseipdb.com/check/185.220.101.47">abuseipdb</a>`,
		`<a href="https://iocane.example.com/v1/jobs/job-0001/results">View the full result</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("html part lacks %q:\n%s", want, html)
		}
	}
}

func TestEmailMandatorySTARTTLSRefusesPlainServer(t *testing.T) {
	srv := newSMTP(t, nil, "iocane", smtpPass) // offers no STARTTLS
	s := emailSet(t, srv, "mandatory", nil, newClock())
	err := s.Sinks()[0].Deliver(context.Background(), maliciousDelivery())
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("got %v, want a STARTTLS error", err)
	}
	srv.wait(t, 1)
	if mails, sessions := srv.got(); len(mails) != 0 || strings.Contains(strings.Join(sessions[0].Commands, " "), "AUTH") {
		t.Errorf("sent %d mails / authenticated without TLS: %v", len(mails), sessions)
	}
}

func TestEmailDigest(t *testing.T) {
	serverTLS, pool := testCert(t)
	srv := newSMTP(t, serverTLS, "iocane", smtpPass)
	clock := newClock()
	s := emailSet(t, srv, "mandatory", &tls.Config{RootCAs: pool}, clock)
	n := s.Notifiers()[0]
	n.win = &window{n: 1, per: time.Minute}
	for _, id := range []string{"e1", "e2", "e3"} {
		if err := n.Deliver(context.Background(), alertDelivery("xsoar", id)); err != nil && !errors.Is(err, integrations.ErrHeld) {
			t.Fatal(err)
		}
	}
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.wait(t, 2)
	mails, _ := srv.got()
	if len(mails) != 2 {
		t.Fatalf("%d mails, want a message and a digest", len(mails))
	}
	d := mails[1].Data
	for _, want := range []string{"2 alerts held by the notification rate limit", "Rule e2 (xsoar e2)", "Rule e3 (xsoar e3)"} {
		if !strings.Contains(d, want) {
			t.Errorf("digest lacks %q", want)
		}
	}
}

// TestReplyGoesToOneAddress: a reply to a reporter goes to that address
// only, not to the channel's recipients, with its text escaped in the HTML.
func TestReplyGoesToOneAddress(t *testing.T) {
	serverTLS, pool := testCert(t)
	srv := newSMTP(t, serverTLS, "iocane", smtpPass)
	s := emailSet(t, srv, "mandatory", &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, newClock())
	if err := s.Reply(context.Background(), "jane.doe@corp.example", "Re: Invoice <overdue>", "We received <your> report."); err != nil {
		t.Fatal(err)
	}
	srv.wait(t, 1)
	mails, _ := srv.got()
	if len(mails) != 1 || strings.Join(mails[0].To, ",") != "jane.doe@corp.example" {
		t.Fatalf("mails %+v", mails)
	}
	if !strings.Contains(mails[0].Data, "Re: Invoice <overdue>") || !strings.Contains(mails[0].Data, "&lt;your&gt;") {
		t.Errorf("message:\n%s", mails[0].Data)
	}
	empty, _ := New(Config{}, Options{})
	if err := empty.Reply(context.Background(), "a@b.example", "s", "t"); err != ErrNoEmail {
		t.Errorf("no e-mail channel: %v", err)
	}
}
