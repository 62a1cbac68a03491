package fakeintel

// Google Safe Browsing v4: POST threatMatches:find.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

var safeBrowsing = api{base: "/v4", serve: serveSafeBrowsing,
	tooMany: func(w http.ResponseWriter, _ int) {
		writeJSON(w, 429, googleError(429, "Quota exceeded for quota metric 'Default requests'.", "RESOURCE_EXHAUSTED"))
	},
}

// serveSafeBrowsing answers POST /threatMatches:find?key=..; with no match
// the answer is an empty object {}, never {"matches": []}.
func serveSafeBrowsing(s *Server, w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	if r.URL.Query().Get("key") != Key("safebrowsing") {
		writeJSON(w, 400, obj{"error": obj{"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
			"details": list{obj{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}}}})
		return
	}
	if rest != "/threatMatches:find" {
		writeJSON(w, 404, googleError(404, "Requested entity was not found.", "NOT_FOUND"))
		return
	}
	if r.Method != http.MethodPost {
		writeJSON(w, 405, googleError(405, "Method Not Allowed", "METHOD_NOT_ALLOWED"))
		return
	}
	var q struct {
		ThreatInfo struct {
			ThreatTypes   []string            `json:"threatTypes"`
			ThreatEntries []map[string]string `json:"threatEntries"`
		} `json:"threatInfo"`
	}
	if err := json.Unmarshal(body, &q); err != nil {
		writeJSON(w, 400, googleError(400, "Invalid JSON payload received.", "INVALID_ARGUMENT"))
		return
	}
	if n := len(q.ThreatInfo.ThreatEntries); n > 500 {
		writeJSON(w, 400, googleError(400, fmt.Sprintf("Too many threat entries: %d (at most 500).", n), "INVALID_ARGUMENT"))
		return
	}
	var matches list
	for _, e := range q.ThreatInfo.ThreatEntries {
		u := e["url"]
		threat := "MALWARE"
		_, c := s.classOf(u, ioc.URL)
		if c == Unknown && strings.TrimPrefix(u, "http://"+hostOf(u)) == "/" {
			_, c = s.classOf(hostOf(u), ioc.Domain)
			threat = "SOCIAL_ENGINEERING"
		}
		if c != Malicious || !contains(q.ThreatInfo.ThreatTypes, threat) {
			continue
		}
		matches = append(matches, obj{"threatType": threat, "platformType": "ANY_PLATFORM", "threatEntryType": "URL",
			"threat": obj{"url": u}, "threatEntryMetadata": obj{"entries": list{obj{"key": "malware_threat_type", "value": "landing"}}},
			"cacheDuration": "300s"})
	}
	if len(matches) == 0 {
		writeJSON(w, 200, "{}\n")
		return
	}
	writeJSON(w, 200, obj{"matches": matches})
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

func googleError(code int, msg, status string) obj {
	return obj{"error": obj{"code": code, "message": msg, "status": status}}
}
