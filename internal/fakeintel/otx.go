package fakeintel

// AlienVault OTX DirectConnect API v1: GET /indicators/{type}/{value}/general.

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

var otx = api{base: "/api/v1", serve: serveOTX,
	tooMany: func(w http.ResponseWriter, retryAfter int) {
		writeJSON(w, 429, obj{"detail": fmt.Sprintf("Request was throttled. Expected available in %d seconds.", retryAfter)})
	},
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
		htmlNotFound(w)
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
