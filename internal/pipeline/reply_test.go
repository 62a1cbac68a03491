package pipeline

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/integrations/notify"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/mailbox"
	"github.com/iocane/iocane/internal/ratelimit"
)

// miniSMTP accepts mail on loopback without TLS or AUTH and keeps each
// message's recipients and data.
type miniSMTP struct {
	ln   net.Listener
	mu   sync.Mutex
	mail []struct{ to, data string }
}

func startSMTP(t *testing.T) *miniSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &miniSMTP{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *miniSMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(l string) { io.WriteString(c, l+"\r\n") }
	say("220 mini ESMTP")
	var to []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 mini")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO"):
			to = append(to, strings.Trim(strings.TrimSpace(line[len("RCPT TO:"):]), "<>"))
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil || l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			s.mu.Lock()
			s.mail = append(s.mail, struct{ to, data string }{strings.Join(to, ","), b.String()})
			s.mu.Unlock()
			to = nil
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *miniSMTP) got(t *testing.T, n int) []struct{ to, data string } {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s.mu.Lock()
		m := append([]struct{ to, data string }(nil), s.mail...)
		s.mu.Unlock()
		if len(m) >= n || time.Now().After(deadline) {
			return m
		}
	}
}

// TestMailboxRepliesToTheReporter (issue 13, acceptance 1: the reply):
// with reply: true the reporter gets "received" when the report's job is
// stored and the verdict when it completes, through the e-mail channel,
// and no live link.
func TestMailboxRepliesToTheReporter(t *testing.T) {
	smtp := startSMTP(t)
	_, port, _ := net.SplitHostPort(smtp.ln.Addr().String())
	portN, _ := strconv.Atoi(port)
	set, err := notify.New(notify.Config{DigestSize: notify.DefaultDigestSize, MaxIOCs: notify.DefaultMaxIOCs, DedupeSize: 10, DedupeTTL: time.Hour,
		Email: &notify.SMTPConfig{Host: "127.0.0.1", Port: portN, From: "iocane@soc.corp.example", To: []string{"soc@corp.example"},
			StartTLS: "none", Rate: ratelimit.Rate{N: 10, Per: time.Minute}}}, notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := &Pipeline{Settings: &Settings{Mailboxes: []mailbox.Config{{Name: "reports", Reply: true}, {Name: "quiet"}}}}
	onSubmitted, onComplete := p.replies(set, slog.New(slog.DiscardHandler))
	subject := "Invoice overdue: pay at https://evil-payload.xyz/pay"
	alert := &jobs.AlertRef{System: "mailbox", ID: "m1@corp.example", Extra: map[string]string{"mailbox": "reports", "reporter": "jane.doe@corp.example", "subject": subject}}
	j := jobs.Job{ID: "job-7", Source: "mailbox", Alert: alert, State: jobs.Completed, Counts: jobs.Counts{Malicious: 1}}
	onSubmitted(context.Background(), mailbox.Report{Reporter: "jane.doe@corp.example", Subject: subject}, j)
	onComplete(j)
	quiet := j
	quiet.Alert = &jobs.AlertRef{System: "mailbox", Extra: map[string]string{"mailbox": "quiet", "reporter": "x@corp.example"}}
	onComplete(quiet) // reply is off for this mailbox
	onComplete(jobs.Job{ID: "job-8", Source: "splunk", State: jobs.Completed})
	smtp.got(t, 2)
	time.Sleep(100 * time.Millisecond) // a third mail, which must not come, would have by now
	smtp.mu.Lock()
	mail := append([]struct{ to, data string }(nil), smtp.mail...)
	smtp.mu.Unlock()
	if len(mail) != 2 {
		t.Fatalf("%d mails, want 2: %+v", len(mail), mail)
	}
	joined := mail[0].data + mail[1].data
	for _, m := range mail {
		if m.to != "jane.doe@corp.example" {
			t.Errorf("sent to %q", m.to)
		}
	}
	if !strings.Contains(joined, "We received your report") || !strings.Contains(joined, "it is malicious") {
		t.Errorf("replies:\n%s", joined)
	}
	if strings.Contains(joined, "https://evil") || strings.Contains(joined, "evil-payload.xyz") {
		t.Errorf("a live link in a reply:\n%s", joined)
	}
}
