package integrationstest

// Splunk SOAR: artifacts and notes on containers.

import (
	"encoding/json"
	"net/http"
	"strings"
)

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
