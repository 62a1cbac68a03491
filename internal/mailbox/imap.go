package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// imapBackend reads a mailbox over IMAP, one connection per poll.
type imapBackend struct {
	cfg  Config
	addr string
	tls  *tls.Config // nil for imap:// to loopback
}

func newIMAP(c Config, o Options) (*imapBackend, error) {
	u, _ := url.Parse(c.URL) // checked by withDefaults
	b := &imapBackend{cfg: c, addr: u.Host}
	port := "143"
	if u.Scheme == "imaps" {
		port = "993"
		b.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
		if o.TLSConfig != nil {
			b.tls = o.TLSConfig.Clone()
			if b.tls.ServerName == "" {
				b.tls.ServerName = u.Hostname()
			}
		}
	}
	if u.Port() == "" {
		b.addr = net.JoinHostPort(u.Hostname(), port)
	}
	return b, nil
}

func (b *imapBackend) open(ctx context.Context) (session, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", b.addr)
	if err != nil {
		return nil, fmt.Errorf("imap dial: %w", err)
	}
	if b.tls != nil {
		tc := tls.Client(conn, b.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("imap tls: %w", err)
		}
		conn = tc
	}
	c := imapclient.New(conn, nil)
	s := &imapSession{c: c, stop: context.AfterFunc(ctx, func() { _ = c.Close() })}
	if err := s.login(b.cfg); err != nil {
		_ = s.close()
		return nil, err
	}
	for _, f := range []string{b.cfg.ProcessedFolder, b.cfg.FailedFolder} {
		if err := s.ensure(f); err != nil {
			_ = s.close()
			return nil, err
		}
	}
	sel, err := c.Select(b.cfg.Folder, nil).Wait()
	if err != nil {
		_ = s.close()
		return nil, fmt.Errorf("imap select %s: %w", b.cfg.Folder, err)
	}
	s.exists = sel.NumMessages
	return s, nil
}

type imapSession struct {
	c      *imapclient.Client
	stop   func() bool
	exists uint32 // messages in the folder when selected
}

func (s *imapSession) login(c Config) error {
	var err error
	if !c.XOAUTH2.IsZero() {
		err = s.c.Authenticate(&xoauth2{user: c.Username, token: c.XOAUTH2.Reveal()})
	} else {
		err = s.c.Login(c.Username, c.Password.Reveal()).Wait()
	}
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
			return fmt.Errorf("imap login as %s: %w (%v)", c.Username, ErrUnauthorized, err)
		}
		return fmt.Errorf("imap login as %s: %w", c.Username, err)
	}
	return nil
}

// ensure creates a folder when it is missing.
func (s *imapSession) ensure(name string) error {
	l, err := s.c.List("", name, nil).Collect()
	if err != nil {
		return fmt.Errorf("imap list %s: %w", name, err)
	}
	if len(l) > 0 {
		return nil
	}
	if err := s.c.Create(name, nil).Wait(); err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists {
			return nil
		}
		return fmt.Errorf("imap create %s: %w", name, err)
	}
	return nil
}

func (s *imapSession) list(_ context.Context, n int) ([]message, error) {
	if s.exists == 0 {
		return nil, nil
	}
	last := min(s.exists, uint32(n))
	var set imap.SeqSet
	set.AddRange(1, last)
	bufs, err := s.c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("imap fetch sizes: %w", err)
	}
	out := make([]message, 0, len(bufs))
	for _, b := range bufs {
		out = append(out, message{ref: strconv.FormatUint(uint64(b.UID), 10), size: b.RFC822Size})
	}
	return out, nil
}

func uidOf(m message) (imap.UIDSet, error) {
	u, err := strconv.ParseUint(m.ref, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("imap: bad uid %q", m.ref)
	}
	return imap.UIDSetNum(imap.UID(u)), nil
}

func (s *imapSession) fetch(_ context.Context, m message, max int64) ([]byte, error) {
	uid, err := uidOf(m)
	if err != nil {
		return nil, err
	}
	sec := &imap.FetchItemBodySection{Peek: true}
	bufs, err := s.c.Fetch(uid, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{sec}}).Collect()
	if err != nil {
		return nil, fmt.Errorf("imap fetch: %w", err)
	}
	if len(bufs) == 0 {
		return nil, fmt.Errorf("uid %s: %w", m.ref, errGone)
	}
	raw := bufs[0].FindBodySection(sec)
	if int64(len(raw)) > max {
		return nil, fmt.Errorf("%w: %d bytes, the cap is %d", ErrTooLarge, len(raw), max)
	}
	return raw, nil
}

// move uses MOVE when the server has it; imapclient falls back to COPY,
// STORE \Deleted and (UID) EXPUNGE otherwise.
func (s *imapSession) move(_ context.Context, m message, folder string) error {
	uid, err := uidOf(m)
	if err != nil {
		return err
	}
	if _, err := s.c.Move(uid, folder).Wait(); err != nil {
		return fmt.Errorf("imap move: %w", err)
	}
	return nil
}

func (s *imapSession) close() error {
	s.stop()
	err := s.c.Logout().Wait()
	if cerr := s.c.Close(); err == nil {
		err = cerr
	}
	return err
}

// xoauth2 is the SASL XOAUTH2 mechanism (Google, Microsoft), which
// go-sasl does not ship.
type xoauth2 struct{ user, token string }

func (x *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

// Next answers the server's error challenge with an empty response, as
// the mechanism requires; the server then fails the command.
func (x *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }

var _ sasl.Client = (*xoauth2)(nil)
