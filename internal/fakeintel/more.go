package fakeintel

// Responders for MISP (restSearch), PassiveTotal as Defender TI (OAuth2
// token endpoint + Microsoft Graph), urlscan.io (search, result, scan) and
// Google Safe Browsing (threatMatches:find).

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

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
		if c, ok := s.verdicts[ioc.IOC{Type: t, Value: v}]; ok {
			return ioc.IOC{Type: t, Value: v}, c
		}
	}
	return ioc.IOC{Value: v}, Unknown
}

// servePassiveTotal answers the Entra ID token endpoint
// (POST /login/{tenant}/oauth2/v2.0/token, client credentials) and the
// Graph threatIntelligence host reputation and passiveDns (bearer token
// from that endpoint). A host Defender TI does not know is a 404.
func servePassiveTotal(s *Server, w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	if tenant, ok := strings.CutPrefix(rest, "/login/"); ok {
		s.token(w, r, strings.TrimSuffix(tenant, "/oauth2/v2.0/token"), body)
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	valid := s.tokens[tok]
	s.mu.Unlock()
	if !valid {
		writeJSON(w, 401, graphError("InvalidAuthenticationToken", "Access token is empty or invalid."))
		return
	}
	path, ok := strings.CutPrefix(rest, "/security/threatIntelligence/hosts/")
	host, what, _ := strings.Cut(path, "/")
	if !ok || (what != "reputation" && what != "passiveDns") {
		notFoundPath(w, "passivetotal")
		return
	}
	if r.Method != http.MethodGet {
		writeJSON(w, 405, graphError("BadRequest", "The HTTP method is not allowed."))
		return
	}
	host = strings.ToLower(host)
	_, c := s.classOf(host, hostTypes(host)...)
	if c == Unknown {
		writeJSON(w, 404, graphError("NotFound", "The requested host was not found."))
		return
	}
	ctx := "https://graph.microsoft.com/beta/$metadata#security/threatIntelligence/hosts('" + host + "')/"
	if what == "passiveDns" {
		parent, artifact := host, MaliciousIP.Value
		if hostTypes(host)[0] != ioc.Domain {
			parent, artifact = MaliciousDomain.Value, host
		}
		writeJSON(w, 200, obj{"@odata.context": ctx + "passiveDns", "value": list{obj{
			"id": "cGFzc2l2ZURucyQkMQ==", "firstSeenDateTime": "2026-10-01T04:02:11Z", "lastSeenDateTime": "2026-11-25T22:10:03Z",
			"collectedDateTime": "2026-11-25T22:10:03Z", "recordType": "A", "parentHost": obj{"id": parent},
			"artifact": obj{"@odata.type": "#microsoft.graph.security.ipAddress", "id": artifact}}}})
		return
	}
	class, score, rules := "neutral", 0, list{}
	switch c {
	case Malicious:
		class, score = "malicious", 100
		rules = list{obj{"name": "Microsoft Defender TI IOC", "description": "This artifact is an IOC in an article.",
			"severity": "high", "relatedDetailsUrl": nil}}
	case Suspicious:
		class, score = "suspicious", 50
		rules = list{obj{"name": "Scanner", "description": "The IP address scans the internet.", "severity": "medium", "relatedDetailsUrl": nil}}
	}
	writeJSON(w, 200, obj{"@odata.context": ctx + "reputation/$entity", "@odata.type": "#microsoft.graph.security.hostReputation",
		"id": host, "classification": class, "score": score, "rules": rules})
}

// token issues a client-credentials access token.
func (s *Server) token(w http.ResponseWriter, r *http.Request, tenant string, body []byte) {
	aad := func(code int, e, desc string) {
		writeJSON(w, code, obj{"error": e, "error_description": desc, "error_codes": []int{7000215}, "timestamp": "2026-11-26 16:00:00Z"})
	}
	f := form(body)
	switch {
	case r.Method != http.MethodPost:
		aad(400, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
	case tenant != FakeTenant:
		aad(400, "invalid_request", "AADSTS90002: Tenant '"+tenant+"' not found.")
	case f.Get("grant_type") != "client_credentials":
		aad(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
	case f.Get("client_id") != FakeClientID || f.Get("client_secret") != FakeClientSecret:
		aad(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
	case f.Get("scope") != "https://graph.microsoft.com/.default":
		aad(400, "invalid_scope", "AADSTS70011: The provided value for the input parameter 'scope' is not valid.")
	default:
		s.mu.Lock()
		s.nextTok++
		tok := fmt.Sprintf("fake-graph-token-%d", s.nextTok)
		s.tokens[tok] = true
		s.mu.Unlock()
		writeJSON(w, 200, obj{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
	}
}

// scanUUID is the made-up urlscan scan id of an IOC.
func scanUUID(i ioc.IOC) string {
	sum := sha256.Sum256([]byte(string(i.Type) + ":" + i.Value))
	h := hex.EncodeToString(sum[:16])
	return h[:8] + "-" + h[8:12] + "-7" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// serveURLscan answers GET /search/?q=.. (API-Key optional), GET
// /result/{uuid}/ (API-Key required) and POST /scan/ (API-Key required).
// A search with no hit is 200 with an empty results list.
func serveURLscan(s *Server, w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	key := r.Header.Get("API-Key")
	if key != "" && key != Key("urlscan") {
		writeJSON(w, 400, obj{"message": "Invalid API key format", "description": "The API key you supplied is not in a valid format. Please check your API key.", "status": 400})
		return
	}
	switch {
	case rest == "/search/" && r.Method == http.MethodGet:
		i, c := s.urlscanQuery(r.URL.Query().Get("q"))
		results := list{}
		if c != Unknown {
			results = append(results, scanRow(i, c))
		}
		writeJSON(w, 200, obj{"results": results, "total": len(results), "took": 3, "has_more": false})
	case strings.HasPrefix(rest, "/result/") && r.Method == http.MethodGet:
		if key == "" {
			writeJSON(w, 401, obj{"message": "Unauthorized", "description": "Result retrieval requires an API key.", "status": 401})
			return
		}
		id := strings.Trim(strings.TrimPrefix(rest, "/result/"), "/")
		for i, c := range s.verdicts {
			if scanUUID(i) == id && c != Unknown {
				res := scanRow(i, c)
				score, mal := 0, false
				switch c {
				case Malicious:
					score, mal = 100, true
				case Suspicious:
					score = 50
				}
				cats := list{}
				if mal {
					cats = list{"phishing"}
				}
				res["verdicts"] = obj{"overall": obj{"score": score, "categories": cats, "brands": list{}, "tags": list{}, "malicious": mal, "hasVerdicts": c != Benign},
					"engines":   obj{"score": 0, "malicious": false, "enginesTotal": 0, "maliciousTotal": 0, "benignTotal": 0},
					"community": obj{"score": 0, "malicious": false, "votesTotal": 0, "votesMalicious": 0}}
				res["lists"] = obj{"ips": []string{MaliciousIP.Value}, "domains": []string{res["page"].(obj)["domain"].(string)}}
				writeJSON(w, 200, res)
				return
			}
		}
		writeJSON(w, 404, obj{"message": "Scan is not finished yet or does not exist", "status": 404})
	case rest == "/scan/" && r.Method == http.MethodPost:
		if key == "" {
			writeJSON(w, 401, obj{"message": "Unauthorized", "description": "Scanning requires an API key.", "status": 401})
			return
		}
		var q struct {
			URL        string `json:"url"`
			Visibility string `json:"visibility"`
		}
		if json.Unmarshal(body, &q) != nil || hostOf(q.URL) == "" {
			writeJSON(w, 400, obj{"message": "Missing URL properties", "description": "The URL supplied was not OK, please specify it including the protocol, host and path (e.g. http://example.com/bar)", "status": 400})
			return
		}
		id := scanUUID(ioc.IOC{Type: ioc.URL, Value: q.URL})
		writeJSON(w, 200, obj{"message": "Submission successful", "uuid": id, "result": "https://urlscan.io/result/" + id + "/",
			"api": "https://urlscan.io/api/v1/result/" + id + "/", "visibility": q.Visibility, "url": q.URL})
	default:
		notFoundPath(w, "urlscan")
	}
}

// urlscanQuery reads the three query shapes iocane sends:
// page.url:"<url>", domain:<domain> and ip:<address>.
func (s *Server) urlscanQuery(q string) (ioc.IOC, Class) {
	field, v, _ := strings.Cut(q, ":")
	switch field {
	case "page.url":
		v = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
		v = strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(v)
		return s.classOf(v, ioc.URL)
	case "domain", "ip", "page.domain", "page.ip":
		v = strings.ReplaceAll(v, `\`, "")
		return s.classOf(strings.ToLower(v), hostTypes(v)...)
	}
	return ioc.IOC{}, Unknown
}

func scanRow(i ioc.IOC, c Class) obj {
	id := scanUUID(i)
	ip := "93.184.216.34"
	if c == Malicious {
		ip = MaliciousIP.Value
	}
	page := obj{"country": "NL", "server": "nginx", "ip": ip, "mimeType": "text/html", "title": "Sign in to your account",
		"asnname": "EXAMPLE-AS, NL", "asn": "AS64500", "status": "200"}
	u := i.Value
	switch i.Type {
	case ioc.Domain:
		u = "https://" + i.Value + "/"
	case ioc.IPv4:
		u = "http://" + i.Value + "/"
		page["ip"] = i.Value
	}
	page["url"], page["domain"] = u, hostOf(u)
	return obj{"task": obj{"visibility": "public", "method": "api", "domain": hostOf(u), "time": "2026-11-20T09:12:44.310Z", "uuid": id, "url": u},
		"stats": obj{"uniqIPs": 3, "uniqCountries": 1, "requests": 21}, "page": page, "verdicts": obj{}, "_id": id,
		"result": "https://urlscan.io/api/v1/result/" + id + "/", "screenshot": "https://urlscan.io/screenshots/" + id + ".png"}
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
