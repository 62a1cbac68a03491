package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"net/mail"
	"strings"
	"testing"
)

func TestEmailReport(t *testing.T) {
	serverTLS, pool := testCert(t)
	srv := newSMTP(t, serverTLS, "iocane", smtpPass)
	s := emailSet(t, srv, "mandatory", &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, newClock())
	html := `<!DOCTYPE html><html><body><svg id="chart-daily"></svg></body></html>`
	if err := s.EmailReport(context.Background(), "iocane pipeline report, 23 Nov – 30 Nov 2026", "# report", html); err != nil {
		t.Fatal(err)
	}
	srv.wait(t, 1)
	mails, _ := srv.got()
	if len(mails) != 1 || !mails[0].TLS {
		t.Fatalf("mails: %+v", mails)
	}
	msg, err := mail.ReadMessage(strings.NewReader(mails[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get("Subject"); !strings.Contains(got, "iocane pipeline report") && !strings.Contains(got, "=?") {
		t.Errorf("subject %q", got)
	}
	if msg.Header.Get("X-Iocane-Alert") != "" {
		t.Error("a report is not an alert")
	}
	if !strings.Contains(mails[0].Data, "chart-daily") {
		t.Error("HTML alternative missing")
	}

	empty, err := New(Config{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := empty.EmailReport(context.Background(), "s", "t", "h"); !errors.Is(err, ErrNoEmail) {
		t.Errorf("no e-mail channel: %v, want ErrNoEmail", err)
	}
}
