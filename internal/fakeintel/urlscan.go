package fakeintel

// urlscan.io API v1: search, result and scan.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

var urlscan = api{base: "/api/v1", serve: serveURLscan,
	tooMany: func(w http.ResponseWriter, retryAfter int) {
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		w.Header().Set("X-Rate-Limit-Reset-After", strconv.Itoa(retryAfter))
		writeJSON(w, 429, obj{"message": "Rate limit for search exceeded, please wait a minute before trying again.",
			"description": "You have exceeded the rate limit for search requests.", "status": 429})
	},
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
		for i, c := range s.scenario() {
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
		htmlNotFound(w)
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
