package integrationstest

// Splunk HTTP Event Collector.

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// HEC is a fake Splunk HTTP Event Collector: POST
// /services/collector/event with "Authorization: Splunk <token>" and a
// body of concatenated JSON events.
type HEC struct {
	*Fake
	events []map[string]any
}

// NewHEC starts a fake HEC accepting token.
func NewHEC(token string) *HEC {
	h := &HEC{}
	h.Fake = newFake(token, func(tok string, hd http.Header) bool { return hd.Get("Authorization") == "Splunk "+tok }, h.handle)
	return h
}

// Events returns the events indexed.
func (h *HEC) Events() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.events...)
}

func (h *HEC) handle(_ *Fake, r Request, w http.ResponseWriter) {
	if r.Method != http.MethodPost || r.Path != "/services/collector/event" {
		writeJSON(w, 404, map[string]any{"text": "The requested URL was not found on this server.", "code": 404})
		return
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	var evs []map[string]any
	for dec.More() {
		var e map[string]any
		if err := dec.Decode(&e); err != nil {
			writeJSON(w, 400, map[string]any{"text": "Invalid data format", "code": 6, "invalid-event-number": len(evs)})
			return
		}
		if _, ok := e["event"]; !ok {
			writeJSON(w, 400, map[string]any{"text": "Event field is required", "code": 12, "invalid-event-number": len(evs)})
			return
		}
		evs = append(evs, e)
	}
	h.mu.Lock()
	h.events = append(h.events, evs...)
	h.mu.Unlock()
	writeJSON(w, 200, map[string]any{"text": "Success", "code": 0})
}
