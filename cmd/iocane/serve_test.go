package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/server"
)

const (
	e2eAdmin  = "e2e-admin-7c4f1a9b2d6e8035"
	e2eSecret = "e2e-hook-0d9e8f7a6b5c4d3e"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `iocane serve` in-process against the fake providers and
// returns its base URL, its log and a function that stops it (SIGTERM's
// path: the context ends) and returns Execute's error.
func startServe(t *testing.T, env []string, args ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	root := newRoot()
	pr, pw := io.Pipe()
	logs := &syncBuffer{}
	root.SetOut(io.Discard)
	root.SetErr(pw)
	root.SetArgs(append([]string{"serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "iocane.db")}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := root.ExecuteContext(ctx)
		pw.Close()
		done <- err
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			logs.Write([]byte(line + "\n"))
			if !sent && strings.Contains(line, `"msg":"listening"`) {
				var m struct{ Addr string }
				json.Unmarshal([]byte(line), &m)
				addr <- m.Addr
				sent = true
			}
		}
		if !sent {
			close(addr)
		}
	}()
	var base string
	select {
	case base = <-addr:
	case err := <-done:
		cancel()
		t.Fatalf("serve ended before listening: %v\n%s", err, logs)
	}
	if base == "" {
		cancel()
		t.Fatalf("serve did not listen:\n%s", logs)
	}
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(60 * time.Second):
				stopErr = fmt.Errorf("serve did not stop within a minute")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	return base, logs, stop
}

func call(t *testing.T, method, url, token string, body []byte, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestServeEndToEnd is acceptance 1 of issue 5: a realistic Splunk alert
// (a defanged URL, a source IP and a hash) gets 202, its job completes
// against the fake providers, the results carry verdicts, and /metrics
// shows the provider calls. It also checks the log holds no secret.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	env := append(fake.Env(), "IOCANE_ADMIN_TOKEN="+e2eAdmin, "IOCANE_WEBHOOK_SECRET="+e2eSecret)
	base, logs, stop := startServe(t, env)

	alert := map[string]any{
		"sid":          "scheduler__admin__search__RMD5e2e_at_1800000000_77",
		"search_name":  "Threat - Outbound to known bad - Rule",
		"app":          "SplunkEnterpriseSecuritySuite",
		"owner":        "admin",
		"results_link": "https://splunk.northwind.local:8000/app/search/@go?sid=scheduler__admin__search__RMD5e2e_at_1800000000_77",
		"result": map[string]any{
			"_time":     "1800000000",
			"src_ip":    fakeintel.MaliciousIP.Value,
			"dest_host": "ws-fin-0117.northwind.local",
			"url":       strings.NewReplacer("http", "hxxp", ".com", "[.]com").Replace(fakeintel.MaliciousURL.Value),
			"file_hash": fakeintel.MaliciousSHA256.Value,
			"action":    "allowed",
		},
	}
	body, _ := json.Marshal(alert)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := server.Sign([]byte(e2eSecret), ts, body)
	hdr := map[string]string{"Content-Type": "application/json", server.HeaderTimestamp: ts, server.HeaderSignature: sig}

	start := time.Now()
	resp, got := call(t, "POST", base+"/v1/webhooks/splunk", e2eAdmin, body, hdr)
	if resp.StatusCode != 202 {
		t.Fatalf("webhook: %d %s", resp.StatusCode, got)
	}
	accepted := time.Since(start)
	var job struct {
		ID    string
		State string
		Alert struct{ System, ID, Link string }
	}
	json.Unmarshal([]byte(got), &job)
	if job.ID == "" || resp.Header.Get("Location") != "/v1/jobs/"+job.ID || job.Alert.System != "splunk" || job.Alert.ID != alert["sid"] {
		t.Fatalf("job %+v, Location %q", job, resp.Header.Get("Location"))
	}
	// The same delivery again is a replay; a fresh signature of the same alert is the same job.
	if resp, got := call(t, "POST", base+"/v1/webhooks/splunk", e2eAdmin, body, hdr); resp.StatusCode != 401 {
		t.Fatalf("replay: %d %s", resp.StatusCode, got)
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, got = call(t, "GET", base+"/v1/jobs/"+job.ID, e2eAdmin, nil, nil)
		json.Unmarshal([]byte(got), &job)
		if job.State == "completed" || job.State == "failed" || job.State == "canceled" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job not done in 60s: %s", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	completed := time.Since(start)
	if job.State != "completed" {
		t.Fatalf("job %s", got)
	}
	t.Logf("job: accepted in %v, completed in %v: %s", accepted, completed, got)

	resp, got = call(t, "GET", base+"/v1/jobs/"+job.ID+"/results", e2eAdmin, nil, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("results: %d %s", resp.StatusCode, got)
	}
	verdicts := map[string]result.Verdict{}
	dec := json.NewDecoder(strings.NewReader(got))
	for dec.More() {
		var r result.Result
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		verdicts[r.IOC.String()] = r.Verdict
	}
	for _, i := range []string{fakeintel.MaliciousIP.String(), fakeintel.MaliciousURL.String(), fakeintel.MaliciousSHA256.String()} {
		if verdicts[i] != result.Malicious {
			t.Errorf("%s: verdict %q, want malicious (all: %v)", i, verdicts[i], verdicts)
		}
	}
	if _, ok := verdicts["domain:splunk.northwind.local"]; ok {
		t.Errorf("the SIEM's own link was enriched: %v", verdicts)
	}
	t.Logf("results: %v", verdicts)

	// The latest result is stored; reading it calls no provider.
	before := fake.TotalCalls()
	resp, got = call(t, "GET", base+"/v1/iocs/ipv4/"+fakeintel.MaliciousIP.Value, e2eAdmin, nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(got, `"verdict":"malicious"`) || fake.TotalCalls() != before {
		t.Errorf("iocs: %d %s", resp.StatusCode, got)
	}

	resp, got = call(t, "GET", base+"/metrics", e2eAdmin, nil, nil)
	vt := regexp.MustCompile(`iocane_provider_requests_total\{code="200",provider="virustotal"\} (\d+)`).FindStringSubmatch(got)
	if resp.StatusCode != 200 || vt == nil || vt[1] == "0" {
		t.Errorf("metrics show no virustotal calls: %d", resp.StatusCode)
	}
	for _, want := range []string{`iocane_alerts_received_total{kind="splunk"} 1`, `iocane_job_duration_seconds_count{source="splunk",state="completed"} 1`,
		`iocane_cache_misses_total{provider="virustotal"}`, `iocane_queue_jobs{state="queued"} 0`} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if vt != nil {
		t.Logf("metrics: virustotal 200s %s; fake saw %d calls in all", vt[1], fake.TotalCalls())
	}

	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	l := logs.String()
	if !strings.Contains(l, `"msg":"stopped"`) || !strings.Contains(l, `"token":"admin"`) {
		t.Errorf("log lacks the access lines or the clean stop:\n%s", l)
	}
	secrets := []string{e2eAdmin, e2eSecret, strings.TrimPrefix(sig, "sha256=")}
	for _, kv := range fake.Env() {
		if k, v, _ := strings.Cut(kv, "="); strings.Contains(k, "KEY") || strings.Contains(k, "SECRET") {
			secrets = append(secrets, v)
		}
	}
	for _, s := range secrets {
		if strings.Contains(l, s) {
			t.Errorf("a secret appears in the server log: %q", s)
		}
	}
}

func TestServeRefusesWithoutToken(t *testing.T) {
	t.Setenv("IOCANE_ADMIN_TOKEN", "")
	db := filepath.Join(t.TempDir(), "iocane.db")
	if code := run([]string{"serve", "--db", db, "--listen", "127.0.0.1:0"}); code != exitUsage {
		t.Errorf("no token: exit %d, want %d", code, exitUsage)
	}
	if code := run([]string{"serve", "--db", db, "--listen", "0.0.0.0:0", "--insecure-no-auth"}); code != exitUsage {
		t.Errorf("insecure on all interfaces: exit %d, want %d", code, exitUsage)
	}
}

// A second serve on the same SQLite store refuses to start, exit status 2,
// naming the first's pid; enrich beside the server still works.
func TestSecondServeOnOneStoreRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "iocane.db")
	env := []string{"IOCANE_ADMIN_TOKEN=" + e2eAdmin}
	startServe(t, env, "--db", db)
	err := execute(t, "--db", db, "serve", "--listen", "127.0.0.1:0")
	want := fmt.Sprintf("another iocane serve holds this store (pid %d); use PostgreSQL to run replicas", os.Getpid())
	if err == nil || !isUsage(err) || !strings.Contains(err.Error(), want) {
		t.Fatalf("second serve: %v; want a usage error (exit 2) saying %q", err, want)
	}
	if err := execute(t, "--db", db, "enrich", "--offline", "--format", "jsonl", "8.8.8.8"); err != nil {
		t.Errorf("enrich beside serve: %v", err)
	}
}

// A signed webhook replayed after a restart is refused: the signatures the
// first server accepted are in the store, not only in its memory.
func TestWebhookReplayAfterRestartRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "iocane.db")
	env := []string{"IOCANE_ADMIN_TOKEN=" + e2eAdmin, "IOCANE_WEBHOOK_SECRET=" + e2eSecret}
	body := []byte(`{"id": "replay-1", "note": "beacon to 185.220.101.47"}`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	hdr := map[string]string{"Content-Type": "application/json", server.HeaderTimestamp: ts,
		server.HeaderSignature: server.Sign([]byte(e2eSecret), ts, body)}
	base, _, stop := startServe(t, env, "--db", db)
	if resp, got := call(t, "POST", base+"/v1/webhooks/generic", e2eAdmin, body, hdr); resp.StatusCode != 202 {
		t.Fatalf("first delivery: %d %s", resp.StatusCode, got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	base, _, _ = startServe(t, env, "--db", db)
	resp, got := call(t, "POST", base+"/v1/webhooks/generic", e2eAdmin, body, hdr)
	if resp.StatusCode != 401 || !strings.Contains(got, "already used") {
		t.Fatalf("replay after restart: %d %s; want 401, signature already used", resp.StatusCode, got)
	}
}
