package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// blockingBody hands out its text only once released, as a slow sender's
// body does.
type blockingBody struct {
	r       io.Reader
	started chan struct{}
	release chan struct{}
}

func (b *blockingBody) Read(p []byte) (int, error) {
	select {
	case <-b.started:
	default:
		close(b.started)
		<-b.release
	}
	return b.r.Read(p)
}

// TestIntakeCapAnswers503: bodies being read and parsed hold their size of
// the server's intake cap; one that would go over it is answered 503 with
// Retry-After and a problem, before its body is read, and the cap is free
// again once the earlier bodies are done (memory for intake is bounded
// whatever the number of senders: four 9.4 MB bodies at once took 2.7 GB).
func TestIntakeCapAnswers503(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxBody, o.MaxIntake = 1000, 1500 })
	text := "seen 185.220.101.47 " + strings.Repeat("x", 980)
	slow := &blockingBody{r: strings.NewReader(text), started: make(chan struct{}), release: make(chan struct{})}
	first := httptest.NewRequest("POST", "/v1/jobs", slow)
	first.ContentLength = int64(len(text))
	first.Header.Set("Authorization", "Bearer "+ingestSecret)
	first.Header.Set("Content-Type", "text/plain")
	done := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		h.srv.Handler().ServeHTTP(w, first)
		done <- w.Code
	}()
	<-slow.started // the first body holds 1000 of the 1500 bytes

	w := h.do(req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "text/plain", body: text})
	var p Problem
	json.Unmarshal(w.Body.Bytes(), &p)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "2" || p.Status != 503 || !strings.Contains(p.Detail, "server.max_intake") {
		t.Fatalf("a second body over the cap: %d, Retry-After %q, %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if w := h.do(req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "text/plain", body: "8.8.8.8"}); w.Code != http.StatusAccepted {
		t.Errorf("a small body within the cap: %d %s", w.Code, w.Body)
	}
	close(slow.release)
	if code := <-done; code != http.StatusAccepted {
		t.Errorf("the slow body: %d", code)
	}
	if w := h.do(req{method: "POST", path: "/v1/jobs", token: ingestSecret, ctype: "text/plain", body: text}); w.Code != http.StatusAccepted {
		t.Errorf("after the slow body was done: %d %s", w.Code, w.Body)
	}
	if w := h.do(req{method: "GET", path: "/v1/providers", token: readSecret}); w.Code != http.StatusOK {
		t.Errorf("a route without a body is never held by the cap: %d", w.Code)
	}
}

func TestMaxIntakeAtLeastMaxBody(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxBody, o.MaxIntake = 1000, 10 })
	if h.srv.o.MaxIntake != 1000 {
		t.Errorf("MaxIntake %d below MaxBody 1000 was kept: no body of the largest size could be read", h.srv.o.MaxIntake)
	}
	if h := newHarness(t, func(o *Options) { o.MaxBody = 1000 }); h.srv.o.MaxIntake != 4000 {
		t.Errorf("default MaxIntake %d, want 4 × MaxBody", h.srv.o.MaxIntake)
	}
}
