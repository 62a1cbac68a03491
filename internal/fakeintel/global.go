package fakeintel

// Responders for the GET-by-path APIs: VirusTotal, AbuseIPDB, Shodan,
// GreyNoise and OTX.

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
		notFoundPath(w, "virustotal")
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
	for i, c := range s.verdicts {
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

// serveAbuseIPDB answers GET /check?ipAddress=..&maxAgeInDays=.. with the
// Key header. An unreported address is 200 with score 0, never 404.
func serveAbuseIPDB(s *Server, w http.ResponseWriter, r *http.Request, rest string, _ []byte) {
	if r.Header.Get("Key") != Key("abuseipdb") {
		writeJSON(w, 401, obj{"errors": list{obj{"detail": "Authentication failed. Your API key is either missing, incorrect, or revoked. Note: The APIv2 key differs from the APIv1 key.", "status": 401}}})
		return
	}
	if rest != "/check" {
		notFoundPath(w, "abuseipdb")
		return
	}
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	q := r.URL.Query()
	a, err := netip.ParseAddr(q.Get("ipAddress"))
	if err != nil {
		writeJSON(w, 422, obj{"errors": list{obj{"detail": "The ip address must be a valid IPv4 or IPv6 address (e.g. 8.8.8.8 or 2001:4860:4860::8888).",
			"status": 422, "source": obj{"parameter": "ipAddress"}}}})
		return
	}
	if d := q.Get("maxAgeInDays"); d != "" && !between(d, 1, 365) {
		writeJSON(w, 422, obj{"errors": list{obj{"detail": "The max age in days must be between 1 and 365.",
			"status": 422, "source": obj{"parameter": "maxAgeInDays"}}}})
		return
	}
	ip := a.String()
	_, c := s.classOf(ip, hostTypes(ip)...)
	n := networkOf(ip)
	version := 4
	if a.Is6() && !a.Is4In6() {
		version = 6
	}
	d := obj{"ipAddress": ip, "isPublic": a.IsGlobalUnicast() && !a.IsPrivate(), "ipVersion": version, "isWhitelisted": false,
		"abuseConfidenceScore": 0, "countryCode": n.Country, "usageType": n.Usage, "isp": n.ISP, "domain": n.Domain,
		"hostnames": []string{}, "isTor": n.Tor, "totalReports": 0, "numDistinctUsers": 0, "lastReportedAt": nil}
	switch c {
	case Malicious:
		d["abuseConfidenceScore"], d["totalReports"], d["numDistinctUsers"] = 100, 3319, 795
		d["lastReportedAt"] = "2026-11-26T15:42:07+00:00"
	case Suspicious:
		d["abuseConfidenceScore"], d["totalReports"], d["numDistinctUsers"] = 35, 12, 6
		d["lastReportedAt"] = "2026-11-20T08:00:00+00:00"
	case Benign:
		d["isWhitelisted"], d["hostnames"] = true, []string{"dns.google"}
		d["totalReports"], d["numDistinctUsers"], d["lastReportedAt"] = 52, 9, "2026-11-24T10:00:00+00:00"
	}
	w.Header().Set("X-RateLimit-Limit", "1000")
	w.Header().Set("X-RateLimit-Remaining", "999")
	writeJSON(w, 200, obj{"data": d})
}

// serveShodan answers GET /shodan/host/{ip}?key=..; an address Shodan has
// no banners for is 404 "No information available for that IP.".
func serveShodan(s *Server, w http.ResponseWriter, r *http.Request, rest string, _ []byte) {
	if r.URL.Query().Get("key") != Key("shodan") {
		writeJSON(w, 401, obj{"error": "Please provide a valid API key."})
		return
	}
	ip, ok := strings.CutPrefix(rest, "/shodan/host/")
	if !ok || r.Method != http.MethodGet {
		notFoundPath(w, "shodan")
		return
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		writeJSON(w, 400, obj{"error": "Invalid IP"})
		return
	}
	_, c := s.classOf(a.String(), hostTypes(ip)...)
	if c == Unknown {
		writeJSON(w, 404, obj{"error": "No information available for that IP."})
		return
	}
	n := networkOf(ip)
	host := obj{"ip_str": ip, "org": n.Owner, "isp": n.ISP, "asn": fmt.Sprintf("AS%d", n.ASN), "os": nil,
		"country_code": n.Country, "country_name": map[string]string{"DE": "Germany", "US": "United States"}[n.Country],
		"city": nil, "last_update": "2026-11-25T21:14:02.551347", "hostnames": []string{}, "domains": []string{}, "tags": []string{}}
	if a.Is4() {
		host["ip"] = int64(a.As4()[0])<<24 | int64(a.As4()[1])<<16 | int64(a.As4()[2])<<8 | int64(a.As4()[3])
	}
	banner := func(port int, transport, module, product string) obj {
		return obj{"_shodan": obj{"module": module}, "port": port, "transport": transport, "product": product,
			"timestamp": "2026-11-25T21:14:02.551347", "ip_str": ip}
	}
	switch c {
	case Benign:
		host["hostnames"], host["domains"] = []string{"dns.google"}, []string{"dns.google"}
		host["ports"], host["data"] = []int{53, 443}, list{banner(53, "udp", "dns-udp", ""), banner(443, "tcp", "https", "Google DNS")}
	case Suspicious:
		host["ports"], host["data"] = []int{22, 80}, list{banner(22, "tcp", "ssh", "OpenSSH"), banner(80, "tcp", "http", "nginx")}
	default:
		host["tags"] = []string{"tor", "vpn"}
		host["ports"] = []int{22, 443, 9001}
		host["data"] = list{banner(22, "tcp", "ssh", "OpenSSH"), banner(443, "tcp", "https", "Tor"), banner(9001, "tcp", "tor", "Tor relay")}
	}
	writeJSON(w, 200, host)
}

// serveGreyNoise answers GET /v3/community/{ip}, keyless or with a key
// header; an address outside both datasets is 404 with a JSON body.
func serveGreyNoise(s *Server, w http.ResponseWriter, r *http.Request, rest string, _ []byte) {
	if k := r.Header.Values("key"); len(k) > 0 && (len(k) > 1 || k[0] != Key("greynoise")) {
		writeJSON(w, 401, obj{"message": "Authentication failed"})
		return
	}
	ip, ok := strings.CutPrefix(rest, "/v3/community/")
	if !ok || r.Method != http.MethodGet {
		notFoundPath(w, "greynoise")
		return
	}
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() || a.IsPrivate() || a.IsLoopback() || !a.IsGlobalUnicast() {
		writeJSON(w, 400, obj{"message": "Request is not a valid routable IPv4 address"})
		return
	}
	_, c := s.classOf(ip, ioc.IPv4)
	switch c {
	case Unknown:
		writeJSON(w, 404, obj{"ip": ip, "noise": false, "riot": false,
			"message": "IP not observed scanning the internet or contained in RIOT data set."})
	case Benign:
		writeJSON(w, 200, obj{"ip": ip, "noise": false, "riot": true, "classification": "benign", "name": "Google Public DNS",
			"link": "https://viz.greynoise.io/riot/" + ip, "last_seen": "2026-11-26", "message": "Success"})
	default:
		class := "malicious"
		if c == Suspicious {
			class = "unknown"
		}
		writeJSON(w, 200, obj{"ip": ip, "noise": true, "riot": false, "classification": class, "name": "unknown",
			"link": "https://viz.greynoise.io/ip/" + ip, "last_seen": "2026-11-26", "message": "Success"})
	}
}

// otxTypes maps OTX's indicator section types to IOC types.
var otxTypes = map[string][]ioc.Type{
	"IPv4": {ioc.IPv4}, "IPv6": {ioc.IPv6}, "domain": {ioc.Domain}, "hostname": {ioc.Domain},
	"url": {ioc.URL}, "file": {ioc.SHA256, ioc.SHA1, ioc.MD5}, "cve": {ioc.CVE},
}

// serveOTX answers GET /indicators/{type}/{value}/general with the
// X-OTX-API-KEY header; an unknown indicator is 200 with pulse_info.count 0.
func serveOTX(s *Server, w http.ResponseWriter, r *http.Request, rest string, _ []byte) {
	if r.Header.Get("X-OTX-API-KEY") != Key("otx") {
		writeJSON(w, 403, obj{"detail": "Authentication credentials were not provided."})
		return
	}
	path, ok := strings.CutPrefix(rest, "/indicators/")
	typ, path, _ := strings.Cut(path, "/")
	value, general := strings.CutSuffix(path, "/general")
	types, known := otxTypes[typ]
	if !ok || !general || !known || value == "" || r.Method != http.MethodGet {
		notFoundPath(w, "otx")
		return
	}
	i, c := s.classOf(value, types...)
	g := obj{"indicator": value, "type": typ, "type_title": typ, "validation": list{}, "base_indicator": obj{},
		"sections": []string{"general", "geo", "reputation", "url_list", "passive_dns", "malware"}, "false_positive": list{}}
	if i.Type == ioc.IPv4 || i.Type == ioc.IPv6 {
		n := networkOf(value)
		g["asn"], g["country_code"], g["reputation"] = fmt.Sprintf("AS%d %s", n.ASN, n.Owner), n.Country, 0
	}
	var pulses list
	switch c {
	case Malicious:
		authors := []string{"AlienVault", "abuse_ch", "honeypot_researcher", "tor_feeds_bot", "CyberHunter"}
		for n := range 12 {
			pulses = append(pulses, pulse(n, authors[n%len(authors)], i))
		}
	case Suspicious:
		pulses = list{pulse(0, "honeypot_researcher", i)}
	case Benign:
		g["validation"] = list{obj{"source": "whitelist", "message": "Whitelisted " + typ + " " + value, "name": "Whitelisted " + typ}}
	}
	g["pulse_info"] = obj{"count": len(pulses), "pulses": append(list{}, pulses...), "references": list{},
		"related": obj{"alienvault": obj{"adversary": list{}, "malware_families": list{}, "industries": list{}}}}
	writeJSON(w, 200, g)
}

func pulse(n int, author string, i ioc.IOC) obj {
	names := []string{"Tor exit nodes - daily", "Brute force SSH attackers", "Phishing campaign targeting Office 365",
		"Emotet epoch 2 distribution", "AgentTesla infostealer IOCs", "Botnet C2 infrastructure"}
	family := list{}
	if i.Type == ioc.MD5 || i.Type == ioc.SHA1 || i.Type == ioc.SHA256 {
		family = list{obj{"id": "AgentTesla", "display_name": "AgentTesla", "target": nil}}
	}
	return obj{"id": fmt.Sprintf("64a0c0c7e5f3a1b2c3d4e%03d", n), "name": names[n%len(names)], "tags": []string{"malicious"},
		"created": "2026-10-01T08:12:00.000000", "modified": "2026-11-25T00:00:11.123000", "TLP": "white", "adversary": "",
		"malware_families": family, "attack_ids": list{obj{"id": "T1071", "name": "Application Layer Protocol"}},
		"author": obj{"username": author, "id": fmt.Sprint(1000 + n)}, "indicator_count": 120 + n}
}

// between reports whether s is an integer in [lo, hi].
func between(s string, lo, hi int) bool {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || fmt.Sprint(n) != s {
		return false
	}
	return n >= lo && n <= hi
}
