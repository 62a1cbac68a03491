package fakeintel

// GreyNoise Community API: GET /v3/community/{ip}.

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

var greyNoise = api{serve: serveGreyNoise,
	tooMany: func(w http.ResponseWriter, _ int) {
		writeJSON(w, 429, obj{"plan": "community", "rate-limit": "too many lookups", "plan_url": "https://greynoise.io/pricing",
			"message": "You have hit your rate limit. Please slow down."})
	},
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
		htmlNotFound(w)
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
