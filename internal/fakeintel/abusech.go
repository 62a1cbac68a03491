package fakeintel

// Responders for the abuse.ch APIs: MalwareBazaar (form POST get_info),
// URLhaus (form POST /url/, /host/, /payload/) and ThreatFox (JSON POST
// search_ioc). All three need the Auth-Key header (401 without) and answer
// HTTP 200 with a query_status for everything else.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

// abusechAuth checks the Auth-Key header and the method; it answers and
// returns false when either is wrong.
func abusechAuth(w http.ResponseWriter, r *http.Request, p string) bool {
	if r.Header.Get("Auth-Key") != Key(p) {
		writeJSON(w, 401, obj{"query_status": "unknown_auth_key"})
		return false
	}
	if r.Method != http.MethodPost {
		writeJSON(w, 200, obj{"query_status": "http_post_expected"})
		return false
	}
	return true
}

// form parses a form-encoded POST body.
func form(body []byte) url.Values {
	v, _ := url.ParseQuery(string(body))
	return v
}

func serveMalwareBazaar(s *Server, w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	if rest != "/" && rest != "" {
		notFoundPath(w, "malwarebazaar")
		return
	}
	if !abusechAuth(w, r, "malwarebazaar") {
		return
	}
	f := form(body)
	if f.Get("query") != "get_info" {
		writeJSON(w, 200, obj{"query_status": "unknown_query"})
		return
	}
	h := strings.ToLower(f.Get("hash"))
	t, ok := hashType(h)
	switch {
	case h == "":
		writeJSON(w, 200, obj{"query_status": "no_hash_provided"})
		return
	case !ok || t == ioc.SHA512:
		writeJSON(w, 200, obj{"query_status": "illegal_hash"})
		return
	}
	if _, c := s.classOf(h, t); c < Suspicious {
		writeJSON(w, 200, obj{"query_status": "hash_not_found"})
		return
	}
	smp := sampleOf(h)
	writeJSON(w, 200, obj{"query_status": "ok", "data": list{obj{
		"sha256_hash": smp.SHA256, "sha1_hash": smp.SHA1, "md5_hash": smp.MD5,
		"first_seen": "2026-11-20 11:55:46", "last_seen": "2026-11-26 09:06:57", "file_name": smp.Name,
		"file_size": smp.Size, "file_type_mime": smp.Mime, "file_type": smp.Kind, "reporter": "abuse_ch",
		"origin_country": "CH", "anonymous": 0, "signature": smp.Family, "imphash": "f34d5f2d4577ed6d9ceec516c1f5a744",
		"tags": []string{smp.Family, smp.Kind}, "delivery_method": "email_attachment", "comments": nil,
		"intelligence": obj{"clamav": []string{"Win.Packed.Generic-7584472-0"}, "downloads": "2342", "uploads": "2", "mail": nil},
		"vendor_intel": obj{"ReversingLabs": obj{"threat_name": "ByteCode-MSIL.Trojan." + smp.Family, "status": "MALICIOUS",
			"scanner_count": "35", "scanner_match": "31", "scanner_percent": "88.57"}},
	}}})
}

func serveURLhaus(s *Server, w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	if rest != "/url/" && rest != "/host/" && rest != "/payload/" {
		notFoundPath(w, "urlhaus")
		return
	}
	if !abusechAuth(w, r, "urlhaus") {
		return
	}
	f := form(body)
	switch rest {
	case "/url/":
		u := f.Get("url")
		if hostOf(u) == "" {
			writeJSON(w, 200, obj{"query_status": "invalid_url"})
			return
		}
		if _, c := s.classOf(u, ioc.URL); c < Suspicious {
			writeJSON(w, 200, obj{"query_status": "no_results"})
			return
		}
		a := urlhausURL(u, "online")
		a["query_status"], a["host"], a["last_online"] = "ok", hostOf(u), nil
		a["blacklists"] = obj{"spamhaus_dbl": "not listed", "surbl": "listed"}
		a["payloads"] = list{obj{"firstseen": "2026-11-19", "filename": "INV_7731.doc", "file_type": "doc", "response_size": "180224",
			"response_md5": MaliciousMD5.Value, "response_sha256": MaliciousSHA256.Value, "signature": "Heodo", "virustotal": nil}}
		writeJSON(w, 200, a)
	case "/host/":
		h := strings.ToLower(f.Get("host"))
		if h == "" || strings.ContainsAny(h, "/ ") {
			writeJSON(w, 200, obj{"query_status": "invalid_host"})
			return
		}
		_, c := s.classOf(h, hostTypes(h)...)
		if c < Suspicious {
			writeJSON(w, 200, obj{"query_status": "no_results"})
			return
		}
		status, dbl := "online", "abused_legit_malware"
		if c == Suspicious {
			status, dbl = "offline", "not listed"
		}
		switch {
		case hostTypes(h)[0] != ioc.Domain:
			dbl = "not listed" // the DBL lists domains only
		case c == Malicious:
			dbl = "phishing_domain"
		}
		writeJSON(w, 200, obj{"query_status": "ok", "urlhaus_reference": "https://urlhaus.abuse.ch/host/" + h + "/", "host": h,
			"firstseen": "2026-11-19 07:09:01 UTC", "url_count": "2",
			"blacklists": obj{"spamhaus_dbl": dbl, "surbl": "not listed"},
			"urls":       list{urlhausURL("http://"+h+"/bins/x86", status), urlhausURL("http://"+h+"/invoice.doc", status)}})
	case "/payload/":
		h := strings.ToLower(f.Get("md5_hash") + f.Get("sha256_hash"))
		t, ok := hashType(h)
		if !ok || (t != ioc.MD5 && t != ioc.SHA256) {
			writeJSON(w, 200, obj{"query_status": "invalid_" + map[bool]string{true: "md5", false: "sha256"}[f.Has("md5_hash")] + "_hash"})
			return
		}
		if _, c := s.classOf(h, t); c < Suspicious {
			writeJSON(w, 200, obj{"query_status": "no_results"})
			return
		}
		smp := sampleOf(h)
		writeJSON(w, 200, obj{"query_status": "ok", "md5_hash": smp.MD5, "sha256_hash": smp.SHA256, "file_type": smp.Kind,
			"file_size": fmt.Sprint(smp.Size), "signature": smp.Family, "firstseen": "2026-11-19 01:40:11",
			"lastseen": "2026-11-26 09:12:45", "url_count": "1", "virustotal": nil, "imphash": nil,
			"urls": list{obj{"url_id": "3105821", "url": MaliciousURL.Value, "url_status": "online",
				"urlhaus_reference": "https://urlhaus.abuse.ch/url/3105821/", "firstseen": "2026-11-19", "lastseen": nil}}})
	}
}

func urlhausURL(u, status string) obj {
	return obj{"id": "3105821", "urlhaus_reference": "https://urlhaus.abuse.ch/url/3105821/", "url": u, "url_status": status,
		"date_added": "2026-11-19 01:33:26 UTC", "threat": "malware_download", "reporter": "Cryptolaemus1", "larted": "true",
		"takedown_time_seconds": nil, "tags": []string{"emotet", "epoch2", "heodo"}}
}

func serveThreatFox(s *Server, w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	if rest != "/" && rest != "" {
		notFoundPath(w, "threatfox")
		return
	}
	if !abusechAuth(w, r, "threatfox") {
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
