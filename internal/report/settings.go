package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/v2"

	"github.com/iocane/iocane/internal/settings"
)

// Section is the config section the scheduled report is configured by.
const Section = "report"

// Settings is the report section, read by iocane serve.
type Settings struct {
	// Schedule is when to produce the report, e.g. "mon 08:00" (UTC) or
	// "mon 08:00 Europe/Paris" (report.schedule, IOCANE_REPORT_SCHEDULE).
	// Default: none, no scheduled report.
	Schedule string `koanf:"schedule"`
	// Since is the window (report.since, IOCANE_REPORT_SINCE). Default 7d.
	Since string `koanf:"since"`
	// Dir receives iocane-report-<date>.html, .md and .json (report.dir,
	// IOCANE_REPORT_DIR). Default: none.
	Dir string `koanf:"dir"`
	// Email sends the report through notify's e-mail channel
	// (report.email, IOCANE_REPORT_EMAIL). Default false.
	Email bool `koanf:"email"`
}

// LoadSettings reads the report section of k, then the IOCANE_REPORT_*
// variables from getenv over it, and validates the schedule and window.
func LoadSettings(k *koanf.Koanf, getenv func(string) string) (Settings, error) {
	var s Settings
	if err := settings.Decode(k, Section, &s); err != nil {
		return s, settings.Wrap("config: ", err)
	}
	env := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	env("IOCANE_REPORT_SCHEDULE", &s.Schedule)
	env("IOCANE_REPORT_SINCE", &s.Since)
	env("IOCANE_REPORT_DIR", &s.Dir)
	if s.Since == "" {
		s.Since = "7d"
	}
	if v := getenv("IOCANE_REPORT_EMAIL"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("config: IOCANE_REPORT_EMAIL: %q is not true or false", v)
		}
		s.Email = b
	}
	if _, err := ParseSince(s.Since); err != nil {
		return s, fmt.Errorf("config: report.since: %w", err)
	}
	if s.Schedule != "" {
		if _, err := ParseSchedule(s.Schedule); err != nil {
			return s, fmt.Errorf("config: report.schedule: %w", err)
		}
		if s.Dir == "" && !s.Email {
			return s, fmt.Errorf("config: report.schedule is set but the report goes nowhere: set report.dir or report.email")
		}
	}
	return s, nil
}

// ParseSince reads a window length: a number of days ("7d") or weeks
// ("2w"), or a Go duration ("36h"), between 1s and 366d.
func ParseSince(s string) (time.Duration, error) {
	d, err := settings.ParseLength(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 || d > 366*24*time.Hour {
		return 0, fmt.Errorf("%q: want a length between 1s and 366d", s)
	}
	return d, nil
}

// ParseUntil reads a window's end: an RFC 3339 time or a YYYY-MM-DD date.
func ParseUntil(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time or a YYYY-MM-DD date", s)
}

// WriteFile writes r to path in format, atomically: a reader of path sees
// the old report or the whole new one, never a part.
func WriteFile(path, format string, r *Report) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".iocane-report-*")
	if err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := Write(tmp, format, r); err != nil {
		tmp.Close()
		return fmt.Errorf("writing report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}
