package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

type quietIMAP struct{}

func (quietIMAP) Printf(string, ...any) {}
func (quietIMAP) Println(...any)        {}

// TestMailboxPollEndToEnd: `iocane mailbox poll --once` as the CLI runs it,
// from config to the store's job queue: a report with the original
// attached becomes one job with source mailbox whose input is the
// original; a second poll submits nothing.
func TestMailboxPollEndToEnd(t *testing.T) {
	ln, c := memIMAP(t, "imap-pass-E2e7!", nil)
	appendReport(t, c)
	c.Close()

	cfg := filepath.Join(t.TempDir(), "iocane.yaml")
	yaml := fmt.Sprintf("mailboxes:\n  - {name: reports, kind: imap, url: \"imap://%s\", username: phishing@corp.example, tlp: green}\n", ln.Addr())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "iocane.db")
	env := []string{"IOCANE_MAILBOX_REPORTS_PASSWORD=imap-pass-E2e7!"}
	p, err := Open(context.Background(), Options{ConfigPath: cfg, DBPath: db, Environ: env, StoreOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	log := slog.New(slog.DiscardHandler)
	st, err := p.PollMailboxes(context.Background(), "", true, log)
	if err != nil || len(st) != 1 || st[0].Submitted != 1 || st[0].Name != "reports" {
		t.Fatalf("first poll %+v, %v", st, err)
	}
	if st, err := p.PollMailboxes(context.Background(), "reports", true, log); err != nil || st[0].Seen != 0 || st[0].Submitted != 0 {
		t.Fatalf("second poll %+v, %v", st, err)
	}
	qw, qr, err := p.Store.QueuePools()
	if err != nil {
		t.Fatal(err)
	}
	defer qw.Close()
	defer qr.Close()
	var n int
	var source, alert string
	if err := qr.QueryRow(`SELECT count(*), max(source), max(alert) FROM jobs`).Scan(&n, &source, &alert); err != nil {
		t.Fatal(err)
	}
	if n != 1 || source != "mailbox" || !strings.Contains(alert, `"system":"mailbox"`) || !strings.Contains(alert, `"reporter"`) {
		t.Fatalf("%d jobs, source %q, alert %s", n, source, alert)
	}
}

// memIMAP serves go-imap's in-memory server on loopback with the user
// phishing@corp.example, its sessions passed through wrap (nil: as they
// are), and returns its listener and a logged-in client.
func memIMAP(t *testing.T, pass string, wrap func(imapserver.Session) imapserver.Session) (net.Listener, *imapclient.Client) {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("phishing@corp.example", pass)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			if wrap != nil {
				return wrap(mem.NewSession()), nil, nil
			}
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true, Logger: quietIMAP{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c, err := imapclient.DialInsecure(ln.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("phishing@corp.example", pass).Wait(); err != nil {
		t.Fatal(err)
	}
	return ln, c
}

// appendReport drops the mailbox package's report fixture (the original
// attached as message/rfc822) into INBOX.
func appendReport(t *testing.T, c *imapclient.Client) {
	t.Helper()
	report, err := os.ReadFile(filepath.Join("..", "mailbox", "testdata", "report-rfc822.eml"))
	if err != nil {
		t.Fatal(err)
	}
	app := c.Append("INBOX", int64(len(report)), nil)
	app.Write(report)
	app.Close()
	if _, err := app.Wait(); err != nil {
		t.Fatal(err)
	}
}
