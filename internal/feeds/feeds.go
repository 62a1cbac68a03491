// Package feeds keeps local copies of threat feeds (TAXII 2.1 collections,
// MISP feeds, CSV and plain-text lists such as abuse.ch's exports) in the
// store, so
// that alerts are matched against them without spending any provider
// quota. A sync fetches one feed and updates its indicators: a list feed
// (csv, text) is a snapshot that replaces the previous one, so removals
// are honoured; a TAXII feed is incremental from a cursor, and a revoked
// indicator is removed; a MISP feed is incremental by its manifest's event
// timestamps, and what it stops listing expires with its ttl. A feed that fails keeps its previous indicators,
// and its error is recorded for `iocane feeds list`.
//
// The local source `feeds` (Matcher) answers from memory: an IOC held by a
// feed is "feeds: on <feed> since <date>", a malicious signal of the
// feed's confidence, until the indicator expires (its feed's ttl after it
// was last seen, or a TAXII indicator's valid_until).
package feeds

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/settings"
	"github.com/iocane/iocane/internal/tlp"
	"github.com/knadh/koanf/v2"
)

// Section is the config section feeds are read from: a list.
const Section = "feeds"

// Kinds of feed.
const (
	KindTAXII = "taxii21"
	KindMISP  = "misp"
	KindCSV   = "csv"
	KindText  = "text"
)

// Defaults of a feed's settings.
const (
	DefaultInterval   = time.Hour
	DefaultConfidence = 75
	DefaultTTL        = 30 * 24 * time.Hour
	DefaultMaxBody    = 256 << 20
)

// Feed is one configured feed.
type Feed struct {
	Name string `koanf:"name"`
	// Kind is taxii21, csv or text.
	Kind string `koanf:"kind"`
	URL  string `koanf:"url"`
	// Interval is how often `iocane serve` syncs it. Default 1h.
	Interval time.Duration `koanf:"interval"`
	// TLP marks the feed's indicators. Default amber.
	TLP string `koanf:"tlp"`
	// Confidence (1-100) is the malicious signal of a match, in percent.
	// Default 75.
	Confidence int `koanf:"confidence"`
	// TTL is how long an indicator stays after it was last seen. Default 30d.
	TTL time.Duration `koanf:"ttl"`
	// Enrich queues each sync's new indicators as a job of source feed
	// (jobs.FeedSource), which runs behind every other job. Default false.
	Enrich bool `koanf:"enrich"`
	// Collection is a TAXII collection's id.
	Collection string `koanf:"collection"`
	// Column is a CSV feed's column: a header name or a 1-based number.
	// Default: the first column holding an IOC.
	Column string `koanf:"column"`
	// Comment starts a comment line in a csv or text feed. Default "#".
	Comment string `koanf:"comment"`
	// Type is the IOC type of a csv or text feed's values; "" detects each.
	Type string `koanf:"type"`
	// MaxBody caps a download (bytes). Default 256 MiB.
	MaxBody int64 `koanf:"max_body"`

	// Credentials, from IOCANE_FEED_<NAME>_API_KEY, _USERNAME, _PASSWORD.
	APIKey, Password provider.Secret `koanf:"-"`
	Username         string          `koanf:"-"`
	Level            tlp.Level       `koanf:"-"`
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// LoadConfig reads the feeds section of k and each feed's credentials
// from the environment.
func LoadConfig(k *koanf.Koanf, getenv func(string) string) ([]Feed, error) {
	var fs []Feed
	if err := settings.Decode(k, Section, &fs); err != nil {
		return nil, settings.Wrap("config: ", err)
	}
	seen := map[string]bool{}
	for i := range fs {
		f := &fs[i]
		at := fmt.Sprintf("config: feeds[%d]", i)
		switch {
		case !nameRE.MatchString(f.Name):
			return nil, fmt.Errorf("%s.name: %q: want lower-case letters, digits and underscores", at, f.Name)
		case seen[f.Name]:
			return nil, fmt.Errorf("%s.name: %q is used twice", at, f.Name)
		}
		seen[f.Name] = true
		at = "config: feeds." + f.Name
		switch f.Kind {
		case KindTAXII:
			if f.Collection == "" {
				return nil, fmt.Errorf("%s.collection: a taxii21 feed needs its collection id", at)
			}
		case KindCSV, KindText, KindMISP:
		default:
			return nil, fmt.Errorf("%s.kind: %q: want taxii21, misp, csv or text", at, f.Kind)
		}
		if !strings.HasPrefix(f.URL, "https://") && !strings.HasPrefix(f.URL, "http://") {
			return nil, fmt.Errorf("%s.url: %q: want an http(s) URL", at, f.URL)
		}
		if f.Type != "" && !ioc.Type(f.Type).Valid() {
			return nil, fmt.Errorf("%s.type: unknown IOC type %q", at, f.Type)
		}
		if f.Interval == 0 {
			f.Interval = DefaultInterval
		}
		if f.Interval < time.Minute {
			return nil, fmt.Errorf("%s.interval: %s: at least 1m, feeds are not polled faster", at, f.Interval)
		}
		if f.Confidence == 0 {
			f.Confidence = DefaultConfidence
		}
		if f.Confidence < 1 || f.Confidence > 100 {
			return nil, fmt.Errorf("%s.confidence: %d: want 1 to 100", at, f.Confidence)
		}
		if f.TTL == 0 {
			f.TTL = DefaultTTL
		}
		if f.MaxBody == 0 {
			f.MaxBody = DefaultMaxBody
		}
		if f.Comment == "" {
			f.Comment = "#"
		}
		f.Level = tlp.Amber
		if f.TLP != "" {
			l, err := tlp.MustParse(f.TLP)
			if err != nil {
				return nil, fmt.Errorf("%s.tlp: %w", at, err)
			}
			f.Level = l
		}
		up := "IOCANE_FEED_" + strings.ToUpper(f.Name) + "_"
		f.APIKey, f.Password = provider.NewSecret(getenv(up+"API_KEY")), provider.NewSecret(getenv(up+"PASSWORD"))
		f.Username = getenv(up + "USERNAME")
	}
	return fs, nil
}

// Indicator is one IOC a feed holds.
type Indicator struct {
	IOC        ioc.IOC
	Confidence int
	TLP        tlp.Level
	// Expires is when it stops matching; zero: the feed's ttl after the sync.
	Expires time.Time
}
