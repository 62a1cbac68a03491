package mailbox

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/iocane/iocane/internal/provider"
)

const (
	imapUser = "phishing@corp.example"
	imapPass = "imap-pass-Zq9!x"
)

// imapServer is go-imap's in-memory server on a loopback listener.
type imapServer struct {
	addr string
	tls  *tls.Config // client side, for imaps
}

type serverOpts struct {
	caps imap.CapSet
	tls  bool
}

func startIMAP(t *testing.T, o serverOpts) *imapServer {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(imapUser, imapPass)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	if o.caps == nil {
		o.caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         o.caps,
		InsecureAuth: true,
		Logger:       discardLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &imapServer{addr: ln.Addr().String()}
	if o.tls {
		cert, pool := selfSigned(t)
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
		s.tls = &tls.Config{RootCAs: pool}
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// selfSigned makes a certificate for 127.0.0.1.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// client is a second IMAP connection the test uses to drop mail in and
// look at folders.
func (s *imapServer) client(t *testing.T) *imapclient.Client {
	t.Helper()
	var c *imapclient.Client
	var err error
	if s.tls != nil {
		c, err = imapclient.DialTLS(s.addr, &imapclient.Options{TLSConfig: s.tls})
	} else {
		c, err = imapclient.DialInsecure(s.addr, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(imapUser, imapPass).Wait(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (s *imapServer) deliver(t *testing.T, msgs ...[]byte) {
	t.Helper()
	c := s.client(t)
	for _, m := range msgs {
		cmd := c.Append("INBOX", int64(len(m)), nil)
		if _, err := cmd.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

// count returns the number of messages in each folder ("" when missing).
func (s *imapServer) count(t *testing.T, folder string) int {
	t.Helper()
	st, err := s.client(t).Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return -1
	}
	return int(*st.NumMessages)
}

func (s *imapServer) config() Config {
	c := Config{Name: "soc", Kind: "imap", Username: imapUser, Password: provider.NewSecret(imapPass), URL: "imap://" + s.addr}
	if s.tls != nil {
		c.URL = "imaps://" + s.addr
	}
	return c
}

func newTestPoller(t *testing.T, c Config, q Submitter, o Options) *Poller {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, err := New(c, q, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIMAPReportedMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts serverOpts
	}{
		{"move", serverOpts{}},
		{"copy-fallback", serverOpts{caps: imap.CapSet{imap.CapIMAP4rev1: {}}}},
		{"imaps", serverOpts{tls: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startIMAP(t, tc.opts)
			srv.deliver(t, fixture(t, "report-rfc822.eml"))
			q := &fakeQueue{}
			p := newTestPoller(t, srv.config(), q, Options{TLSConfig: srv.tls})

			st, err := p.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st != (Stats{Seen: 1, Submitted: 1}) {
				t.Errorf("stats = %+v", st)
			}
			specs := q.specs()
			if len(specs) != 1 {
				t.Fatalf("%d jobs, want 1", len(specs))
			}
			j := specs[0]
			if j.IdempotencyKey != "mailbox:soc:report-1@corp.example" || j.Source != "mailbox" || j.InputFormat != "eml" || j.TLP != "amber" ||
				j.Alert.System != "mailbox" || j.Alert.ID != "report-1@corp.example" ||
				j.Alert.Extra["reporter"] != "alice@corp.example" || j.Alert.Extra["subject"] != "Phishing: Your account is locked" || j.Alert.Extra["mailbox"] != "soc" {
				t.Errorf("spec = %+v alert %+v", j, j.Alert)
			}
			got := iocs(t, j.Input)
			for _, w := range []string{"login.paypa1-verify.example/account", "203.0.113.7"} {
				if !hasIOC(got, w) {
					t.Errorf("IOC %q missing: %v", w, got)
				}
			}
			if hasIOC(got, "corp.example") || bytes.Contains(j.Input, []byte("alice@corp.example")) {
				t.Errorf("reporter's address or domain analysed: %v", got)
			}
			if n := srv.count(t, "INBOX"); n != 0 {
				t.Errorf("INBOX has %d, want 0", n)
			}
			if n := srv.count(t, DefaultProcessedFolder); n != 1 {
				t.Errorf("processed has %d, want 1", n)
			}
			if n := srv.count(t, DefaultFailedFolder); n != 0 {
				t.Errorf("failed has %d, want 0 (created empty)", n)
			}

			st, err = p.Poll(context.Background())
			if err != nil || st != (Stats{}) || len(q.specs()) != 1 {
				t.Errorf("second poll: %+v %v, %d jobs", st, err, len(q.specs()))
			}
		})
	}
}

// TestIMAPCrashBetweenSubmitAndMove: the job is stored but the process
// dies before the move; the next poll submits nothing new and moves it.
func TestIMAPCrashBetweenSubmitAndMove(t *testing.T) {
	srv := startIMAP(t, serverOpts{})
	srv.deliver(t, fixture(t, "report-rfc822.eml"))
	q := &fakeQueue{failAfterStore: true}
	p := newTestPoller(t, srv.config(), q, Options{})

	if _, err := p.Poll(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("err = %v, want the crash", err)
	}
	if n := srv.count(t, "INBOX"); n != 1 {
		t.Fatalf("INBOX has %d, want the message still there", n)
	}
	// A restarted process (a new Poller) sees the same message.
	p = newTestPoller(t, srv.config(), q, Options{})
	st, err := p.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st != (Stats{Seen: 1, Existing: 1}) || len(q.specs()) != 1 {
		t.Errorf("stats = %+v, %d jobs", st, len(q.specs()))
	}
	if srv.count(t, "INBOX") != 0 || srv.count(t, DefaultProcessedFolder) != 1 {
		t.Error("message not moved after the retry")
	}
}

func TestIMAPQueueDownLeavesMessage(t *testing.T) {
	srv := startIMAP(t, serverOpts{})
	srv.deliver(t, fixture(t, "report-rfc822.eml"))
	q := &fakeQueue{down: true}
	p := newTestPoller(t, srv.config(), q, Options{})
	if _, err := p.Poll(context.Background()); err == nil {
		t.Fatal("want an error")
	}
	if srv.count(t, "INBOX") != 1 {
		t.Error("message moved although no job was stored")
	}
}

func TestIMAPBadMessagesGoToFailed(t *testing.T) {
	srv := startIMAP(t, serverOpts{})
	big := append(fixture(t, "report-rfc822.eml"), bytes.Repeat([]byte("x"), 4096)...)
	srv.deliver(t, fixture(t, "malformed.eml"), fixture(t, "report-msg.eml"), big, fixture(t, "report-eml-attachment.eml"))
	q := &fakeQueue{}
	var logs bytes.Buffer
	c := srv.config()
	c.MaxSize = 3000
	p := newTestPoller(t, c, q, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	st, err := p.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st != (Stats{Seen: 4, Submitted: 1, Failed: 3}) {
		t.Errorf("stats = %+v", st)
	}
	if specs := q.specs(); len(specs) != 1 || specs[0].Alert.ID != "report-2@corp.example" {
		t.Errorf("jobs = %+v", specs)
	}
	if srv.count(t, DefaultFailedFolder) != 3 || srv.count(t, DefaultProcessedFolder) != 1 || srv.count(t, "INBOX") != 0 {
		t.Error("messages not where they belong")
	}
	for _, reason := range []string{"malformed message", "unsupported attachment", "over the size cap"} {
		if !strings.Contains(logs.String(), reason) {
			t.Errorf("log lacks reason %q:\n%s", reason, logs.String())
		}
	}
}

func TestIMAPMaxMessages(t *testing.T) {
	srv := startIMAP(t, serverOpts{})
	var msgs [][]byte
	for i := range 5 {
		m := strings.Replace(string(fixture(t, "report-rfc822.eml")), "<report-1@", fmt.Sprintf("<report-%d-x@", i), 1)
		msgs = append(msgs, []byte(m))
	}
	srv.deliver(t, msgs...)
	q := &fakeQueue{}
	c := srv.config()
	c.MaxMessages = 2
	p := newTestPoller(t, c, q, Options{})
	for i, want := range []int{2, 2, 1, 0} {
		st, err := p.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Seen != want || st.Submitted != want {
			t.Errorf("poll %d: %+v, want %d", i, st, want)
		}
	}
	if len(q.specs()) != 5 {
		t.Errorf("%d jobs, want 5", len(q.specs()))
	}
}

func TestIMAPWrongPassword(t *testing.T) {
	srv := startIMAP(t, serverOpts{})
	c := srv.config()
	c.Password = provider.NewSecret("wrong-" + imapPass)
	p := newTestPoller(t, c, &fakeQueue{}, Options{})
	_, err := p.Poll(context.Background())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	if strings.Contains(err.Error(), imapPass) {
		t.Errorf("password in error: %v", err)
	}
}
