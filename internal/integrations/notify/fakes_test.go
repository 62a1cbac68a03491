package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/result"
)

// fakeClock is the injected clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// hook is a fake webhook receiver (Slack, Teams or generic) on loopback
// that records every request.
type hook struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []hookReq
	status int    // answer code; default 200
	answer string // answer body; default "ok"
	clock  *fakeClock
}

type hookReq struct {
	Path   string
	Header http.Header
	Body   []byte
	At     time.Time
}

func newHook(t *testing.T, clock *fakeClock) *hook {
	h := &hook{status: http.StatusOK, answer: "ok", clock: clock}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		at := time.Time{}
		if h.clock != nil {
			at = h.clock.Now()
		}
		h.reqs = append(h.reqs, hookReq{Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: b, At: at})
		status, answer := h.status, h.answer
		h.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) requests() []hookReq {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookReq(nil), h.reqs...)
}

func (h *hook) setAnswer(status int, body string) {
	h.mu.Lock()
	h.status, h.answer = status, body
	h.mu.Unlock()
}

// fixtures

func src(provider, status, link string) result.Source {
	return result.Source{Provider: provider, Status: status, Link: link}
}

// maliciousDelivery is a Splunk alert with two malicious IOCs, one
// suspicious and one benign.
func maliciousDelivery() integrations.Delivery {
	return integrations.Delivery{
		Job: jobs.Job{ID: "job-0001", State: jobs.Completed, Source: "splunk", Alert: &jobs.AlertRef{
			System: "splunk", ID: "scheduler__admin__search__RMD5_at_1764172800_42",
			Link:  "https://splunk.example.com/app/search/@go?sid=scheduler__admin__search__RMD5_at_1764172800_42",
			Extra: map[string]string{"search_name": "Outbound connection to Tor exit node", "app": "search"},
		}},
		Link: "https://iocane.example.com/v1/jobs/job-0001/results",
		Results: []result.Result{
			{IOC: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}, Verdict: result.Malicious, Score: 87,
				Reasons: []string{"abuseipdb: confidence 100 from 3319 reports", "virustotal: 12/94 engines flag it malicious", "greynoise: malicious scanner (Tor exit)", "otx: in 41 pulses"},
				Sources: []result.Source{
					src("virustotal", "ok", "https://www.virustotal.com/gui/ip-address/185.220.101.47"),
					src("abuseipdb", "ok", "https://www.abuseipdb.com/check/185.220.101.47"),
					src("shodan", "not_found", ""),
				}},
			{IOC: ioc.IOC{Type: ioc.SHA256, Value: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}, Verdict: result.Benign, Score: 0,
				Reasons: []string{"allowlist: known good"}},
			{IOC: ioc.IOC{Type: ioc.Domain, Value: "update-check.example.net"}, Verdict: result.Suspicious, Score: 48,
				Reasons: []string{"urlhaus: hosted malware 2 months ago"}},
			{IOC: ioc.IOC{Type: ioc.URL, Value: "http://evil.example.org/payload.exe"}, Verdict: result.Malicious, Score: 95,
				Reasons: []string{"urlhaus: online malware_download <Emotet> & loader"},
				Sources: []result.Source{src("urlhaus", "ok", "https://urlhaus.abuse.ch/url/2890234/")}},
		},
	}
}

func benignDelivery() integrations.Delivery {
	d := maliciousDelivery()
	d.Job.ID = "job-benign"
	d.Job.Alert = &jobs.AlertRef{System: "splunk", ID: "benign-1"}
	d.Results = []result.Result{
		{IOC: ioc.IOC{Type: ioc.Domain, Value: "example.com"}, Verdict: result.Benign, Score: 0},
		{IOC: ioc.IOC{Type: ioc.IPv4, Value: "8.8.8.8"}, Verdict: result.Unknown, Score: 5},
	}
	return d
}

// alertDelivery is a one-IOC malicious alert with id id.
func alertDelivery(system, id string) integrations.Delivery {
	return integrations.Delivery{
		Job:  jobs.Job{ID: "job-" + id, Source: system, Alert: &jobs.AlertRef{System: system, ID: id, Extra: map[string]string{"rule_name": "Rule " + id}}},
		Link: "https://iocane.example.com/v1/jobs/job-" + id + "/results",
		Results: []result.Result{{IOC: ioc.IOC{Type: ioc.IPv4, Value: "203.0.113.9"}, Verdict: result.Malicious, Score: 90,
			Reasons: []string{"feeds: listed"}}},
	}
}

// Fake SMTP server: enough ESMTP for go-mail (EHLO, STARTTLS, AUTH PLAIN,
// MAIL, RCPT, DATA, RSET, NOOP, QUIT), built on net/textproto.

