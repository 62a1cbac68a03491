package server

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// FuzzWebhookParsers feeds every webhook kind arbitrary JSON documents: a
// parser may reject one with an error, never panic, and an accepted alert
// always carries a body to extract IOCs from.
func FuzzWebhookParsers(f *testing.F) {
	for _, name := range []string{"splunk_alert.json", "elastic_alert.json"} {
		if b, err := os.ReadFile(filepath.Join("..", "input", "testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"objectType":"alert","operation":"Creation","object":{"_id":"~1","sourceRef":"x","observables":[{"dataType":"ip","data":"1.2.3.4"}]}}`))
	f.Add([]byte(`{"result":{"src_ip":"185.220.101.47"},"sid":"scheduler__admin","search_name":"x"}`))
	f.Add([]byte(`{"kibana.alert.uuid":7,"kibana":{"alert":{"rule":{"name":null}}}}`))
	f.Add([]byte(`{"object":[],"result":"str","sid":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var doc any
		if json.Unmarshal(body, &doc) != nil {
			return
		}
		obj, ok := doc.(map[string]any)
		if !ok {
			return
		}
		r := httptest.NewRequest("POST", "/v1/webhooks/generic?id=a1", nil)
		for kind, parse := range webhookParsers {
			a, err := parse(obj, r)
			if err == nil && len(a.input) == 0 {
				t.Errorf("%s: accepted an alert with no body", kind)
			}
		}
	})
}
