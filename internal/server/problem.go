package server

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Problem is an RFC 7807 problem details body. Every error the server
// answers is one, served as application/problem+json; Detail says what the
// caller should change, and Instance is the request id, so an analyst can
// find the matching access-log line.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Errors lists individual problems (for example each IOC that did not
	// parse), when there are several.
	Errors []string `json:"errors,omitempty"`
}

// problemBase prefixes every problem type; the fragment names the problem.
// The page is the "Problems" part of api/openapi.yaml's description.
const problemBase = "https://github.com/iocane/iocane/blob/main/internal/server/openapi.yaml#problem-"

// Problem slugs, each a stable Problem.Type.
const (
	probBadRequest     = "bad-request"
	probMalformedJSON  = "malformed-json"
	probEmptyBody      = "empty-body"
	probTooLarge       = "body-too-large"
	probMediaType      = "unsupported-media-type"
	probUnauthorized   = "unauthorized"
	probForbidden      = "forbidden"
	probBadSignature   = "bad-signature"
	probReplay         = "replayed-signature"
	probNotFound       = "not-found"
	probMethod         = "method-not-allowed"
	probConflict       = "conflict"
	probUnprocessable  = "unprocessable"
	probRateLimited    = "rate-limited"
	probUnavailable    = "unavailable"
	probInternal       = "internal"
	probTooManyIOCs    = "too-many-iocs"
	probUnknownWebhook = "unknown-webhook-kind"
)

// writeProblem answers with a problem body. title defaults to the status
// text.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, slug, detail string, errs ...string) {
	p := Problem{Type: problemBase + slug, Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs}
	if r != nil {
		p.Instance = requestID(r.Context())
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(status)
	b, _ := json.Marshal(p)
	w.Write(append(b, '\n'))
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, nil, http.StatusInternalServerError, probInternal, "the response could not be encoded")
		return
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
