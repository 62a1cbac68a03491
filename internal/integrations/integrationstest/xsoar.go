package integrationstest

// Cortex XSOAR: war-room entries and their tags.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

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
