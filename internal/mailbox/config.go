package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

// Defaults of Config.
const (
	DefaultInterval        = time.Minute
	DefaultMaxMessages     = 50
	DefaultMaxSize         = 25 << 20
	DefaultFolder          = "INBOX"
	DefaultProcessedFolder = "iocane/processed"
	DefaultFailedFolder    = "iocane/failed"
	DefaultGraphBaseURL    = "https://graph.microsoft.com/v1.0"
	// DefaultGraphTokenURL is formatted with the tenant id.
	DefaultGraphTokenURL = "https://login.microsoftonline.com/%s/oauth2/v2.0/token"
	// GraphScope is the client-credentials scope of Microsoft Graph.
	GraphScope = "https://graph.microsoft.com/.default"
)

// Config is one reported-phishing mailbox.
type Config struct {
	// Name identifies the mailbox in job alerts and idempotency keys; required.
	Name string
	// Kind is "imap" or "graph"; required.
	Kind string
	// Interval is the time between polls; default 1 minute.
	Interval time.Duration
	// TLP marks the jobs' untagged IOCs; default amber.
	TLP string
	// MaxMessages caps the messages handled per poll; default 50.
	MaxMessages int
	// MaxSize caps one message, in bytes; default 25 MiB. A larger message
	// goes to FailedFolder.
	MaxSize int64

	// URL is the IMAP server, imaps://host[:993]; imap:// (no TLS) is
	// accepted only for a loopback host.
	URL string
	// Username logs in to IMAP; required for kind imap.
	Username string
	// Password logs in with LOGIN; set it or XOAUTH2, not both.
	Password provider.Secret
	// XOAUTH2 is an OAuth 2 access token for SASL XOAUTH2 (Gmail, Exchange
	// Online IMAP).
	XOAUTH2 provider.Secret
	// Folder is the mailbox polled; default "INBOX".
	Folder string
	// ProcessedFolder receives a message once its job is submitted; default
	// "iocane/processed". Created when missing.
	ProcessedFolder string
	// FailedFolder receives a message that cannot be analysed; default
	// "iocane/failed". Created when missing.
	FailedFolder string

	// TenantID is the Microsoft Entra tenant; required for kind graph
	// unless TokenURL is set.
	TenantID string
	// ClientID is the app registration's id; required for kind graph.
	ClientID string
	// ClientSecret is the app registration's secret; required for kind graph.
	ClientSecret provider.Secret
	// Mailbox is the user principal name or id of the reporting mailbox;
	// required for kind graph.
	Mailbox string
	// BaseURL is the Graph endpoint; default DefaultGraphBaseURL.
	BaseURL string
	// TokenURL is the token endpoint; default DefaultGraphTokenURL with
	// TenantID.
	TokenURL string
	// Reply sends the reporter two e-mails through the notify.email
	// channel: "received", then the verdict (ReceivedText, VerdictText).
	// Default false.
	Reply bool
}

// Options are the Poller's collaborators.
type Options struct {
	// Logger receives one line per message handled; default slog.Default().
	Logger *slog.Logger
	// HTTPClient carries Graph calls and token requests; default a client
	// with a 60 s timeout.
	HTTPClient *http.Client
	// TLSConfig is used for imaps; default the system roots.
	TLSConfig *tls.Config
	// Now reads the clock (Retry-After dates); default time.Now.
	Now func() time.Time
	// OnSubmitted, when set, hears of each report that became a new job
	// (not of one found submitted before), after it was stored.
	OnSubmitted func(ctx context.Context, r Report, j jobs.Job)
}

// withDefaults fills the defaults and checks c.
func (c Config) withDefaults() (Config, error) {
	if c.Name == "" {
		return c, errors.New("mailbox: name is required")
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Interval < 0 {
		return c, fmt.Errorf("mailbox %s: interval must be positive", c.Name)
	}
	if c.TLP == "" {
		c.TLP = tlp.Default.String()
	}
	if _, err := tlp.MustParse(c.TLP); err != nil {
		return c, fmt.Errorf("mailbox %s: %w", c.Name, err)
	}
	if c.MaxMessages == 0 {
		c.MaxMessages = DefaultMaxMessages
	}
	if c.MaxSize == 0 {
		c.MaxSize = DefaultMaxSize
	}
	if c.MaxMessages < 0 || c.MaxSize < 0 {
		return c, fmt.Errorf("mailbox %s: max_messages and max_size must be positive", c.Name)
	}
	if c.Folder == "" {
		c.Folder = DefaultFolder
	}
	if c.ProcessedFolder == "" {
		c.ProcessedFolder = DefaultProcessedFolder
	}
	if c.FailedFolder == "" {
		c.FailedFolder = DefaultFailedFolder
	}
	if c.ProcessedFolder == c.Folder || c.FailedFolder == c.Folder {
		return c, fmt.Errorf("mailbox %s: processed and failed folders must differ from the polled folder", c.Name)
	}
	switch c.Kind {
	case "imap":
		return c, c.checkIMAP()
	case "graph":
		if c.BaseURL == "" {
			c.BaseURL = DefaultGraphBaseURL
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
		if c.TokenURL == "" && c.TenantID != "" {
			c.TokenURL = fmt.Sprintf(DefaultGraphTokenURL, url.PathEscape(c.TenantID))
		}
		return c, c.checkGraph()
	}
	return c, fmt.Errorf("mailbox %s: kind %q: want imap or graph", c.Name, c.Kind)
}

func (c Config) checkIMAP() error {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("mailbox %s: url %q: want imaps://host:port", c.Name, c.URL)
	}
	switch u.Scheme {
	case "imaps":
	case "imap":
		if !loopback(u.Hostname()) {
			return fmt.Errorf("mailbox %s: imap:// (no TLS) only to a loopback host; use imaps://", c.Name)
		}
	default:
		return fmt.Errorf("mailbox %s: url scheme %q: want imaps", c.Name, u.Scheme)
	}
	if c.Username == "" {
		return fmt.Errorf("mailbox %s: username is required", c.Name)
	}
	if c.Password.IsZero() == c.XOAUTH2.IsZero() {
		return fmt.Errorf("mailbox %s: set one of password and xoauth2", c.Name)
	}
	return nil
}

func (c Config) checkGraph() error {
	switch {
	case c.ClientID == "":
		return fmt.Errorf("mailbox %s: client_id is required", c.Name)
	case c.ClientSecret.IsZero():
		return fmt.Errorf("mailbox %s: client_secret is required", c.Name)
	case c.Mailbox == "":
		return fmt.Errorf("mailbox %s: mailbox is required", c.Name)
	case c.TokenURL == "":
		return fmt.Errorf("mailbox %s: tenant_id (or token_url) is required", c.Name)
	}
	for _, s := range []string{c.BaseURL, c.TokenURL} {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
			return fmt.Errorf("mailbox %s: %q: want an https URL (http only to loopback)", c.Name, s)
		}
	}
	return nil
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
