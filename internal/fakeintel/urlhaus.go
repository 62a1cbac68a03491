package fakeintel

// URLhaus: form POST /url/, /host/, /payload/.

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

var urlhaus = api{base: "/v1", serve: serveURLhaus, tooMany: abusechTooMany}

func serveURLhaus(s *Server, w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	if rest != "/url/" && rest != "/host/" && rest != "/payload/" {
		htmlNotFound(w)
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
