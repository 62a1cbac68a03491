package mailbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/provider"
)

const (
	graphSecret = "graph-client-secret-Kx7~q"
	graphToken  = "eyJ0eXAi.fake-access-token"
)

// fakeGraph answers the Graph calls the poller makes, in the shapes of
// the Graph v1.0 reference (testdata/README.md).
type fakeGraph struct {
	t  *testing.T
	mu sync.Mutex
	// folders: id -> (parent id, displayName); "inbox" is well known.
	folders map[string][2]string
	// msgs: id -> folder id and raw MIME, in delivery order in ids.
	ids    []string
	folder map[string]string
	raw    map[string][]byte
	tokens int
	// throttle makes the next n Graph calls answer 429 with Retry-After.
	throttle int
	calls    []string
}

func newFakeGraph(t *testing.T) (*fakeGraph, *httptest.Server) {
	g := &fakeGraph{t: t, folders: map[string][2]string{"inbox": {"", "Inbox"}}, folder: map[string]string{}, raw: map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tenant-1/oauth2/v2.0/token", g.token)
	mux.HandleFunc("GET /v1.0/users/{mb}/mailFolders", g.auth(g.findFolder))
	mux.HandleFunc("POST /v1.0/users/{mb}/mailFolders", g.auth(g.createFolder))
	mux.HandleFunc("GET /v1.0/users/{mb}/mailFolders/{id}/childFolders", g.auth(g.findFolder))
	mux.HandleFunc("POST /v1.0/users/{mb}/mailFolders/{id}/childFolders", g.auth(g.createFolder))
	mux.HandleFunc("GET /v1.0/users/{mb}/mailFolders/{id}/messages", g.auth(g.list))
	mux.HandleFunc("GET /v1.0/users/{mb}/messages/{id}/$value", g.auth(g.value))
	mux.HandleFunc("POST /v1.0/users/{mb}/messages/{id}/move", g.auth(g.move))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return g, srv
}

func (g *fakeGraph) deliver(raws ...[]byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range raws {
		id := fmt.Sprintf("AAMkAGI2TG93AAA%d=", len(g.ids))
		g.ids = append(g.ids, id)
		g.folder[id], g.raw[id] = "inbox", r
	}
}

func (g *fakeGraph) count(name string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, id := range g.ids {
		if f := g.folders[g.folder[id]]; strings.EqualFold(f[1], name) {
			n++
		}
	}
	return n
}

func (g *fakeGraph) token(w http.ResponseWriter, r *http.Request) {
	if r.FormValue("grant_type") != "client_credentials" || r.FormValue("client_id") != "app-1" ||
		r.FormValue("client_secret") != graphSecret || r.FormValue("scope") != GraphScope {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`))
		return
	}
	g.mu.Lock()
	g.tokens++
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":%q}`, graphToken)
}

func graphError(w http.ResponseWriter, code int, gcode, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, gcode, msg)
}

