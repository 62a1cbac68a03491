package history

import (
	"fmt"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/settings"
	"github.com/knadh/koanf/v2"
)

// Section is the config section the history settings are read from.
const Section = "history"

// Settings is the history section of the config.
type Settings struct {
	// Retention is how long entries and sightings are kept: days ("180d"),
	// weeks ("26w") or a Go duration. Default 180d. IOCANE_HISTORY_RETENTION
	// overrides it.
	Retention string `koanf:"retention"`
	// MISPSightings pushes each analyst verdict to MISP as a sighting (type
	// 1 false positive for benign, 0 a true sighting otherwise) when the
	// misp provider has a key with write access. Default false.
	MISPSightings bool `koanf:"misp_sightings"`
	// Keep is Retention parsed.
	Keep time.Duration `koanf:"-"`
}

// LoadSettings reads the history section of k.
func LoadSettings(k *koanf.Koanf, getenv func(string) string) (Settings, error) {
	var s Settings
	if err := settings.Decode(k, Section, &s); err != nil {
		return s, settings.Wrap("config: ", err)
	}
	if v := strings.TrimSpace(getenv("IOCANE_HISTORY_RETENTION")); v != "" {
		s.Retention = v
	}
	s.Keep = DefaultRetention
	if s.Retention != "" {
		d, err := settings.ParseLength(s.Retention)
		if err != nil || d < time.Hour {
			return s, fmt.Errorf("config: history.retention: %q: want a period of at least an hour, such as 180d, 26w or 720h", s.Retention)
		}
		s.Keep = d
	}
	return s, nil
}
