package fakeintel

// What the three abuse.ch APIs share: the Auth-Key header, form bodies and the front end's plain 429.

import (
	"io"
	"net/http"
	"net/url"
)

// abusechTooMany is the abuse.ch front end's plain 429 (no documented body).
func abusechTooMany(w http.ResponseWriter, _ int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(429)
	_, _ = io.WriteString(w, "429 Too Many Requests\n")
}

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

// abusechRoot is abusechAuth for the APIs served at their base path alone
// (MalwareBazaar, ThreatFox): any other path is the front end's 404.
func abusechRoot(w http.ResponseWriter, r *http.Request, rest, p string) bool {
	if rest != "/" && rest != "" {
		htmlNotFound(w)
		return false
	}
	return abusechAuth(w, r, p)
}
