package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigRefusesUnknownKeys: a misspelled section or provider setting is
// a usage error (exit 2) that names the key, its file and the key meant,
// and a bad flag is refused before the store is created.
func TestConfigRefusesUnknownKeys(t *testing.T) {
	t.Setenv("IOCANE_CONFIG", "")
	dir := t.TempDir()
	for _, tc := range []struct{ yaml, want string }{
		{"scorng:\n  thresholds: {}\n", "scorng: unknown key (did you mean scoring?)"},
		{"providers:\n  virustotal:\n    rat: 1/s\n", "providers.virustotal.rat: unknown key (did you mean providers.virustotal.rate?)"},
		{"server:\n  lisen: 127.0.0.1:9\n", "server.lisen: unknown key (did you mean server.listen?)"},
		{"routing:\n  ipv5: [virustotal]\n", "routing.ipv5: unknown key (did you mean routing.ipv4?)"},
	} {
		cfg := filepath.Join(dir, "iocane.yaml")
		if err := os.WriteFile(cfg, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		db := filepath.Join(t.TempDir(), "never.db")
		err := execute(t, "--config", cfg, "--db", db, "providers")
		if err == nil || !isUsage(err) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), cfg) {
			t.Errorf("%q: %v; want a usage error naming %q and the file", tc.yaml, err, tc.want)
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Errorf("%q: the store was created before the config was refused", tc.yaml)
		}
	}
	db := filepath.Join(dir, "new.db")
	err := execute(t, "--db", db, "enrich", "--tlp", "purple", "8.8.8.8")
	if err == nil || !isUsage(err) || !strings.Contains(err.Error(), "--tlp") {
		t.Errorf("--tlp purple: %v, want a usage error", err)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Error("--tlp purple created the store")
	}
}

// execute runs the CLI with args, its output discarded, and returns its error.
func execute(t *testing.T, args ...string) error {
	t.Helper()
	root := newRoot()
	root.SetOut(&bytes.Buffer{})
	root.SetErr(&bytes.Buffer{})
	root.SetArgs(args)
	return root.Execute()
}