func (g *fakeGraph) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.calls = append(g.calls, r.Method+" "+r.URL.Path)
		throttled := g.throttle > 0
		if throttled {
			g.throttle--
		}
		g.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+graphToken {
			graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
			return
		}
		if r.PathValue("mb") != "phishing@corp.example" {
			graphError(w, http.StatusNotFound, "ErrorInvalidUser", "The requested user is invalid.")
			return
		}
		if throttled {
			w.Header().Set("Retry-After", "7")
			graphError(w, http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *fakeGraph) findFolder(w http.ResponseWriter, r *http.Request) {
	f := r.URL.Query().Get("$filter")
	name, ok := strings.CutPrefix(f, "displayName eq '")
	if !ok || !strings.HasSuffix(name, "'") {
		graphError(w, http.StatusBadRequest, "BadRequest", "Invalid filter clause")
		return
	}
	name = strings.ReplaceAll(strings.TrimSuffix(name, "'"), "''", "'")
	parent := r.PathValue("id")
	val := []map[string]any{}
	for id, f := range g.folders {
		if f[0] == parent && f[1] == name {
			val = append(val, map[string]any{"id": id, "displayName": name, "parentFolderId": parent, "childFolderCount": 0, "totalItemCount": 0})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('phishing')/mailFolders", "value": val})
}

func (g *fakeGraph) createFolder(w http.ResponseWriter, r *http.Request) {
	var in struct{ DisplayName string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.DisplayName == "" {
		graphError(w, http.StatusBadRequest, "ErrorInvalidRequest", "bad body")
		return
	}
	id := fmt.Sprintf("AQMkFOLDER%d", len(g.folders))
	g.folders[id] = [2]string{r.PathValue("id"), in.DisplayName}
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "displayName": in.DisplayName, "parentFolderId": r.PathValue("id")})
}

func (g *fakeGraph) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("$select") != "id,internetMessageId,subject,from" {
		graphError(w, http.StatusBadRequest, "BadRequest", "select")
		return
	}
	top := 10
	_, _ = fmt.Sscan(q.Get("$top"), &top)
	val := []map[string]any{}
	for _, id := range g.ids {
		if g.folder[id] == r.PathValue("id") && len(val) < top {
			val = append(val, map[string]any{"@odata.etag": `W/"CQAAABYAAAA"`, "id": id, "subject": "s", "internetMessageId": "<x@y>",
				"from": map[string]any{"emailAddress": map[string]string{"name": "A", "address": "a@corp.example"}}})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": val})
}

func (g *fakeGraph) value(w http.ResponseWriter, r *http.Request) {
	b, ok := g.raw[r.PathValue("id")]
	if !ok {
		graphError(w, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(b)
}

func (g *fakeGraph) move(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in struct {
		DestinationID string `json:"destinationId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		graphError(w, http.StatusBadRequest, "ErrorInvalidRequest", "bad body")
		return
	}
	if _, ok := g.raw[id]; !ok {
		graphError(w, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	if _, ok := g.folders[in.DestinationID]; !ok {
		graphError(w, http.StatusNotFound, "ErrorInvalidIdMalformed", "Id is malformed.")
		return
	}
	g.folder[id] = in.DestinationID
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "parentFolderId": in.DestinationID})
}

func graphConfig(srv *httptest.Server) Config {
	return Config{Name: "m365", Kind: "graph", TenantID: "tenant-1", ClientID: "app-1", ClientSecret: provider.NewSecret(graphSecret),
		Mailbox: "phishing@corp.example", BaseURL: srv.URL + "/v1.0", TokenURL: srv.URL + "/tenant-1/oauth2/v2.0/token"}
}

func TestGraphReportedMessage(t *testing.T) {
	g, srv := newFakeGraph(t)
	g.deliver(fixture(t, "report-rfc822.eml"), fixture(t, "malformed.eml"), fixture(t, "report-eml-attachment.eml"))
	q := &fakeQueue{}
	p := newTestPoller(t, graphConfig(srv), q, Options{HTTPClient: srv.Client()})

	st, err := p.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st != (Stats{Seen: 3, Submitted: 2, Failed: 1}) {
		t.Errorf("stats = %+v", st)
	}
	specs := q.specs()
	if len(specs) != 2 || specs[0].IdempotencyKey != "mailbox:m365:report-1@corp.example" || specs[1].Alert.Extra["reporter"] != "bob@corp.example" {
		t.Fatalf("jobs = %+v", specs)
	}
	if got := iocs(t, specs[0].Input); !hasIOC(got, "203.0.113.7") || hasIOC(got, "corp.example") {
		t.Errorf("iocs = %v", got)
	}
	if g.count("Inbox") != 0 || g.count("processed") != 2 || g.count("failed") != 1 {
		t.Errorf("inbox %d processed %d failed %d", g.count("Inbox"), g.count("processed"), g.count("failed"))
	}
	// iocane/processed is a child of a top-level "iocane" folder.
	var iocane string
	for id, f := range g.folders {
		if f[1] == "iocane" && f[0] == "" {
			iocane = id
		}
	}
	for _, f := range g.folders {
		if (f[1] == "processed" || f[1] == "failed") && f[0] != iocane {
			t.Errorf("folder %v not under iocane", f)
		}
	}

	st, err = p.Poll(context.Background())
	if err != nil || st != (Stats{}) {
		t.Errorf("second poll: %+v %v", st, err)
	}
	if g.tokens != 1 {
		t.Errorf("%d token requests, want 1 (cached)", g.tokens)
	}
}

func TestGraphThrottled(t *testing.T) {
	g, srv := newFakeGraph(t)
	g.deliver(fixture(t, "report-rfc822.eml"))
	q := &fakeQueue{}
	p := newTestPoller(t, graphConfig(srv), q, Options{HTTPClient: srv.Client()})
	g.throttle = 1
	st, err := p.Poll(context.Background())
	var se *StatusError
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &se) || se.RetryAfter != 7*time.Second {
		t.Fatalf("err = %v, want ErrRateLimited with Retry-After 7s", err)
	}
	if st.Seen != 0 || len(q.specs()) != 0 {
		t.Errorf("throttled poll did work: %+v", st)
	}
	if st, err := p.Poll(context.Background()); err != nil || st.Submitted != 1 {
		t.Errorf("next poll: %+v %v", st, err)
	}
}

func TestGraphCrashBetweenSubmitAndMove(t *testing.T) {
	g, srv := newFakeGraph(t)
	g.deliver(fixture(t, "forward-plain.eml"))
	q := &fakeQueue{failAfterStore: true}
	p := newTestPoller(t, graphConfig(srv), q, Options{HTTPClient: srv.Client()})
	if _, err := p.Poll(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("err = %v", err)
	}
	st, err := p.Poll(context.Background())
	if err != nil || st != (Stats{Seen: 1, Existing: 1}) || len(q.specs()) != 1 || g.count("processed") != 1 {
		t.Errorf("retry: %+v %v, %d jobs", st, err, len(q.specs()))
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"30":                            30 * time.Second,
		"Thu, 03 Dec 2026 10:01:00 GMT": time.Minute,
		"Thu, 03 Dec 2026 09:00:00 GMT": 0,
		"soon":                          0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestGraphMessageGone: a message another replica moved between list and
// fetch is skipped, not failed.
func TestGraphMessageGone(t *testing.T) {
	g, srv := newFakeGraph(t)
	g.deliver(fixture(t, "report-rfc822.eml"), fixture(t, "report-eml-attachment.eml"))
	delete(g.raw, g.ids[0]) // listed, but its $value and move answer 404
	q := &fakeQueue{}
	p := newTestPoller(t, graphConfig(srv), q, Options{HTTPClient: srv.Client()})
	st, err := p.Poll(context.Background())
	if err != nil || st != (Stats{Seen: 2, Submitted: 1}) || g.count("failed") != 0 {
		t.Errorf("%+v %v, failed %d", st, err, g.count("failed"))
	}
}
