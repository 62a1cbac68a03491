package fakeintel

// VirusTotal API v3: GET /ip_addresses/{ip}, /domains/{d}, /urls/{id} and /files/{hash}, x-apikey header.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

var virusTotal = api{base: "/api/v3", serve: serveVirusTotal,
	tooMany: func(w http.ResponseWriter, _ int) {
		writeJSON(w, 429, obj{"error": obj{"code": "TooManyRequestsError", "message": "Too many requests"}})
	},
	notFound: vtNotFound,
}

// vtNotFound is VirusTotal's 404 for a path it does not serve.
func vtNotFound(w http.ResponseWriter) {
	writeJSON(w, 404, obj{"error": obj{"code": "NotFoundError", "message": "Resource not found."}})
}

// analysisDate is the fixed "last analysed" time of every answer
// (2026-11-26T16:00:00Z), so answers are reproducible.
const analysisDate = 1795708800

// serveVirusTotal answers GET /ip_addresses/{ip}, /domains/{d}, /urls/{id}
// and /files/{hash} with the x-apikey header; unknown objects are 404
// NotFoundError.
func serveVirusTotal(s *Server, w http.ResponseWriter, r *http.Request, rest string, _ []byte) {
	switch key := r.Header.Get("x-apikey"); {
	case key == "":
		writeJSON(w, 401, obj{"error": obj{"code": "AuthenticationRequiredError", "message": "X-Apikey header is missing"}})
		return
	case key != Key("virustotal"):
		writeJSON(w, 401, obj{"error": obj{"code": "WrongCredentialsError", "message": "Wrong API key"}})
		return
	}
	if r.Method != http.MethodGet {
		writeJSON(w, 405, obj{"error": obj{"code": "BadRequestError", "message": "Method not allowed"}})
		return
	}
	coll, id, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	var i ioc.IOC
	var c Class
	kind := ""
	switch coll {
	case "ip_addresses":
		if _, err := netip.ParseAddr(id); err != nil {
			writeJSON(w, 400, obj{"error": obj{"code": "InvalidArgumentError", "message": fmt.Sprintf("%q is not a valid IP address", id)}})
			return
		}
		i, c = s.classOf(id, hostTypes(id)...)
		kind = "ip_address"
	case "domains":
		i, c = s.classOf(strings.ToLower(id), ioc.Domain)
		kind = "domain"
	case "urls":
		i, c = s.vtURL(id)
		kind = "url"
	case "files":
		t, ok := hashType(id)
		if !ok || t == ioc.SHA512 {
			writeJSON(w, 400, obj{"error": obj{"code": "InvalidArgumentError", "message": fmt.Sprintf("Invalid file hash %q", id)}})
			return
		}
		i, c = s.classOf(strings.ToLower(id), t)
		kind = "file"
	default:
		vtNotFound(w)
		return
	}
	if c == Unknown {
		writeJSON(w, 404, obj{"error": obj{"code": "NotFoundError", "message": fmt.Sprintf("%s %q not found", strings.ReplaceAll(kind, "_", " "), id)}})
		return
	}
	writeJSON(w, 200, vtObject(i, c, kind, coll))
}

// vtURL finds the URL a /urls/{id} names: the unpadded URL-safe base64 of
// the URL, or the SHA-256 of it.
func (s *Server) vtURL(id string) (ioc.IOC, Class) {
	if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(id, "=")); err == nil {
		return s.classOf(string(b), ioc.URL)
	}
	for i, c := range s.scenario() {
		if sum := sha256.Sum256([]byte(i.Value)); i.Type == ioc.URL && hex.EncodeToString(sum[:]) == strings.ToLower(id) {
			return i, c
		}
	}
	return ioc.IOC{Type: ioc.URL}, Unknown
}

