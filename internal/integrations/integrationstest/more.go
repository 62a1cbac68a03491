package integrationstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
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

// SOAR is a fake Splunk SOAR: POST /rest/artifact and /rest/note with a
// ph-auth-token header. An artifact whose source_data_identifier is
// already in its container answers existing_artifact_id.
type SOAR struct {
	*Fake
	artifacts []map[string]any
	notes     []map[string]any
	n         int
}

// NewSOAR starts a fake SOAR accepting token.
func NewSOAR(token string) *SOAR {
	s := &SOAR{}
	s.Fake = newFake(token, func(tok string, hd http.Header) bool { return hd.Get("ph-auth-token") == tok }, s.handle)
	return s
}

// Artifacts returns the artifacts created.
func (s *SOAR) Artifacts() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.artifacts...)
}

// Notes returns the notes created.
func (s *SOAR) Notes() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.notes...)
}

func (s *SOAR) handle(_ *Fake, r Request, w http.ResponseWriter) {
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil || r.Method != http.MethodPost {
		writeJSON(w, 400, map[string]any{"failed": true, "message": "JSON Decode Error"})
		return
	}
	if _, ok := body["container_id"].(float64); !ok {
		writeJSON(w, 400, map[string]any{"failed": true, "message": "container_id is required"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch strings.TrimRight(r.Path, "/") {
	case "/rest/artifact":
		for i, a := range s.artifacts {
			if a["container_id"] == body["container_id"] && a["source_data_identifier"] == body["source_data_identifier"] {
				writeJSON(w, 400, map[string]any{"failed": true, "message": "artifact already exists", "existing_artifact_id": i + 1})
				return
			}
		}
		s.artifacts = append(s.artifacts, body)
		writeJSON(w, 200, map[string]any{"id": len(s.artifacts), "success": true})
	case "/rest/note":
		for _, k := range []string{"title", "content", "note_type"} {
			if _, ok := body[k].(string); !ok {
				writeJSON(w, 400, map[string]any{"failed": true, "message": k + " is required"})
				return
			}
		}
		s.notes = append(s.notes, body)
		writeJSON(w, 200, map[string]any{"id": len(s.notes), "success": true})
	default:
		writeJSON(w, 404, map[string]any{"failed": true, "message": "not found"})
	}
}

// XSOAR is a fake Cortex XSOAR: POST /entry with "Authorization: <key>"
// (and, for XSOAR 8, "x-xdr-auth-id: <key id>"), and POST /entry/tags
// {"id", "investigationId", "tags"} to tag an entry. Like the real one, it
// keeps no "tags" member sent to /entry.
type XSOAR struct {
	*Fake
	entries []map[string]any
}

// NewXSOAR starts a fake XSOAR accepting key (and keyID when not "").
func NewXSOAR(key, keyID string) *XSOAR {
	x := &XSOAR{}
	x.Fake = newFake(key, func(tok string, hd http.Header) bool {
		return hd.Get("Authorization") == tok && (keyID == "" || hd.Get("x-xdr-auth-id") == keyID)
	}, x.handle)
	return x
}

// Entries returns the war-room entries created.
func (x *XSOAR) Entries() []map[string]any {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]map[string]any(nil), x.entries...)
}

func (x *XSOAR) handle(_ *Fake, r Request, w http.ResponseWriter) {
	var body map[string]any
	if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/entry/tags") {
		x.tag(r, w)
		return
	}
	if r.Method != http.MethodPost || !strings.HasSuffix(r.Path, "/entry") {
		writeJSON(w, 404, map[string]any{"error": "not found"})
		return
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body["investigationId"] == nil || body["data"] == nil {
		writeJSON(w, 400, map[string]any{"error": "investigationId and data are required"})
		return
	}
	delete(body, "tags") // not part of POST /entry: dropped
	x.mu.Lock()
	x.entries = append(x.entries, body)
	id := fmt.Sprintf("%d@%v", len(x.entries), body["investigationId"])
	x.mu.Unlock()
	writeJSON(w, 200, map[string]any{"id": id, "investigationId": body["investigationId"], "contents": body["data"]})
}

// tag sets the tags of the entry named by id ("<n>@<investigation>").
func (x *XSOAR) tag(r Request, w http.ResponseWriter) {
	var body struct {
		ID              string   `json:"id"`
		InvestigationID string   `json:"investigationId"`
		Tags            []string `json:"tags"`
	}
	var n int
	var inv string
	if err := json.Unmarshal(r.Body, &body); err == nil {
		fmt.Sscanf(strings.Replace(body.ID, "@", " ", 1), "%d %s", &n, &inv)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if n < 1 || n > len(x.entries) || inv != body.InvestigationID || fmt.Sprint(x.entries[n-1]["investigationId"]) != inv {
		writeJSON(w, 400, map[string]any{"error": "entry not found"})
		return
	}
	tags := make([]any, len(body.Tags))
	for i, t := range body.Tags {
		tags[i] = t
	}
	x.entries[n-1]["tags"] = tags
	writeJSON(w, 200, map[string]any{"id": body.ID, "investigationId": inv, "tags": body.Tags})
}

// Receiver is a fake generic webhook receiver: it records every POST and
// answers 204.
type Receiver struct{ *Fake }

// NewReceiver starts a receiver (no authentication: the body is signed).
func NewReceiver() *Receiver {
	return &Receiver{newFake("", func(string, http.Header) bool { return true }, func(_ *Fake, _ Request, w http.ResponseWriter) {
		w.WriteHeader(http.StatusNoContent)
	})}
}
