package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/redisx/redistest"
	"github.com/iocane/iocane/internal/server"
)

// TestServeReplicasOnRedis (issue 11): two `iocane serve` replicas on one
// Redis (and their own SQLite files) share the webhook replay check, so a
// delivery accepted by one is a replay at the other, and /metrics says
// Redis is up.
func TestServeReplicasOnRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	url := redistest.URL(t)
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	env := append(fake.Env(), "IOCANE_ADMIN_TOKEN="+e2eAdmin, "IOCANE_WEBHOOK_SECRET="+e2eSecret, "IOCANE_REDIS_URL="+url)
	a, logsA, _ := startServe(t, env)
	b, _, _ := startServe(t, env)

	sid := "scheduler__admin__search__redis_" + strconv.FormatInt(time.Now().UnixNano(), 10)
	body, _ := json.Marshal(map[string]any{"sid": sid, "search_name": "Threat - Rule",
		"result": map[string]any{"src_ip": fakeintel.MaliciousIP.Value}})
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	hdr := map[string]string{"Content-Type": "application/json", server.HeaderTimestamp: ts,
		server.HeaderSignature: server.Sign([]byte(e2eSecret), ts, body)}
	if resp, got := call(t, "POST", a+"/v1/webhooks/splunk", e2eAdmin, body, hdr); resp.StatusCode != 202 {
		t.Fatalf("webhook at replica a: %d %s", resp.StatusCode, got)
	}
	if resp, got := call(t, "POST", b+"/v1/webhooks/splunk", e2eAdmin, body, hdr); resp.StatusCode != 401 {
		t.Fatalf("the same delivery at replica b: %d %s, want 401 (a replay)", resp.StatusCode, got)
	}
	_, metrics := call(t, "GET", a+"/metrics", e2eAdmin, nil, nil)
	if !strings.Contains(metrics, `iocane_backend_up{backend="redis"} 1`) {
		t.Errorf("/metrics lacks iocane_backend_up{backend=\"redis\"} 1")
	}
	if strings.Contains(logsA.String(), "backend unreachable") {
		t.Errorf("replica a logged an outage with Redis up:\n%s", logsA)
	}
}