type smtpServer struct {
	ln       net.Listener
	tls      *tls.Config // nil: no STARTTLS offered
	user     string      // accepted credentials
	pass     string
	badReply string // 535 text on a failed AUTH (a server that echoes things)
	mu       sync.Mutex
	mails    []smtpMail
	sessions []smtpSession
	ended    chan struct{} // one per finished session
	wg       sync.WaitGroup
}

type smtpMail struct {
	From string
	To   []string
	Data string
	TLS  bool
	User string
}

type smtpSession struct {
	TLS      bool
	AuthUser string
	AuthPass string
	Commands []string
}

func newSMTP(t *testing.T, tc *tls.Config, user, pass string) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, tls: tc, user: user, pass: pass, badReply: "5.7.8 authentication failed", ended: make(chan struct{}, 64)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// wait waits for n sessions to end (the client hung up or quit).
func (s *smtpServer) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-s.ended:
		case <-time.After(5 * time.Second): // a hang, not timing: fails the test
			t.Fatal("the SMTP session did not end: connection left open")
		}
	}
}

func (s *smtpServer) got() ([]smtpMail, []smtpSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMail(nil), s.mails...), append([]smtpSession(nil), s.sessions...)
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	sess := smtpSession{}
	defer func() {
		s.mu.Lock()
		s.sessions = append(s.sessions, sess)
		s.mu.Unlock()
		s.ended <- struct{}{}
	}()
	var cur smtpMail
	authed := false
	reply := func(format string, args ...any) bool { return tp.PrintfLine(format, args...) == nil }
	reply("220 fake.smtp.test ESMTP ready")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		if verb == "AUTH" {
			sess.Commands = append(sess.Commands, "AUTH")
		} else {
			sess.Commands = append(sess.Commands, verb)
		}
		switch verb {
		case "EHLO", "HELO":
			lines := []string{"fake.smtp.test greets " + arg}
			if s.tls != nil && !sess.TLS {
				lines = append(lines, "STARTTLS")
			}
			lines = append(lines, "AUTH PLAIN", "8BITMIME")
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				reply("250%s%s", sep, l)
			}
		case "STARTTLS":
			if s.tls == nil || sess.TLS {
				reply("502 5.5.1 not offered")
				continue
			}
			reply("220 2.0.0 ready to start TLS")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c = tc
			tp = textproto.NewConn(tc)
			sess.TLS = true
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				reply("504 5.5.4 mechanism not supported")
				continue
			}
			if ir == "" {
				reply("334 ")
				if ir, err = tp.ReadLine(); err != nil {
					return
				}
			}
			raw, err := base64.StdEncoding.DecodeString(ir)
			parts := strings.Split(string(raw), "\x00")
			if err != nil || len(parts) != 3 {
				reply("501 5.5.2 bad AUTH PLAIN response")
				continue
			}
			sess.AuthUser, sess.AuthPass = parts[1], parts[2]
			if parts[1] != s.user || parts[2] != s.pass {
				reply("535 %s", s.badReply)
				continue
			}
			authed = true
			reply("235 2.7.0 authenticated")
		case "MAIL":
			if s.user != "" && !authed {
				reply("530 5.7.0 authentication required")
				continue
			}
			cur = smtpMail{From: addrOf(arg), TLS: sess.TLS, User: sess.AuthUser}
			reply("250 2.1.0 ok")
		case "RCPT":
			cur.To = append(cur.To, addrOf(arg))
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			b, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			cur.Data = string(b)
			s.mu.Lock()
			s.mails = append(s.mails, cur)
			s.mu.Unlock()
			reply("250 2.0.0 queued as %d", len(s.mails))
		case "RSET":
			cur = smtpMail{}
			reply("250 2.0.0 ok")
		case "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 command not recognised")
		}
	}
}

// addrOf reads "FROM:<a@b> BODY=8BITMIME" as a@b.
func addrOf(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i < 0 || j < i {
		return arg
	}
	return arg[i+1 : j]
}

// testCert makes a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func testCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake.smtp.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}

// memTransport records what a Notifier sends, without a network.
type memTransport struct {
	mu      sync.Mutex
	msgs    []Message
	digests []Digest
	notices []Notice
	fail    error
}

func (m *memTransport) send(_ context.Context, msg Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.msgs = append(m.msgs, msg)
	return nil
}

func (m *memTransport) sendDigest(_ context.Context, d Digest) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	d.Entries = append([]Entry(nil), d.Entries...)
	m.digests = append(m.digests, d)
	return nil
}

func (m *memTransport) counts() (int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.msgs), len(m.digests)
}

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func (m *memTransport) notice(_ context.Context, n Notice) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.notices = append(m.notices, n)
	return nil
}
