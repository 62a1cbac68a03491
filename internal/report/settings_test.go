package report

import (
	"strings"
	"testing"
	"time"

	"github.com/knadh/koanf/v2"
)

func TestParseSince(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour} {
		got, err := ParseSince(in)
		if err != nil || got != want {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestLoadSettingsRefusesUnknownKey(t *testing.T) {
	k := koanf.New(".")
	if err := k.Set("report", map[string]any{"shedule": "mon 08:00", "dir": "/tmp"}); err != nil {
		t.Fatal(err)
	}
	_, err := LoadSettings(k, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "report.shedule: unknown key (did you mean report.schedule?)") {
		t.Fatalf("LoadSettings = %v", err)
	}
}
