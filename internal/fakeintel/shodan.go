package fakeintel

// Shodan: GET /shodan/host/{ip}?key=.

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

var shodan = api{serve: serveShodan,
	tooMany: func(w http.ResponseWriter, _ int) {
		writeJSON(w, 429, obj{"error": "Request rate limit reached (1 request/ second). Please wait a second before trying again and slow down your API calls."})
	},
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
		htmlNotFound(w)
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
