package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNoticeReachesEveryChannel: a low-quota notice goes to Slack, Teams
// and the generic webhook in each one's shape, naming the provider, what
// is left and when it resets, and no channel's secret is in any error.
func TestNoticeReachesEveryChannel(t *testing.T) {
	clock := newClock()
	slack, teams, wh0 := newHook(t, clock), newHook(t, clock), newHook(t, clock)
	teams.setAnswer(http.StatusAccepted, "")
	s := mustNew(t, testConfig(nil, slack, teams, wh0), clock)
	n := Notice{Kind: "quota_low", Provider: "virustotal", Period: "daily", Limit: 500, Remaining: 42,
		ResetsAt: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)}
	if err := s.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	const title = "iocane: virustotal daily quota low: 42 of 500 left, resets 2026-12-05 00:00Z"
	for name, h := range map[string]*hook{"slack": slack, "teams": teams, "webhook": wh0} {
		reqs := h.requests()
		if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), title) {
			t.Errorf("%s: %d requests: %s", name, len(reqs), reqs)
		}
	}
	var wh WebhookNotice
	json.Unmarshal(wh0.requests()[0].Body, &wh)
	if wh.Type != "iocane.notice" || wh.Kind != "quota_low" || wh.Remaining != 42 || !wh.ResetsAt.Equal(n.ResetsAt) {
		t.Errorf("webhook body %+v", wh)
	}
	slack.setAnswer(http.StatusInternalServerError, "boom")
	err := s.Notify(context.Background(), n)
	if err == nil || strings.Contains(err.Error(), "slacktokenXYZ") {
		t.Errorf("failing channel: %v", err)
	}
	if len(teams.requests()) != 2 {
		t.Error("one failing channel kept the notice from the others")
	}
}