func vtObject(i ioc.IOC, c Class, kind, coll string) obj {
	stats := obj{"harmless": 70, "malicious": 0, "suspicious": 0, "undetected": 20, "timeout": 0} // 0/90
	reputation, tags := 12, []string{}
	switch c {
	case Suspicious:
		stats = obj{"harmless": 70, "malicious": 1, "suspicious": 2, "undetected": 21, "timeout": 0}
		reputation = -2
	case Malicious:
		stats = obj{"harmless": 60, "malicious": 12, "suspicious": 2, "undetected": 20, "timeout": 0} // 12/94
		reputation = -25
	}
	id := i.Value
	a := obj{"last_analysis_date": analysisDate, "last_modification_date": analysisDate, "reputation": reputation,
		"total_votes": obj{"harmless": 0, "malicious": 0}}
	switch i.Type {
	case ioc.IPv4, ioc.IPv6:
		n := networkOf(i.Value)
		a["asn"], a["as_owner"], a["country"], a["network"] = n.ASN, n.Owner, n.Country, n.CIDR
		a["continent"], a["regional_internet_registry"] = "EU", "RIPE NCC"
		if n.Tor {
			tags = append(tags, "tor")
		}
	case ioc.Domain:
		a["registrar"], a["creation_date"] = "NameCheap, Inc.", 1761955200
		a["last_dns_records"] = list{obj{"type": "A", "value": MaliciousIP.Value, "ttl": 300}}
		a["categories"] = obj{"Forcepoint ThreatSeeker": "search engines and portals"}
		if c >= Suspicious {
			a["categories"] = obj{"Forcepoint ThreatSeeker": "phishing and other frauds", "Sophos": "phishing"}
		}
		if c == Benign {
			a["registrar"], a["creation_date"] = "MarkMonitor Inc.", 874296000
			a["popularity_ranks"] = obj{"Cisco Umbrella": obj{"rank": 1, "timestamp": analysisDate}}
		}
	case ioc.URL:
		sum := sha256.Sum256([]byte(i.Value))
		id = hex.EncodeToString(sum[:])
		a["url"], a["last_final_url"], a["title"], a["last_http_response_code"] = i.Value, i.Value, "Invoice", 200
		a["times_submitted"], a["first_submission_date"] = 7, 1547861606
		if c == Malicious {
			a["threat_names"] = []string{"Emotet"}
		}
	default: // files
		smp := sampleOf(i.Value)
		id = smp.SHA256
		a["md5"], a["sha1"], a["sha256"], a["size"] = smp.MD5, smp.SHA1, smp.SHA256, smp.Size
		a["type_description"], a["type_tag"], a["meaningful_name"] = "Win32 EXE", "peexe", smp.Name
		a["names"] = []string{smp.Name}
		if c == Malicious {
			stats = obj{"harmless": 0, "malicious": 58, "suspicious": 0, "undetected": 14, "timeout": 0,
				"confirmed-timeout": 0, "failure": 0, "type-unsupported": 4}
			a["popular_threat_classification"] = obj{"suggested_threat_label": "trojan." + strings.ToLower(smp.Family) + "/msil",
				"popular_threat_category": list{obj{"value": "trojan", "count": 31}},
				"popular_threat_name":     list{obj{"value": strings.ToLower(smp.Family), "count": 27}}}
			tags = append(tags, "peexe", "assembly")
		}
	}
	a["last_analysis_stats"], a["tags"] = stats, tags
	a["last_analysis_results"] = obj{
		"ADMINUSLabs": obj{"category": "harmless", "engine_name": "ADMINUSLabs", "method": "blacklist", "result": "clean"},
	}
	if c == Malicious {
		a["last_analysis_results"].(obj)["Fortinet"] = obj{"category": "malicious", "engine_name": "Fortinet", "method": "blacklist", "result": "malware"}
	}
	return obj{"data": obj{"id": id, "type": kind, "links": obj{"self": "https://www.virustotal.com/api/v3/" + coll + "/" + id},
		"attributes": a}}
}
