package mailbox

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/settings"
	"github.com/knadh/koanf/v2"
)

// Section is the config section mailboxes are read from: a list.
const Section = "mailboxes"

// entry is one mailbox as the YAML gives it; secrets come from the
// environment only.
type entry struct {
	Name            string        `koanf:"name"`
	Kind            string        `koanf:"kind"`
	Interval        time.Duration `koanf:"interval"`
	TLP             string        `koanf:"tlp"`
	MaxMessages     int           `koanf:"max_messages"`
	MaxSize         int64         `koanf:"max_size"`
	URL             string        `koanf:"url"`
	Username        string        `koanf:"username"`
	Folder          string        `koanf:"folder"`
	ProcessedFolder string        `koanf:"processed_folder"`
	FailedFolder    string        `koanf:"failed_folder"`
	TenantID        string        `koanf:"tenant_id"`
	ClientID        string        `koanf:"client_id"`
	Mailbox         string        `koanf:"mailbox"`
	BaseURL         string        `koanf:"base_url"`
	TokenURL        string        `koanf:"token_url"`
	Reply           bool          `koanf:"reply"`
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// LoadConfig reads the mailboxes section of k, with each mailbox's secrets
// from IOCANE_MAILBOX_<NAME>_PASSWORD, _XOAUTH2 (an IMAP OAuth token) and
// _CLIENT_SECRET (Graph), and checks each as New would.
func LoadConfig(k *koanf.Koanf, getenv func(string) string) ([]Config, error) {
	var es []entry
	if err := settings.Decode(k, Section, &es); err != nil {
		return nil, settings.Wrap("config: ", err)
	}
	var out []Config
	seen := map[string]bool{}
	for i, e := range es {
		if !nameRE.MatchString(e.Name) {
			return nil, fmt.Errorf("config: mailboxes[%d].name: %q: want lower-case letters, digits and underscores", i, e.Name)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("config: mailboxes[%d].name: %q is used twice", i, e.Name)
		}
		seen[e.Name] = true
		up := "IOCANE_MAILBOX_" + strings.ToUpper(e.Name) + "_"
		c := Config{Name: e.Name, Kind: e.Kind, Interval: e.Interval, TLP: e.TLP, MaxMessages: e.MaxMessages, MaxSize: e.MaxSize,
			URL: e.URL, Username: e.Username, Password: provider.NewSecret(getenv(up + "PASSWORD")),
			XOAUTH2: provider.NewSecret(getenv(up + "XOAUTH2")), Folder: e.Folder, ProcessedFolder: e.ProcessedFolder,
			FailedFolder: e.FailedFolder, TenantID: e.TenantID, ClientID: e.ClientID, ClientSecret: provider.NewSecret(getenv(up + "CLIENT_SECRET")),
			Mailbox: e.Mailbox, BaseURL: e.BaseURL, TokenURL: e.TokenURL, Reply: e.Reply}
		checked, err := c.withDefaults()
		if err != nil {
			return nil, fmt.Errorf("config: mailboxes.%s: %w", e.Name, err)
		}
		out = append(out, checked)
	}
	return out, nil
}
