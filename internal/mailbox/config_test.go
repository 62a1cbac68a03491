package mailbox

import (
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/provider"
)

func TestNewValidates(t *testing.T) {
	pw := provider.NewSecret("p")
	imapOK := Config{Name: "soc", Kind: "imap", URL: "imaps://imap.corp.example", Username: "u", Password: pw}
	graphOK := Config{Name: "m365", Kind: "graph", TenantID: "t", ClientID: "c", ClientSecret: pw, Mailbox: "phishing@corp.example"}
	tests := []struct {
		name string
		edit func(*Config)
		base Config
		err  string // "" = valid
	}{
		{"imaps", func(*Config) {}, imapOK, ""},
		{"graph", func(*Config) {}, graphOK, ""},
		{"no name", func(c *Config) { c.Name = "" }, imapOK, "name is required"},
		{"kind", func(c *Config) { c.Kind = "pop3" }, imapOK, "want imap or graph"},
		{"plain imap remote", func(c *Config) { c.URL = "imap://imap.corp.example" }, imapOK, "only to a loopback"},
		{"plain imap loopback", func(c *Config) { c.URL = "imap://127.0.0.1:1143" }, imapOK, ""},
		{"plain imap localhost", func(c *Config) { c.URL = "imap://localhost:1143" }, imapOK, ""},
		{"scheme", func(c *Config) { c.URL = "https://imap.corp.example" }, imapOK, "want imaps"},
		{"both secrets", func(c *Config) { c.XOAUTH2 = pw }, imapOK, "one of password and xoauth2"},
		{"no secret", func(c *Config) { c.Password = provider.Secret{} }, imapOK, "one of password and xoauth2"},
		{"no user", func(c *Config) { c.Username = "" }, imapOK, "username"},
		{"tlp", func(c *Config) { c.TLP = "purple" }, imapOK, "unknown marking"},
		{"tlp ok", func(c *Config) { c.TLP = "TLP:RED" }, imapOK, ""},
		{"same folder", func(c *Config) { c.ProcessedFolder = "INBOX" }, imapOK, "must differ"},
		{"negative", func(c *Config) { c.MaxMessages = -1 }, imapOK, "positive"},
		{"graph secret", func(c *Config) { c.ClientSecret = provider.Secret{} }, graphOK, "client_secret"},
		{"graph tenant", func(c *Config) { c.TenantID = "" }, graphOK, "tenant_id"},
		{"graph http", func(c *Config) { c.BaseURL = "http://graph.example" }, graphOK, "https"},
		{"graph http loopback", func(c *Config) { c.BaseURL = "http://127.0.0.1:8080/v1.0" }, graphOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.base
			tt.edit(&c)
			p, err := New(c, &fakeQueue{}, Options{})
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("err = %v, want %q", err, tt.err)
			case err == nil && (p.cfg.MaxMessages != DefaultMaxMessages || p.cfg.MaxSize != DefaultMaxSize || p.cfg.Interval != DefaultInterval):
				t.Errorf("defaults not applied: %+v", p.cfg)
			}
		})
	}
	if _, err := New(imapOK, nil, Options{}); err == nil {
		t.Error("nil queue accepted")
	}
}

func TestGraphDefaults(t *testing.T) {
	p, err := New(Config{Name: "m", Kind: "graph", TenantID: "contoso", ClientID: "c", ClientSecret: provider.NewSecret("s"), Mailbox: "x"}, &fakeQueue{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.cfg.BaseURL != "https://graph.microsoft.com/v1.0" || p.cfg.TokenURL != "https://login.microsoftonline.com/contoso/oauth2/v2.0/token" {
		t.Errorf("%s %s", p.cfg.BaseURL, p.cfg.TokenURL)
	}
}
