package fakeintel

// AbuseIPDB API v2: GET /check, Key header.

import (
	"fmt"
	"net/http"
	"net/netip"
)

var abuseIPDB = api{base: "/api/v2", serve: serveAbuseIPDB,
	tooMany: func(w http.ResponseWriter, _ int) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		writeJSON(w, 429, obj{"errors": list{obj{"detail": "Too Many Attempts.", "status": 429}}})
	},
}

// serveAbuseIPDB answers GET /check?ipAddress=..&maxAgeInDays=.. with the
// Key header. An unreported address is 200 with score 0, never 404.
func serveAbuseIPDB(s *Server, w http.ResponseWriter, r *http.Request, rest string, _ []byte) {
	if r.Header.Get("Key") != Key("abuseipdb") {
		writeJSON(w, 401, obj{"errors": list{obj{"detail": "Authentication failed. Your API key is either missing, incorrect, or revoked. Note: The APIv2 key differs from the APIv1 key.", "status": 401}}})
		return
	}
	if rest != "/check" {
		htmlNotFound(w)
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

// between reports whether s is an integer in [lo, hi].
func between(s string, lo, hi int) bool {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || fmt.Sprint(n) != s {
		return false
	}
	return n >= lo && n <= hi
}
