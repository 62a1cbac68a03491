package integrations_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/config"
	"github.com/iocane/iocane/internal/integrations"
	_ "github.com/iocane/iocane/internal/integrations/splunk"
	_ "github.com/iocane/iocane/internal/integrations/splunksoar"
	_ "github.com/iocane/iocane/internal/integrations/thehive"
	_ "github.com/iocane/iocane/internal/integrations/webhook"
	_ "github.com/iocane/iocane/internal/integrations/xsoar"
)

func TestConfigFromYAMLAndEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iocane.yaml")
	os.WriteFile(path, []byte(`
integrations:
  max_attempts: 8
  backoff_base: 1s
  thehive:
    base_url: https://thehive.example.org
    api_key: from-file
  splunk:
    index: threat_intel
  xsoar:
    enabled: false
    base_url: https://xsoar.example.org
    api_key: k
`), 0o600)
	c, err := config.Load(config.Options{Path: path, Sections: []string{integrations.Section}, Environ: []string{
		"IOCANE_THEHIVE_API_KEY=hive-SECRET-env",
		"IOCANE_SPLUNK_HEC_URL=https://splunk.example.org:8088", "IOCANE_SPLUNK_TOKEN=hec-SECRET",
		"IOCANE_SPLUNKSOAR_BASE_URL=https://soar.example.org", "IOCANE_SPLUNKSOAR_TOKEN=soar-SECRET",
		"IOCANE_WEBHOOK_URL=https://hooks.example.org/x", "IOCANE_WEBHOOK_SIGNING_SECRET=sign-SECRET",
		"IOCANE_WEBHOOK_SECRET=intake-SECRET", // the intake's, not the outbound webhook's
	}})
	if err != nil {
		t.Fatal(err)
	}
	ic, err := integrations.LoadConfig(c.K)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]integrations.Settings{}
	for _, s := range ic.Sinks {
		got[s.Name] = s
	}
	if len(got) != 4 || got["xsoar"].Name != "" {
		t.Fatalf("sinks %v (xsoar is disabled)", got)
	}
	if got["thehive"].Secret("api_key").Reveal() != "hive-SECRET-env" || got["thehive"].Get("pap") != "2" {
		t.Errorf("thehive %+v", got["thehive"])
	}
	if s := got["splunk"]; s.Get("hec_url") != "https://splunk.example.org:8088" || s.Get("index") != "threat_intel" ||
		s.Get("sourcetype") != "iocane:enrichment" || s.Secret("token").Reveal() != "hec-SECRET" {
		t.Errorf("splunk %+v", s)
	}
	if s := got["webhook"]; s.Secret("signing_secret").Reveal() != "sign-SECRET" || !s.Secret("secret").IsZero() {
		t.Errorf("webhook %+v", s)
	}
	if ic.MaxAttempts != 8 || ic.BackoffBase != time.Second {
		t.Errorf("dispatch settings %+v", ic)
	}
	if s := fmt.Sprintf("%v %+v", ic, ic); strings.Contains(s, "SECRET") || strings.Contains(s, "from-file") {
		t.Errorf("printing the config leaks a secret: %s", s)
	}
	sinks, err := ic.Build(integrations.Env{})
	if err != nil || len(sinks) != 4 {
		t.Errorf("build: %v %v", sinks, err)
	}
}

func TestConfigErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iocane.yaml")
	os.WriteFile(path, []byte(`
integrations:
  thehiv: {}
  max_elapsed: soon
  thehive:
    base_url: ftp://thehive
  splunk:
    hec_url: https://s:8088
    token: t
    colour: red
`), 0o600)
	c, err := config.Load(config.Options{Path: path, Sections: []string{integrations.Section}, Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = integrations.LoadConfig(c.K)
	for _, want := range []string{"integrations.thehiv: unknown", "integrations.max_elapsed", "integrations.thehive.api_key is required (or IOCANE_THEHIVE_API_KEY)",
		"integrations.thehive.base_url: want an http(s) URL", "integrations.splunk.colour: unknown setting"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
