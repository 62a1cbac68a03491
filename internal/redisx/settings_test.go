package redisx

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

func load(t *testing.T, doc string, env map[string]string) (Settings, error) {
	t.Helper()
	k := koanf.New(".")
	path := filepath.Join(t.TempDir(), "iocane.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
		t.Fatal(err)
	}
	return LoadSettings(k, func(n string) string { return env[n] })
}

func TestLoadSettings(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		env       map[string]string
		url       string
		share     float64
	}{
		{"none", "", nil, "", 1.0 / 3},
		{"yaml", "redis:\n  url: redis://127.0.0.1:6379/0\n  fallback_share: 0.5\n", nil, "redis://127.0.0.1:6379/0", 0.5},
		{"fraction", "redis:\n  url: redis://r:6379\n  fallback_share: 1/4\n", nil, "redis://r:6379", 0.25},
		{"env wins", "redis:\n  url: redis://yaml:6379\n  fallback_share: 1/2\n",
			map[string]string{"IOCANE_REDIS_URL": "rediss://env:6380/1", "IOCANE_REDIS_FALLBACK_SHARE": "1"}, "rediss://env:6380/1", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := load(t, c.doc, c.env)
			if err != nil {
				t.Fatal(err)
			}
			if string(s.URL) != c.url || s.Share != c.share || s.Enabled() != (c.url != "") {
				t.Errorf("got url %q share %v enabled %v, want %q %v", string(s.URL), s.Share, s.Enabled(), c.url, c.share)
			}
		})
	}
}

func TestLoadSettingsErrors(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		env       map[string]string
		want      string
	}{
		{"share zero", "redis:\n  fallback_share: 0\n", nil, "redis.fallback_share"},
		{"share above one", "", map[string]string{"IOCANE_REDIS_FALLBACK_SHARE": "3/2"}, "redis.fallback_share"},
		{"share words", "redis:\n  fallback_share: a third\n", nil, "redis.fallback_share"},
		{"scheme", "redis:\n  url: http://:hunter2@r:6379\n", nil, "redis.url"},
		{"bad db", "", map[string]string{"IOCANE_REDIS_URL": "redis://:hunter2@r:6379/notadb"}, "redis.url"},
		{"unparsable", "", map[string]string{"IOCANE_REDIS_URL": "redis://:hunter2@[::1"}, "redis.url"},
		{"unknown key", "redis:\n  ulr: redis://r\n", nil, "redis.url"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, c.doc, c.env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one naming %s", err, c.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// TestURLRedacts: the URL never prints its password, by any path.
func TestURLRedacts(t *testing.T) {
	u := URL("redis://iocane:hunter2@redis.internal:6379/0")
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("redis", "url", u)
	j, _ := json.Marshal(struct{ U URL }{u})
	for _, s := range []string{u.String(), fmt.Sprint(u), fmt.Sprintf("%v %s %#v %+v", u, u, u, u), b.String(), string(j)} {
		if strings.Contains(s, "hunter2") || !strings.Contains(s, "redis.internal") {
			t.Errorf("printed as %q", s)
		}
	}
}
