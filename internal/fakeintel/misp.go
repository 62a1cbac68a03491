package fakeintel

// MISP: POST /attributes/restSearch.

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/iocane/iocane/internal/ioc"
)

var misp = api{serve: serveMISP,
	tooMany: func(w http.ResponseWriter, _ int) {
		writeJSON(w, 429, obj{"name": "Too Many Requests", "message": "Rate limit exceeded.", "url": "/attributes/restSearch"})
	},
}

// mispTypes are the MISP attribute types an IOC is stored as.
var mispTypes = map[ioc.Type]string{
	ioc.IPv4: "ip-dst", ioc.IPv6: "ip-dst", ioc.Domain: "domain", ioc.URL: "url", ioc.Email: "email-src",
	ioc.MD5: "md5", ioc.SHA1: "sha1", ioc.SHA256: "sha256", ioc.SHA512: "sha512", ioc.CVE: "vulnerability",
}

// serveMISP answers POST /attributes/restSearch with the raw key in
// Authorization; no match is 200 with an empty Attribute list.
func serveMISP(s *Server, w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	if r.Header.Get("Authorization") != Key("misp") {
		msg := "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header."
		writeJSON(w, 403, obj{"name": msg, "message": msg, "url": rest})
		return
	}
	if rest == "/sightings/add" && r.Method == http.MethodPost {
		serveMISPSighting(s, w, body)
		return
	}
	if rest != "/attributes/restSearch" {
		writeJSON(w, 404, obj{"name": "Not Found", "message": "Not Found", "url": rest})
		return
	}
	if r.Method != http.MethodPost {
		writeJSON(w, 405, obj{"name": "Method Not Allowed", "message": "You need to POST the search parameters.", "url": rest})
		return
	}
	var q struct {
		Value any `json:"value"`
	}
	if err := json.Unmarshal(body, &q); err != nil {
		writeJSON(w, 400, obj{"name": "Bad Request", "message": "Invalid JSON input. Make sure that the JSON input is a correctly formatted JSON string.", "url": rest})
		return
	}
	var values []string
	switch v := q.Value.(type) {
	case string:
		values = []string{v}
	case []any:
		for _, e := range v {
			values = append(values, fmt.Sprint(e))
		}
	}
	attrs := list{}
	for _, v := range values {
		i, c := s.anyClass(v)
		if c < Suspicious {
			continue
		}
		tags := list{obj{"id": "3", "name": "tlp:amber", "colour": "#FFC000", "numerical_value": nil, "is_galaxy": false, "local": 0}}
		attrs = append(attrs, obj{"id": "91234", "event_id": "1201", "object_id": "0", "object_relation": nil,
			"category": "Network activity", "type": mispTypes[i.Type], "to_ids": c == Malicious,
			"uuid": "5f1c2a3b-7d4e-4c1a-9b2f-0a1b2c3d4e5f", "timestamp": "1795700000", "distribution": "5",
			"sharing_group_id": "0", "comment": "seen in incident 42", "deleted": false, "disable_correlation": false,
			"first_seen": nil, "last_seen": nil, "value": v,
			"Event": obj{"org_id": "1", "distribution": "1", "id": "1201", "info": "Incident 42: phishing to Cobalt Strike",
				"orgc_id": "1", "uuid": "5f1c2a00-1111-4c1a-9b2f-0a1b2c3d4e5f"},
			"Tag": tags})
	}
	writeJSON(w, 200, obj{"response": obj{"Attribute": attrs}})
}

// anyClass finds v in the scenario whatever its type.
func (s *Server) anyClass(v string) (ioc.IOC, Class) {
	for _, t := range ioc.Types {
		if c, ok := s.scenario()[ioc.IOC{Type: t, Value: v}]; ok {
			return ioc.IOC{Type: t, Value: v}, c
		}
	}
	return ioc.IOC{Value: v}, Unknown
}

// serveMISPSighting answers POST /sightings/add: {"value", "type" ("0" a
// sighting, "1" a false positive), "source"}. A value with no attribute is
// MISP's failure response, 403 with "saved": false.
func serveMISPSighting(s *Server, w http.ResponseWriter, body []byte) {
	var q struct {
		Value  string `json:"value"`
		Type   string `json:"type"`
		Source string `json:"source"`
	}
	if err := json.Unmarshal(body, &q); err != nil || (q.Type != "0" && q.Type != "1" && q.Type != "2") {
		writeJSON(w, 400, obj{"saved": false, "name": "Could not add the Sighting", "message": "Could not add the Sighting", "url": "/sightings/add", "errors": "Invalid input."})
		return
	}
	if _, c := s.anyClass(q.Value); c < Suspicious {
		writeJSON(w, 403, obj{"saved": false, "name": "Could not add the Sighting", "message": "Could not add the Sighting", "url": "/sightings/add",
			"errors": "No valid attributes found that would match the sighting criteria."})
		return
	}
	writeJSON(w, 200, obj{"saved": true, "success": true, "name": "1 sighting successfully added.", "message": "1 sighting successfully added.", "url": "/sightings/add"})
}
