package fakeintel

// Defender TI (formerly PassiveTotal): the OAuth2 token endpoint and Microsoft Graph's threatIntelligence hosts.

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

var passiveTotal = api{base: "/beta", serve: servePassiveTotal,
	tooMany: func(w http.ResponseWriter, _ int) {
		writeJSON(w, 429, graphError("TooManyRequests", "Too many requests. Please retry after the time specified in the Retry-After header."))
	},
	notFound: graphNotFound,
}

// graphNotFound is Microsoft Graph's 404 for a path it does not serve.
func graphNotFound(w http.ResponseWriter) {
	writeJSON(w, 404, graphError("UnknownError", "Resource not found for the segment."))
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
		graphNotFound(w)
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

func graphError(code, msg string) obj {
	return obj{"error": obj{"code": code, "message": msg,
		"innerError": obj{"date": "2026-11-26T16:00:00", "request-id": "00000000-0000-4000-8000-000000000000"}}}
}
