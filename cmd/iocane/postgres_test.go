package main

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/dbx/pgtest"
	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tcpproxy"
)

// TestServeOnPostgres: iocane db migrate, then serve --no-migrate on the
// migrated database runs a job; --no-migrate on an empty database refuses
// to start and says what to run; while PostgreSQL is unreachable a webhook
// gets 503 with Retry-After (never a 202), /readyz names the backend, and
// once it is back the server takes alerts again by itself.
func TestServeOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dbURL := pgtest.NewDatabase(t)
	u, _ := url.Parse(dbURL)
	proxy, err := tcpproxy.New(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	u.Host = proxy.Addr()
	viaProxy := u.String()

	// --no-migrate on an empty database.
	_, _, err = runIocane(t, []string{"IOCANE_DATABASE_URL=" + viaProxy, "IOCANE_ADMIN_TOKEN=" + e2eAdmin}, "serve", "--no-migrate", "--listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "iocane db migrate") {
		t.Fatalf("serve --no-migrate on an empty database: %v", err)
	}
	out, _, err := runIocane(t, []string{"IOCANE_DATABASE_URL=" + viaProxy}, "db", "migrate")
	if err != nil || !strings.Contains(out, "the schema is current") {
		t.Fatalf("db migrate: %v %s", err, out)
	}
	if out, _, err := runIocane(t, []string{"IOCANE_DATABASE_URL=" + viaProxy}, "db", "migrate"); err != nil {
		t.Fatalf("a second db migrate: %v %s", err, out)
	}

	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	env := append(fake.Env(), "IOCANE_ADMIN_TOKEN="+e2eAdmin, "IOCANE_DATABASE_URL="+viaProxy)
	base, logs, _ := startServe(t, env, "--no-migrate")
	r := alertJob(t, base, "pg-alert-1", ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"})
	if r.Verdict != result.Malicious {
		t.Errorf("a job on PostgreSQL: %+v", r)
	}

	proxy.Down()
	resp, body := call(t, "POST", base+"/v1/webhooks/generic?id=during-outage", e2eAdmin, []byte(`{"src_ip": "45.155.205.233"}`),
		map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "postgres") {
		t.Errorf("a webhook while PostgreSQL is unreachable: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	resp, body = call(t, "GET", base+"/readyz", "", nil, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "postgres") {
		t.Errorf("/readyz while PostgreSQL is unreachable: %d %s", resp.StatusCode, body)
	}
	if err := proxy.Up(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, _ = call(t, "POST", base+"/v1/webhooks/generic?id=after-outage", e2eAdmin, []byte(`{"src_ip": "45.155.205.233"}`),
			map[string]string{"Content-Type": "application/json"})
		if resp.StatusCode == http.StatusAccepted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 202 within a minute of PostgreSQL coming back: %d", resp.StatusCode)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if strings.Contains(logs.String(), "postgres://postgres:") || bytes.Contains([]byte(logs.String()), []byte(e2eAdmin)) {
		t.Error("a secret is in the log")
	}
}

// TestBackendSettingsErrors: a store.url that is not PostgreSQL's and a
// rescue_after that is not a duration are refused, naming the field, and
// the URL's password is not repeated.
func TestBackendSettingsErrors(t *testing.T) {
	for _, c := range []struct{ env, want string }{
		{"IOCANE_DATABASE_URL=mysql://root:hunter2@db/iocane", "store.url"},
		{"IOCANE_JOBS_RESCUE_AFTER=soon", "jobs.rescue_after"},
	} {
		t.Run(c.want, func(t *testing.T) {
			_, _, err := runIocane(t, []string{c.env}, "db", "migrate")
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%s: %v", c.env, err)
			}
		})
	}
}
