package taxii

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testCollection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
	testUser       = "feed-reader"
	testPassword   = "s3cret-Pa55word!"
	// stamp is the timestamp form TAXII servers use: microseconds, Z.
	stamp = "2006-01-02T15:04:05.000000Z"
)

// fakeServer answers like a TAXII 2.1 server with one API root (/api1/)
// holding one collection: discovery, API root, collection, and the objects
// endpoint with added_after (exclusive), limit, next, more and the
// X-TAXII-Date-Added-First/Last headers. Every answer is
// application/taxii+json;version=2.1; a request whose Accept does not ask
// for it gets 406, one without the right Basic credentials 401 with a
// TAXII error body, as the specification says.
type fakeServer struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	objects  []fakeObject // sorted by added
	maxLimit int          // the server's own page cap; 0 = none
	noNext   bool         // page by added_after only: more, no next
	apiKey   string       // when set, wanted raw in header keyHdr instead of Basic auth
	keyHdr   string
	requests []string // path?query of every objects request
	override func(w http.ResponseWriter, r *http.Request) bool
}

type fakeObject struct {
	added time.Time
	raw   []byte
}

func newFakeServer(t testing.TB) *fakeServer {
	f := &fakeServer{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// add appends objects, each added one millisecond after the last.
func (f *fakeServer) add(raws ...[]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if n := len(f.objects); n > 0 {
		at = f.objects[n-1].added
	}
	for _, raw := range raws {
		at = at.Add(time.Millisecond)
		f.objects = append(f.objects, fakeObject{added: at, raw: raw})
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fakeServer) taxiiError(w http.ResponseWriter, code int, name string) {
	w.Header().Set("Content-Type", MediaType)
	w.WriteHeader(code)
	_, _ = w.Write(fixture(f.t, name))
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	override := f.override
	f.mu.Unlock()
	if override != nil && override(w, r) {
		return
	}
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Accept")); err != nil || mt != "application/taxii+json" || params["version"] != "2.1" {
		http.Error(w, "not acceptable", http.StatusNotAcceptable)
		return
	}
	f.mu.Lock()
	key, keyHdr := f.apiKey, f.keyHdr
	f.mu.Unlock()
	if key != "" {
		if r.Header.Get(keyHdr) != key {
			f.taxiiError(w, http.StatusUnauthorized, "error_unauthorized.json")
			return
		}
	} else if u, p, ok := r.BasicAuth(); !ok || u != testUser || p != testPassword {
		f.taxiiError(w, http.StatusUnauthorized, "error_unauthorized.json")
		return
	}
	w.Header().Set("Content-Type", MediaType)
	coll := "/api1/collections/" + testCollection + "/"
	switch r.URL.Path {
	case "/taxii2/":
		_, _ = w.Write(bytes.ReplaceAll(fixture(f.t, "discovery.json"), []byte("{{base}}"), []byte(f.srv.URL)))
	case "/api1/":
		_, _ = w.Write(fixture(f.t, "api_root.json"))
	case "/api1/collections/":
		fmt.Fprintf(w, `{"collections":[%s]}`, fixture(f.t, "collection.json"))
	case coll:
		_, _ = w.Write(fixture(f.t, "collection.json"))
	case coll + "objects/":
		f.serveObjects(w, r)
	default:
		f.taxiiError(w, http.StatusNotFound, "error_not_found.json")
	}
}

func (f *fakeServer) serveObjects(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.URL.RequestURI())
	q := r.URL.Query()
	start := 0
	if s := q.Get("added_after"); s != "" {
		after, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			http.Error(w, `{"title":"bad added_after"}`, http.StatusBadRequest)
			return
		}
		start = sort.Search(len(f.objects), func(i int) bool { return f.objects[i].added.After(after) })
	}
	if s := q.Get("next"); s != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(s, "tok-"))
		if err != nil || !strings.HasPrefix(s, "tok-") || n < start || n > len(f.objects) {
			http.Error(w, `{"title":"bad next"}`, http.StatusBadRequest)
			return
		}
		start = n
	}
	limit := len(f.objects)
	if s := q.Get("limit"); s != "" {
		limit, _ = strconv.Atoi(s)
	}
	if f.maxLimit > 0 && limit > f.maxLimit {
		limit = f.maxLimit
	}
	end := min(start+max(limit, 0), len(f.objects))
	page := f.objects[start:end]
	var b bytes.Buffer
	more := end < len(f.objects)
	b.WriteString(`{"more":` + strconv.FormatBool(more))
	if more && !f.noNext {
		b.WriteString(`,"next":"tok-` + strconv.Itoa(end) + `"`)
	}
	if len(page) > 0 {
		b.WriteString(`,"objects":[`)
		for i, o := range page {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(o.raw)
		}
		b.WriteByte(']')
		w.Header().Set("X-TAXII-Date-Added-First", page[0].added.Format(stamp))
		w.Header().Set("X-TAXII-Date-Added-Last", page[len(page)-1].added.Format(stamp))
	}
	b.WriteByte('}')
	_, _ = w.Write(b.Bytes())
}

func (f *fakeServer) objectRequests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// indicatorJSON is an indicator for a generated IOC: n picks a domain.
func indicatorJSON(n int) []byte {
	b, _ := json.Marshal(map[string]any{
		"type":         "indicator",
		"spec_version": "2.1",
		"id":           fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", n),
		"created":      "2026-01-01T00:00:00.000Z",
		"modified":     "2026-01-01T00:00:00.000Z",
		"pattern":      fmt.Sprintf("[domain-name:value = 'n%d.example.com']", n),
		"pattern_type": "stix",
		"valid_from":   "2026-01-01T00:00:00Z",
		"confidence":   70,
	})
	return b
}

// fixtureObjects returns the objects of testdata/objects.json one by one.
func fixtureObjects(t testing.TB) [][]byte {
	var raws []json.RawMessage
	if err := json.Unmarshal(fixture(t, "objects.json"), &raws); err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(raws))
	for i, r := range raws {
		out[i] = r
	}
	return out
}
