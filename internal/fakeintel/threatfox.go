package fakeintel

// ThreatFox: JSON POST search_ioc.

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

var threatFox = api{base: "/api/v1", serve: serveThreatFox, tooMany: abusechTooMany}

func serveThreatFox(s *Server, w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	if !abusechRoot(w, r, rest, "threatfox") {
		return
	}
	var q struct {
		Query      string `json:"query"`
		SearchTerm string `json:"search_term"`
	}
	if err := json.Unmarshal(body, &q); err != nil || q.Query == "" {
		writeJSON(w, 200, obj{"query_status": "illegal_query"})
		return
	}
	if q.Query != "search_ioc" {
		writeJSON(w, 200, obj{"query_status": "illegal_query"})
		return
	}
	term := strings.TrimSpace(q.SearchTerm)
	if term == "" {
		writeJSON(w, 200, obj{"query_status": "illegal_search_term"})
		return
	}
	var types []ioc.Type
	iocType := ""
	switch {
	case hostOf(term) != "":
		types, iocType = []ioc.Type{ioc.URL}, "url"
	default:
		if t, ok := hashType(term); ok {
			types, iocType = []ioc.Type{t}, string(t)+"_hash"
			term = strings.ToLower(term)
		} else {
			types = hostTypes(term)
			iocType = "domain"
			if types[0] != ioc.Domain {
				iocType = "ip:port"
			}
		}
	}
	_, c := s.classOf(term, types...)
	if c < Suspicious {
		writeJSON(w, 200, obj{"query_status": "no_result", "data": "Your search did not yield any results"})
		return
	}
	value, malware, printable, threat := term, "win.agent_tesla", "Agent Tesla", "payload"
	switch iocType {
	case "ip:port":
		value, malware, printable, threat = term+":443", "win.cobalt_strike", "Cobalt Strike", "botnet_cc"
	case "domain", "url":
		malware, printable, threat = "win.emotet", "Emotet", "payload_delivery"
	}
	confidence := 100
	if c == Suspicious {
		confidence = 50
	}
	writeJSON(w, 200, obj{"query_status": "ok", "data": list{obj{
		"id": "1318042", "ioc": value, "threat_type": threat, "ioc_type": iocType, "malware": malware,
		"malware_printable": printable, "malware_alias": nil, "malware_malpedia": "https://malpedia.caad.fkie.fraunhofer.de/details/" + malware,
		"confidence_level": confidence, "first_seen": "2026-11-20 09:10:23 UTC", "last_seen": "2026-11-26 08:00:00 UTC",
		"reference": nil, "reporter": "abuse_ch", "tags": []string{printable}, "malware_samples": list{},
	}}})
}
